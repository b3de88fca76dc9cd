"""`tf.train.CheckpointManager`: numbered saves of one Checkpoint in one folder, the newest `max_to_keep` kept.

    manager = tf.train.CheckpointManager(ckpt, "ckpts", max_to_keep=3)
    manager.save()                                 # "ckpts/ckpt-1", ... ; older ones deleted past 3
    manager.restore_or_initialize()

The folder's `checkpoint` state file (TensorFlow's text form) records the kept prefixes and their
times, so a manager made later over the same folder carries on where the last one stopped.
"""
import os
import time

import torch

from course.tape.checkpoint import Checkpoint
from course.tape.checkpoint_files import checkpoint_exists, read_state, write_state
from course.tape.tensor import to_numpy

__all__ = ["CheckpointManager"]


class CheckpointManager:
    """`tf.train.CheckpointManager`: numbered saves in one folder, the newest `max_to_keep` kept."""

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None, checkpoint_name="ckpt",
                 step_counter=None, checkpoint_interval=None, init_fn=None):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager expects a tf.train.Checkpoint; got {type(checkpoint).__name__}.")
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
        self._checkpoint, self._directory = checkpoint, os.fspath(directory)
        self._max_to_keep, self._keep_hours = max_to_keep, keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._interval, self._init_fn = step_counter, checkpoint_interval, init_fn
        self._last_step = None
        state = read_state(self._directory)
        self._maybe = []                                  # [(prefix, timestamp)] oldest first
        self._last_preserved = time.time()
        if state:
            stamps = state["timestamps"] if len(state["timestamps"]) == len(state["all"]) else [time.time()] * len(
                state["all"])
            self._maybe = [(p, t) for p, t in zip(state["all"], stamps)]
            self._latest = state["model"]
            if state["last_preserved"] is not None:
                self._last_preserved = state["last_preserved"]
        else:
            self._latest = None

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoints(self):
        """The prefixes being kept, oldest first."""
        return [p for p, _ in self._maybe]

    @property
    def latest_checkpoint(self):
        return self._latest if self._latest and checkpoint_exists(self._latest) else None

    @property
    def checkpoint_interval(self):
        return self._interval

    def _sweep(self):
        if self._max_to_keep is None:
            return
        while len(self._maybe) > self._max_to_keep:
            prefix, stamp = self._maybe.pop(0)
            if self._keep_hours and stamp - self._keep_hours * 3600 >= self._last_preserved:
                self._last_preserved = stamp           # kept for good: no longer managed
                continue
            for suffix in (".index", ".data-00000-of-00001"):
                if os.path.exists(prefix + suffix):
                    os.remove(prefix + suffix)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Save a numbered checkpoint (unless `checkpoint_interval` steps have not passed); its prefix or None."""
        if self._interval is not None:
            current = int(to_numpy(self._step_counter)) if isinstance(self._step_counter, torch.Tensor) else int(
                self._step_counter)
            if check_interval and self._last_step is not None and current < self._last_step + self._interval:
                return None
            self._last_step = current
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        number = int(to_numpy(counter)) if checkpoint_number is None else int(to_numpy(torch.as_tensor(
            checkpoint_number)) if isinstance(checkpoint_number, torch.Tensor) else checkpoint_number)
        prefix = f"{self._prefix}-{number}"
        self._checkpoint.write(prefix)
        now = time.time()
        self._maybe = [(p, t) for p, t in self._maybe if p != prefix] + [(prefix, now)]
        self._latest = prefix
        # As TensorFlow does: the state file names the new checkpoint before old ones are deleted (a crash
        # while deleting leaves a state file whose latest checkpoint exists), and is written again after.
        self._record_state()
        self._sweep()
        self._record_state()
        return prefix

    def _record_state(self):
        write_state(self._directory, self._latest, self.checkpoints, [t for _, t in self._maybe], self._last_preserved)

    def restore_or_initialize(self):
        """Restore the newest checkpoint if there is one (its prefix), else run `init_fn` (None)."""
        if self.latest_checkpoint is not None:
            self._checkpoint.restore(self.latest_checkpoint)
            return self.latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

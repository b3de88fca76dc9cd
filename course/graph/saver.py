"""`tf.train.Saver`: save and restore the variables of a session, in TF1's file layout.

    saver = tf.train.Saver()
    path = saver.save(sess, "ckpt/model.ckpt", global_step=1000)   # -> "ckpt/model.ckpt-1000"
    saver.restore(sess, tf.train.latest_checkpoint("ckpt"))

A checkpoint is TensorFlow's own: `<prefix>.index` (TF's table of names, dtypes, shapes and CRCs) and
`<prefix>.data-00000-of-00001` (the raw values), keyed by the variables' op names ("Variable",
"layer1/w", "Variable/Adam") as TF1's Saver keys them, plus the `checkpoint` state file listing the
latest ones. So real TensorFlow restores what this Saver wrote and this Saver restores what TF's
wrote; reading parses bytes and numbers only (course.tape.checkpoint_files), and checkpoints that
earlier versions of this Saver wrote (JSON index, `torch.save`d data) still restore. Each file is
written to a temporary name and renamed, so a crash never leaves half a checkpoint.
"""
import os
import re

import numpy as np
import torch

from course.atomic_file import atomic_write

from course.framework.errors import InvalidArgumentError, NotFoundError
from course.framework.shapes import brackets
from course.graph.variables import Variable, global_variables
from course.tape.checkpoint_files import CheckpointReader, write_checkpoint

__all__ = ["Saver", "latest_checkpoint", "get_checkpoint_state", "checkpoint_exists", "CheckpointState"]

_DATA = ".data-00000-of-00001"


def _write_bytes(data):
    """A writer for atomic_write; Python's own file I/O reports a full disk or a read-only folder
    as an OSError with the path."""
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
    return write


class CheckpointState:
    def __init__(self, model_checkpoint_path, all_model_checkpoint_paths):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)

    def __repr__(self):
        return f'model_checkpoint_path: "{self.model_checkpoint_path}"'


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The parsed `checkpoint` file of `checkpoint_dir`, or None."""
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.isfile(path):
        return None
    model, every = None, []
    for line in open(path, encoding="utf-8"):
        m = re.match(r'\s*(model_checkpoint_path|all_model_checkpoint_paths):\s*"(.*)"\s*$', line)
        if not m:
            continue
        p = m.group(2)
        p = p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
        if m.group(1) == "model_checkpoint_path":
            model = p
        else:
            every.append(p)
    return CheckpointState(model, every) if model else None


def checkpoint_exists(checkpoint_prefix):
    return os.path.isfile(checkpoint_prefix + ".index")


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in `checkpoint_dir` (from its `checkpoint` file), or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None


class Saver:
    """Saves/restores `var_list` (default: all global variables) of a session; keeps the newest
    `max_to_keep` checkpoints."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0,
                 name=None, restore_sequentially=False, saver_def=None, builder=None, defer_build=False,
                 allow_empty=False, write_version=2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if var_list is None:
            var_list = global_variables()
        if isinstance(var_list, dict):
            self._vars = {str(k): v for k, v in var_list.items()}
        else:
            self._vars = {}
            for v in var_list:
                if not isinstance(v, Variable):
                    raise TypeError(f"Saver var_list must hold tf.Variables; got {v!r}.")
                if v.op.name in self._vars:
                    raise ValueError(f"At least two variables have the same name: {v.op.name}")
                self._vars[v.op.name] = v
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep, self._pad = max_to_keep, pad_step_number
        self._last = []                    # prefixes this saver wrote, oldest first

    def _session_values(self, sess):
        out = {}
        for key, v in self._vars.items():
            if v.graph is not sess.graph:
                raise ValueError(f"Variable {v.name} is not in the session's graph.")
            slot = sess._rt.slot(v.op)
            out[key] = slot.read().detach().to("cpu").clone()
        return out

    def save(self, sess, save_path, global_step=None, latest_filename=None, meta_graph_suffix="meta",
             write_meta_graph=True, write_state=True, strip_default_attrs=False, save_debug_info=False):
        """Write the variables' values; returns the checkpoint prefix."""
        if sess is None or getattr(sess, "_closed", True):
            raise RuntimeError("Saver.save needs an open Session.")
        prefix = save_path
        if global_step is not None:
            step = global_step if isinstance(global_step, int) else int(sess.run(global_step))
            prefix = f"{save_path}-{step:08d}" if self._pad else f"{save_path}-{step}"
        folder = os.path.dirname(os.path.abspath(prefix))
        if not os.path.isdir(folder):
            raise NotFoundError(None, None, f"Failed to create a NewWriteableFile: {prefix}{_DATA} : No such file or "
                                "directory. Create the folder first (os.makedirs).")
        write_checkpoint(prefix, self._session_values(sess), None)      # TF1's Saver writes no object graph
        if write_state:
            self._remember(prefix, folder, latest_filename)
        return prefix

    def _remember(self, prefix, folder, latest_filename):
        keep = [p for p in self._last if p != prefix] + [prefix]
        dropped = []
        while self._max_to_keep and len(keep) > self._max_to_keep:
            dropped.append(keep.pop(0))
        rel = lambda p: os.path.relpath(p, folder)   # noqa: E731
        lines = [f'model_checkpoint_path: "{rel(prefix)}"'] + [f'all_model_checkpoint_paths: "{rel(p)}"'
                                                                for p in keep]
        target = os.path.join(folder, latest_filename or "checkpoint")
        # the state file first: if anything fails after, it still points at checkpoints that exist
        atomic_write(target, _write_bytes(("\n".join(lines) + "\n").encode("utf-8")))
        self._last = keep
        for old in dropped:
            for suffix in (".index", _DATA):
                if os.path.exists(old + suffix):
                    os.remove(old + suffix)

    def restore(self, sess, save_path):
        """Load the variables saved under `save_path` into `sess` (no initializer needed)."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        reader = CheckpointReader(save_path)          # checks the index; values are read bytes, CRC-checked
        shapes = reader.get_variable_to_shape_map()
        ready = []                                   # every variable checked first: a failed restore changes nothing
        for key, v in self._vars.items():
            if key not in shapes:
                raise NotFoundError(None, v.op, f"Key {key} not found in checkpoint {save_path}. Nothing was "
                                    f"restored; the checkpoint holds {sorted(shapes)[:8]}.")
            if v.shape.rank is not None and not v.shape.is_compatible_with(tuple(shapes[key])):
                raise InvalidArgumentError(None, v.op, f"Restoring from checkpoint failed: Assign requires shapes of "
                                           f"both tensors to match. lhs shape= {brackets(v.shape)} rhs shape= "
                                           f"{brackets(tuple(shapes[key]))} (variable {key}). Nothing was restored.")
            ready.append((v, torch.from_numpy(np.array(reader.get_tensor(key)))))
        rt = sess._rt
        for v, value in ready:
            slot = rt.slot(v.op)
            value = value.to(device=rt.device_for(v.op), dtype=v.dtype)
            if slot.value is not None and slot.value.shape == value.shape:
                slot.value.copy_(value)
            else:
                slot.value = value.clone()
        rt.version += 1

    def last_checkpoints(self):
        return list(self._last)

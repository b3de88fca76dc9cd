"""Keras callbacks: everything the training loop does besides the maths happens in one of these.

The loop (`trainer.py`) only calls hooks on a `CallbackList`; history, printing (`ProgbarLogger`,
in `progbar.py`), checkpoints, early stopping and learning-rate changes are callbacks.
Per-batch `logs` are computed lazily: reading `logs["loss"]` synchronises with the device, not
reading it costs nothing, so a loop with no per-batch reader never waits for the GPU.
"""
import csv
import math
import os
import warnings

import numpy as np

from course.keras.callback import Callback
from course.keras.progbar import ProgbarLogger

__all__ = ["CallbackList", "History", "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN",
           "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "LearningRateScheduler"]


def _overrides(cb, *names):
    """True when `cb` defines one of these hooks itself (in its class, or per instance as LambdaCallback does)."""
    return any(n in vars(cb) or getattr(type(cb), n, None) is not getattr(Callback, n, None) for n in names)


def _sorted(logs):
    """A new dict of `logs` sorted by name, shared by the callbacks of one hook call (Keras 3's
    `pythonify_logs`): `history.history` lists 'accuracy', 'loss', 'val_accuracy', 'val_loss'."""
    return None if logs is None else dict(sorted(logs.items()))


class CallbackList:
    """Calls each hook on every callback, in order; batch hooks only on callbacks that define them."""

    def __init__(self, callbacks=None, *, add_history=False, add_progbar=False, model=None, **params):
        self.callbacks = list(callbacks or [])
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        self.history = None
        if add_history:
            found = [c for c in self.callbacks if isinstance(c, History)]
            self.history = found[0] if found else History()
            if not found:
                self.callbacks.append(self.history)
        for c in self.callbacks:
            if not isinstance(c, Callback) and not hasattr(c, "on_epoch_end"):
                raise TypeError(f"callbacks must be Callback objects; got {c!r}.")
        self.set_model(model)
        self.set_params(params)
        self._batch = {kind: [c for c in self.callbacks if _overrides(c,
                f"on_{kind}_batch_begin", f"on_{kind}_batch_end",
                                                                     *(("on_batch_begin", "on_batch_end")
                                                                       if kind == "train" else ()))]
                       for kind in ("train", "test", "predict")}

    def set_model(self, model):
        self.model = model
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        self.params = params
        for c in self.callbacks:
            c.set_params(params)

    def wants_batches(self, kind="train") -> bool:
        return bool(self._batch[kind])

    def _call(self, hook, *args):
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", _sorted(logs))
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, _sorted(logs))
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", _sorted(logs))
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        for c in self._batch["train"]:
            c.on_train_batch_begin(batch, logs)
            c.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for c in self._batch["train"]:
            c.on_train_batch_end(batch, logs)
            c.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        for c in self._batch["test"]:
            c.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        for c in self._batch["test"]:
            c.on_test_batch_end(batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        for c in self._batch["predict"]:
            c.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        for c in self._batch["predict"]:
            c.on_predict_batch_end(batch, logs)

    def __iter__(self):
        return iter(self.callbacks)


class History(Callback):
    """Records the epoch logs: `history.history = {'loss': [...], 'accuracy': [...], ...}`."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


def _monitor_op(mode, monitor, who):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who}: mode {mode!r} is unknown; using 'auto'.", stacklevel=3)
        mode = "auto"
    if mode == "auto":
        mode = "max" if any(s in monitor for s in ("acc", "auc", "precision", "recall")) else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs;
    `restore_best_weights=True` puts back the weights of the best epoch at the end."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.min_delta, self.patience, self.verbose = monitor, abs(min_delta), patience, verbose
        self.mode = _monitor_op(mode, monitor, "EarlyStopping")
        self.baseline, self.restore_best_weights, self.start_from_epoch = (baseline, restore_best_weights,
                                                                            start_from_epoch)
        self.stopped_epoch = 0

    def _better(self, current, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"EarlyStopping: metric {self.monitor!r} is not in the logs (available: "
                          f"{sorted(logs or {})}); did you mean one of those, or forget validation data?",
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or weights) after each epoch, or every `save_freq` batches, or only when
    `monitor` improves.

    `filepath` may contain `{epoch:02d}`, `{batch}` (batch-level saving) and log keys
    (`{val_loss:.2f}`); files end in `.keras` (whole model) or `.weights.h5` (weights only), as in
    Keras 3. A missing folder is created. Writes are atomic.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        filepath = os.fspath(filepath)
        if save_weights_only and not filepath.endswith(".weights.h5"):
            raise ValueError(f"ModelCheckpoint: with save_weights_only=True the filepath must end in "
                             f"'.weights.h5'; got {filepath!r}.")
        if not save_weights_only and not filepath.endswith((".keras", ".h5")):
            raise ValueError(f"ModelCheckpoint: the filepath must end in '.keras' (or '.h5', the legacy format; "
                             f"or use save_weights_only=True with '.weights.h5'); got {filepath!r}.")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches; "
                             f"got {save_freq!r}.")
        self.filepath, self.monitor, self.verbose = filepath, monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _monitor_op(mode, monitor, "ModelCheckpoint")
        self.best = initial_value_threshold
        self.save_freq = save_freq
        self._epoch, self._since_save, self._last_batch = 0, 0, None
        if save_freq != "epoch":                     # a batch hook only when needed (fit reads logs per batch then)
            self.on_train_batch_end = self._count_batch

    def _improved(self, current):
        if self.best is None:
            return True
        return current < self.best if self.mode == "min" else current > self.best

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _count_batch(self, batch, logs=None):
        """Keras' count: batches since the last save, across epochs (batch numbers restart at 0)."""
        new_epoch = self._last_batch is None or batch <= self._last_batch
        self._since_save += batch + 1 if new_epoch else batch - self._last_batch
        self._last_batch = batch
        if self._since_save >= self.save_freq:
            self._since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        logs = dict(logs or {})
        numbers = {"epoch": epoch + 1} if batch is None or "batch" in logs else {"epoch": epoch + 1, "batch": batch + 1}
        try:
            path = self.filepath.format(**numbers, **logs)
        except KeyError as exc:
            raise KeyError(f"ModelCheckpoint: cannot fill in {self.filepath!r}: no {exc} in the logs "
                           f"(have {sorted(logs)}, epoch{', batch' if batch is not None else ''}).") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            before = "None" if self.best is None else f"{self.best:.5f}"     # Keras 3.15's text, min or max
            if current is None:                      # Keras 3 then saves every time, as save_best_only=False
                warnings.warn(f"ModelCheckpoint: can save best model only with {self.monitor!r} available in the "
                              f"logs (have {sorted(logs)}); saving every time instead. Pass validation data or "
                              "monitor one of those.", stacklevel=2)
            elif not self._improved(current):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {before}")
                return
            else:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {before} to {current:.5f}, "
                          f"saving model to {path}")
                self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite (reads the loss every batch)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` has not improved for `patience` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0; got {factor}.")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode = _monitor_op(mode, monitor, "ReduceLROnPlateau")
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.wait = self.cooldown_counter = 0
        self.best = None

    def on_train_begin(self, logs=None):
        self.wait = self.cooldown_counter = 0
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        current = logs.get(self.monitor)
        lr = float(self.model.optimizer.learning_rate)
        logs["learning_rate"] = lr
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: {self.monitor!r} is not in the logs ({sorted(logs)}).", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = (self.best is None or (current < self.best - self.min_delta if self.mode == "min"
                                        else current > self.best + self.min_delta))
        if better:
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            # Keras compares with min_lr in float32, the learning rate's own precision: once the rate has
            # reached min_lr (0.001 is stored as 0.0010000000475) it is not "reduced" again every epoch.
            if self.wait >= self.patience and lr > float(np.float32(self.min_lr)):
                new_lr = max(lr * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to `schedule(epoch, lr)`."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        new_lr = float(self.schedule(epoch, lr))
        self.model.optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Write one row per epoch (epoch, then the log keys sorted) to a CSV file."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys, self._file, self._writer = None, None, None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header_written = exists
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys, delimiter=self.sep)
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: logs.get(k, "NA") for k in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`."""

    _HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
              "on_train_batch_end", "on_batch_begin", "on_batch_end", "on_test_begin", "on_test_end",
              "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
              "on_predict_batch_begin", "on_predict_batch_end")

    def __init__(self, **kwargs):
        super().__init__()
        unknown = set(kwargs) - set(self._HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {sorted(unknown)}; valid: {list(self._HOOKS)}.")
        for name, fn in kwargs.items():
            if fn is not None:
                setattr(self, name, fn)

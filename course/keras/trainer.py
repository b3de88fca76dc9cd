"""The loops behind `fit`, `evaluate`, `predict` and `train_on_batch`.

Each batch goes through one `Step` (train_step.py: the loss is computed in one place for
training and testing). Everything else -- printing, history, checkpoints, early stopping -- is a
callback: the loop calls hooks and nothing more. `train_epochs` and `evaluate_data` are also the
loops of `course.distributed.fit`, which passes `EpochHooks` that sum the metrics over the
processes; alone, the hooks do nothing.
"""
import math
import numbers
from collections.abc import Mapping

import torch

import course.device
from course.framework.convert import no_dispatch
from course.keras.callbacks import CallbackList
from course.keras.data_adapter import ArrayData, StepsPerEpoch, adapt, check_count, unpack
from course.keras.layers.conversion import to_tensor
from course.keras.train_step import BatchLogs, Step, StepContext, read_metrics

__all__ = ["fit", "evaluate", "predict", "train_on_batch", "train_epochs", "evaluate_data", "EpochHooks"]


class EpochHooks:
    """What a data-parallel run adds to the loops (course.distributed.fit); one process needs none."""

    stops_mid_epoch = True           # a callback's stop_training ends the epoch at once

    def begin_epoch(self, epoch):
        """Before an epoch's batches."""

    def end_batches(self, model):
        """After an epoch's training batches, before its metrics are read."""

    def reduce(self, metrics):
        """Before `metrics` are read (training or validation): make their states global."""

    def stop(self, requested):
        """Whether to stop after this epoch, given this process's `model.stop_training`."""
        return requested


def _check_class_weight(class_weight):
    """{class index: weight} with int keys and real numbers, or a ValueError naming the bad entry."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, Mapping):
        raise ValueError(f"fit: class_weight must be a dict mapping class indices to weights, such as "
                         f"{{0: 1.0, 1: 5.0}}; got {type(class_weight).__name__}.")
    out = {}
    for k, w in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
            raise ValueError(f"fit: class_weight keys must be class indices (integers >= 0); got key {k!r} "
                             f"({type(k).__name__}). Use {{0: 1.0, 1: 5.0}}.")
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
            raise ValueError(f"fit: class_weight[{k}] must be a finite number; got {w!r} ({type(w).__name__}). "
                             "Use {0: 1.0, 1: 5.0}.")
        out[int(k)] = float(w)
    return out


def _verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


def fit(model, x=None, y=None, *, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
        steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
    model._assert_compiled("fit")
    epochs = check_count(epochs, "epochs", "fit", minimum=0)
    initial_epoch = check_count(initial_epoch, "initial_epoch", "fit", minimum=0)
    class_weight = _check_class_weight(class_weight)
    if class_weight is not None and sample_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time. Fold the class weights "
                         "into the sample weights yourself (multiply them) and pass sample_weight only.")
    steps_per_epoch = check_count(steps_per_epoch, "steps_per_epoch", "fit", minimum=0, allow_none=True)
    device = course.device.get()
    course.device.announce()                     # once per session: which device trains
    data = adapt(x, y, sample_weight, batch_size=batch_size, shuffle=bool(shuffle), device=device, who="fit")
    val = None
    if validation_data is not None:
        vx, vy, vsw = unpack(validation_data)
        val = adapt(vx, vy, vsw, batch_size=validation_batch_size or batch_size, device=device,
                    steps=validation_steps, who="evaluate")
    elif validation_split:
        if not isinstance(data, ArrayData):
            raise ValueError("validation_split works with arrays only; with a dataset pass validation_data=.")
        data, val = data.split(validation_split)
    arrays = data if isinstance(data, ArrayData) else None
    if steps_per_epoch:                          # Keras: later epochs go on where the last one stopped
        data = StepsPerEpoch(data, steps_per_epoch, data.steps)
    verbose = _verbose(verbose)
    cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
                       epochs=epochs, steps=data.steps, in_fit=True)
    step = Step(model, class_weight=class_weight, all_labels=arrays.y if arrays is not None else None)
    return train_epochs(model, data, step, cbs, epochs=epochs, initial_epoch=initial_epoch, val=val,
                        validation_freq=validation_freq)


def train_epochs(model, data, step, cbs, *, epochs, initial_epoch=0, val=None, validation_freq=1, hooks=None):
    """The epoch loop: `step.train` per batch, callbacks, metrics, validation; returns the History."""
    hooks = hooks or EpochHooks()
    model.stop_training = False
    wants_batches = cbs.wants_batches("train")
    cbs.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        hooks.begin_epoch(epoch)
        cbs.on_epoch_begin(epoch)
        seen = 0
        for i, (xb, yb, swb) in enumerate(data):
            if yb is None:
                raise ValueError("fit() needs targets: pass y, or a dataset that yields (x, y) batches.")
            if wants_batches:
                cbs.on_train_batch_begin(i)
            step.train(xb, yb, swb)
            seen = i + 1
            if wants_batches:
                cbs.on_train_batch_end(i, BatchLogs(model.metrics))
            if model.stop_training and hooks.stops_mid_epoch:
                break
        if seen == 0:
            raise ValueError("fit(): the data produced no batches (an exhausted generator or an empty dataset?).")
        if cbs.params.get("steps") is None:
            cbs.params["steps"] = seen
        hooks.end_batches(model)
        hooks.reduce(model.metrics)
        logs = read_metrics(model.metrics)
        if val is not None and (epoch + 1) % validation_freq == 0:
            val_logs = evaluate_data(model, val, cbs, hooks=hooks)
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, logs)
        if hooks.stop(model.stop_training):
            break
    cbs.on_train_end(logs)
    model.history = cbs.history
    return cbs.history


def evaluate_data(model, data, cbs, *, hooks=None):
    """`step.test` over every batch of `data`; returns {name: value} of the loss and metrics."""
    model.reset_metrics()
    step = Step(model, all_labels=data.y if isinstance(data, ArrayData) else None)
    cbs.on_test_begin()
    wants = cbs.wants_batches("test")
    seen = 0
    for i, (xb, yb, swb) in enumerate(data):
        if yb is None:
            raise ValueError("evaluate() needs targets: pass y, or a dataset that yields (x, y) batches.")
        if wants:
            cbs.on_test_batch_begin(i)
        step.test(xb, yb, swb)
        seen = i + 1
        if wants:
            cbs.on_test_batch_end(i, BatchLogs(model.metrics))
    if not seen:
        raise ValueError("evaluate(): the data produced no batches.")
    (hooks or EpochHooks()).reduce(model.metrics)
    logs = read_metrics(model.metrics)
    cbs.on_test_end(logs)
    return logs


def evaluate(model, x=None, y=None, *, batch_size=None, verbose="auto", sample_weight=None, steps=None,
             callbacks=None, return_dict=False):
    model._assert_compiled("evaluate")
    data = adapt(x, y, sample_weight, batch_size=batch_size, device=course.device.get(), steps=steps,
                 who="evaluate")
    verbose = _verbose(verbose)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
                       steps=data.steps)
    logs = evaluate_data(model, data, cbs)
    if return_dict:
        return dict(sorted(logs.items()))        # Keras 3's logs are sorted by name
    return model._flatten_metrics_in_order(logs)


def predict(model, x, *, batch_size=None, verbose="auto", steps=None, callbacks=None, one_batch=False):
    device = course.device.get()
    if one_batch:
        x_t = to_tensor(x, device=device, cast_ints=True)
        data = [(x_t, None, None)]
        n_steps = 1
    else:
        data = adapt(x, None, batch_size=batch_size, device=device, steps=steps, check=False, who="predict")
        n_steps = data.steps
    verbose = 0 if one_batch else _verbose(verbose)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1, steps=n_steps)
    cbs.on_predict_begin()
    wants = cbs.wants_batches("predict")
    outs = []
    for i, (xb, _, _) in enumerate(data):
        if wants:
            cbs.on_predict_batch_begin(i)
        with torch.no_grad(), StepContext(False), no_dispatch():
            out = model._forward(xb, False)
        outs.append(out)
        if wants:
            cbs.on_predict_batch_end(i, {"outputs": out})
    cbs.on_predict_end()
    if not outs:
        raise ValueError("predict(): the data produced no batches.")
    if isinstance(outs[0], (list, tuple)):
        return [torch.cat([o[k] for o in outs]).cpu().numpy() for k in range(len(outs[0]))]
    with no_dispatch():
        return torch.cat(outs).cpu().numpy()


def train_on_batch(model, x, y=None, *, sample_weight=None, class_weight=None, return_dict=False):
    """One step on one batch. As in Keras 3 the metrics are reset first, so the values returned are
    this batch's alone (not a running mean over earlier calls)."""
    model._assert_compiled("train_on_batch")
    class_weight = _check_class_weight(class_weight)
    if class_weight is not None and sample_weight is not None:
        raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same time.")
    data = adapt(x, y, sample_weight, batch_size=len(x), device=course.device.get(), who="train_on_batch")
    step = Step(model, class_weight=class_weight, all_labels=data.y)
    model.reset_metrics()
    for xb, yb, swb in data:
        step.train(xb, yb, swb)
    logs = read_metrics(model.metrics)
    if return_dict:
        return dict(sorted(logs.items()))
    return model._flatten_metrics_in_order(logs)

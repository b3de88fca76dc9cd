"""The loops behind `fit`, `evaluate`, `predict` and `train_on_batch`.

A training step, on plain tensors (no subclass dispatch), for one batch (x, y):

    ŷ = model(x, training=True)
    L = loss(y, ŷ) + Σ weight penalties + Σ activity penalties
    g = ∂L/∂w for the trainable weights w            (torch autograd)
    w <- rule(w, g)                                   (course.optim, foreach)
    loss tracker += L·n;  metrics += per-batch statistics   (device tensors, no read-back)

Everything else -- printing, history, checkpoints, early stopping -- is a callback: the loop
calls hooks and nothing more. Batch logs are lazy, so only a callback that reads them (the
progress bar, at most a few times a second) waits for the device.
"""
import math
import numbers
from collections.abc import Mapping

import torch

import course.device
from course.keras import losses as losses_module
from course.keras.callbacks import CallbackList
from course.keras.data_adapter import ArrayData, adapt, check_count, unpack
from course.framework.convert import no_dispatch
from course.keras.layers.call_context import call_context
from course.keras.layers.conversion import plain, to_tensor

__all__ = ["fit", "evaluate", "predict", "train_on_batch", "TrainStep"]


class _Context:
    """Enter the model's call context (training flag, activity-loss list) for one step."""

    __slots__ = ("training", "saved")

    def __init__(self, training):
        self.training = training

    def __enter__(self):
        ctx = call_context
        self.saved = (ctx.depth, ctx.training, ctx.losses)
        ctx.depth, ctx.training, ctx.losses = 1, self.training, []
        return ctx

    def __exit__(self, *exc):
        call_context.depth, call_context.training, call_context.losses = self.saved


class BatchLogs(Mapping):
    """Per-batch logs: the running loss and metrics, read from the device only when asked."""

    __slots__ = ("_metrics", "_values")

    def __init__(self, metrics):
        self._metrics = metrics
        self._values = None

    def _read(self):
        if self._values is None:
            self._values = _read_metrics(self._metrics)
        return self._values

    def __getitem__(self, key):
        return self._read()[key]

    def __iter__(self):
        return iter(m.name for m in self._metrics)

    def __len__(self):
        return len(self._metrics)

    def __repr__(self):
        return repr(dict(self._read()))


def _read_metrics(metrics):
    """{name: float} for these metrics with one device synchronisation."""
    with no_dispatch():
        values = torch.stack([m._result().to(torch.float32).reshape(()) for m in metrics]).tolist()
    return {m.name: v for m, v in zip(metrics, values)}


def _check_labels(loss, y, num_classes):
    """Integer labels against the number of outputs, once per call on the whole label set."""
    if isinstance(loss, losses_module.SparseCategoricalCrossentropy) and y is not None and y.numel():
        lo, hi = (int(v) for v in torch.aminmax(y.reshape(-1).to(torch.int64)))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"Labels must be integers in [0, {num_classes}) for a model with {num_classes} outputs "
                             f"and sparse_categorical_crossentropy; got labels from {lo} to {hi}. Give the last layer "
                             f"one unit per class (Dense({hi + 1})) or fix the labels.")


class TrainStep:
    """One optimisation step for `model`; build once per `fit`, call per batch."""

    def __init__(self, model, *, class_weight=None, all_labels=None):
        self.model = model
        self.loss = model._compiled_loss
        self.rule = model.optimizer._rule
        self.variables = None
        self.regs = None
        self.metrics = None
        self.all_labels = all_labels
        self.class_weight = class_weight
        self._cw = None

    def _prepare(self, yb, out):
        """First batch: the model is built now; resolve metrics, fix the variable list, check labels."""
        model = self.model
        self.variables = model.trainable_variables
        model.optimizer.build(self.variables)              # the order its saved state follows
        self.regs = [(reg, var) for layer in model._flatten_layers() if layer._trainable
                     for reg, var in layer._weight_regularizers if var._trainable]
        self.metrics = model._resolve_metrics(yb, out)
        _check_labels(self.loss, self.all_labels if self.all_labels is not None else yb, out.shape[-1])
        if self.class_weight is not None:
            n = max(max(int(k) for k in self.class_weight) + 1, out.shape[-1])
            cw = torch.ones(n, device=out.device)
            for k, w in self.class_weight.items():
                cw[int(k)] = float(w)
            self._cw = cw

    def __call__(self, xb, yb, swb=None):
        model = self.model
        with _Context(True) as ctx, no_dispatch():
            out = model._forward(xb, True)                                   # ŷ
            if self.variables is None:
                self._prepare(yb, out)
            if self._cw is not None:
                idx = yb.argmax(-1) if yb.dim() > 1 and yb.shape[-1] > 1 else yb.reshape(-1).long()
                cw = self._cw[idx]
                swb = cw if swb is None else swb * cw
            total = self.loss._compute(yb, out, swb, check=False)            # L = loss(y, ŷ)
            for reg, var in self.regs:
                total = total + reg(plain(var))                              # + weight penalties
            for extra in ctx.losses:
                total = total + extra                                        # + activity penalties
            if self.variables:
                grads = torch.autograd.grad(total, self.variables, allow_unused=True)   # ∂L/∂w
                self.rule.apply(self.variables, grads)                                  # w <- rule(w, g)
            with torch.no_grad():
                n = xb.shape[0]
                model._loss_tracker._add(total.detach() * n, n)             # running mean weighted by batch size
                out = out.detach()
                for m in self.metrics:
                    m._update(yb, out, swb)
        return total


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
    device = course.device.get()
    course.device.announce()                     # once per session: which device trains
    data = adapt(x, y, sample_weight, batch_size=batch_size, shuffle=bool(shuffle), device=device,
                 steps=steps_per_epoch, who="fit")
    val = None
    if validation_data is not None:
        vx, vy, vsw = unpack(validation_data)
        val = adapt(vx, vy, vsw, batch_size=validation_batch_size or batch_size, device=device,
                    steps=validation_steps, who="evaluate")
    elif validation_split:
        if not isinstance(data, ArrayData):
            raise ValueError("validation_split works with arrays only; with a dataset pass validation_data=.")
        data, val = data.split(validation_split)
        if steps_per_epoch:
            data.steps = min(data.steps, steps_per_epoch)
    verbose = _verbose(verbose)
    cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
                       epochs=epochs, steps=data.steps, in_fit=True)
    step = TrainStep(model, class_weight=class_weight,
                     all_labels=data.y if isinstance(data, ArrayData) else None)
    model.stop_training = False
    wants_batches = cbs.wants_batches("train")
    cbs.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        cbs.on_epoch_begin(epoch)
        seen = 0
        for i, (xb, yb, swb) in enumerate(data):
            if yb is None:
                raise ValueError("fit() needs targets: pass y, or a dataset that yields (x, y) batches.")
            if wants_batches:
                cbs.on_train_batch_begin(i)
            step(xb, yb, swb)
            seen = i + 1
            if wants_batches:
                cbs.on_train_batch_end(i, BatchLogs(model.metrics))
            if model.stop_training:
                break
        if seen == 0:
            raise ValueError("fit(): the data produced no batches (an exhausted generator or an empty dataset?).")
        if cbs.params.get("steps") is None:
            cbs.params["steps"] = seen
        logs = _read_metrics(model.metrics)
        if val is not None and (epoch + 1) % validation_freq == 0:
            val_logs = _evaluate_data(model, val, cbs)
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    model.history = cbs.history
    return cbs.history


def _evaluate_data(model, data, cbs):
    model.reset_metrics()
    loss_fn = model._compiled_loss
    cbs.on_test_begin()
    wants = cbs.wants_batches("test")
    regs = None
    checked = False
    for i, (xb, yb, swb) in enumerate(data):
        if yb is None:
            raise ValueError("evaluate() needs targets: pass y, or a dataset that yields (x, y) batches.")
        if wants:
            cbs.on_test_batch_begin(i)
        with torch.no_grad(), _Context(False) as ctx, no_dispatch():
            out = model._forward(xb, False)
            if not checked:
                checked = True
                all_labels = data.y if isinstance(data, ArrayData) else yb
                _check_labels(loss_fn, all_labels, out.shape[-1])
                metrics = model._resolve_metrics(yb, out)
                regs = [(reg, var) for layer in model._flatten_layers() if layer._trainable
                        for reg, var in layer._weight_regularizers if var._trainable]
            total = loss_fn._compute(yb, out, swb, check=False)
            for reg, var in regs:
                total = total + reg(plain(var))
            for extra in ctx.losses:
                total = total + extra
            n = xb.shape[0]
            model._loss_tracker._add(total * n, n)
            for m in metrics:
                m._update(yb, out, swb)
        if wants:
            cbs.on_test_batch_end(i, BatchLogs(model.metrics))
    if not checked:
        raise ValueError("evaluate(): the data produced no batches.")
    logs = _read_metrics(model.metrics)
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
    logs = _evaluate_data(model, data, cbs)
    if return_dict:
        return logs
    values = [logs[m.name] for m in model.metrics]
    return values[0] if len(values) == 1 else values


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
        with torch.no_grad(), _Context(False), no_dispatch():
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


def train_on_batch(model, x, y=None, *, sample_weight=None, return_dict=False):
    model._assert_compiled("train_on_batch")
    data = adapt(x, y, sample_weight, batch_size=len(x), device=course.device.get(), who="train_on_batch")
    step = TrainStep(model, all_labels=data.y)
    for xb, yb, swb in data:
        step(xb, yb, swb)
    logs = _read_metrics(model.metrics)
    if return_dict:
        return logs
    values = [logs[m.name] for m in model.metrics]
    return values[0] if len(values) == 1 else values

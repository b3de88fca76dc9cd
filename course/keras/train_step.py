"""One training step and one test step, shared by `fit`, `evaluate`, `train_on_batch` and
`course.distributed.fit`, as Keras 3's torch trainer shares `_compute_loss` between `train_step`
and `test_step` and runs DistributedDataParallel inside the same step. On plain tensors (no
subclass dispatch), for one batch (x, y):

    ŷ = module(x, training=True)          module: the model, or DDP wrapping it
    L = λ·loss(y, ŷ, sw) + Σ weight penalties + Σ activity penalties  (compute_loss, written once;
                                           λ = compile's loss_weights, sw = sample or class weights)
    g = ∂L/∂w                              torch autograd; backward() when DDP must all-reduce g
    w <- rule(w, g)                        (course.optim, foreach)
    loss tracker += L·n;  metrics += per-batch statistics   (device tensors, no read-back)
    (compile's `metrics` ignore sw, its `weighted_metrics` use it, as in Keras 3)

Batch logs are lazy: only a callback that reads them waits for the device.
"""
from collections.abc import Mapping

import torch

from course.framework.convert import no_dispatch
from course.keras import losses as losses_module
from course.keras.layers.call_context import call_context
from course.keras.layers.conversion import plain

__all__ = ["Step", "StepContext", "BatchLogs", "read_metrics", "check_labels"]


class StepContext:
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
            self._values = read_metrics(self._metrics)
        return self._values

    def __getitem__(self, key):
        return self._read()[key]

    def __iter__(self):
        return iter(sorted(m.name for m in self._metrics))      # Keras 3 hands callbacks sorted logs

    def __len__(self):
        return len(self._metrics)

    def __repr__(self):
        return repr(dict(self._read()))


def read_metrics(metrics):
    """{name: float} for these metrics with one device synchronisation."""
    with no_dispatch():
        values = torch.stack([m._result().to(torch.float32).reshape(()) for m in metrics]).tolist()
    return {m.name: v for m, v in zip(metrics, values)}


def check_labels(loss, y, num_classes):
    """Integer labels against the number of outputs, once per call on the whole label set."""
    if isinstance(loss, losses_module.SparseCategoricalCrossentropy) and y is not None and y.numel():
        lo, hi = (int(v) for v in torch.aminmax(y.reshape(-1).to(torch.int64)))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"Labels must be integers in [0, {num_classes}) for a model with {num_classes} outputs "
                             f"and sparse_categorical_crossentropy; got labels from {lo} to {hi}. Give the last layer "
                             f"one unit per class (Dense({hi + 1})) or fix the labels.")


class Step:
    """The train and test steps of one compiled `model`; build once per loop, call per batch.

    `module` is what the forward pass runs through: the model itself, or a
    `DistributedDataParallel` wrapping it (then gradients come from `backward()`, so that DDP
    all-reduces them). `all_labels` (the whole label set, when known) is checked once against
    the number of outputs; `class_weight` ({class: weight}) scales the training samples.
    """

    def __init__(self, model, *, module=None, class_weight=None, all_labels=None):
        self.model = model
        self.module = module
        self.loss = model._compiled_loss
        self.loss_weight = getattr(model, "_loss_weight", None)
        self.rule = model.optimizer._rule if model.optimizer is not None else None
        self.all_labels = all_labels
        self.class_weight = class_weight
        self.variables = None
        self.regs = None
        self.metrics = None
        self.weighted = frozenset()
        self._cw = None

    def _prepare(self, yb, out, training):
        """First batch: the model is built now; resolve metrics, fix the variable list, check labels."""
        model = self.model
        self.regs = [(reg, var) for layer in model._flatten_layers() if layer._trainable
                     for reg, var in layer._weight_regularizers if var._trainable]
        check_labels(self.loss, self.all_labels if self.all_labels is not None else yb, out.shape[-1])
        self.metrics = model._resolve_metrics(yb, out)
        self.weighted = frozenset(id(m) for m in getattr(model, "_weighted_metrics", ()))
        if not training:
            return
        self.variables = model.trainable_variables
        model.optimizer.build(self.variables)              # the order its saved state follows
        if self.class_weight is not None:
            n = max(max(int(k) for k in self.class_weight) + 1, out.shape[-1])
            cw = torch.ones(n, device=out.device)
            for k, w in self.class_weight.items():
                cw[int(k)] = float(w)
            self._cw = cw

    def _forward(self, xb, training):
        if self.module is None:
            return self.model._forward(xb, training)
        return self.module(xb, training=training)          # DDP -> model.__call__, nested in this context

    def compute_loss(self, yb, out, swb, activity_losses):
        """L = λ·loss(y, ŷ) + Σ weight penalties + Σ activity penalties, on plain tensors."""
        total = self.loss._compute(yb, out, swb, check=False)            # L = loss(y, ŷ)
        if self.loss_weight is not None:
            total = total * self.loss_weight                             # λ (compile's loss_weights)
        for reg, var in self.regs:
            total = total + reg(plain(var))                              # + weight penalties
        for extra in activity_losses:
            total = total + extra                                        # + activity penalties
        return total

    def _gradients(self, total):
        if self.module is None:
            return torch.autograd.grad(total, self.variables, allow_unused=True)   # ∂L/∂w
        total.backward()                            # DDP all-reduces ∂L/∂w in buckets as they are computed
        grads = [v.grad for v in self.variables]
        for v in self.variables:
            v.grad = None
        return grads

    def _track(self, total, out, yb, swb, n):
        self.model._loss_tracker._add(total * n, n)                     # running mean weighted by batch size
        weighted = self.weighted
        for m in self.metrics:
            m._update(yb, out, swb if id(m) in weighted else None)     # Keras: only weighted_metrics see sw

    def train(self, xb, yb, swb=None):
        """One optimisation step on (xb, yb); returns the batch loss L (a device scalar)."""
        with StepContext(True) as ctx, no_dispatch():
            out = self._forward(xb, True)                                # ŷ
            if self.variables is None:
                self._prepare(yb, out, True)
            if self._cw is not None:
                swb = self._class_weights(yb, swb)
            total = self.compute_loss(yb, out, swb, ctx.losses)
            if self.variables:
                self.rule.apply(self.variables, self._gradients(total))   # w <- rule(w, g)
            with torch.no_grad():
                self._track(total.detach(), out.detach(), yb, swb, xb.shape[0])
        return total

    def _class_weights(self, yb, swb):
        """One weight per sample from its class, as Keras' class_weight does (one-hot labels: the argmax;
        others rounded to the nearest integer); Keras refuses class and sample weights together."""
        if swb is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time. Fold the class "
                             "weights into the sample weights yourself (multiply them) and pass those only.")
        if yb.dim() > 1 and yb.shape[-1] > 1:
            idx = yb.argmax(-1)
        else:
            idx = yb.reshape(yb.shape[0]) if yb.dim() > 1 else yb
            idx = torch.round(idx).long() if idx.is_floating_point() else idx.long()
        return self._cw[idx]

    def test(self, xb, yb, swb=None):
        """Loss and metrics of (xb, yb) in inference mode, added to the model's trackers."""
        with torch.no_grad(), StepContext(False) as ctx, no_dispatch():
            out = self._forward(xb, False)
            if self.metrics is None:
                self._prepare(yb, out, False)
            total = self.compute_loss(yb, out, swb, ctx.losses)
            self._track(total, out, yb, swb, xb.shape[0])
        return total

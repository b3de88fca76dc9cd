"""Keras metrics: running statistics kept on the device, read with `result()`.

    m = SparseCategoricalAccuracy()
    m.update_state(y_true, y_pred)      # or m(y_true, y_pred), which also returns result()
    m.result()                          # EagerTensor scalar;  m.reset_state() starts over

State is a device tensor (the weighted total) updated in place without reading it back, and a
count kept on the host (a device tensor only when sample weights are given), so a training loop
can update every batch and synchronise only when it prints.
Mean-style metrics: result = Σ w·value / Σ w over everything seen since the last reset, with one
value per sample as Keras 3 reduces them (an (N, k) batch counts N samples, each its mean over k).
"""
import torch

import course.device
import course.losses as L
from course.framework.convert import as_plain, no_dispatch
from course.framework.identifiers import NO_DEFAULT, Registry
from course.keras.layers.base import to_snake_case
from course.keras.layers.call_context import graph_tensor
from course.keras.layers.conversion import to_tensor
from course.tape.tensor import graph_hooks
from course.tape import EagerTensor

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError", "SparseCategoricalCrossentropy",
           "CategoricalCrossentropy", "BinaryCrossentropy", "Precision", "Recall", "get", "resolve",
           "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"]


def _as_input(t, device=None):
    """A plain tensor for a metric: a tensor as it is (moved to `device`), anything else converted."""
    return as_plain(t, device=device) if isinstance(t, torch.Tensor) else to_tensor(t, device=device)


class Metric:
    """Base class: `update_state`, `result`, `reset_state`; calling it updates and returns the result.

    State: `_total` (device tensor), `_count` (a Python number: unweighted counts are known on the
    host) and `_wcount` (device tensor, only when sample weights were given).
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self._device = None
        self._variables = []                         # a subclass's own state, from add_variable
        Metric.reset_state(self)                     # not a subclass's: its variables do not exist yet

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A state variable of a subclass (Keras 3's API), e.g. a running count."""
        from course.keras import initializers as initializers_module
        from course.tape import Variable
        value = initializers_module.get(initializer)(tuple(shape), dtype=torch.float32)
        variable = Variable(value, trainable=False, name=name or f"{self.name}/variable_{len(self._variables)}")
        self._variables.append(variable)
        return variable

    add_weight = add_variable

    def reset_state(self):
        self._total = None
        self._count = 0
        self._wcount = None

    reset_states = reset_state

    def update_state(self, y_true, y_pred, sample_weight=None):
        with no_dispatch():
            y_pred = _as_input(y_pred)
            self._device = y_pred.device
            y_true = _as_input(y_true, y_pred.device)
            sw = None if sample_weight is None else _as_input(sample_weight, y_pred.device)
            with torch.no_grad():
                self._update(y_true, y_pred.detach(), sw)

    def _update(self, y_true, y_pred, sample_weight):
        """In-place update on plain tensors, no synchronisation (the training loop calls this).
        A subclass that writes only Keras' public `update_state` gets that called instead."""
        if type(self).update_state is Metric.update_state:
            raise NotImplementedError(f"{type(self).__name__} must define update_state(y_true, y_pred, "
                                      f"sample_weight=None) and result().")
        self.update_state(y_true.as_subclass(EagerTensor), y_pred.as_subclass(EagerTensor),
                          None if sample_weight is None else sample_weight.as_subclass(EagerTensor))

    def _add(self, total, count):
        """total += Σ w·v (a device scalar), count += n (a host number): no synchronisation."""
        if self._total is None:
            self._total = total.detach().to(torch.float32).clone()
        else:
            self._total.add_(total.detach())
        self._count += count

    def sum_state(self, all_sum):
        """Replace the state by its sum over processes, `all_sum(tensor) -> tensor` (a data-parallel
        run's all-reduce): totals and counts add up, as Keras' variables with aggregation='sum'."""
        if self._variables:
            for v in self._variables:
                v.assign(all_sum(torch.as_tensor(v.numpy())))
            return
        device = self._total.device if self._total is not None else self._device or course.device.get()
        with no_dispatch():
            zero = torch.zeros((), device=device)
            state = torch.stack([zero if self._total is None else self._total.reshape(()).float(),
                                 zero + float(self._count),
                                 zero if self._wcount is None else self._wcount.reshape(()).float()])
            total, count, wcount = all_sum(state).unbind()
        if self._total is not None or float(count):
            self._total = total
        self._count = float(count)
        if self._wcount is not None:
            self._wcount = wcount

    def _result(self):
        """The result as a plain 0-d tensor (no synchronisation)."""
        if type(self).result is not Metric.result:   # a subclass with its own result()
            return as_plain(torch.as_tensor(self.result()), detach=True)
        if self._total is None:
            return torch.zeros((), device=self._device or course.device.get())
        count = self._count if self._wcount is None else self._wcount + self._count
        if self._wcount is None:
            return self._total / count if count else torch.zeros_like(self._total)
        return torch.where(count > 0, self._total / count.clamp_min(1e-30), torch.zeros_like(self._total))

    def result(self):
        with no_dispatch():
            return self._result().as_subclass(EagerTensor)

    def __call__(self, *args, **kwargs):
        if any(graph_tensor(a) for a in args):                    # inside a traced tf.function
            return graph_hooks["keras_metric"](self, args, kwargs)
        self.update_state(*args, **kwargs)
        return self.result()

    @property
    def variables(self):
        if self._variables:
            return list(self._variables)
        if self._total is None:
            return []
        return [self._total.as_subclass(EagerTensor),
                torch.as_tensor(float(self._count) if self._wcount is None else self._wcount + self._count
                                ).as_subclass(EagerTensor)]

    def get_config(self):
        return {"name": self.name, "dtype": "float32"}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _samplewise(values, sample_weight, reduce):
    """Keras' `reduce_to_samplewise_values`: (values, weights) with one value per sample.

    With weights, ranks are matched (Keras' squeeze-or-expand rule), values are reduced over the axes
    the weights lack, multiplied by the (broadcast) weights, and weights of rank > 1 are reduced to
    one per sample; then values of rank > 1 are reduced to one per sample. `reduce` is torch.mean
    (Mean) or torch.sum (Sum)."""
    values = values.to(torch.float32)
    if sample_weight is not None:
        sw = sample_weight.to(torch.float32)
        values, sw = L.squeeze_or_expand_to_same_rank(values, sw)
        if values.dim() > sw.dim():
            values = reduce(values, dim=tuple(range(sw.dim(), values.dim())))
        sw = torch.broadcast_to(sw, values.shape)
        values = values * sw
        if sw.dim() > 1:
            sw = reduce(sw, dim=tuple(range(1, sw.dim())))
        sample_weight = sw
    if values.dim() > 1:
        values = reduce(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


def _accumulate(metric, values, sample_weight):
    """Keras' `Mean.update_state`: total += Σ per-sample values (weighted), count += the number of
    samples (values.shape[0], counted on the host) or, with weights, Σ w."""
    values, sw = _samplewise(values, sample_weight, torch.mean)
    if sw is None:
        metric._add(values.sum(), values.shape[0] if values.dim() else 1)
        return
    metric._add(values.sum(), 0)
    w = sw.sum()
    metric._wcount = w if metric._wcount is None else metric._wcount + w


class Mean(Metric):
    """Weighted mean of every value passed to `update_state(values, sample_weight=None)`."""

    def update_state(self, values, sample_weight=None):
        with no_dispatch():
            values = _as_input(values)
            self._device = values.device
            sw = None if sample_weight is None else _as_input(sample_weight, values.device)
            with torch.no_grad():
                _accumulate(self, values.detach(), sw)


class Sum(Metric):
    """Sum of every value passed to `update_state`."""

    def update_state(self, values, sample_weight=None):
        with no_dispatch():
            values = _as_input(values)
            self._device = values.device
            sw = None if sample_weight is None else _as_input(sample_weight, values.device)
            with torch.no_grad():
                values, _ = _samplewise(values.detach(), sw, torch.sum)
                self._add(values.sum(), 0)

    def _result(self):
        return self._total if self._total is not None else torch.zeros((), device=course.device.get())


class MeanMetricWrapper(Metric):
    """Mean over samples of `fn(y_true, y_pred)` (per-sample values on plain tensors)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", None))
        self._fn, self._fn_kwargs = fn, kwargs

    def _update(self, y_true, y_pred, sample_weight):
        _accumulate(self, self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)


# -- per-sample functions on plain tensors ------------------------------------------------------------
def _match(y_true, y_pred):
    return L.squeeze_or_expand_to_same_rank(y_true, y_pred)


def accuracy(y_true, y_pred):
    """1 where y_true == y_pred exactly (after matching ranks)."""
    y_true, y_pred = _match(y_true, y_pred)
    return (y_true.to(y_pred.dtype) == y_pred) if y_true.dtype != y_pred.dtype else (y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals the 0/1 label, element by element (Keras 3: the mean over
    each sample's entries is the metric's per-sample reduction, not this function's)."""
    y_true, y_pred = _match(y_true, y_pred)
    return ((y_pred > threshold).to(y_true.dtype) == y_true).float()


def categorical_accuracy(y_true, y_pred):
    return y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)


def sparse_categorical_accuracy(y_true, y_pred):
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_pred.argmax(dim=-1) == y_true.to(torch.long) if y_true.is_floating_point() else (
        y_pred.argmax(dim=-1) == y_true)


def _top_k(y_true_idx, y_pred, k):
    top = y_pred.topk(min(k, y_pred.shape[-1]), dim=-1).indices                # (N, k)
    return (top == y_true_idx.unsqueeze(-1)).any(dim=-1)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true exactly (compare class ids, e.g. after argmax)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the 0/1 label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax(one-hot y_true)."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(lambda t, p: _top_k(t.argmax(dim=-1), p, k), name)
        self.k = k

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(lambda t, p: _top_k(t.reshape(p.shape[:-1]).long(), p, k), name)
        self.k = k

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(lambda t, p: L.mean_squared_error(t, p, reduction="none"), name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(lambda t, p: L.mean_absolute_error(t, p, reduction="none"), name)


class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the running mean squared error."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name)

    def _result(self):
        return super()._result().sqrt()


def _logits_of(y_pred, from_logits):
    logits = None if from_logits else getattr(y_pred, "_keras_logits", None)
    return (logits, True) if logits is not None else (y_pred, from_logits)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False):
        def fn(t, p):
            return L.sparse_categorical_crossentropy(t, p, from_logits=from_logits, reduction="none", check=False)
        super().__init__(fn, name)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0.0):
        def fn(t, p):
            return L.categorical_crossentropy(t, p, from_logits=from_logits, label_smoothing=label_smoothing,
                                              reduction="none")
        super().__init__(fn, name)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0.0):
        def fn(t, p):
            return L.binary_crossentropy(t, p, from_logits=from_logits, label_smoothing=label_smoothing,
                                         reduction="none")
        super().__init__(fn, name)


class _Confusion(Metric):
    """Binary precision/recall at `thresholds` (one threshold): counts kept on the device."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name)
        if top_k is not None or class_id is not None or isinstance(thresholds, (list, tuple)):
            raise NotImplementedError(f"{type(self).__name__}: only a single threshold is supported.")
        self.threshold = 0.5 if thresholds is None else float(thresholds)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.threshold, "top_k": None, "class_id": None}

    def _update(self, y_true, y_pred, sample_weight):
        y_true, y_pred = _match(y_true, y_pred)
        pred = (y_pred > self.threshold).float()
        true = (y_true > 0.5).float()
        w = 1.0 if sample_weight is None else sample_weight.float().reshape(-1, *[1] * (pred.dim() - 1))
        self._add((pred * true * w).sum(), 0)                                  # true positives
        d = ((pred if self._denominator == "predicted" else true) * w).sum()  # TP + FP, or TP + FN
        self._wcount = d if self._wcount is None else self._wcount + d


class Precision(_Confusion):
    """TP / (TP + FP)."""
    _denominator = "predicted"


class Recall(_Confusion):
    """TP / (TP + FN)."""
    _denominator = "actual"


_BY_STRING = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "precision": Precision, "recall": Recall,
}
_CLASSES = {c.__name__: c for c in (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                                    MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError,
                                    SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                                    Precision, Recall)}


def serialize(metric):
    """A compile(metrics=...) entry as Keras 3 stores it in a .keras file: a string stays a string, a
    built-in Metric becomes {module, class_name, config}; a plain function is not stored (None)."""
    if isinstance(metric, str):
        return metric
    if isinstance(metric, type) and issubclass(metric, Metric):
        metric = metric()
    if isinstance(metric, Metric) and _CLASSES.get(type(metric).__name__) is type(metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
                "registered_name": None}
    return None


def _per_sample(fn):
    """A function fn(y_true, y_pred) as a mean-of-values metric (EagerTensors in, plain tensors out)."""
    def per_sample(t, p):
        from course.tape import as_eager
        out = fn(as_eager(t), as_eager(p))
        return as_plain(out) if isinstance(out, torch.Tensor) else torch.as_tensor(out)
    return MeanMetricWrapper(per_sample, name=getattr(fn, "__name__", "metric"))


METRICS = Registry("metric", _BY_STRING, classes=_CLASSES, base=Metric, names_are_classes=True, none=NO_DEFAULT,
                   from_config=lambda cls, config: cls(**{k: v for k, v in config.items() if k != "dtype"}),
                   from_callable=_per_sample)


def get(identifier):
    """A Metric from a string, class name, class, Metric, config dict or function `fn(y_true, y_pred)`."""
    return METRICS.get(identifier)


def resolve(identifier, y_true, y_pred):
    """compile(metrics=[...]) entries, with 'accuracy'/'acc' chosen by the shapes as Keras does:
    one output unit -> BinaryAccuracy; labels of lower rank (or a trailing 1) -> Sparse; else Categorical."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        binary = y_pred.shape[-1] == 1
        sparse = y_true.dim() < y_pred.dim() or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        cls = BinaryAccuracy if binary else SparseCategoricalAccuracy if sparse else CategoricalAccuracy
        return cls(name=identifier)
    metric = get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric

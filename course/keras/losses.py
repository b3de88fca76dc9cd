"""Keras loss classes and functions over the shared maths in `course.losses`.

    loss_object = SparseCategoricalCrossentropy(from_logits=False)
    value = loss_object(y_true, y_pred, sample_weight=None)     # a scalar EagerTensor

As Keras on TensorFlow does, a cross-entropy on probabilities that came straight out of a
softmax (or sigmoid) activation is computed from the logits that produced them (the activation
leaves them on the output as `_keras_logits`), which keeps very confident mistakes finite.
The functional forms (`sparse_categorical_crossentropy(y_true, y_pred)`) return one value per sample.
"""
import torch

import course.losses as L
from course.framework.convert import as_plain, no_dispatch
from course.framework.identifiers import Registry
from course.keras.layers.call_context import graph_tensor
from course.keras.layers.conversion import to_tensor
from course.tape.tensor import graph_hooks
from course.tape import EagerTensor

__all__ = ["Loss", "LossFunctionWrapper", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError", "Hinge", "SquaredHinge",
           "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
           "mean_squared_error", "mean_absolute_error", "mse", "mae", "hinge", "squared_hinge", "get",
           "serialize"]


def _as_input(t, like=None):
    """A plain tensor for a loss (a softmax output keeps its logits); non-tensors converted beside `like`."""
    if isinstance(t, torch.Tensor):
        out = as_plain(t)
        logits = getattr(t, "_keras_logits", None)
        if logits is not None and out is not t:
            out._keras_logits = as_plain(logits)
        return out
    return to_tensor(t, device=like.device if like is not None else None)


class Loss:
    """Base class: `__call__(y_true, y_pred, sample_weight=None)` -> reduced scalar (EagerTensor)."""

    _uses_logits_trick = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in L.REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {L.REDUCTIONS}; got {reduction!r}.")
        self.name = name or type(self).__name__
        self.reduction = reduction

    def call(self, y_true, y_pred):
        """Per-sample values (reduction 'none'), on plain tensors."""
        raise NotImplementedError

    def _compute(self, y_true, y_pred, sample_weight=None, *, check=True):
        """The reduced loss on plain tensors (the training loop calls this with check=False)."""
        values = self._values(y_true, y_pred, check=check)
        return L.reduce_weighted(values, sample_weight, self.reduction)

    def _values(self, y_true, y_pred, *, check=True):
        return self.call(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if graph_tensor(y_pred) or graph_tensor(y_true):            # inside a traced tf.function
            return graph_hooks["keras_loss"](self, y_true, y_pred, sample_weight)
        with no_dispatch():
            y_pred = _as_input(y_pred)
            y_true = _as_input(y_true, like=y_pred)
            if sample_weight is not None:
                sample_weight = _as_input(sample_weight, like=y_pred)
            out = self._compute(y_true, y_pred, sample_weight)
        return out.as_subclass(EagerTensor)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A loss object around `fn(y_true, y_pred, **kwargs)` returning per-sample values."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)


def _logits(y_pred, from_logits):
    """(tensor, from_logits): the logits behind a softmax/sigmoid output when they are known."""
    if not from_logits:
        logits = getattr(y_pred, "_keras_logits", None)
        if logits is not None:
            return logits, True
    return y_pred, from_logits


class SparseCategoricalCrossentropy(Loss):
    """-log p[label] for integer labels; `from_logits=True` when y_pred are raw scores."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        if ignore_class is not None:
            raise NotImplementedError("SparseCategoricalCrossentropy(ignore_class=...) is not supported.")
        self.from_logits = bool(from_logits)

    def _values(self, y_true, y_pred, *, check=True):
        y_pred, from_logits = _logits(y_pred, self.from_logits)
        return L.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, reduction="none",
                                                 check=check)

    call = _values

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": None}


class CategoricalCrossentropy(Loss):
    """-Σ y·log p for one-hot (or soft) labels."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis

    def call(self, y_true, y_pred):
        y_pred, from_logits = _logits(y_pred, self.from_logits)
        return L.categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                          label_smoothing=self.label_smoothing, axis=self.axis, reduction="none")

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class BinaryCrossentropy(Loss):
    """-(z·log p + (1-z)·log(1-p)), averaged over the last axis."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis

    def call(self, y_true, y_pred):
        y_pred, from_logits = _logits(y_pred, self.from_logits)
        return L.binary_crossentropy(y_true, y_pred, from_logits=from_logits,
                                     label_smoothing=self.label_smoothing, reduction="none")

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


def _simple(fn, default_name):
    class _L(Loss):
        def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
            super().__init__(name, reduction)

        def call(self, y_true, y_pred):
            return fn(y_true, y_pred, reduction="none")
    return _L


class MeanSquaredError(_simple(L.mean_squared_error, "mean_squared_error")):
    """mean((y_true - y_pred)²) over the last axis."""


class MeanAbsoluteError(_simple(L.mean_absolute_error, "mean_absolute_error")):
    """mean(|y_true - y_pred|) over the last axis."""


class Hinge(_simple(L.hinge, "hinge")):
    """mean(max(1 - y·ŷ, 0)); labels -1/1 (0/1 are converted)."""


class SquaredHinge(_simple(L.squared_hinge, "squared_hinge")):
    """mean(max(1 - y·ŷ, 0)²)."""


# -- functional forms: one value per sample --------------------------------------------------------
def _functional(cls, name):
    def fn(y_true, y_pred, **kwargs):
        loss = cls(reduction="none", **kwargs)
        return loss(y_true, y_pred)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Per-sample {name} (Keras' functional form: no reduction)."
    return fn


sparse_categorical_crossentropy = _functional(SparseCategoricalCrossentropy, "sparse_categorical_crossentropy")
categorical_crossentropy = _functional(CategoricalCrossentropy, "categorical_crossentropy")
binary_crossentropy = _functional(BinaryCrossentropy, "binary_crossentropy")
mean_squared_error = mse = _functional(MeanSquaredError, "mean_squared_error")
mean_absolute_error = mae = _functional(MeanAbsoluteError, "mean_absolute_error")
hinge = _functional(Hinge, "hinge")
squared_hinge = _functional(SquaredHinge, "squared_hinge")

_CLASSES = {c.__name__: c for c in (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                                    MeanSquaredError, MeanAbsoluteError, Hinge, SquaredHinge)}
_STRINGS = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
            "categorical_crossentropy": CategoricalCrossentropy, "binary_crossentropy": BinaryCrossentropy,
            "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
            "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
            "hinge": Hinge, "squared_hinge": SquaredHinge}


LOSSES = Registry("loss", _STRINGS, classes=_CLASSES, base=Loss, names_are_classes=True,
                  from_callable=lambda fn: LossFunctionWrapper(_as_per_sample(fn),
                      name=getattr(fn, "__name__", "loss")))


def get(identifier):
    """A Loss object from a Keras string, class name, Loss object or plain callable `fn(y_true, y_pred)`."""
    if isinstance(identifier, str):
        loss = LOSSES.lookup(identifier)()
        loss._string = identifier
        return loss
    return LOSSES.get(identifier)


def _as_per_sample(fn):
    """A user function may return EagerTensors or take them; give it EagerTensors, take plain back."""
    def wrapped(y_true, y_pred):
        from course.tape import as_eager
        out = fn(as_eager(y_true), as_eager(y_pred))
        out = out if isinstance(out, torch.Tensor) else torch.as_tensor(out, device=y_pred.device)
        return as_plain(out)
    wrapped.__name__ = getattr(fn, "__name__", "loss")
    return wrapped


def serialize(loss):
    """What Keras writes for a compiled loss: the string it was given, or a class config."""
    if loss is None:
        return None
    if getattr(loss, "_string", None):
        return loss._string
    if type(loss).__name__ in _CLASSES:
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    return None

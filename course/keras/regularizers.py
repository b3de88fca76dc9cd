"""Weight and activity regularizers (Keras' L1, L2, L1L2); each adds a penalty to the loss.

    L1(l1)(w)      = l1 * sum|w|
    L2(l2)(w)      = l2 * sum w²            (no 1/2, unlike tf.nn.l2_loss)
    L1L2(l1, l2)   = both
"""
import torch

from course.framework.identifiers import Registry

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "get", "serialize"]


class Regularizer:
    """Base class: `penalty = regularizer(w)` is a scalar tensor."""

    def __call__(self, x):
        return x.new_zeros(())

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = float(l1)

    def __call__(self, x):
        return self.l1 * x.abs().sum()          # l1·Σ|w|

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = float(l2)

    def __call__(self, x):
        return self.l2 * x.square().sum()       # l2·Σw²

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        out = x.new_zeros(())
        if self.l1:
            out = out + self.l1 * x.abs().sum()
        if self.l2:
            out = out + self.l2 * x.square().sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean |W_n W_nᵀ - I| over pairs of distinct rows (mode='rows') or columns, W_n normalised."""

    def __init__(self, factor=0.01, mode="rows"):
        if mode not in ("rows", "columns"):
            raise ValueError(f"mode must be 'rows' or 'columns'; got {mode!r}.")
        self.factor, self.mode = float(factor), mode

    def __call__(self, x):
        w = x if self.mode == "rows" else x.T
        w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)
        product = w @ w.T                                          # (r, r)
        n = product.shape[0]
        off = (product - torch.eye(n, device=x.device, dtype=x.dtype)).abs().sum()
        return self.factor * off / (n * (n - 1))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2 = L1, L2, L1L2

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}


REGULARIZERS = Registry("regularizer", _BY_NAME, classes=_CLASSES, base=Regularizer, ignore_case=True)


def get(identifier):
    """None, a Regularizer, a callable, a name ('l2') or a Keras config dict -> a regularizer (or None)."""
    return REGULARIZERS.get(identifier)


def serialize(reg):
    """Keras' config dict for a regularizer (None stays None)."""
    if reg is None:
        return None
    if not isinstance(reg, Regularizer) or type(reg).__name__ not in _CLASSES:
        raise ValueError(f"Cannot save regularizer {reg!r}: only {sorted(_CLASSES)} can be written to a .keras file.")
    return {"module": "keras.regularizers", "class_name": type(reg).__name__, "config": reg.get_config(),
            "registered_name": None}

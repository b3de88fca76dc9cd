"""Element-wise activations and softmax, forward and backward by hand.

Same signature as every pair in :mod:`course.scratch`::

    out, cache = relu_forward(x)
    dx = relu_backward(dout, cache)

A single-input pair returns a single tensor ``dx`` (not a 1-tuple), as CS231n does.
All shapes are preserved: x (...) -> out (...); softmax acts on the last axis.
"""

from __future__ import annotations

import torch

__all__ = [
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "softmax_forward",
    "softmax_backward",
]


def relu_forward(x: torch.Tensor):
    r"""ReLU  y = max(0, x).  Returns ``(y, cache)`` with ``cache = x``."""
    y = torch.clamp(x, min=0)  # (...)
    return y, x


def relu_backward(dout: torch.Tensor, cache):
    r"""∂L/∂x = ∂L/∂y · 1[x > 0].

    ReLU has a kink at x = 0; we use the sub-gradient 0 there, as TensorFlow and PyTorch do.
    A numerical gradient taken within ``eps`` of 0 straddles the kink and disagrees.
    """
    x = cache
    dx = dout * (x > 0).to(dout.dtype)  # (...)
    return dx


def sigmoid_forward(x: torch.Tensor):
    r"""Logistic sigmoid  σ(x) = 1 / (1 + e^{-x}).  Returns ``(y, cache)`` with ``cache = y``.

    Computed as ``torch.sigmoid`` (numerically stable for large |x|).
    """
    y = torch.sigmoid(x)  # (...)
    return y, y


def sigmoid_backward(dout: torch.Tensor, cache):
    r"""dσ/dx = σ(x)·(1 − σ(x)), so ∂L/∂x = ∂L/∂y · y·(1 − y)."""
    y = cache
    dx = dout * y * (1 - y)  # (...)
    return dx


def tanh_forward(x: torch.Tensor):
    r"""Hyperbolic tangent  y = tanh(x).  Returns ``(y, cache)`` with ``cache = y``."""
    y = torch.tanh(x)  # (...)
    return y, y


def tanh_backward(dout: torch.Tensor, cache):
    r"""d tanh/dx = 1 − tanh²(x), so ∂L/∂x = ∂L/∂y · (1 − y²)."""
    y = cache
    dx = dout * (1 - y * y)  # (...)
    return dx


def softmax_forward(x: torch.Tensor):
    r"""Softmax over the last axis  y_i = e^{x_i − max_j x_j} / Σ_k e^{x_k − max_j x_j}.

    Subtracting the row maximum changes nothing mathematically and keeps e^{·} from overflowing.
    Returns ``(y, cache)`` with ``cache = y``.  Shapes: x (..., C) -> y (..., C).
    """
    z = x - x.amax(dim=-1, keepdim=True)  # (..., C)
    e = torch.exp(z)  # (..., C)
    y = e / e.sum(dim=-1, keepdim=True)  # (..., C)
    return y, y


def softmax_backward(dout: torch.Tensor, cache):
    r"""Backward of softmax.

    The Jacobian is ∂y_i/∂x_j = y_i (δ_ij − y_j), so with g = ∂L/∂y

        ∂L/∂x_j = Σ_i g_i y_i (δ_ij − y_j) = y_j (g_j − Σ_i g_i y_i).

    (When softmax feeds a cross-entropy, use the fused
    :func:`course.scratch.losses.softmax_cross_entropy`, whose gradient is simply p − onehot.)
    """
    y = cache
    dx = y * (dout - (dout * y).sum(dim=-1, keepdim=True))  # (..., C)
    return dx

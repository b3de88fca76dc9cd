"""Fully connected (dense) layer and flatten, forward and backward by hand.

Every pair in :mod:`course.scratch` has the same signature::

    out, cache = dense_forward(x, w, b)
    dx, dw, db = dense_backward(dout, cache)

``dout`` is ∂L/∂out for some scalar loss L; the backward returns ∂L/∂input for every
input of the forward, in the same order.

Dense, as in Keras, keeps the kernel as ``(in, out)``, so the layer is ``x @ w + b``
(PyTorch's ``nn.Linear`` stores the transpose, ``(out, in)``, and computes ``x @ W.T + b``).
"""

from __future__ import annotations

import torch

__all__ = ["dense_forward", "dense_backward", "flatten_forward", "flatten_backward"]


def _check_dense(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> None:
    if x.dim() != 2:
        raise ValueError(
            f"dense_forward expects x of shape (batch, features); got {tuple(x.shape)}. "
            "Flatten the input first (flatten_forward)."
        )
    if w.dim() != 2 or w.shape[0] != x.shape[1]:
        raise ValueError(
            f"dense_forward expects w of shape (in, out) = ({x.shape[1]}, units) to match "
            f"x {tuple(x.shape)}; got w {tuple(w.shape)}. Keras stores kernels as (in, out); "
            "a PyTorch nn.Linear weight (out, in) needs .T."
        )
    if b.shape != (w.shape[1],):
        raise ValueError(f"dense_forward expects b of shape ({w.shape[1]},); got {tuple(b.shape)}.")


def dense_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor):
    r"""Affine layer  out = x·w + b.

    Shapes: x (N, D), w (D, M), b (M,) -> out (N, M).

    Returns ``(out, cache)`` with ``cache = (x, w)``.
    """
    _check_dense(x, w, b)
    out = x @ w + b  # (N, M)
    return out, (x, w)


def dense_backward(dout: torch.Tensor, cache):
    r"""Backward of :func:`dense_forward`.

    With out = x·w + b and G = ∂L/∂out (N, M):

    * ∂L/∂x = G·wᵀ           (N, M)·(M, D) -> (N, D)
    * ∂L/∂w = xᵀ·G           (D, N)·(N, M) -> (D, M)
    * ∂L/∂b = Σ_n G[n, :]    (M,)   (b is broadcast over the batch, so its gradient sums)

    Returns ``(dx, dw, db)``.
    """
    x, w = cache
    dx = dout @ w.T  # (N, D)
    dw = x.T @ dout  # (D, M)
    db = dout.sum(dim=0)  # (M,)
    return dx, dw, db


def flatten_forward(x: torch.Tensor):
    """Flatten every axis but the first: (N, d1, d2, ...) -> (N, d1·d2·...).

    Channels-last images (N, H, W, C) flatten in H, W, C order, as Keras ``Flatten`` does.
    Returns ``(out, cache)`` with ``cache = x.shape``.
    """
    if x.dim() < 1:
        raise ValueError(f"flatten_forward expects a batch (N, ...); got a scalar of shape {tuple(x.shape)}.")
    out = x.reshape(x.shape[0], -1)  # (N, D)
    return out, x.shape


def flatten_backward(dout: torch.Tensor, cache):
    """Backward of :func:`flatten_forward`: reshaping moves no value, so dx is dout reshaped back."""
    shape = cache
    dx = dout.reshape(shape)  # (N, d1, d2, ...)
    return dx

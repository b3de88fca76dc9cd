"""2-D max pooling, forward and backward by hand (channels-last, TensorFlow padding).

Each output is the maximum of a KH×KW window of one channel; the gradient flows back only to
the element that was the maximum (the "argmax"), because a small change of any other element
does not change the output.

Ties: when several elements of a window share the maximum, the *whole* gradient goes to the
first of them in row-major window order (top row first, then left to right), as TensorFlow's
and PyTorch's CPU kernels do.  A tie is a kink: the function is not differentiable there, and a
numerical gradient check straddles it (``course.gradcheck`` warns).

SAME padding pads with −∞ (padded cells never win), with TensorFlow's rule of putting the odd
extra row/column at the bottom/right (see :mod:`course.scratch.conv`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course.scratch.conv import _pads, _pair, output_size

__all__ = ["max_pool2d_forward", "max_pool2d_backward"]


def max_pool2d_forward(x: torch.Tensor, pool_size=2, *, strides=None, padding: str = "VALID"):
    r"""Max pooling  out[n, i, j, c] = max_{p<KH, q<KW} x_pad[n, i·sh + p, j·sw + q, c].

    Shapes: x (N, H, W, C) -> out (N, OH, OW, C).  ``pool_size``: int or (KH, KW);
    ``strides`` defaults to ``pool_size`` (as Keras' ``MaxPooling2D``); ``padding``:
    ``"SAME"`` or ``"VALID"``.  Returns ``(out, cache)``; the cache keeps the argmax of every
    window.
    """
    if x.dim() != 4:
        raise ValueError(f"max_pool2d_forward expects x of shape (N, H, W, C) (channels-last); got {tuple(x.shape)}.")
    n, h, wd, c = x.shape
    kh, kw = _pair(pool_size, "pool_size")
    sh, sw = _pair(strides if strides is not None else (kh, kw), "strides")
    oh = output_size(h, kh, sh, padding)
    ow = output_size(wd, kw, sw, padding)
    top, bottom, left, right = _pads((h, wd), (kh, kw), (sh, sw), padding)

    x_pad = F.pad(x, (0, 0, left, right, top, bottom), value=float("-inf"))  # (N, Hp, Wp, C)
    hp, wp = x_pad.shape[1], x_pad.shape[2]
    cols = F.unfold(x_pad.permute(0, 3, 1, 2), (kh, kw), stride=(sh, sw))  # (N, C·KH·KW, OH·OW)
    cols = cols.reshape(n, c, kh * kw, oh * ow)  # (N, C, KH·KW, OH·OW), window row-major
    arg = cols.argmax(dim=2, keepdim=True)  # (N, C, 1, OH·OW) first maximum on ties
    out = cols.gather(2, arg)  # (N, C, 1, OH·OW)
    out = out.reshape(n, c, oh, ow).permute(0, 2, 3, 1)  # (N, OH, OW, C)
    cache = (arg, (n, h, wd, c), (hp, wp), (top, left), (kh, kw), (sh, sw))
    return out.contiguous(), cache


def max_pool2d_backward(dout: torch.Tensor, cache):
    r"""Backward of :func:`max_pool2d_forward`.

    ∂L/∂x[n, r, s, c] = Σ over windows whose argmax is (r, s) of ∂L/∂out for that window
    (overlapping windows, stride < pool size, may send several gradients to one element).
    Returns ``dx`` (N, H, W, C).
    """
    arg, (n, h, wd, c), (hp, wp), (top, left), (kh, kw), (sh, sw) = cache
    g = dout.permute(0, 3, 1, 2).reshape(n, c, 1, -1)  # (N, C, 1, OH·OW)
    dcols = torch.zeros(n, c, kh * kw, g.shape[-1], dtype=dout.dtype, device=dout.device)  # (N, C, KH·KW, OH·OW)
    dcols.scatter_(2, arg, g)  # route each window's gradient to its argmax
    dcols = dcols.reshape(n, c * kh * kw, -1)  # (N, C·KH·KW, OH·OW)
    dx_pad = F.fold(dcols, (hp, wp), (kh, kw), stride=(sh, sw))  # (N, C, Hp, Wp), overlaps summed
    dx = dx_pad[:, :, top : top + h, left : left + wd].permute(0, 2, 3, 1)  # (N, H, W, C)
    return dx.contiguous()

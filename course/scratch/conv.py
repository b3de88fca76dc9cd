"""2-D convolution by im2col (unfold), forward and backward by hand.

Layouts follow TensorFlow: images are channels-last ``x (N, H, W, C)`` and kernels are
``w (KH, KW, C, F)`` (PyTorch uses ``(N, C, H, W)`` and ``(F, C, KH, KW)``).  As in every deep
learning library, "convolution" is cross-correlation (the kernel is not flipped).

im2col turns the convolution into one matrix product.  Each output position (i, j) sees a patch
of KH·KW·C input values; lay the patches out as the columns of a matrix and the kernel as a
matrix, and

    out[n, i, j, f] = Σ_{c, p, q} x_pad[n, i·sh + p, j·sw + q, c] · w[p, q, c, f] + b[f]
                    = (cols[n]ᵀ · W)[i·OW + j, f],

cols[n] (C·KH·KW, OH·OW) from ``torch.nn.functional.unfold``, W (C·KH·KW, F).  The backward is
two more products, and col2im (``fold``) adds every patch gradient back where it came from.

Padding (TensorFlow's rules):

* ``"VALID"``: no padding,  OH = ⌈(H − KH + 1) / sh⌉ = ⌊(H − KH) / sh⌋ + 1.
* ``"SAME"``:  OH = ⌈H / sh⌉, total padding P = max((OH − 1)·sh + KH − H, 0), of which
  ⌊P/2⌋ goes on top and the rest (the extra one when P is odd) at the bottom; likewise
  left/right.  PyTorch's ``padding="same"`` splits the same way but allows stride 1 only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["conv2d_forward", "conv2d_backward", "same_padding", "output_size"]


def _pair(v, name: str) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    v = tuple(int(a) for a in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair (rows, cols); got {v}.")
    return v


def _padding_mode(padding: str) -> str:
    mode = str(padding).upper()
    if mode not in ("SAME", "VALID"):
        raise ValueError(f'padding must be "SAME" or "VALID" (any case); got {padding!r}.')
    return mode


def output_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """Output length along one axis under TensorFlow's padding rules (see the module docstring)."""
    if _padding_mode(padding) == "SAME":
        return -(-size // stride)  # ⌈size / stride⌉
    if size < kernel:
        raise ValueError(f"VALID padding needs input size >= kernel size; got {size} < {kernel}. Use SAME.")
    return (size - kernel) // stride + 1


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's SAME along one axis; ``after`` gets the odd one."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pads(x_hw: tuple[int, int], k_hw: tuple[int, int], strides: tuple[int, int], padding: str):
    """(top, bottom, left, right) for SAME or VALID."""
    if _padding_mode(padding) == "VALID":
        return 0, 0, 0, 0
    top, bottom = same_padding(x_hw[0], k_hw[0], strides[0])
    left, right = same_padding(x_hw[1], k_hw[1], strides[1])
    return top, bottom, left, right


def conv2d_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None,
                   *, strides=1, padding: str = "VALID"):
    r"""Convolution  out = conv(x, w) + b  (channels-last, TensorFlow padding).

    Shapes: x (N, H, W, C), w (KH, KW, C, F), b (F,) or None -> out (N, OH, OW, F).
    ``strides``: int or (sh, sw); ``padding``: ``"SAME"`` or ``"VALID"``.
    Returns ``(out, cache)``.
    """
    if x.dim() != 4:
        raise ValueError(f"conv2d_forward expects x of shape (N, H, W, C) (channels-last); got {tuple(x.shape)}.")
    if w.dim() != 4 or w.shape[2] != x.shape[3]:
        raise ValueError(
            f"conv2d_forward expects w of shape (KH, KW, C, F) with C = {x.shape[3]}; got {tuple(w.shape)}. "
            "A PyTorch weight (F, C, KH, KW) becomes w.permute(2, 3, 1, 0)."
        )
    if b is not None and b.shape != (w.shape[3],):
        raise ValueError(f"conv2d_forward expects b of shape ({w.shape[3]},); got {tuple(b.shape)}.")
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    sh, sw = _pair(strides, "strides")
    oh = output_size(h, kh, sh, padding)
    ow = output_size(wd, kw, sw, padding)
    top, bottom, left, right = _pads((h, wd), (kh, kw), (sh, sw), padding)

    x_pad = F.pad(x, (0, 0, left, right, top, bottom))  # (N, Hp, Wp, C)
    hp, wp = x_pad.shape[1], x_pad.shape[2]
    cols = F.unfold(x_pad.permute(0, 3, 1, 2), (kh, kw), stride=(sh, sw))  # (N, C·KH·KW, OH·OW), c slowest
    w_mat = w.permute(2, 0, 1, 3).reshape(c * kh * kw, f)  # (C·KH·KW, F), same (c, p, q) order
    out = cols.transpose(1, 2) @ w_mat  # (N, OH·OW, F)
    if b is not None:
        out = out + b
    out = out.reshape(n, oh, ow, f)  # (N, OH, OW, F)
    cache = (cols, w, b is not None, (n, h, wd, c), (hp, wp), (top, left), (sh, sw))
    return out, cache


def conv2d_backward(dout: torch.Tensor, cache):
    r"""Backward of :func:`conv2d_forward`.

    With G = ∂L/∂out reshaped to (N, OH·OW, F):

    * ∂L/∂W   = Σ_n cols[n] · G[n]            (C·KH·KW, F), reshaped to w's (KH, KW, C, F)
    * ∂L/∂cols = G · Wᵀ                        (N, OH·OW, C·KH·KW)
    * ∂L/∂x   = col2im(∂L/∂cols), cropped to the unpadded input: each input pixel collects the
      gradient of every patch it appeared in (``fold`` sums overlaps).
    * ∂L/∂b   = Σ_{n,i,j} G                     (F,)

    Returns ``(dx, dw, db)``; ``db`` is ``None`` when the forward had no bias.
    """
    cols, w, has_bias, (n, h, wd, c), (hp, wp), (top, left), (sh, sw) = cache
    kh, kw, _, f = w.shape
    g = dout.reshape(n, -1, f)  # (N, OH·OW, F)
    w_mat = w.permute(2, 0, 1, 3).reshape(c * kh * kw, f)  # (C·KH·KW, F)

    dw_mat = torch.einsum("nkl,nlf->kf", cols, g)  # (C·KH·KW, F)
    dw = dw_mat.reshape(c, kh, kw, f).permute(1, 2, 0, 3)  # (KH, KW, C, F)

    dcols = (g @ w_mat.T).transpose(1, 2)  # (N, C·KH·KW, OH·OW)
    dx_pad = F.fold(dcols, (hp, wp), (kh, kw), stride=(sh, sw))  # (N, C, Hp, Wp)
    dx = dx_pad[:, :, top : top + h, left : left + wd].permute(0, 2, 3, 1)  # (N, H, W, C)

    db = g.sum(dim=(0, 1)) if has_bias else None  # (F,)
    return dx.contiguous(), dw.contiguous(), db

"""Layer kernels in TensorFlow's conventions, written once for every engine.

Images are channels-last (NHWC) and conv kernels are (h, w, in, out), as in TensorFlow.
Internally the work is done by torch's NCHW kernels on a channels-last *view*
(`x.permute(0, 3, 1, 2)` of an NHWC tensor is NCHW-shaped with channels-last memory), so no copy
is made on the way in and torch picks its channels-last convolution.

TensorFlow's SAME padding puts the odd extra pixel at the bottom/right; torch's `padding='same'`
only supports stride 1 and splits differently, so `same_padding` computes TF's pads explicitly.
"""
import math

import torch
import torch.nn.functional as F

__all__ = ["same_padding", "pads_2d", "pad_nhwc", "dense", "conv2d", "max_pool2d", "avg_pool2d",
           "batch_norm", "dropout",
           "flatten", "pair"]


def pair(v, name="value"):
    """2 -> (2, 2); (2, 3) -> (2, 3); TF-style 4-element strides [1, s, s, 1] -> (s, s)."""
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(i) for i in v)
    if len(v) == 4:
        return v[1:3]
    if len(v) == 2:
        return v
    if len(v) == 1:
        return (v[0], v[0])
    raise ValueError(f"{name} must be an int, a pair or TF's [1, h, w, 1]; got {v}.")


def same_padding(size, kernel, stride, dilation=1):
    """TF SAME padding for one axis: out = ceil(size / stride); returns (before, after)."""
    out = math.ceil(size / stride)
    eff = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def pads_2d(size, kernel, strides, padding, dilations=1):
    """TF's ((top, bottom), (left, right)) for an image of `size` (h, w) and `padding` 'SAME' or
    'VALID' (any case); `kernel`, `strides` and `dilations` are ints or (h, w) pairs."""
    mode = str(padding).upper()
    if mode not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID' (any case); got {padding!r}.")
    if mode == "VALID":
        return (0, 0), (0, 0)
    (kh, kw), (sh, sw), (dh, dw) = pair(kernel, "kernel"), pair(strides, "strides"), pair(dilations, "dilations")
    return same_padding(size[0], kh, sh, dh), same_padding(size[1], kw, sw, dw)


def pad_nhwc(x, kernel, strides, padding, value=0.0):
    """Pad an NHWC tensor as TF's `padding` ('SAME' or 'VALID') asks; returns an NHWC tensor."""
    (top, bottom), (left, right) = pads_2d(x.shape[1:3], kernel, strides, padding)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (0, 0, left, right, top, bottom), value=value)   # (N, H+t+b, W+l+r, C)


def _check_rank(x, rank, what, hint):
    if x.dim() != rank:
        raise ValueError(f"{what} expects input of rank {rank}; got shape {tuple(x.shape)}. {hint}")


def dense(x, kernel, bias=None):
    """y = x W + b with W of shape (in, out), as Keras stores it."""
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(f"Dense expects inputs with last dimension {kernel.shape[0]}; got shape {tuple(x.shape)}.")
    y = x @ kernel                   # (N, out)
    return y + bias if bias is not None else y


def conv2d(x, kernel, bias=None, strides=1, padding="VALID", dilations=1):
    """2-D convolution (cross-correlation, as in TF) of NHWC `x` with an (h, w, in, out) kernel."""
    _check_rank(x, 4, "conv2d", "Images must be (batch, height, width, channels); add Reshape((28, 28, 1)).")
    if x.shape[-1] != kernel.shape[2]:
        raise ValueError(f"conv2d: input has {x.shape[-1]} channels (NHWC, last axis) but the kernel expects "
                         f"{kernel.shape[2]}; got input {tuple(x.shape)} and kernel {tuple(kernel.shape)}.")
    s, d = pair(strides, "strides"), pair(dilations, "dilations")
    (top, bottom), (left, right) = pads_2d(x.shape[1:3], tuple(kernel.shape[:2]), s, padding, d)
    pad = (0, 0)
    if top == bottom and left == right:
        pad = (top, left)                            # symmetric (odd kernel, stride 1): the conv pads, no copy
    else:                                            # TF puts the odd pixel after: pad by hand
        x = F.pad(x, (0, 0, left, right, top, bottom))
    w = kernel.permute(3, 2, 0, 1)                   # (out, in, h, w)
    y = F.conv2d(x.permute(0, 3, 1, 2), w, bias, stride=s, padding=pad, dilation=d)   # (N, out, H', W') channels-last
    return y.permute(0, 2, 3, 1)                     # (N, H', W', out)


def max_pool2d(x, pool_size=2, strides=None, padding="VALID", return_argmax=False):
    """Max pooling on NHWC input; padded positions never win (they are -inf). `return_argmax=True`
    also returns where each maximum came from (torch's NCHW indices into the padded input), which
    the gradient needs."""
    _check_rank(x, 4, "max_pool2d", "Images must be (batch, height, width, channels).")
    k = pair(pool_size, "pool_size")
    s = pair(strides if strides is not None else k, "strides")
    x = pad_nhwc(x, k, s, padding, value=-math.inf)
    if return_argmax:
        y, argmax = F.max_pool2d(x.permute(0, 3, 1, 2), k, s, return_indices=True)
        return y.permute(0, 2, 3, 1), argmax
    return F.max_pool2d(x.permute(0, 3, 1, 2), k, s).permute(0, 2, 3, 1)   # (N, H', W', C)


def avg_pool2d(x, pool_size=2, strides=None, padding="VALID"):
    """Average pooling on NHWC input; with SAME, padded positions are excluded from the mean (as TF)."""
    _check_rank(x, 4, "avg_pool2d", "Images must be (batch, height, width, channels).")
    k = pair(pool_size, "pool_size")
    s = pair(strides if strides is not None else k, "strides")
    if str(padding).upper() == "SAME":
        ones = torch.ones_like(x[..., :1])
        summed = F.avg_pool2d(pad_nhwc(x, k, s, "SAME").permute(0, 3, 1, 2), k, s, divisor_override=1)
        count = F.avg_pool2d(pad_nhwc(ones, k, s, "SAME").permute(0, 3, 1, 2), k, s, divisor_override=1)
        return (summed / count).permute(0, 2, 3, 1)
    return F.avg_pool2d(pad_nhwc(x, k, s, padding).permute(0, 3, 1, 2), k, s).permute(0, 2, 3, 1)


def batch_norm(x, mean, variance, offset=None, scale=None, epsilon=1e-3):
    """y = scale * (x - mean) / sqrt(variance + epsilon) + offset, over the last (channel) axis."""
    inv = torch.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * scale
    y = (x - mean) * inv
    return y + offset if offset is not None else y


def dropout(x, rate, *, training=True, generator=None):
    """Inverted dropout: zero each element with probability `rate`, scale survivors by 1/(1-rate)."""
    if not training or rate == 0:
        return x
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1); got {rate}. (TF1's keep_prob = 1 - rate.)")
    if generator is None:
        return F.dropout(x, rate, training=True)
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= rate
    return x * keep / (1 - rate)


def flatten(x):
    """(N, d1, d2, ...) -> (N, d1*d2*...), in row-major (channels-last) order, as Keras' Flatten."""
    return x.reshape(x.shape[0], -1)

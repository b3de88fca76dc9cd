"""Layer kernels in TensorFlow's conventions, written once for every engine.

Images are channels-last (NHWC) and conv kernels are (h, w, in, out), as in TensorFlow.
Internally the work is done by torch's NCHW kernels on a channels-last *view*
(`x.permute(0, 3, 1, 2)` of an NHWC tensor is NCHW-shaped with channels-last memory), so no copy
is made on the way in and torch picks its channels-last convolution.

TensorFlow's SAME padding puts the odd extra pixel at the bottom/right; torch's `padding='same'`
only supports stride 1 and splits differently, so `same_padding` computes TF's pads explicitly.
"""
import math
import platform

import torch
import torch.nn.functional as F

__all__ = ["same_padding", "pads_2d", "pad_nhwc", "matmul", "matmul_kernel", "dense", "conv2d", "max_pool2d",
           "avg_pool2d", "batch_norm", "dropout", "flatten", "pair"]


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


def _onednn_linear():
    """oneDNN's matmul as torch exposes it (the CPU op torch's compiler emits for a linear layer:
    x @ wᵀ), or None where this torch build lacks it or the CPU is not x86-64, the only kind it
    was measured faster on (ARM builds' torch.mm has Accelerate or OpenBLAS behind it)."""
    op = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available() or platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        op(torch.ones(1, 1), torch.ones(1, 1), None, "none", [], "")
    except (RuntimeError, NotImplementedError):
        return None
    return op


# torch.mm gives float32 products to the BLAS. oneDNN's matmul (the one TensorFlow's oneDNN build
# runs) is 6-20% faster on a dense layer's large products x W and g Wᵀ, no faster on the weight
# gradient xᵀ g, and several times slower on tiny products (benchmarks/bench_graph_kernels.py).
_ONEDNN_LINEAR = _onednn_linear()
_ONEDNN_MIN_MACS = 1 << 24        # m*k*n from which it wins; a 50x3136 @ 3136x1024 product is 160M


def _tracing():
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


class _OneDNNMatMul(torch.autograd.Function):
    """a @ b (b given as bᵀ when `transpose_b`) on oneDNN; its gradients go back through `matmul`."""

    @staticmethod
    def forward(ctx, a, b, transpose_b):
        ctx.save_for_backward(a, b)
        ctx.transpose_b = transpose_b
        return _ONEDNN_LINEAR(a, b if transpose_b else b.t(), None, "none", [], "")

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.transpose_b:                  # C = A Bᵀ:  dA = G B,   dB = Gᵀ A
            ga = matmul(g, b) if ctx.needs_input_grad[0] else None
            gb = matmul(g.t(), a) if ctx.needs_input_grad[1] else None
        else:                                # C = A B:   dA = G Bᵀ,  dB = Aᵀ G
            ga = matmul(g, b, transpose_b=True) if ctx.needs_input_grad[0] else None
            gb = matmul(a.t(), g) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def matmul(a, b, transpose_b=False):
    """a @ b, or a @ bᵀ with `transpose_b`, for matrices (torch's broadcasting rules otherwise).
    Large float32 products on the CPU run on oneDNN; the rest, and every product an exporter
    traces (which must record plain aten ops and no guard on the batch size), on torch.mm."""
    if (_ONEDNN_LINEAR is not None and not _tracing() and a.dim() == 2 and b.dim() == 2
            and a.numel() * b.shape[0 if transpose_b else 1] >= _ONEDNN_MIN_MACS
            and a.shape[1] == b.shape[1 if transpose_b else 0] and a.device.type == "cpu"
            and a.dtype == torch.float32 and b.dtype == torch.float32 and a.is_contiguous()
            and (b.is_contiguous() or b.t().is_contiguous())     # other strides: oneDNN's slow reference code
            and torch.backends.mkldnn.enabled):
        return _OneDNNMatMul.apply(a, b, transpose_b)
    return F.linear(a, b) if transpose_b else a @ b


def matmul_kernel(k, n, transpose_b=False):
    """The product of (m, k) and (k, n) matrices (b given as (n, k) with `transpose_b`) for a graph
    whose batch size m is not known yet: torch.mm itself, with no per-call check, where even 65536
    rows would stay below oneDNN's threshold (or k or n is unknown and oneDNN absent), else `matmul`."""
    if _ONEDNN_LINEAR is None or (k is not None and n is not None and k * n * 65536 < _ONEDNN_MIN_MACS):
        return F.linear if transpose_b else torch.mm
    return (lambda a, b: matmul(a, b, transpose_b=True)) if transpose_b else matmul


def dense(x, kernel, bias=None):
    """y = x W + b with W of shape (in, out), as Keras stores it."""
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(f"Dense expects inputs with last dimension {kernel.shape[0]}; got shape {tuple(x.shape)}.")
    y = matmul(x, kernel)            # (N, out)
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

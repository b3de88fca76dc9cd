"""`tf.nn` convolution and pooling on channels-last (NHWC) images, with their gradient kernels.

    h = tf.nn.relu(tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding='SAME') + b)
    p = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')

Kernels are (h, w, in, out) as in TensorFlow; SAME pads as TF does (the odd extra pixel at the
bottom/right). The forward kernels and the padding are `course.layers`' (`conv2d`, `max_pool2d`,
`avg_pool2d`, `pads_2d`), the ones the Keras engine runs too. The gradients are TF's fused ops:
Conv2DBackpropInput / Conv2DBackpropFilter (one `convolution_backward` each, asking only for the
gradient it names), MaxPoolGrad (MaxPool's second output holds where each maximum came from) and
AvgPoolGrad (windows at the border divide by their real size, as TF's SAME average does).
"""
import torch
import torch.nn.functional as F

from course import layers
from course.graph.array_ops import convert_to_tensor, make_op
from course.graph.registry import one_output, register_op
from course.framework.shapes import TensorShape, dims_error, shape_error

__all__ = ["conv2d", "max_pool", "avg_pool", "max_pool2d", "avg_pool2d"]

_aten = torch.ops.aten


# -- convolution --------------------------------------------------------------------------------------------
def _hw(v, what):
    v = list(v) if not isinstance(v, int) else [v]
    if len(v) == 4:
        if v[0] != 1 or v[3] != 1:
            raise ValueError(f"{what} {v}: TF only supports 1 on the batch and channel axes ([1, h, w, 1]).")
        return v[1], v[2]
    if len(v) == 2:
        return v[0], v[1]
    if len(v) == 1:
        return v[0], v[0]
    raise ValueError(f"{what} must have 1, 2 or 4 elements; got {v}.")


def _out_size(n, k, s, padding, d=1):
    if n is None:
        return None
    if padding == "SAME":
        return -(-n // s)
    return -(-(n - (k - 1) * d) // s)


def _padding(padding):
    p = str(padding).upper()
    if p not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID'; got {padding!r}.")
    return p


def conv2d(input=None, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True, data_format="NHWC",   # noqa: A002
           dilations=(1, 1, 1, 1), name=None, filters=None):
    """2-D convolution of NHWC `input` with an (h, w, in, out) `filter`; strides [1, s, s, 1]."""
    filter = filters if filter is None else filter   # noqa: A001
    if data_format != "NHWC":
        raise NotImplementedError(f"conv2d(data_format={data_format!r}): only NHWC (channels-last) is supported.")
    x = convert_to_tensor(input)
    w = convert_to_tensor(filter, dtype=x.dtype)
    if strides is None or padding is None:
        raise TypeError("conv2d needs strides (e.g. [1, 1, 1, 1]) and padding ('SAME' or 'VALID').")
    attrs = {"strides": _hw(strides, "strides"), "padding": _padding(padding), "dilations": _hw(dilations, "dilations")}
    return make_op("Conv2D", [x, w], attrs, name or "Conv2D").outputs[0]


def _conv_infer(op):
    x, w = op.inputs
    if x.shape.rank not in (None, 4) or w.shape.rank not in (None, 4):
        bad = x.shape if x.shape.rank not in (None, 4) else w.shape
        raise shape_error(op, f"Shape must be rank 4 but is rank {bad.rank}")
    if x.shape.rank is None or w.shape.rank is None:
        return one_output(TensorShape([None] * 4), x.dtype)
    n, h, wd, c = x.shape
    kh, kw, cin, cout = w.shape
    if c is not None and cin is not None and c != cin:
        raise dims_error(op, c, cin)
    (sh, sw), (dh, dw), p = op.attrs["strides"], op.attrs["dilations"], op.attrs["padding"]
    return one_output(TensorShape([n, _out_size(h, kh, sh, p, dh), _out_size(wd, kw, sw, p, dw), cout]), x.dtype)


def _conv_kernel(op):
    s, d, p = op.attrs["strides"], op.attrs["dilations"], op.attrs["padding"]

    return lambda x, w: layers.conv2d(x, w, None, s, p, d)     # symmetric SAME padding costs no copy there


register_op("Conv2D", infer=_conv_infer, kernel=_conv_kernel)


def _conv_backward(x, w, g, s, d, p, mask):
    """(dx, dw) of y = conv2d(x, w) for NHWC x, HWIO w; only those `mask` asks for."""
    (t, b), (le, r) = layers.pads_2d(x.shape[1:3], tuple(w.shape[:2]), s, p, d)
    xs = x if (t == b and le == r) else F.pad(x, (0, 0, le, r, t, b))
    pad = (t, le) if (t == b and le == r) else (0, 0)
    gi, gw, _ = _aten.convolution_backward(g.permute(0, 3, 1, 2), xs.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1),
                                           None, list(s), list(pad), list(d), False, [0, 0], 1, mask)
    if gi is not None:
        gi = gi.permute(0, 2, 3, 1)                                 # (N, H, W, C)
        if xs is not x:
            gi = gi[:, t:t + x.shape[1], le:le + x.shape[2], :]
    if gw is not None:
        gw = gw.permute(2, 3, 1, 0)                                 # (h, w, in, out)
    return gi, gw


def _conv_grad_kernel(op):
    s, d, p = op.attrs["strides"], op.attrs["dilations"], op.attrs["padding"]
    if op.type == "Conv2DBackpropInput":
        return lambda x, w, g: _conv_backward(x, w, g, s, d, p, [True, False, False])[0]
    return lambda x, w, g: _conv_backward(x, w, g, s, d, p, [False, True, False])[1]


register_op("Conv2DBackpropInput", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=_conv_grad_kernel, doc="dL/dx of Conv2D; inputs (x, filter, grad).")
register_op("Conv2DBackpropFilter", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=_conv_grad_kernel, doc="dL/dfilter of Conv2D; inputs (x, filter, grad).")


# -- pooling -------------------------------------------------------------------------------------------------
def _pool(op_type, value, ksize, strides, padding, data_format, name, default):
    if data_format not in ("NHWC", None):
        raise NotImplementedError(f"{default}(data_format={data_format!r}): only NHWC is supported.")
    x = convert_to_tensor(value)
    attrs = {"ksize": _hw(ksize, "ksize"), "strides": _hw(strides, "strides"), "padding": _padding(padding)}
    op = make_op(op_type, [x], attrs, name or default)
    return op.outputs[0]


def max_pool(value=None, ksize=None, strides=None, padding=None, data_format="NHWC", name=None, input=None):   # noqa: A002
    """Max pooling over (h, w) windows of an NHWC tensor; ksize/strides as [1, h, w, 1]."""
    return _pool("MaxPool", input if value is None else value, ksize, strides, padding, data_format, name, "MaxPool")


def avg_pool(value=None, ksize=None, strides=None, padding=None, data_format="NHWC", name=None, input=None):   # noqa: A002
    return _pool("AvgPool", input if value is None else value, ksize, strides, padding, data_format, name, "AvgPool")


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):   # noqa: A002
    return max_pool(input, ksize, strides, padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):   # noqa: A002
    return avg_pool(input, ksize, strides, padding, data_format, name)


def _pool_infer(op):
    x = op.inputs[0]
    if x.shape.rank not in (None, 4):
        raise shape_error(op, f"Shape must be rank 4 but is rank {x.shape.rank}")
    (kh, kw), (sh, sw), p = op.attrs["ksize"], op.attrs["strides"], op.attrs["padding"]
    n, h, w, c = x.shape if x.shape.rank else [None] * 4
    out = TensorShape([n, _out_size(h, kh, sh, p), _out_size(w, kw, sw, p), c])
    if op.type == "MaxPool":
        return [(out, x.dtype), (out, torch.int64)]          # the value, and where each max came from
    return one_output(out, x.dtype)


def _max_pool_kernel(op):
    k, s, p = op.attrs["ksize"], op.attrs["strides"], op.attrs["padding"]
    return lambda x: layers.max_pool2d(x, k, s, p, return_argmax=True)


register_op("MaxPool", infer=_pool_infer, kernel=_max_pool_kernel,
            doc="Outputs (value, argmax); the second output (int64, into the padded input) feeds MaxPoolGrad.")


def _max_pool_grad_kernel(op):
    k, s, p = op.attrs["ksize"], op.attrs["strides"], op.attrs["padding"]

    def kernel(x, idx, g):
        (t, b), (le, r) = layers.pads_2d(x.shape[1:3], k, s, p)
        xp = layers.pad_nhwc(x, k, s, p)
        gi = _aten.max_pool2d_with_indices_backward(g.permute(0, 3, 1, 2), xp.permute(0, 3, 1, 2), list(k), list(s),
                                                    [0, 0], [1, 1], False, idx).permute(0, 2, 3, 1)
        return gi if xp is x else gi[:, t:t + x.shape[1], le:le + x.shape[2], :]
    return kernel


register_op("MaxPoolGrad", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=_max_pool_grad_kernel)


def _avg_pool_kernel(op):
    k, s, p = op.attrs["ksize"], op.attrs["strides"], op.attrs["padding"]
    return lambda x: layers.avg_pool2d(x, k, s, p)


register_op("AvgPool", infer=_pool_infer, kernel=_avg_pool_kernel)


def _avg_pool_grad_kernel(op):
    k, s, p = op.attrs["ksize"], op.attrs["strides"], op.attrs["padding"]

    def kernel(x, g):
        (t, b), (le, r) = layers.pads_2d(x.shape[1:3], k, s, p)
        gn = g.permute(0, 3, 1, 2)
        if not (t or b or le or r):
            return _aten.avg_pool2d_backward(gn, x.permute(0, 3, 1, 2), list(k), list(s), [0, 0], False, True,
                                             None).permute(0, 2, 3, 1)
        ones = layers.pad_nhwc(torch.ones_like(x[..., :1]), k, s, p)
        count = F.avg_pool2d(ones.permute(0, 3, 1, 2), k, s, divisor_override=1)          # windows' real sizes
        xp = layers.pad_nhwc(x, k, s, p)
        gi = _aten.avg_pool2d_backward(gn / count, xp.permute(0, 3, 1, 2), list(k), list(s), [0, 0], False, True, 1)
        return gi.permute(0, 2, 3, 1)[:, t:t + x.shape[1], le:le + x.shape[2], :]
    return kernel


register_op("AvgPoolGrad", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=_avg_pool_grad_kernel)



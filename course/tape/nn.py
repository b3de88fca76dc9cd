"""`tf.nn`: activations, cross-entropies on logits, convolution, pooling, dropout, moments.

Images are NHWC and conv filters (h, w, in, out), as in TensorFlow; the kernels are
course.layers', the softmax cross-entropies course.losses' (with reduction="none").
Cross-entropies take logits and return one loss per example (no reduction):

    softmax CE:  -sum_k labels_k * log_softmax(logits)_k
    sigmoid CE:  max(x, 0) - x * z + log(1 + exp(-|x|))      (x = logits, z = labels; stable form)
"""
import torch
import torch.nn.functional as F

import course.layers
import course.losses
from course.framework.errors import InvalidArgumentError
from course.tape.math_ops import _float_input, _pair, axis_arg
from course.framework import dtypes
from course.framework.convert import as_plain
from course.tape.tensor import dtype_mismatch, kernel_dtype_name, to_numpy, to_tensor, wrap

__all__ = ["relu", "relu6", "elu", "selu", "gelu", "silu", "swish", "leaky_relu", "sigmoid", "tanh", "softplus",
           "softsign", "softmax", "log_softmax", "softmax_cross_entropy_with_logits",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "l2_loss", "dropout", "conv2d", "max_pool2d", "avg_pool2d",
           "max_pool", "avg_pool", "bias_add", "moments", "batch_normalization", "embedding_lookup",
           "compute_average_loss"]


def _t(x):
    return to_tensor(x)


def _float(x):
    t = _t(x)
    return t if t.dtype.is_floating_point else t.to(torch.float32)


def relu(features, name=None):
    return wrap(torch.relu(_t(features)))


def relu6(features, name=None):
    return wrap(torch.clamp(_t(features), 0, 6))


def elu(features, name=None):
    return wrap(F.elu(_float(features)))


def selu(features, name=None):
    return wrap(F.selu(_float(features)))


def gelu(features, approximate=False, name=None):
    return wrap(F.gelu(_float(features), approximate="tanh" if approximate else "none"))


def silu(features, beta=1.0, name=None):
    x = _float(features)
    return wrap(x * torch.sigmoid(beta * x))


swish = silu


def leaky_relu(features, alpha=0.2, name=None):
    return wrap(F.leaky_relu(_float(features), alpha))


def sigmoid(x, name=None):
    return wrap(torch.sigmoid(_float(x)))


def tanh(x, name=None):
    return wrap(torch.tanh(_float(x)))


def softplus(features, name=None):
    return wrap(F.softplus(_float(features)))


def softsign(features, name=None):
    return wrap(F.softsign(_float(features)))


def _softmax_axis(t, axis):
    dim = -1 if axis is None else int(axis_arg(axis))
    if not -t.dim() <= dim < t.dim():
        raise InvalidArgumentError(f"`dim` must be in the range [{-t.dim()}, {t.dim()}) where {t.dim()} is the number "
                                   f"of dimensions in the input. Received: dim={dim}")
    return dim


_SOFTMAX_TYPES = "half, bfloat16, float, double"


def softmax(logits, axis=None, name=None):
    """exp(x) / sum(exp(x)) along `axis` (the last one by default); floats only, as TF."""
    t = _float_input(_t(logits), "Softmax", _SOFTMAX_TYPES)
    return wrap(torch.softmax(t, dim=_softmax_axis(t, axis)))


def log_softmax(logits, axis=None, name=None):
    t = _float_input(_t(logits), "LogSoftmax", _SOFTMAX_TYPES)
    return wrap(torch.log_softmax(t, dim=_softmax_axis(t, axis)))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Per-example -sum(labels * log_softmax(logits)) along `axis`; labels are probabilities."""
    z, y = _pair(logits, labels)
    if z.shape != y.shape:
        raise InvalidArgumentError(f"logits and labels must have the same shape; got logits {tuple(z.shape)} and "
                                   f"labels {tuple(y.shape)}. For integer class labels use "
                                   f"tf.nn.sparse_softmax_cross_entropy_with_logits.")
    return wrap(course.losses.categorical_crossentropy(y, z, from_logits=True, axis=int(axis), reduction="none"))


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per-example -log_softmax(logits)[label]; labels are class indices of shape logits.shape[:-1]."""
    z = _float_input(_t(logits), "SparseSoftmaxCrossEntropyWithLogits", _SOFTMAX_TYPES)
    y = _t(labels)
    if y.dtype not in (torch.int32, torch.int64):
        raise InvalidArgumentError(None, None, f"Value for attr 'Tlabels' of {kernel_dtype_name(y.dtype)} is not in "
                                   f"the list of allowed values: int32, int64 [Op:SparseSoftmaxCrossEntropyWithLogits]"
                                   f". Class labels are integers: tf.cast(labels, tf.int32).")
    y = y.long().to(z.device)
    if y.shape != z.shape[:-1]:
        raise InvalidArgumentError(f"labels must have shape logits.shape[:-1] = {tuple(z.shape[:-1])}; got "
                                   f"{tuple(y.shape)}. For one-hot labels use tf.nn.softmax_cross_entropy_with_logits.")
    if y.numel() and (y.min() < 0 or y.max() >= z.shape[-1]):
        raise InvalidArgumentError(f"Received a label value of {int(y.max() if y.max() >= z.shape[-1] else y.min())} "
                                   f"which is outside the valid range of [0, {z.shape[-1]}).")
    return wrap(course.losses.sparse_categorical_crossentropy(y, z, from_logits=True, reduction="none", check=False))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Per-element max(x, 0) - x*z + log(1 + exp(-|x|)) with x = logits, z = labels."""
    x, z = _t(logits), _t(labels)              # TF converts each on its own: int labels are its dtype error
    if z.dtype != x.dtype:
        raise dtype_mismatch("Mul", x.dtype, z.dtype)
    if x.shape != z.shape:
        raise ValueError(f"logits and labels must have the same shape ({tuple(x.shape)} vs {tuple(z.shape)}).")
    return wrap(F.binary_cross_entropy_with_logits(x, z.to(x.dtype), reduction="none"))   # the stable form above


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Per-element (1 - z) * x + (1 + (q - 1) * z) * log(1 + exp(-x)), q = pos_weight (stable form)."""
    x, z = _pair(logits, labels)
    z = z.to(x.dtype)
    log_weight = 1 + (float(pos_weight) - 1) * z
    return wrap((1 - z) * x + log_weight * (torch.log1p(torch.exp(-x.abs())) + torch.clamp(-x, min=0)))


def l2_loss(t, name=None):
    """sum(t ** 2) / 2 (floats only, as TF)."""
    x = _float_input(_t(t), "L2Loss", _SOFTMAX_TYPES)
    return wrap(torch.sum(x * x) / 2)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Inverted dropout: zero each element with probability `rate`, scale the rest by 1 / (1 - rate).

    `noise_shape` broadcasts one keep/drop decision over the axes where it is 1."""
    t = _t(x)
    if not t.dtype.is_floating_point:
        raise ValueError(f"`x.dtype` must be a floating point tensor as `x` will be scaled. Received: "
                         f"x_dtype=<dtype: '{dtypes.name(t.dtype)}'>")
    rate = float(to_numpy(rate)) if isinstance(rate, torch.Tensor) else float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be a scalar tensor or a float in the range [0, 1); got {rate}. "
                         f"(TF1's keep_prob is 1 - rate.)")
    from course.tape.random import generator_for
    gen = generator_for(seed)
    if noise_shape is None and gen is None:
        return wrap(course.layers.dropout(t, rate, training=True))
    shape = tuple(t.shape) if noise_shape is None else tuple(
        t.shape[i] if d is None else int(d) for i, d in enumerate(to_numpy(noise_shape).tolist()
                                                                  if isinstance(noise_shape, torch.Tensor)
                                                                  else noise_shape))
    u = torch.rand(shape, generator=gen, device=gen.device if gen is not None else t.device).to(t.device)
    keep = u >= rate
    return wrap(t * keep / (1 - rate))


def _nchw(data_format):
    fmt = (data_format or "NHWC").upper()
    if fmt not in ("NHWC", "NCHW"):
        raise ValueError(f"data_format must be 'NHWC' (TF's default, channels last) or 'NCHW'; got {data_format!r}.")
    return fmt == "NCHW"


def _explicit_padding(x, padding):
    """TF's explicit padding [[0, 0], [top, bottom], [left, right], [0, 0]] on NHWC -> padded x, 'VALID'."""
    if isinstance(padding, str):
        return x, padding
    pads = [list(p) for p in padding]
    (top, bottom), (left, right) = pads[1], pads[2]
    return F.pad(x, (0, 0, int(left), int(right), int(top), int(bottom))), "VALID"


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):
    """2-D convolution of NHWC `input` with (h, w, in, out) `filters`; padding 'SAME', 'VALID' or explicit."""
    x, w = _pair(input, filters)
    if x.dim() != 4:
        raise ValueError(f"tf.nn.conv2d expects a 4-D input (batch, height, width, channels); got shape "
                         f"{tuple(x.shape)}. Reshape images with tf.reshape(x, [-1, 28, 28, 1]).")
    nchw = _nchw(data_format)
    if nchw:
        x = x.permute(0, 2, 3, 1)
    x, padding = _explicit_padding(x, padding)
    y = course.layers.conv2d(x, w, None, strides=strides, padding=padding,
                             dilations=1 if dilations is None else dilations)
    return wrap(y.permute(0, 3, 1, 2) if nchw else y)


def _pool(kernel, input, ksize, strides, padding, data_format):
    x = _float(input)
    if x.dim() != 4:
        raise ValueError(f"2-D pooling expects a 4-D input (batch, height, width, channels); got shape "
                         f"{tuple(x.shape)}.")
    nchw = _nchw(data_format)
    if nchw:
        x = x.permute(0, 2, 3, 1)
    x, padding = _explicit_padding(x, padding)
    y = kernel(x, course.layers.pair(ksize, "ksize"), course.layers.pair(strides, "strides"), padding)
    return wrap(y.permute(0, 3, 1, 2) if nchw else y)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    return _pool(course.layers.max_pool2d, input, ksize, strides, padding, data_format)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    _float_input(_t(input), "AvgPool", _SOFTMAX_TYPES)          # TF averages floats only
    return _pool(course.layers.avg_pool2d, input, ksize, strides, padding, data_format)


def max_pool(input, ksize, strides, padding, data_format=None, name=None):
    return max_pool2d(input, ksize, strides, padding, data_format or "NHWC")


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):
    return avg_pool2d(input, ksize, strides, padding, data_format or "NHWC")


def bias_add(value, bias, data_format=None, name=None):
    """value + bias along the channel axis (last for NHWC, axis 1 for NCHW/NC...)."""
    x, b = _pair(value, bias)
    if data_format is not None and str(data_format).upper().startswith("NC"):
        return wrap(x + b.reshape((1, -1) + (1,) * (x.dim() - 2)))
    if x.shape[-1] != b.shape[0]:
        raise InvalidArgumentError(f"Must provide as many biases as the last dimension of the input tensor: "
                                   f"bias has {b.shape[0]}, input shape {tuple(x.shape)}.")
    return wrap(x + b)


def moments(x, axes, shift=None, keepdims=False, name=None):
    """(mean, variance) over `axes`; the population variance (divides by N), as TF. Integers keep their
    dtype (TF's integer means, truncated toward zero); float16 is computed in float32, as TF does."""
    x = _t(x)
    t = x.float() if x.dtype == torch.float16 else x
    ax = axis_arg(axes)
    dims = (ax,) if isinstance(ax, int) else ax
    if t.dtype.is_floating_point or t.dtype.is_complex:
        mean = t.mean(dim=dims, keepdim=True)
        var = ((t - mean) ** 2).mean(dim=dims, keepdim=True)
    else:
        from course.tape.math_ops import reduce_mean
        mean = as_plain(reduce_mean(t, dims, keepdims=True))
        var = as_plain(reduce_mean((t - mean) ** 2, dims, keepdims=True))
    if not keepdims:
        mean, var = mean.squeeze(dims), var.squeeze(dims)
    return wrap(mean.to(x.dtype)), wrap(var.to(x.dtype))


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """scale * (x - mean) / sqrt(variance + variance_epsilon) + offset."""
    t = _float(x)
    parts = [None if v is None else to_tensor(v, t.dtype, device=t.device) for v in (mean, variance, offset, scale)]
    return wrap(course.layers.batch_norm(t, parts[0], parts[1], offset=parts[2], scale=parts[3],
                                         epsilon=variance_epsilon))


def embedding_lookup(params, ids, max_norm=None, name=None):
    """params[ids] along axis 0 (params may be a list holding one tensor)."""
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError("embedding_lookup over a list of several shards is not supported; "
                                      "concatenate them with tf.concat first.")
        params = params[0]
    from course.tape.array_ops import gather
    out = gather(params, ids)
    if max_norm is not None:
        norms = torch.linalg.vector_norm(out, dim=-1, keepdim=True)
        out = wrap(out * torch.clamp(max_norm / torch.clamp(norms, min=1e-12), max=1.0))
    return out


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size (the batch size by default)."""
    loss = _float(per_example_loss)
    if sample_weight is not None:
        loss = loss * to_tensor(sample_weight, loss.dtype, device=loss.device)
    n = loss.shape[0] if global_batch_size is None and loss.dim() else (global_batch_size or 1)
    return wrap(loss.sum() / n)

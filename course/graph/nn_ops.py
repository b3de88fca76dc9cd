"""`tf.nn`: activations, softmax, bias_add, dropout and the classification losses.

    h = tf.nn.relu(tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding='SAME') + b)
    p = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='SAME')
    d = tf.nn.dropout(fc, keep_prob)                     # TF1 takes keep_prob, not rate
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))

Convolution and pooling are in `conv_ops`; the gradient functions in `nn_grad`. The fused
gradient ops TF has (ReluGrad, SigmoidGrad, TanhGrad, SoftmaxGrad, BiasAddGrad) are registered
here, one torch op each; the cross-entropy ops return their gradient as a second output, as TF's
kernels do.
"""
import torch
import torch.nn.functional as F

from course import losses
from course.framework import dtypes as _dt
from course.framework.shapes import TensorShape, broadcast, dims_error, shape_error
from course.graph.array_ops import convert_to_tensor, make_op, stop_gradient
from course.graph.math_ops import subtract
from course.graph.random_ops import get_seed
from course.graph.registry import one_output, register_op
from course.graph.shape_ops import transpose
from course.tape.math_ops import in_top_k_kernel

__all__ = ["relu", "relu6", "leaky_relu", "elu", "softplus", "sigmoid", "tanh", "softmax", "log_softmax", "bias_add",
           "dropout", "l2_loss", "in_top_k",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits"]

_aten = torch.ops.aten


def _same(op):
    return one_output(op.inputs[0].shape, op.inputs[0].dtype)


def _unary(op_type, x, name, attrs=None):
    x = convert_to_tensor(x)
    if not _dt.is_floating(x.dtype):
        raise TypeError(f"{op_type} expects a floating-point tensor; got {_dt.name(x.dtype)} ({x.name}). "
                        "Use tf.cast(x, tf.float32) first.")
    return make_op(op_type, [x], attrs or {}, name or op_type).outputs[0]


# -- activations ------------------------------------------------------------------------------------
register_op("Relu", infer=_same, kernel=lambda op: torch.relu)
register_op("Relu6", infer=_same, kernel=lambda op: (lambda x: torch.clamp(x, 0.0, 6.0)))
register_op("LeakyRelu", infer=_same, kernel=lambda op: (lambda x, _a=op.attrs["alpha"]: F.leaky_relu(x, _a)))
register_op("Elu", infer=_same, kernel=lambda op: F.elu)
register_op("Softplus", infer=_same, kernel=lambda op: F.softplus)
register_op("Sigmoid", infer=_same, kernel=lambda op: torch.sigmoid)
register_op("Tanh", infer=_same, kernel=lambda op: torch.tanh)


def relu(features, name=None):
    return _unary("Relu", features, name)


def relu6(features, name=None):
    return _unary("Relu6", features, name)


def leaky_relu(features, alpha=0.2, name=None):
    return _unary("LeakyRelu", features, name, {"alpha": float(alpha)})


def elu(features, name=None):
    return _unary("Elu", features, name)


def softplus(features, name=None):
    return _unary("Softplus", features, name)


def sigmoid(x, name=None):
    return _unary("Sigmoid", x, name)


def tanh(x, name=None):
    return _unary("Tanh", x, name)


# Fused gradient kernels: each takes (incoming gradient, a forward value) and is one torch op.
_GRAD_KERNELS = {
    "ReluGrad": lambda g, y: _aten.threshold_backward(g, y, 0),              # g where y > 0
    "Relu6Grad": lambda g, x: torch.where((x > 0) & (x < 6), g, 0.0),
    "LeakyReluGrad": None,
    "EluGrad": lambda g, y: torch.where(y > 0, g, g * (y + 1)),
    "SoftplusGrad": lambda g, x: g * torch.sigmoid(x),
    "SigmoidGrad": lambda g, y: _aten.sigmoid_backward(g, y),                # g·y·(1-y)
    "TanhGrad": lambda g, y: _aten.tanh_backward(g, y),                      # g·(1-y²)
}


def _grad_kernel(op):
    if op.type == "LeakyReluGrad":
        a = op.attrs["alpha"]
        return lambda g, x: torch.where(x > 0, g, g * a)
    return _GRAD_KERNELS[op.type]


for _t in _GRAD_KERNELS:
    register_op(_t, infer=_same, kernel=_grad_kernel)


# -- softmax ----------------------------------------------------------------------------------------
def _softmax(op_type, logits, axis, name, dim):
    axis = dim if axis is None else axis
    return _unary(op_type, logits, name, {"axis": -1 if axis is None else int(axis)})


def softmax(logits, axis=None, name=None, dim=None):
    """exp(x) / sum(exp(x)) along `axis` (default the last)."""
    return _softmax("Softmax", logits, axis, name, dim)


def log_softmax(logits, axis=None, name=None, dim=None):
    return _softmax("LogSoftmax", logits, axis, name, dim)


register_op("Softmax", infer=_same, kernel=lambda op: (lambda x, _a=op.attrs["axis"]: torch.softmax(x, _a)))
register_op("LogSoftmax", infer=_same, kernel=lambda op: (lambda x, _a=op.attrs["axis"]: torch.log_softmax(x, _a)))
register_op("SoftmaxGrad", infer=_same, kernel=lambda op: (
    lambda g, y, _a=op.attrs["axis"]: _aten._softmax_backward_data(g, y, _a % y.dim(), y.dtype)))
register_op("LogSoftmaxGrad", infer=_same, kernel=lambda op: (
    lambda g, y, _a=op.attrs["axis"]: _aten._log_softmax_backward_data(g, y, _a % y.dim(), y.dtype)))


# -- bias ------------------------------------------------------------------------------------------------
def bias_add(value, bias, data_format=None, name=None):
    """value + bias, bias along the last (channel) axis."""
    value = convert_to_tensor(value)
    bias = convert_to_tensor(bias, dtype=value.dtype)
    if data_format not in (None, "NHWC", "N...C"):
        raise NotImplementedError(f"bias_add(data_format={data_format!r}): only channels-last (NHWC) is supported.")
    return make_op("BiasAdd", [value, bias], {}, name or "BiasAdd").outputs[0]


def _bias_infer(op):
    v, b = op.inputs
    if b.shape.rank not in (None, 1):
        raise shape_error(op, f"Shape must be rank 1 but is rank {b.shape.rank}")
    if v.shape.rank is not None and v.shape.rank < 2:
        raise shape_error(op, f"Shape must be at least rank 2 but is rank {v.shape.rank}")
    c = v.shape[-1] if v.shape.rank else None
    if c is not None and b.shape.rank == 1 and b.shape[0] is not None and c != b.shape[0]:
        raise dims_error(op, c, b.shape[0])
    return one_output(v.shape, v.dtype)


register_op("BiasAdd", infer=_bias_infer, kernel=lambda op: torch.add)
register_op("BiasAddGrad",
            infer=lambda op: one_output(TensorShape([op.inputs[0].shape[-1] if op.inputs[0].shape.rank else None]),
                                                 op.inputs[0].dtype),
            kernel=lambda op: (lambda g: g.sum(tuple(range(g.dim() - 1)))))


# -- dropout ----------------------------------------------------------------------------------------------
def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """TF1 dropout: keep each value with probability `keep_prob` (a float or a placeholder) and
    scale kept values by 1/keep_prob; `rate` = 1 - keep_prob is accepted too."""
    x = convert_to_tensor(x)
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout needs exactly one of keep_prob (TF1) or rate (= 1 - keep_prob).")
    keep = convert_to_tensor(keep_prob, dtype=x.dtype) if keep_prob is not None else subtract(1.0, convert_to_tensor(
        rate, dtype=x.dtype))
    if keep.op.type == "Const":
        k = float(keep.op.attrs["value"])
        if not 0 < k <= 1:
            raise ValueError(f"keep_prob must be a scalar tensor or a float in the range (0, 1], got {k}")
    seed1, seed2 = get_seed(seed)
    attrs = {"seed": seed1 or 0, "seed2": seed2 or 0, "noise_shape": None if noise_shape is None else list(noise_shape)}
    return make_op("Dropout", [x, keep], attrs, name or "dropout").outputs[0]


def _dropout_make(op, rt, device):
    seed, seed2, noise = op.attrs["seed"], op.attrs["seed2"], op.attrs["noise_shape"]
    gen = None
    if seed or seed2:
        gen = torch.Generator(device=device)
        gen.manual_seed((seed * 1_000_003 + seed2) % (2**63))

    def kernel(x, keep):
        shape = x.shape if noise is None else [x.shape[i] if d is None else d for i, d in enumerate(noise)]
        u = torch.rand(shape, generator=gen, device=x.device, dtype=x.dtype) if gen is not None else \
            torch.rand(shape, device=x.device, dtype=x.dtype)
        scale = (u < keep).to(x.dtype).div_(keep)            # 1/keep_prob where kept, 0 where dropped
        return x * scale, scale
    return kernel


register_op("Dropout",
            infer=lambda op: [(op.inputs[0].shape, op.inputs[0].dtype), (op.inputs[0].shape, op.inputs[0].dtype)],
            make=_dropout_make, stateful=True,
            doc="Outputs (x * mask / keep_prob, mask / keep_prob); TF builds it from RandomUniform, Floor and Mul.")


# -- losses ---------------------------------------------------------------------------------------------------
def l2_loss(t, name=None):
    """sum(t²) / 2."""
    t = convert_to_tensor(t)
    return make_op("L2Loss", [t], {}, name or "L2Loss").outputs[0]


register_op("L2Loss", infer=lambda op: one_output(TensorShape([]), op.inputs[0].dtype),
            kernel=lambda op: (lambda t: torch.sum(t * t) * 0.5))


def _ce_infer(op):
    logits, labels = op.inputs
    if op.type == "SparseSoftmaxCrossEntropyWithLogits":
        if (logits.shape.rank is not None and labels.shape.rank is not None
                and labels.shape.rank != logits.shape.rank - 1):
            raise shape_error(op, f"Shape mismatch: The shape of labels (received {labels.shape}) should equal the "
                                  f"shape of logits except for the last dimension (received {logits.shape})")
        loss = TensorShape(list(logits.shape)[:-1]) if logits.shape.rank else TensorShape(None)
        return [(loss, logits.dtype), (logits.shape, logits.dtype)]
    if logits.shape.rank is not None and labels.shape.rank is not None:
        if logits.shape.rank != labels.shape.rank:
            raise shape_error(op, "logits and labels must have the same rank")
        for a, b in zip(logits.shape, labels.shape):
            if a is not None and b is not None and a != b:
                raise dims_error(op, a, b)
    loss = TensorShape(list(logits.shape)[:-1]) if logits.shape.rank else TensorShape(None)
    return [(loss, logits.dtype), (logits.shape, logits.dtype)]


def _softmax_ce(logits, labels):            # (loss, dloss/dlogits = softmax(x) - y): TF's fused kernel
    return losses.softmax_cross_entropy_with_logits(labels, logits, with_grad=True)


def _sparse_softmax_ce(logits, labels):
    return losses.sparse_softmax_cross_entropy_with_logits(labels, logits, with_grad=True)


register_op("SoftmaxCrossEntropyWithLogits", infer=_ce_infer, kernel=lambda op: _softmax_ce)
register_op("SparseSoftmaxCrossEntropyWithLogits", infer=_ce_infer, kernel=lambda op: _sparse_softmax_ce)


def _sparse_ce_grad_kernel(op):
    def kernel(logits, labels, g):
        # -g at each label, through log_softmax's own backward: the float steps of torch's cross_entropy
        # backward, so a traced training step and the eager one compute the same bits
        logp = torch.log_softmax(logits, -1)
        dy = torch.zeros_like(logp).scatter_(-1, labels.long().unsqueeze(-1), -g.unsqueeze(-1))
        return torch.ops.aten._log_softmax_backward_data(dy, logp, logp.dim() - 1, logp.dtype)
    return kernel


register_op("SparseSoftmaxCrossEntropyWithLogitsGrad",
            infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=_sparse_ce_grad_kernel, doc="d loss / d logits: g·(softmax - onehot(labels)).")


def _move_axis_last(t, axis):
    rank = t.shape.rank
    if axis in (-1, None) or rank is None or axis % rank == rank - 1:
        return t
    axis %= rank
    perm = [i for i in range(rank) if i != axis] + [axis]
    return transpose(t, perm)


def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, dim=-1, name=None, axis=None):
    """-Σ labels · log softmax(logits) along the class axis; gradients reach labels too."""
    if _sentinel is not None or labels is None or logits is None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named arguments (labels=..., "
                         "logits=..., ...).")
    axis = dim if axis is None else axis
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype=logits.dtype)
    return make_op("SoftmaxCrossEntropyWithLogits", [_move_axis_last(logits, axis), _move_axis_last(labels, axis)], {},
                   name or "softmax_cross_entropy_with_logits").outputs[0]


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1, name=None, axis=None):
    """TF1's version: like `_v2`, with no gradient into `labels` (they are constants)."""
    if _sentinel is not None or labels is None or logits is None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named arguments (labels=..., "
                         "logits=..., ...).")
    labels = stop_gradient(convert_to_tensor(labels))
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, dim=dim, name=name, axis=axis)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """-log softmax(logits)[label] for integer class labels of shape logits.shape[:-1]."""
    if _sentinel is not None or labels is None or logits is None:
        raise ValueError("Only call `sparse_softmax_cross_entropy_with_logits` with named arguments (labels=..., "
                         "logits=..., ...).")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    lr, gr = labels.shape.rank, logits.shape.rank
    if lr is not None and gr is not None and lr != gr - 1:
        raise ValueError(f"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: labels.shape="
                         f"{labels.shape} of rank {lr} and logits.shape={logits.shape} of rank {gr}. Sparse labels "
                         "are class ids (shape (batch,)); for one-hot labels use "
                         "softmax_cross_entropy_with_logits_v2, or pass tf.argmax(labels, 1).")
    if not _dt.is_integer(labels.dtype):
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits: labels must be integer class ids; got dtype "
                        f"{_dt.name(labels.dtype)}. For one-hot labels use softmax_cross_entropy_with_logits.")
    return make_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels], {},
                   name or "SparseSoftmaxCrossEntropyWithLogits").outputs[0]


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """max(x, 0) - x·z + log(1 + exp(-|x|)): the stable form of -z log σ(x) - (1-z) log(1-σ(x))."""
    if _sentinel is not None or labels is None or logits is None:
        raise ValueError("Only call `sigmoid_cross_entropy_with_logits` with named arguments (labels=..., "
                         "logits=..., ...).")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype=logits.dtype)
    return make_op("SigmoidCrossEntropyWithLogits", [logits, labels], {}, name or "logistic_loss").outputs[0]


def _sigmoid_ce_infer(op):
    x, z = op.inputs
    if not x.shape.is_compatible_with(z.shape):
        raise shape_error(op, "logits and labels must have the same shape")
    return one_output(broadcast(op, x.shape, z.shape), x.dtype)


register_op("SigmoidCrossEntropyWithLogits", infer=_sigmoid_ce_infer,
            kernel=lambda op: (lambda x, z: losses.sigmoid_cross_entropy_with_logits(z, x)))
register_op("SigmoidCrossEntropyGrad", infer=_same,
            kernel=lambda op: (lambda g, x, z: g * (torch.sigmoid(x) - z)))      # d/dx = σ(x) - z




# -- evaluation ---------------------------------------------------------------------------------------
def in_top_k(predictions, targets, k, name=None):
    """TF1's argument order (TF2's tf.math.in_top_k takes targets first): for each row of predictions
    (N, C), is the target class among the k largest? Ties at the boundary count as in; a row with a
    non-finite prediction or a target outside [0, C) is False. bool (N,)."""
    p, t = convert_to_tensor(predictions), convert_to_tensor(targets)
    if t.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"tf.nn.in_top_k: targets must be int32 or int64 class indices; got {_dt.name(t.dtype)} "
                        f"({t.name}). Cast them with tf.cast(targets, tf.int32), or take tf.argmax of one-hot labels.")
    if p.shape.rank not in (None, 2) or t.shape.rank not in (None, 1):
        raise ValueError(f"tf.nn.in_top_k needs predictions of rank 2 (batch, classes) and targets of rank 1 "
                         f"(batch); got shapes {p.shape} and {t.shape}.")
    return make_op("InTopKV2", [p, t], {"k": int(k)}, name or "in_top_k").outputs[0]


register_op("InTopKV2", infer=lambda op: one_output(TensorShape(list(op.inputs[0].shape)[:1]
                                                                if op.inputs[0].shape.rank else None), torch.bool),
            kernel=lambda op: (lambda p, t: in_top_k_kernel(p, t, op.attrs["k"])))

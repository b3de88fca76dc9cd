"""Keras layers, losses, metrics and optimizers called on graph tensors (inside a traced tf.function).

The Keras engine computes on torch tensors; when its objects receive graph tensors they ask this
module (through `course.tape.tensor.graph_hooks`) for their graph form, keyed by class name, so the
graph engine never imports Keras:

    Dense       MatMul, BiasAdd, activation          Conv2D    Conv2D, BiasAdd, activation
    Flatten     Reshape                              Reshape   Reshape
    MaxPooling2D / AveragePooling2D   MaxPool / AvgPool
    BatchNormalization   moments, Rsqrt, AssignVariableOp for the moving statistics
    Dropout     KerasDropout (the shared kernel `course.layers.dropout`, so a traced step draws the
                same mask as the eager one)
    SparseCategoricalCrossentropy / CategoricalCrossentropy   (Sparse)SoftmaxCrossEntropyWithLogits
                on the logits behind a softmax (as Keras does), else on clipped probabilities
    optimizer.apply_gradients   ResourceApply<Optimizer>: the optimizer's own update rule
    metric(...)                 UpdateMetric: the metric's own accumulation
Sequential and Functional models replay their layers, and user-written `call`s run their Python, on
the graph tensors. A layer with no form raises `NoGraphForm` naming it; the traced function then
runs eagerly.
"""
import math

import torch

import course.layers as K
from course.graph import array_ops, conv_ops, math_ops, nn_ops, reduce_ops, shape_ops
from course.graph import graph as _graph
from course.graph.array_ops import convert_to_tensor, make_op
from course.graph.dispatch import NoGraphForm, _OutsideGraph
from course.graph.registry import RegisterGradient, register_op
from course.graph.resource_ops import SIDE_EFFECTS, assign_variable
from course.framework.shapes import TensorShape
from course.tape import tensor as _tensor

__all__ = ["layer_call", "loss_call", "metric_update", "apply_gradients", "FORMS"]

_training = [False]
_ACTIVATIONS = {"relu": nn_ops.relu, "sigmoid": nn_ops.sigmoid, "tanh": nn_ops.tanh, "softmax": nn_ops.softmax,
                "elu": nn_ops.elu, "softplus": nn_ops.softplus, "relu6": nn_ops.relu6,
                "linear": lambda x: x, None: lambda x: x}


def _activation(fn, x, layer):
    name = getattr(fn, "__name__", None)
    form = _ACTIVATIONS.get(name)
    if form is None:
        raise NoGraphForm(f"the activation {name!r} of layer {layer.name!r}")
    return form(x)


def _dense(layer, x, training):
    y = math_ops.matmul(x, layer.kernel)                                   # (N, units)
    if layer.bias is not None:
        y = nn_ops.bias_add(y, layer.bias)
    return _activation(layer.activation, y, layer)


def _conv2d(layer, x, training):
    if tuple(layer.dilation_rate) != (1, 1) and tuple(layer.strides) != (1, 1):
        raise NoGraphForm("keras.layers.Conv2D with both strides and dilations")
    y = conv_ops.conv2d(x, layer.kernel, [1, *layer.strides, 1], layer.padding.upper(),
                        dilations=[1, *layer.dilation_rate, 1])           # (N, H', W', filters)
    if layer.bias is not None:
        y = nn_ops.bias_add(y, layer.bias)
    return _activation(layer.activation, y, layer)


def _pool(kind):
    def form(layer, x, training):
        fn = conv_ops.max_pool if kind == "max" else conv_ops.avg_pool
        return fn(x, [1, *layer.pool_size, 1], [1, *layer.strides, 1], layer.padding.upper())
    return form


def _flatten(layer, x, training):
    rest = x.shape[1:]
    if any(d is None for d in rest):
        raise NoGraphForm("keras.layers.Flatten on an input whose non-batch dimensions are unknown")
    return shape_ops.reshape(x, [-1, math.prod(rest)])


def _reshape(layer, x, training):
    return shape_ops.reshape(x, [-1, *layer.target_shape])


def _dropout(layer, x, training):
    if not training or layer.rate == 0:
        return x
    if layer.seed is not None:
        raise NoGraphForm("keras.layers.Dropout with a seed")
    return make_op("KerasDropout", [convert_to_tensor(x)], {"rate": float(layer.rate)}, "dropout").outputs[0]


def _dropout_kernel(op):
    rate = op.attrs["rate"]

    def kernel(x):
        keep = K.dropout(torch.ones_like(x), rate, training=True)          # 0 or 1/(1-rate), as the eager layer
        return x * keep, keep
    return kernel


register_op("KerasDropout", infer=lambda op: [(op.inputs[0].shape, op.inputs[0].dtype)] * 2, kernel=_dropout_kernel,
            stateful=True, doc="Keras' Dropout in training: the shared dropout kernel; output 1 is the scale.")


@RegisterGradient("KerasDropout")
def _dropout_grad(op, grad, _scale_grad=None):
    return [math_ops.multiply(grad, op.outputs[1])]


def _batch_norm(layer, x, training):
    """y = γ·(x - μ)/sqrt(σ² + ε) + β on the last axis; in training μ, σ² of the batch, and the moving
    statistics updated by AssignVariableOps (moving ← moving·momentum + batch·(1 - momentum))."""
    rank = x.shape.rank
    if rank is None or layer._axis != rank - 1:
        raise NoGraphForm("keras.layers.BatchNormalization on an axis other than the last")
    if training and layer._trainable:
        dims = list(range(rank - 1))
        mean = reduce_ops.reduce_mean(x, dims)                                # (C,)
        variance = reduce_ops.reduce_mean(math_ops.square(math_ops.subtract(x, mean)), dims)
        m = layer.momentum
        for var, batch in ((layer.moving_mean, mean), (layer.moving_variance, variance)):
            moving = math_ops.add(math_ops.multiply(convert_to_tensor(var), m), math_ops.multiply(batch, 1 - m))
            assign_variable(var, moving)
    else:
        mean, variance = convert_to_tensor(layer.moving_mean), convert_to_tensor(layer.moving_variance)
    inv = math_ops.rsqrt(math_ops.add(variance, layer.epsilon))
    if layer.gamma is not None:
        inv = math_ops.multiply(inv, layer.gamma)
    y = math_ops.multiply(math_ops.subtract(x, mean), inv)
    return math_ops.add(y, layer.beta) if layer.beta is not None else y


def _sequential(layer, x, training):
    for sub in layer.layers:
        x = sub(x, training=training)
    return x


def _functional(model, x, training):
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    values = {id(t): v for t, v in zip(model._inputs, xs)}
    for layer, parents, out in model._nodes:
        args = [values[id(p)] for p in parents]
        values[id(out)] = layer(args[0] if len(args) == 1 else args, training=training)
    outs = [values[id(t)] for t in model._outputs]
    return outs[0] if model._single_output else outs


FORMS = {"Functional": _functional, "Dense": _dense, "Conv2D": _conv2d, "MaxPooling2D": _pool("max"),
         "MaxPool2D": _pool("max"),
         "AveragePooling2D": _pool("avg"), "AvgPool2D": _pool("avg"), "Flatten": _flatten, "Reshape": _reshape,
         "Dropout": _dropout, "Sequential": _sequential, "BatchNormalization": _batch_norm,
         "Activation": lambda layer, x, training: _activation(layer.activation, x, layer),
         "ReLU": lambda layer, x, training: nn_ops.relu(x)}


def _form_for(layer):
    for cls in type(layer).__mro__:
        if cls.__name__ in FORMS:
            return FORMS[cls.__name__], cls
    return None, None


def layer_call(layer, inputs, args, kwargs):
    """`layer(graph_tensor, training=...)`: build its weights eagerly if needed, then its graph form."""
    training = kwargs.pop("training", None)
    outer = _training[0]
    if training is not None:
        _training[0] = bool(training)
    try:
        x = inputs
        if isinstance(x, _graph.Tensor) and x.dtype != torch.float32 and \
                (x.dtype.is_floating_point or getattr(layer, "_casts_inputs", False)):
            x = array_ops.cast(x, torch.float32)        # Keras' floatx, as the eager call casts
        form, cls = _form_for(layer)
        if form is not None and cls.call is type(layer).call:
            if not layer.built:
                shape = tuple(x.shape)
                with _OutsideGraph(), torch.no_grad():   # weights are made eagerly (init_scope)
                    layer.build(shape)
                layer._build_input_shape, layer.built = (None, *shape[1:]), True
            return form(layer, x, _training[0])
        if type(layer).call.__module__.startswith("course."):
            raise NoGraphForm(f"keras.layers.{type(layer).__name__}")
        if not layer.built:                     # a user's call: it builds its own sublayers when it runs
            layer.built = True
        if layer._takes_training:
            kwargs["training"] = _training[0]
        return layer.call(x, *args, **kwargs)   # user Python on graph tensors, as Keras does
    finally:
        _training[0] = outer


# -- losses ---------------------------------------------------------------------------------------------
def _probabilities_to_logits(y_pred, from_logits):
    if not from_logits and y_pred.op.type == "Softmax":
        return y_pred.op.inputs[0], True        # Keras uses the logits behind a softmax output
    return y_pred, from_logits


def loss_call(loss, y_true, y_pred, sample_weight):
    name = type(loss).__name__
    if sample_weight is not None or getattr(loss, "reduction", None) != "sum_over_batch_size":
        raise NoGraphForm(f"keras.losses.{name} with sample weights or reduction={loss.reduction!r}")
    y_pred = convert_to_tensor(y_pred)
    if name == "SparseCategoricalCrossentropy":
        logits, from_logits = _probabilities_to_logits(y_pred, loss.from_logits)
        labels = array_ops.cast(convert_to_tensor(y_true), torch.int64)
        if labels.shape.rank == 2:
            labels = shape_ops.squeeze(labels, [1])
        if from_logits:
            values = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        else:
            depth = y_pred.shape[-1]
            p = math_ops.clip_by_value(y_pred, 1e-7, 1 - 1e-7)
            values = math_ops.negative(reduce_ops.reduce_sum(
                math_ops.multiply(shape_ops.one_hot(labels, depth, dtype=y_pred.dtype), math_ops.log(p)), -1))
    elif name == "CategoricalCrossentropy" and not getattr(loss, "label_smoothing", 0):
        logits, from_logits = _probabilities_to_logits(y_pred, loss.from_logits)
        labels = array_ops.cast(convert_to_tensor(y_true), y_pred.dtype)
        if not from_logits:
            raise NoGraphForm("keras.losses.CategoricalCrossentropy on probabilities")
        values = nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    elif name == "MeanSquaredError":
        values = reduce_ops.reduce_mean(math_ops.square(math_ops.subtract(y_pred, array_ops.cast(
            convert_to_tensor(y_true), y_pred.dtype))), -1)
    else:
        raise NoGraphForm(f"keras.losses.{name}")
    return reduce_ops.reduce_mean(values)


# -- metrics and optimizers: stateful ops running the Keras object's own update -------------------------
def _metric_kernel(op):
    metric = op.attrs["metric"]

    def update(*values):
        with torch.no_grad():
            metric.update_state(*values)
            return metric._result()
    return update


register_op("UpdateMetric", infer=lambda op: [(TensorShape([]), torch.float32)], kernel=_metric_kernel,
            stateful=True, doc="A Keras metric's update_state on the values of this run; outputs its result.")
SIDE_EFFECTS.update({"UpdateMetric", "KerasDropout"})


def metric_update(metric, args, kwargs):
    if kwargs.get("sample_weight") is not None or len(args) > 2:
        raise NoGraphForm(f"keras.metrics.{type(metric).__name__} with sample weights")
    inputs = [convert_to_tensor(a) for a in args]
    return make_op("UpdateMetric", inputs, {"metric": metric}, "UpdateMetric",
                   graph=_graph.get_default_graph()).outputs[0]          # the result, as metric(...) returns


def _apply_kernel(op):
    optimizer, variables = op.attrs["optimizer"], op.attrs["variables"]

    def apply(*grads):
        with torch.no_grad():
            optimizer.apply(list(grads), variables)
    return apply


def apply_gradients(optimizer, grads, variables):
    """`optimizer.apply_gradients(...)` with graph gradients: one ResourceApply<Name> op."""
    pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
    op_type = f"ResourceApply{type(optimizer).__name__}"
    if op_type not in SIDE_EFFECTS:
        register_op(op_type, infer=lambda op: [], kernel=_apply_kernel, stateful=True,
                    doc="A Keras optimizer's update rule applied to its variables.")
        SIDE_EFFECTS.add(op_type)
    make_op(op_type, [convert_to_tensor(g) for g, _ in pairs], {"optimizer": optimizer,
            "variables": [v for _, v in pairs]}, op_type, graph=_graph.get_default_graph())
    return None


_tensor.graph_hooks.update(keras_layer=layer_call, keras_loss=loss_call, keras_metric=metric_update,
                           keras_apply=apply_gradients)

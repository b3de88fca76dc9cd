"""Gradients of activations, softmax, bias_add, dropout, the classification losses, convolution
and pooling (TF's nn_grad.py).

Most are TF's fused gradient ops (ReluGrad, SoftmaxGrad, BiasAddGrad, Conv2DBackpropInput,
MaxPoolGrad, ...), one kernel each, registered with the forward ops in `nn_ops` and `conv_ops`;
the cross-entropy ops carry their gradient as a second output. `course.graph.gradients` imports
this module, so these are registered before any backward pass.
"""
from course.graph.array_ops import make_op
from course.graph.math_ops import multiply, negative
from course.graph.nn_ops import log_softmax
from course.graph.registry import NotDifferentiable, RegisterGradient
from course.graph.shape_ops import expand_dims

__all__ = []


def _fused_grad(grad_type, use_output):
    def fn(op, grad):
        ref = op.outputs[0] if use_output else op.inputs[0]
        return [make_op(grad_type, [grad, ref], dict(op.attrs), grad_type).outputs[0]]
    return fn


RegisterGradient("Relu")(_fused_grad("ReluGrad", True))
RegisterGradient("Relu6")(_fused_grad("Relu6Grad", False))
RegisterGradient("LeakyRelu")(_fused_grad("LeakyReluGrad", False))
RegisterGradient("Elu")(_fused_grad("EluGrad", True))
RegisterGradient("Softplus")(_fused_grad("SoftplusGrad", False))
RegisterGradient("Sigmoid")(_fused_grad("SigmoidGrad", True))
RegisterGradient("Tanh")(_fused_grad("TanhGrad", True))
RegisterGradient("Softmax")(_fused_grad("SoftmaxGrad", True))
RegisterGradient("LogSoftmax")(_fused_grad("LogSoftmaxGrad", True))


@RegisterGradient("BiasAdd")
def _bias_add_grad(op, grad):
    return [grad, make_op("BiasAddGrad", [grad], {}, "BiasAddGrad").outputs[0]]


@RegisterGradient("Dropout")
def _dropout_grad(op, grad, _mask_grad=None):
    return [multiply(grad, op.outputs[1]), None]


@RegisterGradient("L2Loss")
def _l2_grad(op, grad):
    return [multiply(op.inputs[0], grad)]


@RegisterGradient("SoftmaxCrossEntropyWithLogits")
def _softmax_ce_grad(op, grad_loss, _grad_backprop=None):
    g = expand_dims(grad_loss, -1)
    logits = op.inputs[0]
    return [multiply(g, op.outputs[1]), multiply(g, negative(log_softmax(logits)))]


@RegisterGradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_ce_grad(op, grad_loss, _grad_backprop=None):
    logits, labels = op.inputs
    if logits.shape.rank != 2:
        return [multiply(expand_dims(grad_loss, -1), op.outputs[1]), None]
    grad = make_op("SparseSoftmaxCrossEntropyWithLogitsGrad", [logits, labels, grad_loss], {},
                   "SparseSoftmaxCrossEntropyWithLogitsGrad").outputs[0]
    return [grad, None]


@RegisterGradient("SigmoidCrossEntropyWithLogits")
def _sigmoid_ce_grad(op, grad):
    x, z = op.inputs
    gx = make_op("SigmoidCrossEntropyGrad", [grad, x, z], {}, "SigmoidCrossEntropyGrad").outputs[0]
    return [gx, multiply(grad, negative(x))]                                  # d/dz = -x


NotDifferentiable("ReluGrad")
NotDifferentiable("InTopKV2")


@RegisterGradient("Conv2D")
def _conv_grad(op, grad):
    x, w = op.inputs
    return [make_op("Conv2DBackpropInput", [x, w, grad], dict(op.attrs), "Conv2DBackpropInput").outputs[0],
            make_op("Conv2DBackpropFilter", [x, w, grad], dict(op.attrs), "Conv2DBackpropFilter").outputs[0]]


@RegisterGradient("MaxPool")
def _max_pool_grad(op, grad, _argmax_grad=None):
    x = op.inputs[0]
    return [make_op("MaxPoolGrad", [x, op.outputs[1], grad], dict(op.attrs), "MaxPoolGrad").outputs[0]]


@RegisterGradient("AvgPool")
def _avg_pool_grad(op, grad):
    return [make_op("AvgPoolGrad", [op.inputs[0], grad], dict(op.attrs), "AvgPoolGrad").outputs[0]]

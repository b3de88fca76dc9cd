"""From-scratch forward/backward pairs: the maths of backprop with torch tensor ops, no autograd.

Every layer is a pair with one signature (as in CS231n)::

    out, cache = dense_forward(x, w, b)        # the forward keeps what the backward needs
    dx, dw, db = dense_backward(dout, cache)   # dout = ∂L/∂out  ->  ∂L/∂(each input)

A single-input pair's backward returns one tensor (``dx = relu_backward(dout, cache)``); a loss
returns the loss and its gradient at once (``loss, dlogits = softmax_cross_entropy(logits, y)``).
Layouts follow TensorFlow: dense kernels (in, out), images channels-last (N, H, W, C), conv
kernels (KH, KW, C, F), SAME padding with the odd pixel at the bottom/right.  Because only
tensor operations are used, everything runs unchanged on a GPU.

Check any pair against numerical derivatives with :func:`course.gradcheck.check_scratch_pair`.
"""

from course.scratch.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from course.scratch.conv import conv2d_backward, conv2d_forward, output_size, same_padding
from course.scratch.dense import dense_backward, dense_forward, flatten_backward, flatten_forward
from course.scratch.dropout import dropout_backward, dropout_forward
from course.scratch.losses import hinge_loss, mse_loss, softmax_cross_entropy, svm_loss
from course.scratch.mlp import TwoLayerNet, train_mlp
from course.scratch.norm import batchnorm_backward, batchnorm_forward
from course.scratch.pool import max_pool2d_backward, max_pool2d_forward

__all__ = [
    "dense_forward", "dense_backward", "flatten_forward", "flatten_backward",
    "relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward", "softmax_forward", "softmax_backward",
    "softmax_cross_entropy", "mse_loss", "svm_loss", "hinge_loss",
    "dropout_forward", "dropout_backward",
    "conv2d_forward", "conv2d_backward", "same_padding", "output_size",
    "max_pool2d_forward", "max_pool2d_backward",
    "batchnorm_forward", "batchnorm_backward",
    "TwoLayerNet", "train_mlp",
]

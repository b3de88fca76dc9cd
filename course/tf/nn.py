"""`tf.nn`: names only (course.tape.nn)."""
from course.tape.math_ops import in_top_k, l2_normalize, top_k
from course.tape.nn import (avg_pool, avg_pool2d, batch_normalization, bias_add, compute_average_loss, conv2d,
                            dropout, elu, embedding_lookup, gelu, l2_loss, leaky_relu, log_softmax, max_pool,
                            max_pool2d, moments, relu, relu6, selu, sigmoid, sigmoid_cross_entropy_with_logits, silu,
                            softmax, softmax_cross_entropy_with_logits, softplus, softsign,
                            sparse_softmax_cross_entropy_with_logits, swish, tanh,
                            weighted_cross_entropy_with_logits)
from course.graph import dispatch as _dispatch
from course.tf._unsupported import module_getattr

_dispatch.wrap_namespace(globals(), "nn.")

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "softmax_cross_entropy_with_logits_v2": "it is TF1's name; in TF2 use tf.nn.softmax_cross_entropy_with_logits.",
    "conv2d_transpose": "use tf.keras.layers.Conv2DTranspose if the Keras facade has it.",
    "rnn_cell": "TF1's RNN cells are not supported; use tf.keras.layers.",
    "dynamic_rnn": "TF1's dynamic_rnn is not supported; use tf.keras.layers.",
})

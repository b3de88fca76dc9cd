"""`tf.compat.v1.nn`: activations, conv/pool (NHWC), dropout(x, keep_prob) and the losses. Names only."""
from course.graph.conv_ops import avg_pool, avg_pool2d, conv2d, max_pool, max_pool2d
from course.graph.nn_ops import (bias_add, dropout, elu, in_top_k, l2_loss, leaky_relu, log_softmax, relu, relu6,
                                 sigmoid,
                                 sigmoid_cross_entropy_with_logits, softmax, softmax_cross_entropy_with_logits,
                                 softmax_cross_entropy_with_logits_v2, softplus,
                                 sparse_softmax_cross_entropy_with_logits,
                                 tanh)
from course.tf import _unsupported

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "rnn_cell": "RNN cells are not supported in the graph engine; use course.tf.keras layers.",
    "dynamic_rnn": "RNNs are not supported in the graph engine; use course.tf.keras layers.",
    "embedding_lookup": "not supported here; multiply a one-hot tf.one_hot(ids, n) by the embedding matrix.",
})

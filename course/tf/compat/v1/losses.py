"""`tf.compat.v1.losses`: TF1's weighted, reduced losses for graphs (course.graph.losses_v1). Names only."""
from course.graph.losses_v1 import (Reduction, absolute_difference, add_loss, compute_weighted_loss, get_losses,
                                    get_regularization_loss, get_regularization_losses, get_total_loss, huber_loss,
                                    log_loss, mean_squared_error, sigmoid_cross_entropy, softmax_cross_entropy,
                                    sparse_softmax_cross_entropy)
from course.tf import _unsupported

__all__ = ["Reduction", "absolute_difference", "add_loss", "compute_weighted_loss", "get_losses",
           "get_regularization_loss", "get_regularization_losses", "get_total_loss", "huber_loss", "log_loss",
           "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"]

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "hinge_loss": "use tf.reduce_mean(tf.maximum(0.0, 1.0 - (2.0 * labels - 1.0) * logits)).",
    "cosine_distance": "use 1 - tf.reduce_sum(tf.nn.l2_normalize(a, -1) * tf.nn.l2_normalize(b, -1), -1).",
})

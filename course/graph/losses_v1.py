"""TF1's `tf.losses` (`tf.compat.v1.losses`): per-example losses, weighted and reduced in the graph.

    loss = tf.losses.softmax_cross_entropy(onehot_labels=y_, logits=y)   # a scalar, added to the LOSSES collection

Each function computes the per-element losses, multiplies them by `weights` (a scalar, or a tensor
broadcastable to the losses) and reduces them as `reduction` says. TF1's default differs from Keras:

    SUM_BY_NONZERO_WEIGHTS   sum(w·l) / count(w ≠ 0, broadcast to l's shape)    (0 when that count is 0)
    MEAN                     sum(w·l) / sum(w broadcast to l's shape)
    SUM_OVER_BATCH_SIZE      sum(w·l) / number of elements of l
    SUM                      sum(w·l)
    NONE                     w·l, unreduced

The result is added to `tf.GraphKeys.LOSSES` (`tf.losses.get_losses()`, `get_total_loss()`).
"""
import torch

from course.graph.array_ops import cast, convert_to_tensor, ones_like, stop_gradient, zeros_like
from course.graph.graph import GraphKeys, get_default_graph, name_scope
from course.graph.math_ops import abs, add, add_n, equal, log, minimum, multiply, square, subtract, truediv  # noqa: A004
from course.graph.nn_ops import (sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2,
                                 sparse_softmax_cross_entropy_with_logits)
from course.graph.reduce_ops import reduce_sum
from course.graph.shape_ops import shape, size, where

__all__ = ["Reduction", "compute_weighted_loss", "mean_squared_error", "absolute_difference", "huber_loss",
           "log_loss", "softmax_cross_entropy", "sparse_softmax_cross_entropy", "sigmoid_cross_entropy",
           "add_loss", "get_losses", "get_regularization_losses", "get_regularization_loss", "get_total_loss"]


class Reduction:
    """How `compute_weighted_loss` reduces the weighted losses (TF1's names and values)."""
    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def _div_no_nan(num, den):
    """num / den, and 0 where den is 0 (TF's div_no_nan)."""
    zero = zeros_like(den)
    safe = where(equal(den, zero), ones_like(den), den)
    return where(equal(den, zero), zeros_like(num), truediv(num, safe))


def _broadcast_weights(weights, losses):
    return multiply(weights, ones_like(losses))          # w·1 of l's shape: checks that they broadcast


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """sum(weights·losses) reduced as `reduction` says (see the module docstring)."""
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss", (losses, weights)):
        losses = cast(convert_to_tensor(losses), torch.float32)
        weights = cast(convert_to_tensor(weights), torch.float32)
        weighted = multiply(losses, weights)                                     # w·l
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            total = reduce_sum(weighted)                                         # Σ w·l
            if reduction == Reduction.MEAN:
                loss = _div_no_nan(total, reduce_sum(_broadcast_weights(weights, losses)))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _div_no_nan(total, cast(size(losses), torch.float32))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                present = where(equal(weights, zeros_like(weights)), zeros_like(weights), ones_like(weights))
                loss = _div_no_nan(total, reduce_sum(_broadcast_weights(present, losses)))
            else:
                loss = total
        if loss_collection:
            get_default_graph().add_to_collection(loss_collection, loss)
        return loss


def _pair(labels, predictions):
    predictions = cast(convert_to_tensor(predictions), torch.float32)
    labels = cast(convert_to_tensor(labels), torch.float32)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible: predictions and labels "
                         "must have the same shape.")
    return labels, predictions


def _check(labels, predictions, what):
    if labels is None:
        raise ValueError("Argument `labels` must not be None.")
    if predictions is None:
        raise ValueError(f"Argument `{what}` must not be None.")


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """(predictions - labels)², weighted and reduced."""
    _check(labels, predictions, "predictions")
    with name_scope(scope, "mean_squared_error", (predictions, labels, weights)) as sc:
        labels, predictions = _pair(labels, predictions)
        losses = square(subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """|predictions - labels|, weighted and reduced."""
    _check(labels, predictions, "predictions")
    with name_scope(scope, "absolute_difference", (predictions, labels, weights)) as sc:
        labels, predictions = _pair(labels, predictions)
        losses = abs(subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """½·q² + δ·(|e| - q) with e = predictions - labels and q = min(|e|, δ): quadratic near 0, linear beyond δ."""
    _check(labels, predictions, "predictions")
    with name_scope(scope, "huber_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _pair(labels, predictions)
        error = abs(subtract(predictions, labels))                               # |e|
        quadratic = minimum(error, delta)                                        # q
        linear = subtract(error, quadratic)                                      # |e| - q
        losses = add(multiply(0.5, square(quadratic)), multiply(delta, linear))
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=GraphKeys.LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """-y·log(p + ε) - (1 - y)·log(1 - p + ε) for probabilities p."""
    _check(labels, predictions, "predictions")
    with name_scope(scope, "log_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _pair(labels, predictions)
        pos = multiply(labels, log(add(predictions, epsilon)))                   # y·log(p + ε)
        neg = multiply(subtract(1.0, labels), log(add(subtract(1.0, predictions), epsilon)))
        losses = subtract(multiply(-1.0, pos), neg)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Cross-entropy of softmax(logits) against one-hot labels, one loss per example; `label_smoothing` s
    moves the labels to y·(1 - s) + s / num_classes. No gradient flows into the labels."""
    _check(onehot_labels, logits, "logits")
    with name_scope(scope, "softmax_cross_entropy_loss", (logits, onehot_labels, weights)) as sc:
        logits = convert_to_tensor(logits)
        labels = cast(convert_to_tensor(onehot_labels), logits.dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {logits.shape} and {labels.shape} are incompatible: onehot_labels must have "
                             "the shape of logits (batch, num_classes).")
        if label_smoothing:
            n = cast(shape(labels)[-1], logits.dtype)
            labels = add(multiply(labels, 1.0 - label_smoothing), truediv(label_smoothing, n))
        losses = softmax_cross_entropy_with_logits_v2(labels=stop_gradient(labels), logits=logits,
                                                      name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Cross-entropy of softmax(logits) against integer class ids, one loss per example."""
    _check(labels, logits, "logits")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss", (logits, labels, weights)) as sc:
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Per-element sigmoid cross-entropy; `label_smoothing` s moves the labels to y·(1 - s) + s / 2."""
    _check(multi_class_labels, logits, "logits")
    with name_scope(scope, "sigmoid_cross_entropy_loss", (logits, multi_class_labels, weights)) as sc:
        logits = convert_to_tensor(logits)
        labels = cast(convert_to_tensor(multi_class_labels), logits.dtype)
        if label_smoothing:
            labels = add(multiply(labels, 1.0 - label_smoothing), 0.5 * label_smoothing)
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    losses = get_regularization_losses(scope)
    return add_n(losses, name=name) if losses else convert_to_tensor(0.0, name="zero_regularization_loss")


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """The sum of the LOSSES collection (and of the regularization losses unless told not to)."""
    losses = get_losses(scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope)
    if not losses:
        raise ValueError("No losses found: build one with tf.losses.* (or tf.losses.add_loss) first.")
    return add_n(losses, name=name)

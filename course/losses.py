"""Losses, each written once, with Keras 3 semantics (TensorFlow backend), on torch tensors.

Every loss is `loss(y_true, y_pred, *, ..., sample_weight=None, reduction="sum_over_batch_size")`:
it computes one value per sample (the mean over the last axis, or the cross-entropy over the
class axis), then weights and reduces them exactly as a Keras `Loss` object does:

    values  = fn(y_true, y_pred)                     # (N, ...) with the last axis consumed
    values *= sample_weight                          # if given, after matching ranks as Keras does
    "sum_over_batch_size" / "mean":  sum(values) / values.numel()
    "sum":                           sum(values)
    "mean_with_sample_weight":       sum(values) / sum(sample_weight)
    "none" / None:                   values

So `categorical_crossentropy(y, p)` equals `keras.losses.CategoricalCrossentropy()(y, p)`, and
`reduction="none"` gives what the functional `keras.losses.categorical_crossentropy` returns.

On probabilities, cross-entropies clip to [ε, 1-ε] with ε = 1e-7 (Keras' `backend.epsilon()`);
categorical CE first renormalises each row to sum to 1, and sparse CE takes log_softmax of the
clipped log-probabilities (TensorFlow's route), which divides by the clipped row sum too. With
`from_logits=True` the stable forms are used: log_softmax, and max(x,0) - x·z + log(1+e^-|x|).
(Keras on TensorFlow silently uses the logits when `y_pred` came straight out of a softmax or
sigmoid layer; that is the engine's business: it passes `from_logits=True` in that case.)
"""
import torch
import torch.nn.functional as F

from course.framework.identifiers import Registry

__all__ = ["EPSILON", "REDUCTIONS", "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge", "squared_hinge",
           "reduce_weighted", "squeeze_or_expand_to_same_rank", "get", "LOSSES",
           "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
           "sigmoid_cross_entropy_with_logits"]

EPSILON = 1e-7          # keras.backend.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


# -- shapes and reduction ---------------------------------------------------------------------
def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras' rule: if the ranks differ by one and the longer one ends in 1, make them equal
    (expanding a rank-1 tensor, otherwise squeezing the trailing 1)."""
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def reduce_weighted(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Weight per-sample loss values and reduce them as Keras' `reduce_weighted_values` does."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}.")
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, device=values.device).to(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        try:
            torch.broadcast_shapes(values.shape, sample_weight.shape)
        except RuntimeError:
            raise ValueError(f"sample_weight of shape {tuple(sample_weight.shape)} does not fit the "
                             f"per-sample losses of shape {tuple(values.shape)}; pass one weight per "
                             "sample, shape (batch,).") from None
        values = values * sample_weight
    if reduction in (None, "none") or values.dim() == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum()
        return torch.where(divisor == 0, torch.zeros_like(total), total / divisor)   # divide_no_nan
    return total / values.numel()


def _prepare(y_true, y_pred, name):
    """(y_true, y_pred) as float tensors of one shape, y_true on y_pred's device and dtype."""
    y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        hint = ""
        if y_true.dim() == y_pred.dim() - 1 and name == "categorical_crossentropy":
            hint = " Integer class labels need sparse_categorical_crossentropy."
        raise ValueError(f"{name}: y_true and y_pred must have the same shape; got y_true "
                         f"{tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}.{hint}")
    _check_not_empty(y_pred, name)
    return y_true, y_pred


def _check_not_empty(y_pred, name):
    if y_pred.numel() == 0:
        raise ValueError(f"{name}: empty batch (y_pred has shape {tuple(y_pred.shape)}); a loss needs "
                         "at least one sample.")


# -- regression -------------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred, *, sample_weight=None, reduction="sum_over_batch_size"):
    """values = mean((y_true - y_pred)², axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error")
    values = torch.mean(torch.square(y_true - y_pred), dim=-1)                 # (N,)
    return reduce_weighted(values, sample_weight, reduction)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, reduction="sum_over_batch_size"):
    """values = mean(|y_true - y_pred|, axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_error")
    values = torch.mean(torch.abs(y_true - y_pred), dim=-1)                    # (N,)
    return reduce_weighted(values, sample_weight, reduction)


# -- cross-entropies --------------------------------------------------------------------------
def binary_crossentropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, sample_weight=None,
                        reduction="sum_over_batch_size"):
    """values = mean(bce, axis=-1), with z = y_true (smoothed: z(1-s) + s/2) and
    probabilities: bce = -(z·log p + (1-z)·log(1-p)),  p = clip(y_pred, ε, 1-ε)
    logits x:      bce = max(x, 0) - x·z + log(1 + exp(-|x|))."""
    z, y_pred = _prepare(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        z = z * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = sigmoid_cross_entropy_with_logits(z, y_pred)                      # the stable form
    else:
        p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(z * torch.log(p) + (1.0 - z) * torch.log(1.0 - p))
    return reduce_weighted(torch.mean(bce, dim=-1), sample_weight, reduction)


def categorical_crossentropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, axis=-1,
                             sample_weight=None, reduction="sum_over_batch_size"):
    """values = -sum(y_true · log q, axis), one-hot (or soft) labels, with
    probabilities: q = clip(y_pred / sum(y_pred, axis), ε, 1-ε);  logits: log q = log_softmax(y_pred)."""
    y_true, y_pred = _prepare(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        values = softmax_cross_entropy_with_logits(y_true, y_pred, axis)       # (N,)
    else:
        q = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)                 # rows sum to 1
        log_q = torch.log(torch.clamp(q, EPSILON, 1.0 - EPSILON))
        values = -torch.sum(y_true * log_q, dim=axis)                         # (N,)
    return reduce_weighted(values, sample_weight, reduction)


def sparse_categorical_crossentropy(y_true, y_pred, *, from_logits=False, sample_weight=None,
                                    reduction="sum_over_batch_size", check=True):
    """values = -log_softmax(x)[label] with integer labels y_true of shape y_pred.shape[:-1]
    (or that shape plus a trailing 1), x = y_pred (logits) or log(clip(y_pred, ε, 1-ε)).

    `check=True` verifies 0 <= label < C and raises a clear error otherwise; that costs one
    device synchronisation per call on a GPU (pass check=False in a tuned loop)."""
    name = "sparse_categorical_crossentropy"
    y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    labels = torch.as_tensor(y_true, device=y_pred.device)
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    if labels.shape != y_pred.shape[:-1]:
        hint = (" y_true looks one-hot: use categorical_crossentropy."
                if labels.shape == y_pred.shape else "")
        raise ValueError(f"{name}: expected integer labels of shape {tuple(y_pred.shape[:-1])} for y_pred "
                         f"of shape {tuple(y_pred.shape)}; got y_true of shape {tuple(labels.shape)}.{hint}")
    _check_not_empty(y_pred, name)
    if labels.is_floating_point():
        labels = labels.long()                            # TF casts to int64 (truncating)
    elif labels.dtype != torch.long:
        labels = labels.long()
    num_classes = y_pred.shape[-1]
    if check:
        lo, hi = (int(v) for v in torch.aminmax(labels))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"{name}: labels must be in [0, {num_classes}) for y_pred with {num_classes} "
                             f"classes; got min {lo}, max {hi}. Check the units of the last layer "
                             "(one per class) and the labels.")
    logits = y_pred if from_logits else torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON))
    values = sparse_softmax_cross_entropy_with_logits(labels, logits)         # -log_softmax(x)[label]
    return reduce_weighted(values, sample_weight, reduction)


# -- TensorFlow's fused cross-entropy kernels ---------------------------------------------------
def softmax_cross_entropy_with_logits(labels, logits, axis=-1, with_grad=False):
    """Per-example -Σ labels · log_softmax(logits) along `axis` (no reduction); with `with_grad`,
    also its gradient with respect to the logits, softmax(logits) - labels, as TF's fused kernel
    returns it (the graph engine's op outputs both)."""
    log_q = F.log_softmax(logits, dim=axis)
    values = -torch.sum(labels * log_q, dim=axis)
    return (values, torch.exp(log_q) - labels) if with_grad else values


def sigmoid_cross_entropy_with_logits(labels, logits):
    """Per-element max(x, 0) - x·z + log(1 + exp(-|x|)) for logits x and labels z (no reduction):
    the stable form of -z·log σ(x) - (1-z)·log(1-σ(x))."""
    return F.binary_cross_entropy_with_logits(logits, labels, reduction="none")


def sparse_softmax_cross_entropy_with_logits(labels, logits, with_grad=False):
    """Per-example -log_softmax(logits)[label] for integer `labels` of shape logits.shape[:-1] (no
    reduction, no range check); with `with_grad`, also softmax(logits) - onehot(labels)."""
    labels = labels.long()
    log_q = F.log_softmax(logits, dim=-1)
    values = F.nll_loss(log_q.reshape(-1, log_q.shape[-1]), labels.reshape(-1), reduction="none").reshape(labels.shape)
    if not with_grad:
        return values
    back = torch.exp(log_q)
    back.scatter_add_(-1, labels.unsqueeze(-1), torch.full_like(labels, -1, dtype=back.dtype).unsqueeze(-1))
    return values, back


# -- margins ----------------------------------------------------------------------------------
def _hinge_labels(y_true):
    """Keras: labels that are all 0 or 1 become -1 or 1; other labels are left as they are."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)   # no host synchronisation


def hinge(y_true, y_pred, *, sample_weight=None, reduction="sum_over_batch_size"):
    """values = mean(max(1 - y_true·y_pred, 0), axis=-1); labels -1/1 (0/1 are converted)."""
    y_true, y_pred = _prepare(y_true, y_pred, "hinge")
    values = torch.mean(torch.clamp(1.0 - _hinge_labels(y_true) * y_pred, min=0.0), dim=-1)
    return reduce_weighted(values, sample_weight, reduction)


def squared_hinge(y_true, y_pred, *, sample_weight=None, reduction="sum_over_batch_size"):
    """values = mean(max(1 - y_true·y_pred, 0)², axis=-1); labels -1/1 (0/1 are converted)."""
    y_true, y_pred = _prepare(y_true, y_pred, "squared_hinge")
    values = torch.mean(torch.square(torch.clamp(1.0 - _hinge_labels(y_true) * y_pred, min=0.0)), dim=-1)
    return reduce_weighted(values, sample_weight, reduction)


# -- names ------------------------------------------------------------------------------------
_NAMES = {
    mean_squared_error: ["mean_squared_error", "mse", "MSE", "MeanSquaredError"],
    mean_absolute_error: ["mean_absolute_error", "mae", "MAE", "MeanAbsoluteError"],
    binary_crossentropy: ["binary_crossentropy", "bce", "BCE", "BinaryCrossentropy"],
    categorical_crossentropy: ["categorical_crossentropy", "CategoricalCrossentropy"],
    sparse_categorical_crossentropy: ["sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"],
    hinge: ["hinge", "Hinge"],
    squared_hinge: ["squared_hinge", "SquaredHinge"],
}
LOSSES = Registry("loss", {name: fn for fn, names in _NAMES.items() for name in names}, classes={})


def get(identifier):
    """The loss function for a Keras name ('mse', 'categorical_crossentropy',
    'SparseCategoricalCrossentropy', ...); a callable is returned unchanged, None gives None."""
    return LOSSES.get(identifier)

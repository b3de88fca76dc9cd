"""Checks for lesson 06, losses: Keras' function forms (one loss per sample, arguments y_true, y_pred).

The references are torch's own functions (``nn.functional.mse_loss``, ``torch.log_softmax``,
``nn.functional.cross_entropy`` with probability targets) and, where Keras does something torch does
not (clipping probabilities to [1e-7, 1 - 1e-7], hinge's 0/1 -> -1/+1 labels), those documented
Keras rules written out in torch here (tests/test_lesson06_checks.py proves them against real
TensorFlow).
"""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, expect_close
from course.exercises.forbidden import SCRATCH, Forbid
from course.exercises.registry import exercise

__all__ = ["KERAS_EPSILON"]

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()


def _gen(seed):
    return seeding.torch_generator(seed)


def _unchanged(before, after, what):
    if not torch.equal(before, after):
        raise CheckFailure(f"{what} modified its input in place; return a new tensor instead.")


def _same_shape(t, shape):
    return t is not None and tuple(t.shape) == tuple(shape)


@exercise("6.1", name="mse", points=2, forbid=SCRATCH)
def _check_mse(mse):
    """Keras' mean_squared_error(y_true, y_pred): mean over the last axis, one loss per sample (N,)."""
    g = _gen(61)
    cases = [("y (4, 1)", torch.randn(4, 1, generator=g), torch.randn(4, 1, generator=g)),
             ("y (3, 5)", torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)),
             ("a perfect prediction (2, 3)", torch.ones(2, 3), torch.ones(2, 3)),
             ("y (2, 3, 4)", torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g) * 10)]
    for label, y_true, y_pred in cases:
        keep = (y_true.clone(), y_pred.clone())
        got = mse(y_true, y_pred)
        expected = torch.nn.functional.mse_loss(keep[1], keep[0], reduction="none").mean(dim=-1)  # (N, ...)
        t = as_tensor(got)
        if t is not None and t.numel() == 1 and expected.numel() > 1:
            raise CheckFailure(f"mse(y_true, y_pred) on {label}: you returned one number; Keras' function "
                               f"form averages over the LAST axis only and returns one loss per sample, shape "
                               f"{tuple(expected.shape)} (the Loss object, MeanSquaredError(), then averages those).")
        expect_close(got, expected, what=f"mse(y_true, y_pred) on {label}",
                     inputs={"y_true": keep[0], "y_pred": keep[1]}, kind="torch", rtol=1e-5, atol=1e-6)
        _unchanged(keep[0], y_true, "mse (argument y_true)")
        _unchanged(keep[1], y_pred, "mse (argument y_pred)")


_NO_LOG_SOFTMAX = Forbid(
    names=("torch.*softmax*", "torch.*Softmax*", "torch.*logsumexp*", "course.*softmax*", "course.*logsumexp*",
           "scipy.special.logsumexp", "scipy.special.log_softmax", "scipy.special.softmax"),
    methods=("softmax", "log_softmax", "logsumexp"),
    why="Exercise 6.2 asks for the log-sum-exp trick written out: torch.log_softmax, torch.logsumexp, "
        "torch.softmax and their TensorFlow counterparts are not allowed here.")


@exercise("6.2", name="log_softmax", points=3, forbid=_NO_LOG_SOFTMAX + SCRATCH)
def _check_log_softmax(log_softmax):
    """log softmax over the last axis via log-sum-exp: z - max - log Σ exp(z - max); finite for |z| ~ 1e4."""
    g = _gen(62)
    cases = [("logits (3, 4)", torch.randn(3, 4, generator=g)),
             ("a 1-D vector (5,)", torch.tensor([0.5, -1.0, 2.0, 0.0, 3.0])),
             ("logits of 1e4 [[1e4, 0, -1e4]]", torch.tensor([[1e4, 0.0, -1e4]])),
             ("logits of -1e4 [[-1e4, -1e4 - 1, -1e4 - 2]]", torch.tensor([[-1e4, -1e4 - 1, -1e4 - 2]])),
             ("logits (4, 10) scaled by 300", torch.randn(4, 10, generator=g) * 300),
             ("float64 logits (2, 3)", torch.tensor([[800.0, 799.0, -5.0], [1.0, 2.0, 3.0]], dtype=torch.float64))]
    for label, z in cases:
        keep = z.clone()
        got = log_softmax(z)
        expected = torch.log_softmax(keep, dim=-1)  # (..., C)
        t = as_tensor(got)
        if _same_shape(t, expected.shape) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckFailure(f"log_softmax(z) on {label}: got non-finite values {t.tolist()}. "
                               f"log(softmax(z)) underflows to log(0) = -inf, and e^z overflows for large z; "
                               f"use z - m - log(sum(exp(z - m))) with m = max(z) over the last axis.")
        expect_close(got, expected, what=f"log_softmax(z) on {label}", inputs={"z": keep}, kind="torch",
                     rtol=1e-5, atol=1e-5)
        _unchanged(keep, z, "log_softmax")


def keras_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """The check's reference: Keras' rule for probabilities (renormalise, clip to [ε, 1 - ε], -Σ y log p);
    for logits torch's cross_entropy with probability targets."""
    if from_logits:
        return torch.nn.functional.cross_entropy(y_pred, y_true, reduction="none")  # (N,)
    p = y_pred / y_pred.sum(dim=-1, keepdim=True)  # (N, C)
    p = p.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)  # (N, C)
    return -(y_true * torch.log(p)).sum(dim=-1)  # (N,)


def _cce_cases():
    g = _gen(63)
    probs = torch.softmax(torch.randn(4, 5, generator=g), dim=-1)  # (4, 5)
    onehot = torch.eye(5)[torch.tensor([0, 2, 4, 1])]  # (4, 5)
    return [
        ("probabilities (4, 5), one-hot targets", onehot, probs, False),
        ("a probability of exactly 0 for the true class", torch.tensor([[0.0, 1.0, 0.0]]),
         torch.tensor([[0.5, 0.0, 0.5]]), False),
        ("a probability of exactly 1 for the true class", torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
         torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), False),
        ("scores that do not sum to 1 ([[1, 2, 1]])", torch.tensor([[0.0, 1.0, 0.0]]),
         torch.tensor([[1.0, 2.0, 1.0]]), False),
        ("soft targets (label smoothing)", torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]]),
         torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]]), False),
        ("logits (4, 5), from_logits=True", onehot, torch.randn(4, 5, generator=g) * 3, True),
        ("logits of 1e4, from_logits=True", torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
         torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]]), True),
    ]


@exercise("6.3", name="categorical_crossentropy", points=3)
def _check_categorical_crossentropy(categorical_crossentropy):
    """Keras' categorical_crossentropy(y_true, y_pred, from_logits=False) -> (N,)."""
    for label, y_true, y_pred, from_logits in _cce_cases():
        keep = (y_true.clone(), y_pred.clone())
        got = categorical_crossentropy(y_true, y_pred, from_logits=from_logits)
        expected = keras_categorical_crossentropy(keep[0], keep[1], from_logits)  # (N,)
        t = as_tensor(got)
        what = f"categorical_crossentropy(y_true, y_pred, from_logits={from_logits}) on {label}"
        if _same_shape(t, expected.shape) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            fix = ("use a stable log-softmax of the logits (log-sum-exp), not log(softmax(z))" if from_logits else
                   f"clip the probabilities to [{KERAS_EPSILON:g}, 1 - {KERAS_EPSILON:g}] before the log, "
                   f"as Keras does")
            raise CheckFailure(f"{what}: got {t.tolist()}, which is not finite; {fix}.")
        if t is not None and t.numel() == 1 and expected.numel() > 1:
            raise CheckFailure(f"{what}: you returned one number; return one loss per sample, shape "
                               f"{tuple(expected.shape)} (sum over the classes only).")
        expect_close(got, expected, what=what, inputs={"y_true": keep[0], "y_pred": keep[1]}, kind="torch",
                     rtol=1e-5, atol=1e-5)
        _unchanged(keep[0], y_true, "categorical_crossentropy (argument y_true)")
        _unchanged(keep[1], y_pred, "categorical_crossentropy (argument y_pred)")


@exercise("6.4", name="hinge", points=2, forbid=SCRATCH)
def _check_hinge(hinge):
    """Keras' hinge(y_true, y_pred) = mean(max(1 - t·y_pred, 0), axis=-1), t = 2·y_true - 1 for 0/1 labels."""
    g = _gen(64)
    pm = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    cases = [("targets in {-1, +1} (2, 3)", pm, torch.randn(2, 3, generator=g)),
             ("targets in {0, 1} (2, 3)", (pm + 1) / 2, torch.randn(2, 3, generator=g)),
             ("predictions exactly at the margin", torch.tensor([[1.0, -1.0]]), torch.tensor([[1.0, -1.0]])),
             ("one output per sample (4, 1), 0/1 targets", torch.tensor([[0.0], [1.0], [1.0], [0.0]]),
              torch.tensor([[0.3], [2.0], [-0.5], [-3.0]]))]
    for label, y_true, y_pred in cases:
        keep = (y_true.clone(), y_pred.clone())
        t_ = keep[0]
        if bool(((t_ == 0) | (t_ == 1)).all()):
            t_ = 2 * t_ - 1  # Keras converts 0/1 labels to -1/+1
        expected = torch.clamp(1 - t_ * keep[1], min=0).mean(dim=-1)  # (N,)
        got = hinge(y_true, y_pred)
        t = as_tensor(got)
        unconverted = torch.clamp(1 - keep[0] * keep[1], min=0).mean(dim=-1)
        what = f"hinge(y_true, y_pred) on {label}"
        if "{0, 1}" in label or "0/1" in label:
            if _same_shape(t, expected.shape) and torch.allclose(t.float(), unconverted, atol=1e-6) \
                    and not torch.allclose(t.float(), expected, atol=1e-6):
                raise CheckFailure(f"{what}: 0/1 targets must first become -1/+1 (t = 2·y_true - 1), as Keras "
                                   f"does; with t = 0 the margin term 1 - t·y_pred is always 1.")
        if t is not None and t.numel() == 1 and expected.numel() > 1:
            raise CheckFailure(f"{what}: you returned one number; return one loss per sample, shape "
                               f"{tuple(expected.shape)} (mean over the last axis only).")
        expect_close(got, expected, what=what, inputs={"y_true": keep[0], "y_pred": keep[1]}, kind="torch",
                     rtol=1e-5, atol=1e-6)
        _unchanged(keep[0], y_true, "hinge (argument y_true)")
        _unchanged(keep[1], y_pred, "hinge (argument y_pred)")

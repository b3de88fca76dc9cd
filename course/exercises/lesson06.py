"""Checks for lesson 06, losses: Keras' function forms (one loss per sample, arguments y_true, y_pred).

The references are torch's own functions (``nn.functional.mse_loss``, ``torch.log_softmax``,
``nn.functional.cross_entropy`` with probability targets) and, where Keras does something torch does
not (clipping probabilities to [1e-7, 1 - 1e-7], hinge's 0/1 -> -1/+1 labels), those documented
Keras rules written out in torch here (tests/lessons/test_lesson06_checks.py proves them against real
TensorFlow).
"""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, Text, as_tensor, expect_close, say
from course.exercises.forbidden import SCRATCH, Forbid
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise

__all__ = ["KERAS_EPSILON"]

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()


def _gen(seed):
    return seeding.torch_generator(seed)


def _unchanged(before, after, fn, arg=None):
    """`fn` modified argument `arg` (code names, the same in both languages)?"""
    if not torch.equal(before, after):
        en = f"{fn} (argument {arg})" if arg else fn
        zh = f"{fn}（参数 {arg}）" if arg else fn
        raise CheckFailure(en=f"{en} modified its input in place; return a new tensor instead.",
                           zh=f"{zh} 原地修改了输入；请返回一个新的张量。")


def _same_shape(t, shape):
    return t is not None and tuple(t.shape) == tuple(shape)


@exercise("6.1", name="mse", points=2, forbid=SCRATCH)
def _check_mse(mse):
    """Keras' mean_squared_error(y_true, y_pred): mean over the last axis, one loss per sample (N,)."""
    g = _gen(61)
    cases = [(Text.of("y (4, 1)"), torch.randn(4, 1, generator=g), torch.randn(4, 1, generator=g)),
             (Text.of("y (3, 5)"), torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)),
             (say("a perfect prediction (2, 3)", "完全正确的预测 (2, 3)"), torch.ones(2, 3), torch.ones(2, 3)),
             (Text.of("y (2, 3, 4)"), torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g) * 10)]
    for label, y_true, y_pred in cases:
        keep = (y_true.clone(), y_pred.clone())
        got = mse(y_true, y_pred)
        expected = torch.nn.functional.mse_loss(keep[1], keep[0], reduction="none").mean(dim=-1)  # (N, ...)
        t = as_tensor(got)
        if t is not None and t.numel() == 1 and expected.numel() > 1:
            raise CheckFailure(en=f"mse(y_true, y_pred) on {label.en}: you returned one number; Keras' function "
                                  f"form averages over the LAST axis only and returns one loss per sample, shape "
                                  f"{tuple(expected.shape)} (the Loss object, MeanSquaredError(), then averages "
                                  f"those).",
                               zh=f"mse(y_true, y_pred)（输入为 {label.zh}）：你只返回了一个数；Keras 的函数形式只沿"
                                  f"最后一个轴求平均，每个样本返回一个损失，形状为 {tuple(expected.shape)}"
                                  f"（之后由损失对象 MeanSquaredError() 再对它们求平均）。")
        expect_close(got, expected, what=say(f"mse(y_true, y_pred) on {label.en}",
                                             f"mse(y_true, y_pred)（输入为 {label.zh}）"),
                     inputs={"y_true": keep[0], "y_pred": keep[1]}, kind="torch", rtol=1e-5, atol=1e-6)
        _unchanged(keep[0], y_true, "mse", "y_true")
        _unchanged(keep[1], y_pred, "mse", "y_pred")


_NO_LOG_SOFTMAX = Forbid(
    names=("torch.*softmax*", "torch.*Softmax*", "torch.*logsumexp*", "course.*softmax*", "course.*logsumexp*",
           "scipy.special.logsumexp", "scipy.special.log_softmax", "scipy.special.softmax"),
    methods=("softmax", "log_softmax", "logsumexp"),
    why=say("Exercise 6.2 asks for the log-sum-exp trick written out: torch.log_softmax, torch.logsumexp, "
            "torch.softmax and their TensorFlow counterparts are not allowed here.",
            "练习 6.2 要求你亲手写出 log-sum-exp 技巧：这里不能使用 torch.log_softmax、torch.logsumexp、"
            "torch.softmax 以及它们在 TensorFlow 中的对应函数。"))


@exercise("6.2", name="log_softmax", points=3, forbid=_NO_LOG_SOFTMAX + SCRATCH)
def _check_log_softmax(log_softmax):
    """log softmax over the last axis via log-sum-exp: z - max - log Σ exp(z - max); finite for |z| ~ 1e4."""
    g = _gen(62)
    cases = [(say("logits (3, 4)", "logit (3, 4)"), torch.randn(3, 4, generator=g)),
             (say("a 1-D vector (5,)", "一维向量 (5,)"), torch.tensor([0.5, -1.0, 2.0, 0.0, 3.0])),
             (say("logits of 1e4 [[1e4, 0, -1e4]]", "量级为 1e4 的 logit [[1e4, 0, -1e4]]"),
              torch.tensor([[1e4, 0.0, -1e4]])),
             (say("logits of -1e4 [[-1e4, -1e4 - 1, -1e4 - 2]]", "量级为 -1e4 的 logit [[-1e4, -1e4 - 1, -1e4 - 2]]"),
              torch.tensor([[-1e4, -1e4 - 1, -1e4 - 2]])),
             (say("logits (4, 10) scaled by 300", "放大 300 倍的 logit (4, 10)"),
              torch.randn(4, 10, generator=g) * 300),
             (say("float64 logits (2, 3)", "float64 的 logit (2, 3)"),
              torch.tensor([[800.0, 799.0, -5.0], [1.0, 2.0, 3.0]], dtype=torch.float64))]
    for label, z in cases:
        keep = z.clone()
        got = log_softmax(z)
        expected = torch.log_softmax(keep, dim=-1)  # (..., C)
        t = as_tensor(got)
        if _same_shape(t, expected.shape) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckFailure(en=f"log_softmax(z) on {label.en}: got non-finite values {t.tolist()}. "
                                  f"log(softmax(z)) underflows to log(0) = -inf, and e^z overflows for large z; "
                                  f"use z - m - log(sum(exp(z - m))) with m = max(z) over the last axis.",
                               zh=f"log_softmax(z)（输入为{label.zh}）：得到了非有限值 {t.tolist()}。"
                                  f"log(softmax(z)) 会下溢成 log(0) = -inf，而 z 很大时 e^z 会上溢；"
                                  f"请用 z - m - log(sum(exp(z - m)))，其中 m = max(z) 沿最后一个轴取。")
        expect_close(got, expected, what=say(f"log_softmax(z) on {label.en}", f"log_softmax(z)（输入为{label.zh}）"),
                     inputs={"z": keep}, kind="torch", rtol=1e-5, atol=1e-5)
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
        (say("probabilities (4, 5), one-hot targets", "概率 (4, 5)，独热编码的目标"), onehot, probs, False),
        (say("a probability of exactly 0 for the true class", "真实类别的概率恰好为 0"),
         torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.5, 0.0, 0.5]]), False),
        (say("a probability of exactly 1 for the true class", "真实类别的概率恰好为 1"),
         torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), False),
        (say("scores that do not sum to 1 ([[1, 2, 1]])", "和不为 1 的分数（[[1, 2, 1]]）"),
         torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[1.0, 2.0, 1.0]]), False),
        (say("soft targets (label smoothing)", "软目标（标签平滑）"),
         torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]]), torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]]), False),
        (say("logits (4, 5), from_logits=True", "logit (4, 5)，from_logits=True"), onehot,
         torch.randn(4, 5, generator=g) * 3, True),
        (say("logits of 1e4, from_logits=True", "量级为 1e4 的 logit，from_logits=True"),
         torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]]), True),
    ]


@exercise("6.3", name="categorical_crossentropy", points=3)
def _check_categorical_crossentropy(categorical_crossentropy):
    """Keras' categorical_crossentropy(y_true, y_pred, from_logits=False) -> (N,)."""
    for label, y_true, y_pred, from_logits in _cce_cases():
        keep = (y_true.clone(), y_pred.clone())
        got = categorical_crossentropy(y_true, y_pred, from_logits=from_logits)
        expected = keras_categorical_crossentropy(keep[0], keep[1], from_logits)  # (N,)
        t = as_tensor(got)
        call = f"categorical_crossentropy(y_true, y_pred, from_logits={from_logits})"
        what = say(f"{call} on {label.en}", f"{call}（输入为{label.zh}）")
        if _same_shape(t, expected.shape) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            if from_logits:
                fix = say("use a stable log-softmax of the logits (log-sum-exp), not log(softmax(z))",
                          "请对 logit 使用数值稳定的 log-softmax（log-sum-exp），而不是 log(softmax(z))")
            else:
                fix = say(f"clip the probabilities to [{KERAS_EPSILON:g}, 1 - {KERAS_EPSILON:g}] before the log, "
                          f"as Keras does",
                          f"请像 Keras 那样，在取对数之前把概率裁剪到 [{KERAS_EPSILON:g}, 1 - {KERAS_EPSILON:g}]")
            raise CheckFailure(en=f"{what.en}: got {t.tolist()}, which is not finite; {fix.en}.",
                               zh=f"{what.zh}：得到 {t.tolist()}，其中有非有限值；{fix.zh}。")
        if t is not None and t.numel() == 1 and expected.numel() > 1:
            raise CheckFailure(en=f"{what.en}: you returned one number; return one loss per sample, shape "
                                  f"{tuple(expected.shape)} (sum over the classes only).",
                               zh=f"{what.zh}：你只返回了一个数；应为每个样本返回一个损失，形状为 "
                                  f"{tuple(expected.shape)}（只对类别求和）。")
        expect_close(got, expected, what=what, inputs={"y_true": keep[0], "y_pred": keep[1]}, kind="torch",
                     rtol=1e-5, atol=1e-5)
        _unchanged(keep[0], y_true, "categorical_crossentropy", "y_true")
        _unchanged(keep[1], y_pred, "categorical_crossentropy", "y_pred")


@exercise("6.4", name="hinge", points=2, forbid=SCRATCH)
def _check_hinge(hinge):
    """Keras' hinge(y_true, y_pred) = mean(max(1 - t·y_pred, 0), axis=-1), t = 2·y_true - 1 for 0/1 labels."""
    g = _gen(64)
    pm = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    cases = [(say("targets in {-1, +1} (2, 3)", "取值为 {-1, +1} 的目标 (2, 3)"), pm, torch.randn(2, 3, generator=g)),
             (say("targets in {0, 1} (2, 3)", "取值为 {0, 1} 的目标 (2, 3)"), (pm + 1) / 2,
              torch.randn(2, 3, generator=g)),
             (say("predictions exactly at the margin", "恰好落在间隔边界上的预测"), torch.tensor([[1.0, -1.0]]),
              torch.tensor([[1.0, -1.0]])),
             (say("one output per sample (4, 1), 0/1 targets", "每个样本一个输出 (4, 1)，0/1 目标"),
              torch.tensor([[0.0], [1.0], [1.0], [0.0]]), torch.tensor([[0.3], [2.0], [-0.5], [-3.0]]))]
    for label, y_true, y_pred in cases:
        keep = (y_true.clone(), y_pred.clone())
        t_ = keep[0]
        if bool(((t_ == 0) | (t_ == 1)).all()):
            t_ = 2 * t_ - 1  # Keras converts 0/1 labels to -1/+1
        expected = torch.clamp(1 - t_ * keep[1], min=0).mean(dim=-1)  # (N,)
        got = hinge(y_true, y_pred)
        t = as_tensor(got)
        unconverted = torch.clamp(1 - keep[0] * keep[1], min=0).mean(dim=-1)
        what = say(f"hinge(y_true, y_pred) on {label.en}", f"hinge(y_true, y_pred)（输入为{label.zh}）")
        if "{0, 1}" in label.en or "0/1" in label.en:
            if _same_shape(t, expected.shape) and torch.allclose(t.float(), unconverted, atol=1e-6) \
                    and not torch.allclose(t.float(), expected, atol=1e-6):
                raise CheckFailure(en=f"{what.en}: 0/1 targets must first become -1/+1 (t = 2·y_true - 1), as "
                                      f"Keras does; with t = 0 the margin term 1 - t·y_pred is always 1.",
                                   zh=f"{what.zh}：0/1 目标必须先像 Keras 那样转换成 -1/+1（t = 2·y_true - 1）；"
                                      f"若 t = 0，间隔项 1 - t·y_pred 恒为 1。")
        if t is not None and t.numel() == 1 and expected.numel() > 1:
            raise CheckFailure(en=f"{what.en}: you returned one number; return one loss per sample, shape "
                                  f"{tuple(expected.shape)} (mean over the last axis only).",
                               zh=f"{what.zh}：你只返回了一个数；应为每个样本返回一个损失，形状为 "
                                  f"{tuple(expected.shape)}（只沿最后一个轴求平均）。")
        expect_close(got, expected, what=what, inputs={"y_true": keep[0], "y_pred": keep[1]}, kind="torch",
                     rtol=1e-5, atol=1e-6)
        _unchanged(keep[0], y_true, "hinge", "y_true")
        _unchanged(keep[1], y_pred, "hinge", "y_pred")


# -- Section 8: conceptual questions (keys in the instructor's checks file) and an outcome task -----
question("6.5", name="answer_6_5", points=1, kind="choice", choices="abcd")
question("6.6", name="answer_6_6", points=1, kind="number")
outcome_task("6.7", name="train_classifier", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})

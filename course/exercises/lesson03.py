"""Checks for lesson 03, forward propagation: a dense layer, a stable softmax, a two-layer forward pass.

References are torch's own layers (``nn.functional.linear``, ``torch.softmax``, ``nn.Sequential``
of ``nn.Linear``/``nn.ReLU``), never the course's code.
"""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, expect_close, say
from course.exercises.forbidden import SCRATCH, Forbid
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise

__all__ = []


def _gen(seed):
    return seeding.torch_generator(seed)


def _unchanged(before, after, what):
    """`what` is a Text (say(...)): the function and the argument it modified."""
    if not torch.equal(before, after):
        raise CheckFailure(en=f"{what.en} modified its input in place; return a new tensor instead "
                              f"(avoid in-place methods such as add_ / exp_ on the arguments).",
                           zh=f"{what.zh}原地修改了输入；"
                              "请返回一个新的张量（不要对参数使用 add_ / exp_ 这类原地方法）。")


@exercise("3.1", name="dense", points=2, forbid=SCRATCH)
def _check_dense(dense):
    """x (N, D) @ w (D, M) + b (M,) -> (N, M), Keras' kernel layout (in, out)."""
    cases = [(4, 3, 2), (1, 5, 7), (6, 784, 10)]
    g = _gen(31)
    for n, d, m in cases:
        x = torch.randn(n, d, generator=g)  # (N, D)
        w = torch.randn(d, m, generator=g)  # (D, M)  Keras layout
        b = torch.randn(m, generator=g)  # (M,)
        keep = (x.clone(), w.clone(), b.clone())
        got = dense(x, w, b)
        # nn.Linear's weight is (out, in), so the Keras kernel goes in transposed.
        expected = torch.nn.functional.linear(keep[0], keep[1].T, keep[2])  # (N, M)
        t = as_tensor(got) if got is not None else None
        if t is not None and tuple(t.shape) == (n, m) and n > 1 and torch.allclose(
                t.float(), expected - keep[2], atol=1e-4) and not torch.allclose(t.float(), expected, atol=1e-4):
            raise CheckFailure(en=f"dense(x, w, b) with x {tuple(x.shape)}: the bias b is missing (got x @ w).",
                               zh=f"dense(x, w, b)（x 的形状为 {tuple(x.shape)}）：缺少偏置 b（得到的是 x @ w）。")
        expect_close(got, expected, what="dense(x, w, b)",
                     inputs={"x": keep[0], "w": keep[1], "b": keep[2]}, kind="torch", rtol=1e-4, atol=1e-4)
        for before, after, nm in zip(keep, (x, w, b), "xwb"):
            _unchanged(before, after, say(f"dense (argument {nm})", f"dense（参数 {nm}）"))


def _softmax_cases():
    g = _gen(32)
    return [
        (say("small logits (3, 4)", "较小的 logit (3, 4)"), torch.randn(3, 4, generator=g)),
        (say("one row (1, 10)", "单独一行 (1, 10)"), torch.randn(1, 10, generator=g) * 3),
        (say("a 1-D vector (5,)", "一维向量 (5,)"), torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])),
        (say("large logits [1000, 1001, 1002]", "很大的 logit [1000, 1001, 1002]"),
         torch.tensor([[1000.0, 1001.0, 1002.0]])),
        (say("very negative logits [-1000, -1001, -1002]", "很小的负 logit [-1000, -1001, -1002]"),
         torch.tensor([[-1000.0, -1001.0, -1002.0]])),
        (say("logits of 1e4 (2, 3)", "量级为 1e4 的 logit (2, 3)"), torch.tensor([[1e4, 0.0, -1e4], [5e3, 5e3, 0.0]])),
        (say("equal logits (2, 4)", "全部相等的 logit (2, 4)"), torch.zeros(2, 4)),
    ]


_NO_SOFTMAX = Forbid(
    names=("torch.*softmax*", "torch.*Softmax*", "course.*softmax*", "scipy.special.softmax",
           "scipy.special.log_softmax"),
    methods=("softmax", "log_softmax"),
    why=say("Exercise 3.2 asks for the softmax itself (exp of the shifted logits over their sum): torch.softmax, "
            "tf.nn.softmax and the other softmax functions are not allowed here.",
            "练习 3.2 要求你自己实现 softmax（平移后的 logit 取 exp，再除以它们的和）：这里不能使用 torch.softmax、"
            "tf.nn.softmax 以及其他 softmax 函数。"))


@exercise("3.2", name="softmax", points=2, forbid=_NO_SOFTMAX + SCRATCH)
def _check_softmax(softmax):
    """softmax over the last axis, finite for large logits (subtract the row maximum)."""
    for label, z in _softmax_cases():
        keep = z.clone()
        got = softmax(z)
        expected = torch.softmax(keep, dim=-1)  # (..., C)
        t = as_tensor(got)
        if t is not None and t.is_floating_point() and tuple(t.shape) == tuple(expected.shape) \
                and not bool(torch.isfinite(t).all()):
            raise CheckFailure(en=f"softmax on {label.en}: got non-finite values {t.tolist()} -- e^z overflows "
                                  f"(e^1000 = inf in float32, inf/inf = nan). Subtract the maximum of each row "
                                  f"before exponentiating: softmax(z) = softmax(z - max(z)).",
                               zh=f"softmax（输入为{label.zh}）：得到了非有限值 {t.tolist()}——e^z 溢出了"
                                  f"（在 float32 中 e^1000 = inf，inf/inf = nan）。请在取指数之前减去每一行的最大值："
                                  f"softmax(z) = softmax(z - max(z))。")
        if t is not None and t.dim() == 2 and t.shape[0] > 1 and tuple(t.shape) == tuple(expected.shape) \
                and torch.allclose(t.float(), torch.softmax(keep, dim=0), atol=1e-5) \
                and not torch.allclose(t.float(), expected, atol=1e-5):
            raise CheckFailure(en=f"softmax on {label.en}: you normalised over the batch axis (columns sum to 1); "
                                  f"normalise over the last axis (dim=-1), one distribution per row.",
                               zh=f"softmax（输入为{label.zh}）：你沿批次轴做了归一化（每一列的和为 1）；"
                                  f"请沿最后一个轴（dim=-1）归一化，每一行是一个概率分布。")
        expect_close(got, expected, what=say(f"softmax(z) on {label.en}", f"softmax(z)（输入为{label.zh}）"),
                     inputs={"z": keep}, kind="torch", rtol=1e-5, atol=1e-6)
        _unchanged(keep, z, say("softmax", "softmax "))


@exercise("3.3", name="mlp_forward", points=3, forbid=SCRATCH)
def _check_mlp_forward(mlp_forward):
    """probabilities = softmax(relu(x w1 + b1) w2 + b2), Keras layouts."""
    g = _gen(33)
    for n, d, h, c in ((5, 784, 32, 10), (1, 4, 3, 2), (8, 6, 16, 3)):
        x = torch.rand(n, d, generator=g)  # (N, D)
        params = {"w1": torch.randn(d, h, generator=g) * 0.5, "b1": torch.randn(h, generator=g) * 0.1,
                  "w2": torch.randn(h, c, generator=g) * 0.5, "b2": torch.randn(c, generator=g) * 0.1}
        keep = {k: v.clone() for k, v in params.items()}
        x_keep = x.clone()
        net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c),
                                  torch.nn.Softmax(dim=-1))
        with torch.no_grad():
            net[0].weight.copy_(keep["w1"].T)  # nn.Linear stores (out, in)
            net[0].bias.copy_(keep["b1"])
            net[2].weight.copy_(keep["w2"].T)
            net[2].bias.copy_(keep["b2"])
            expected = net(x_keep)  # (N, C)
            logits = net[:3](x_keep)  # (N, C)
        got = mlp_forward(x, params)
        t = as_tensor(got)
        if t is not None and tuple(t.shape) == tuple(expected.shape) and torch.allclose(t.float(), logits, atol=1e-4) \
                and not torch.allclose(t.float(), expected, atol=1e-4):
            raise CheckFailure(en=f"mlp_forward(x, params) with x {tuple(x.shape)}: you returned the logits; "
                                  f"apply softmax to them to return probabilities (each row sums to 1).",
                               zh=f"mlp_forward(x, params)（x 的形状为 {tuple(x.shape)}）：你返回的是 logit；"
                                  f"请对它们做 softmax，返回概率（每一行的和为 1）。")
        expect_close(got, expected, what="mlp_forward(x, params)",
                     inputs={"x": x_keep, **keep}, kind="torch", rtol=1e-4, atol=1e-5)
        _unchanged(x_keep, x, say("mlp_forward (argument x)", "mlp_forward（参数 x）"))
        for k in keep:
            _unchanged(keep[k], params[k], say(f"mlp_forward (params[{k!r}])", f"mlp_forward（params[{k!r}]）"))


# -- Section 8: conceptual questions (keys in the instructor's checks file), a planted bug to fix ---------
question("3.4", name="answer_3_4", points=1, kind="choice", choices="abcd")
question("3.5", name="answer_3_5", points=1, kind="number")
outcome_task("3.6", name="train_fixed_softmax", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})

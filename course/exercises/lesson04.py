"""Checks for lesson 04, back propagation: backward passes written by hand.

Every expected gradient comes from torch autograd (``torch.autograd.grad``) on the same forward
computation, in float64, never from the course's own backward functions.
"""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, Text, as_tensor, expect_close, say
from course.exercises.forbidden import SCRATCH
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise

__all__ = []


def _gen(seed):
    return seeding.torch_generator(seed)


def _grads(f, *inputs):
    """Autograd gradients of the scalar f(*inputs) w.r.t. every input (float64 leaves)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = f(*leaves)
    return [g.detach() for g in torch.autograd.grad(out, leaves)]


def _tuple_of(got, count, what):
    if not isinstance(got, (tuple, list)) or len(got) != count:
        what = Text.of(what)
        sized = isinstance(got, (tuple, list))
        kind = type(got).__name__ + (f" of length {len(got)}" if sized else "")
        kind_zh = f"长度为 {len(got)} 的 {type(got).__name__}" if sized else type(got).__name__
        raise CheckFailure(en=f"{what.en}: expected a tuple of {count} tensors, got {kind}.",
                           zh=f"{what.zh}：期望一个含 {count} 个张量的元组，得到 {kind_zh}。")
    return got


@exercise("4.1", name="sigmoid_backward", points=2, forbid=SCRATCH)
def _check_sigmoid_backward(sigmoid_backward):
    """dx = dout * y * (1 - y), where cache = y = sigmoid(x)."""
    g = _gen(41)
    cases = [(Text.of("x (4, 3)"), torch.randn(4, 3, generator=g, dtype=torch.float64)),
             (say("saturated x = [-30, -5, 0, 5, 30]", "饱和区的 x = [-30, -5, 0, 5, 30]"),
              torch.tensor([[-30.0, -5.0, 0.0, 5.0, 30.0]], dtype=torch.float64)),
             (Text.of("x (2, 3, 4)"), torch.randn(2, 3, 4, generator=g, dtype=torch.float64) * 3)]
    for label, x in cases:
        dout = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (expected,) = _grads(lambda x_: (torch.sigmoid(x_) * dout).sum(), x)
        y = torch.sigmoid(x)
        got = sigmoid_backward(dout.clone(), y.clone())
        t = as_tensor(got)
        if t is not None and tuple(t.shape) == tuple(x.shape) and label.en.startswith("x (4") and torch.allclose(
                t.double(), dout * torch.sigmoid(y) * (1 - torch.sigmoid(y)), atol=1e-8):
            raise CheckFailure(en=f"sigmoid_backward on {label.en}: the cache already holds y = sigmoid(x); "
                                  f"use dout * y * (1 - y), not sigmoid(y).",
                               zh=f"sigmoid_backward（输入为 {label.zh}）：cache 中已经是 y = sigmoid(x)；"
                                  f"请用 dout * y * (1 - y)，而不是 sigmoid(y)。")
        expect_close(got, expected, what=say(f"sigmoid_backward(dout, cache) on {label.en}",
                                             f"sigmoid_backward(dout, cache)（输入为 {label.zh}）"),
                     inputs={"dout": dout, "cache (= sigmoid(x))": y}, kind="torch", rtol=1e-6, atol=1e-9)


@exercise("4.2", name="relu_backward", points=2, forbid=SCRATCH)
def _check_relu_backward(relu_backward):
    """dx = dout * 1[x > 0], cache = x; the sub-gradient at x == 0 is 0 (as TF and torch use)."""
    g = _gen(42)
    cases = [(Text.of("x (3, 4)"), torch.randn(3, 4, generator=g, dtype=torch.float64)),
             (say("x with exact zeros [-2, -0.5, 0, 0, 0.5, 2]", "含有精确零值的 x [-2, -0.5, 0, 0, 0.5, 2]"),
              torch.tensor([[-2.0, -0.5, 0.0, 0.0, 0.5, 2.0]], dtype=torch.float64)),
             (Text.of("x (2, 2, 5)"), torch.randn(2, 2, 5, generator=g, dtype=torch.float64))]
    for label, x in cases:
        dout = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (expected,) = _grads(lambda x_: (torch.relu(x_) * dout).sum(), x)
        got = relu_backward(dout.clone(), x.clone())
        t = as_tensor(got)
        if t is not None and tuple(t.shape) == tuple(x.shape) and "zeros" in label.en \
                and torch.allclose(t.double(), dout * (x >= 0), atol=1e-12):
            raise CheckFailure(en=f"relu_backward on {label.en}: at x == 0 you passed the gradient through; "
                                  f"TensorFlow and torch use the sub-gradient 0 there (mask x > 0, not x >= 0).",
                               zh=f"relu_backward（输入为 {label.zh}）：在 x == 0 处你让梯度通过了；TensorFlow 和 "
                                  f"torch 在那里使用次梯度 0（掩码是 x > 0，而不是 x >= 0）。")
        if t is not None and tuple(t.shape) == tuple(x.shape) and torch.allclose(t.double(), (x > 0).double()) \
                and not torch.allclose(t.double(), expected):
            raise CheckFailure(en=f"relu_backward on {label.en}: you returned the mask 1[x > 0] alone; "
                                  f"multiply it by dout (chain rule: dL/dx = dL/dy * dy/dx).",
                               zh=f"relu_backward（输入为 {label.zh}）：你只返回了掩码 1[x > 0]；"
                                  f"请再乘以 dout（链式法则：dL/dx = dL/dy * dy/dx）。")
        expect_close(got, expected, what=say(f"relu_backward(dout, cache) on {label.en}",
                                             f"relu_backward(dout, cache)（输入为 {label.zh}）"),
                     inputs={"dout": dout, "cache (= x)": x}, kind="torch", rtol=1e-7, atol=1e-12)


@exercise("4.3", name="dense_backward", points=3, forbid=SCRATCH)
def _check_dense_backward(dense_backward):
    """(dx, dw, db) for out = x @ w + b with w (in, out) and cache = (x, w)."""
    g = _gen(43)
    for n, d, m in ((4, 3, 2), (1, 5, 3), (7, 6, 6)):
        x = torch.randn(n, d, generator=g, dtype=torch.float64)  # (N, D)
        w = torch.randn(d, m, generator=g, dtype=torch.float64)  # (D, M)
        b = torch.randn(m, generator=g, dtype=torch.float64)  # (M,)
        dout = torch.randn(n, m, generator=g, dtype=torch.float64)  # (N, M)
        ex, ew, eb = _grads(lambda x_, w_, b_: ((x_ @ w_ + b_) * dout).sum(), x, w, b)
        got = _tuple_of(dense_backward(dout.clone(), (x.clone(), w.clone())), 3,
                        say(f"dense_backward(dout, (x, w)) with x {tuple(x.shape)}, w {tuple(w.shape)}",
                            f"dense_backward(dout, (x, w))（x 的形状为 {tuple(x.shape)}"
                            f"，w 的形状为 {tuple(w.shape)}）"))
        inputs = {"dout": dout, "x": x, "w": w}
        for name, value, expected in zip(("dx", "dw", "db"), got, (ex, ew, eb)):
            t = as_tensor(value)
            where = say(f"{name} from dense_backward with x {tuple(x.shape)}, w {tuple(w.shape)}",
                        f"dense_backward 返回的 {name}（x 的形状为 {tuple(x.shape)}，w 的形状为 {tuple(w.shape)}）")
            if name == "db" and t is not None and tuple(t.shape) == (m,) and n > 1 \
                    and torch.allclose(t.double(), dout.mean(dim=0)):
                raise CheckFailure(en=f"{where.en}: you averaged dout over the batch; b is added to every row, "
                                      f"so its gradient is the SUM over the batch (dout.sum(dim=0)).",
                                   zh=f"{where.zh}：你对 dout 沿批次求了平均；b 被加到每一行上，"
                                      f"所以它的梯度是沿批次的求和，而不是平均（dout.sum(dim=0)）。")
            if name == "db" and t is not None and tuple(t.shape) == (n, m) != (m,):
                raise CheckFailure(en=f"{where.en}: shape {tuple(t.shape)}; db must have b's shape ({m},) -- "
                                      f"sum dout over the batch axis.",
                                   zh=f"{where.zh}：形状为 {tuple(t.shape)}；db 的形状必须与 b 相同，即 ({m},)——"
                                      f"请沿批次轴对 dout 求和。")
            if name == "dw" and t is not None and tuple(t.shape) == (m, d) != (d, m):
                raise CheckFailure(en=f"{where.en}: shape {(m, d)} is the transpose of w's (in, out) = {(d, m)}; "
                                      f"dw = x.T @ dout (a gradient always has its variable's shape).",
                                   zh=f"{where.zh}：形状 {(m, d)} 是 w 的 (in, out) = {(d, m)} 的转置；"
                                      f"dw = x.T @ dout（梯度的形状总是和它的变量相同）。")
            expect_close(value, expected, what=where, inputs=inputs, kind="torch", rtol=1e-6, atol=1e-9)


@exercise("4.4", name="softmax_cross_entropy", points=3, forbid=SCRATCH)
def _check_softmax_cross_entropy(softmax_cross_entropy):
    """(loss, dlogits) with loss = mean cross-entropy of softmax(logits) and integer labels."""
    g = _gen(44)
    cases = [
        (say("logits (5, 4)", "logit (5, 4)"), torch.randn(5, 4, generator=g, dtype=torch.float64),
         torch.tensor([0, 3, 1, 1, 2])),
        (say("one sample (1, 3)", "单个样本 (1, 3)"), torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64),
         torch.tensor([2])),
        (say("large logits 1e3 (2, 3)", "量级为 1e3 的大 logit (2, 3)"),
         torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, 999.0, 1000.0]], dtype=torch.float64), torch.tensor([0, 1])),
        (say("logits (8, 10)", "logit (8, 10)"), torch.randn(8, 10, generator=g, dtype=torch.float64) * 4,
         torch.randint(0, 10, (8,), generator=g)),
    ]
    for label, z, y in cases:
        n = z.shape[0]
        leaf = z.clone().requires_grad_(True)
        ref = torch.nn.functional.cross_entropy(leaf, y)  # mean over the batch
        (edz,) = torch.autograd.grad(ref, leaf)
        got = _tuple_of(softmax_cross_entropy(z.clone(), y.clone()), 2,
                        say(f"softmax_cross_entropy(logits, labels) on {label.en}",
                            f"softmax_cross_entropy(logits, labels)（输入为{label.zh}）"))
        loss_of = say(f"loss from softmax_cross_entropy on {label.en}",
                      f"softmax_cross_entropy 返回的损失（输入为{label.zh}）")
        dlogits_of = say(f"dlogits from softmax_cross_entropy on {label.en}",
                         f"softmax_cross_entropy 返回的 dlogits（输入为{label.zh}）")
        loss, dz = got
        inputs = {"logits": z, "labels": y}
        t = as_tensor(loss)
        if t is not None and t.numel() == 1 and not bool(torch.isfinite(t).all()):
            raise CheckFailure(en=f"{loss_of.en}: got {t.item()} -- log(softmax) "
                                  f"overflowed. Subtract each row's maximum first (log-sum-exp trick).",
                               zh=f"{loss_of.zh}：得到 {t.item()}——log(softmax) 溢出了。"
                                  f"请先减去每一行的最大值（log-sum-exp 技巧）。")
        if t is not None and t.numel() == 1 and n > 1 and torch.allclose(t.double().reshape(()), ref.detach() * n):
            raise CheckFailure(en=f"{loss_of.en}: you summed over the batch; "
                                  f"return the mean (divide by N = {n}), as Keras and torch do by default.",
                               zh=f"{loss_of.zh}：你沿批次求了和；请返回平均值（除以 N = {n}），"
                                  f"Keras 和 torch 默认都是这样做的。")
        expect_close(t.reshape(()) if t is not None and t.numel() == 1 else loss, ref.detach(),
                     what=loss_of, inputs=inputs, rtol=1e-6, atol=1e-8,
                     check_dtype=False)
        d = as_tensor(dz)
        if d is not None and tuple(d.shape) == tuple(z.shape) and n > 1 and torch.allclose(d.double(), edz * n):
            raise CheckFailure(en=f"{dlogits_of.en}: you forgot the 1/N; the loss "
                                  f"is a mean over N = {n} samples, so dL/dz = (p - onehot(y)) / N.",
                               zh=f"{dlogits_of.zh}：你漏掉了 1/N；损失是 N = {n} 个样本的平均值，"
                                  f"所以 dL/dz = (p - onehot(y)) / N。")
        expect_close(dz, edz, what=dlogits_of, inputs=inputs,
                     kind="torch", rtol=1e-6, atol=1e-9)


# -- Section 8: conceptual questions (keys in the instructor's checks file), a planted bug to fix ---------
question("4.5", name="answer_4_5", points=1, kind="number")
question("4.6", name="answer_4_6", points=1, kind="choice", choices="abcd")
outcome_task("4.7", name="train_by_hand", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})

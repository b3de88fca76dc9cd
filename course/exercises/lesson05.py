"""Checks for lesson 05, GradientTape and autograd: a gradient with a tape, a second derivative with
nested tapes, one SGD step of seed001's network with GradientTape + apply_gradients, and the same
step in plain PyTorch, and a digit sum whose `while` loop AutoGraph turns into a graph loop.

References are torch autograd on plain tensors (5.1, 5.2), the closed-form derivatives, and seed001's
gradients derived by hand and evaluated in float64 numpy with the SGD rule w <- w - lr * g (5.3,
5.4), and Python's own digits of str(n) (5.5) -- never the tape engine's own answer.
"""
import numpy as np
import torch

from course.exercises.expect import CheckFailure, Text, as_tensor, describe, expect, expect_close, say
from course.exercises.fixtures import Fixture
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import LearnerError, current, is_a, remote_type
from course.exercises.seeding import numpy_rng

__all__ = []


def _as_np(x):
    t = as_tensor(x)
    return None if t is None else t.double().numpy()


def _constant(values):
    from course.tape.creation import constant
    return constant(np.asarray(values, dtype=np.float32))


def _show(values) -> str:
    return str(np.round(np.asarray(values, dtype=np.float64), 3).tolist())


# -- 5.1 ------------------------------------------------------------------------------------------------
_A = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]])      # (2, 3), the same A as fixture sum_square_Ax


def _gradient_cases():
    """(label, fixture name of f (written with tf ops), the same f in torch, x values); x drawn per run."""
    rng = numpy_rng(51)
    r = lambda *shape: rng.uniform(-2.0, 2.0, size=shape).round(2)        # noqa: E731
    x1, x2, x3, x4, x5 = r(3), round(float(r(1)[0]) + 3.0, 2), r(4), r(3), r(2, 2)
    return [
        (Text.of("f(x) = sum(x^2)"), "sum_square", lambda x: (x ** 2).sum(), x1),
        (say("f(x) = x^3 at a scalar x", "f(x) = x^3，x 为标量"), "cube", lambda x: x ** 3, x2),
        (Text.of("f(x) = sum(sin(x) * x)"), "sum_sin_times_x", lambda x: (torch.sin(x) * x).sum(), x3),
        (Text.of("f(x) = log(sum(exp(x))) (log-sum-exp)"), "logsumexp", lambda x: torch.logsumexp(x, 0), r(3)),
        (say("f(x) = sum((A x)^2) for a 2x3 matrix A", "f(x) = sum((A x)^2)，A 为 2x3 矩阵"), "sum_square_Ax",
         lambda x: ((torch.from_numpy(_A) @ x) ** 2).sum(), x4),
        (say("f(x) = mean(x) for a 2x2 matrix x", "f(x) = mean(x)，x 为 2x2 矩阵"), "mean", lambda x: x.mean(), x5),
    ]


@exercise("5.1", name="gradient", points=2)
def _check_gradient(gradient):
    """df/dx with a GradientTape that watches the constant x; reference: torch autograd in float64."""
    for label, f_name, f_torch, values in _gradient_cases():
        label = label + f", x = {_show(values)}"
        what = say(f"gradient(f, x) for {label.en}", f"gradient(f, x)（{label.zh}）")
        x = _constant(values)
        got = gradient(Fixture("function", f_name), x)
        ref = torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
        f_torch(ref).backward()
        expected = ref.grad.numpy()
        if got is None:
            raise CheckFailure(en=f"{what.en}: got None. x is a constant, which a tape does not "
                                  f"watch by itself: call tape.watch(x) inside the `with tf.GradientTape() as tape:` "
                                  f"block before computing f(x).",
                               zh=f"{what.zh}：得到 None。x 是常量，梯度带不会自动监视它：请在 "
                                  f"`with tf.GradientTape() as tape:` 块中、计算 f(x) 之前调用 tape.watch(x)。")
        g = _as_np(got)
        expect(g is not None, en=f"{what.en}: expected a tensor, got {describe(got)}.",
               zh=f"{what.zh}：期望一个张量，得到 {describe(got, lang='zh')}。")
        if g.shape != expected.shape and g.size == expected.size:
            raise CheckFailure(en=f"{what.en}: shape {g.shape}, expected {expected.shape} (the "
                                  f"gradient has the shape of x; return tape.gradient(y, x) as it is).",
                               zh=f"{what.zh}：形状为 {g.shape}，期望 {expected.shape}"
                                  f"（梯度的形状与 x 相同；请原样返回 tape.gradient(y, x)）。")
        expect_close(g, expected, what=what, rtol=1e-4, atol=1e-5, check_dtype=False)


# -- 5.2 ------------------------------------------------------------------------------------------------
def _second_cases():
    rng = numpy_rng(52)
    r = lambda n: rng.uniform(-2.0, 2.0, size=n).round(2)                 # noqa: E731
    return [
        ("f(x) = x^3", "cube", lambda x: x ** 3, lambda x: 6 * x, r(3)),
        ("f(x) = tanh(x)", "tanh", torch.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), r(4)),
        ("f(x) = sigmoid(x)", "sigmoid", torch.sigmoid,
         lambda x: (lambda s: s * (1 - s) * (1 - 2 * s))(1 / (1 + np.exp(-x))), r(3)),
        ("f(x) = exp(x) * sin(x)", "exp_sin", lambda x: torch.exp(x) * torch.sin(x),
         lambda x: 2 * np.exp(x) * np.cos(x), r(3)),
        (say("f(x) = x^2 at a scalar x", "f(x) = x^2，x 为标量"), "square", lambda x: x ** 2, lambda x: 2.0 + 0 * x,
         round(float(r(1)[0]) + 3.0, 2)),
    ]


@exercise("5.2", name="second_derivative", points=2)
def _check_second_derivative(second_derivative):
    """f''(x) elementwise with nested tapes; references: torch double backward and the closed form."""
    for label, f_name, f_torch, closed_form, values in _second_cases():
        label = Text.of(label) + f", x = {_show(values)}"
        what = say(f"second_derivative(f, x) for {label.en}", f"second_derivative(f, x)（{label.zh}）")
        x = _constant(values)
        keep = np.asarray(values, dtype=np.float64)
        got = second_derivative(Fixture("function", f_name), x)
        ref = torch.tensor(keep, requires_grad=True)
        (d1,) = torch.autograd.grad(f_torch(ref).sum(), ref, create_graph=True)
        (d2,) = torch.autograd.grad(d1.sum(), ref)
        expected = d2.numpy()
        assert np.allclose(expected, closed_form(keep)), label          # the two references agree
        if got is None:
            raise CheckFailure(en=f"{what.en}: got None. Both tapes must watch x, and the "
                                  f"inner tape.gradient must be computed inside the outer tape's `with` block (so "
                                  f"that the outer tape records it).",
                               zh=f"{what.zh}：得到 None。两条梯度带都必须监视 x，而且内层的 tape.gradient 必须在"
                                  f"外层梯度带的 `with` 块内计算（这样外层梯度带才会记录它）。")
        g = _as_np(got)
        expect(g is not None, en=f"{what.en}: expected a tensor, got {describe(got)}.",
               zh=f"{what.zh}：期望一个张量，得到 {describe(got, lang='zh')}。")
        first = d1.detach().numpy()
        if g.shape == expected.shape and np.allclose(g, first, rtol=1e-4, atol=1e-5) \
                and not np.allclose(first, expected, rtol=1e-4, atol=1e-5):
            raise CheckFailure(en=f"{what.en}: you returned the first derivative "
                                  f"{_show(first)}; differentiate it once more with the outer tape.",
                               zh=f"{what.zh}：你返回的是一阶导数 {_show(first)}；请用外层梯度带再求一次导。")
        expect_close(g, expected, what=what, rtol=1e-4, atol=1e-4, check_dtype=False)


# -- seed001, by hand ----------------------------------------------------------------------------------
def _sgd_step_float64(params, X, y, lr):
    """One SGD step of seed001's network, by hand in float64 numpy: (loss before, new params).

    The checks' own reference (private: a learner's cell may not import course.exercises).

        h = X W1 + b1,  z = h W2 + b2,  p = σ(z),  L = mean((y - p)²)
        δ = ∂L/∂z = 2/N · (p - y) · p(1 - p)         (N, 1)
        ∂L/∂W2 = hᵀδ,  ∂L/∂b2 = Σδ,  ∂L/∂h = δ W2ᵀ,  ∂L/∂W1 = Xᵀ ∂L/∂h,  ∂L/∂b1 = Σ ∂L/∂h
    """
    W1, b1, W2, b2 = (np.asarray(p, dtype=np.float64) for p in params)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    h = X @ W1 + b1                                  # (N, H)
    z = h @ W2 + b2                                  # (N, 1)
    p = 1 / (1 + np.exp(-z))                         # (N, 1)
    loss = np.mean((y - p) ** 2)
    delta = 2.0 / y.size * (p - y) * p * (1 - p)     # (N, 1)
    dh = delta @ W2.T                                # (N, H)
    grads = (X.T @ dh, dh.sum(0), h.T @ delta, delta.sum(0))
    return loss, [w - lr * g for w, g in zip((W1, b1, W2, b2), grads)]


def _seed001_cases():
    rng = np.random.RandomState(numpy_rng(53).integers(2**31))
    cases = []
    for n, d, hidden, lr in ((12, 10, 5, 0.1), (7, 3, 4, 0.5)):
        X = rng.rand(n, d).astype(np.float32)                 # (N, D)
        y = rng.rand(n, 1).astype(np.float32)                 # (N, 1)
        params = [rng.randn(d, hidden), rng.randn(hidden) * 0.5, rng.randn(hidden, 1), rng.randn(1) * 0.5]
        cases.append((say(f"a {d}-{hidden}-1 network on {n} samples, lr={lr}",
                          f"在 {n} 个样本上的 {d}-{hidden}-1 网络，lr={lr}"), X, y,
                      [p.astype(np.float32) for p in params], lr))
    return cases


_NAMES = ("W1", "b1", "W2", "b2")


def _compare_step(label, step, got_loss, got_params, before, ref_loss, ref_params, fn, apply_hint):
    """`label` and `apply_hint` are Texts; `fn` is code."""
    at = say(f"{fn} on {label.en}", f"{fn}（{label.zh}）")
    if got_loss is None:
        raise CheckFailure(en=f"{at.en}, step {step}: return the loss (computed before the update); got None.",
                           zh=f"{at.zh}，第 {step} 步：应返回损失（在更新之前计算）；得到 None。")
    loss = _as_np(got_loss)
    expect(loss is not None and loss.size == 1,
           en=f"{at.en}, step {step}: return the loss as a scalar tensor or number; got {describe(got_loss)}.",
           zh=f"{at.zh}，第 {step} 步：应以标量张量或数字的形式返回损失；得到 {describe(got_loss, lang='zh')}。")
    for name, g, b, r in zip(_NAMES, got_params, before, ref_params):
        if step == 1 and np.allclose(g, b, atol=1e-8) and not np.allclose(r, b, atol=1e-8):
            raise CheckFailure(en=f"{at.en}: {name} did not change after one step; {apply_hint.en}.",
                               zh=f"{at.zh}：一步之后 {name} 没有变化；{apply_hint.zh}。")
        if step == 1 and np.allclose(g - b, -(r - b), rtol=1e-3, atol=1e-7) and not np.allclose(r, b, atol=1e-8):
            raise CheckFailure(en=f"{at.en}: {name} moved uphill; gradient descent subtracts lr * gradient.",
                               zh=f"{at.zh}：{name} 朝上坡方向移动了；梯度下降应减去 lr * 梯度。")
    expect_close(float(loss.reshape(())), ref_loss,
                 what=say(f"the loss {fn} returned on {label.en}, step {step} (the loss before the update)",
                          f"{fn} 返回的损失（{label.zh}，第 {step} 步；应是更新之前的损失）"),
                 rtol=1e-4, atol=1e-6, check_dtype=False)
    return got_params


# -- 5.3 ------------------------------------------------------------------------------------------------
@exercise("5.3", name="train_step", points=3)
def _check_train_step(train_step):
    """seed001's SGD step with GradientTape + optimizer.apply_gradients (tf.Variables, Keras SGD)."""
    for label, X, y, init, lr in _seed001_cases():
        # The Variables and the optimizer live on the learner's side; their values come back as data.
        params = current().make(Fixture("tape_variables", init, list(_NAMES)))
        optimizer = current().make(Fixture("keras_sgd", lr))
        current_params = [p.astype(np.float64) for p in init]
        for step in (1, 2, 3):
            ref_loss, ref_params = _sgd_step_float64(current_params, X, y, lr)
            got_loss = train_step(params, X, y, optimizer)
            got = [_as_np(p) for p in params.fetch()]
            _compare_step(label, step, got_loss, got, current_params, ref_loss, ref_params,
                          "train_step(params, X, y, optimizer)",
                          say("apply the gradients: optimizer.apply_gradients(zip(grads, params))",
                              "请应用梯度：optimizer.apply_gradients(zip(grads, params))"))
            for name, g, r in zip(_NAMES, got, ref_params):
                expect_close(g, r, what=say(f"{name} after {step} call(s) of train_step on {label.en}",
                                            f"调用 train_step {step} 次后的 {name}（{label.zh}）"),
                             rtol=1e-4, atol=1e-5, check_dtype=False)
            current_params = ref_params


# -- 5.4 ------------------------------------------------------------------------------------------------
@exercise("5.4", name="torch_train_step", points=3)
def _check_torch_train_step(torch_train_step):
    """The same SGD step in plain PyTorch: backward(), an in-place update under no_grad, zeroed grads."""
    for label, X, y, init, lr in _seed001_cases():
        # Each tensor stays on the learner's side (a handle); the list holds the same four handles.
        handles = [current().make(Fixture("leaf_tensor", p)) for p in init]
        params = list(handles)
        current_params = [p.astype(np.float64) for p in init]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for step in (1, 2, 3):
            ref_loss, ref_params = _sgd_step_float64(current_params, X, y, lr)
            got_loss = torch_train_step(params, Xt, yt, lr)
            expect(all(p is h for p, h in zip(params, handles))
                   and all(h.requires_grad is True and h.is_leaf is True for h in handles),
                   en=f"torch_train_step on {label.en}: update the tensors in params in place (under "
                      f"torch.no_grad(): p -= lr * p.grad); do not replace them with new tensors, and keep them "
                      f"requiring grad.",
                   zh=f"torch_train_step（{label.zh}）：请原地更新 params 中的张量（在 torch.no_grad() 下："
                      f"p -= lr * p.grad）；不要用新的张量替换它们，并保持它们 requires_grad 为 True。")
            got = [_as_np(h.detach()) for h in handles]
            _compare_step(label, step, got_loss, got, current_params, ref_loss, ref_params,
                          "torch_train_step(params, X, y, lr)",
                          say("after loss.backward(), update each tensor in place under torch.no_grad(): "
                              "p -= lr * p.grad",
                              "请在 loss.backward() 之后，在 torch.no_grad() 下原地更新每个张量：p -= lr * p.grad"))
            for name, g, r in zip(_NAMES, got, ref_params):
                if step == 2 and not np.allclose(g, r, rtol=1e-4, atol=1e-5):
                    raise CheckFailure(en=f"torch_train_step on {label.en}: the first step was right but {name} is "
                                          f"wrong after the second. backward() adds to .grad: reset the gradients "
                                          f"after each update (p.grad.zero_() or p.grad = None).",
                                       zh=f"torch_train_step（{label.zh}）：第一步是对的，但第二步之后 {name} 错了。"
                                          f"backward() 会把梯度累加到 .grad 上：每次更新之后请把梯度清零"
                                          f"（p.grad.zero_() 或 p.grad = None）。")
                expect_close(g, r, what=say(f"{name} after {step} call(s) of torch_train_step on {label.en}",
                                            f"调用 torch_train_step {step} 次后的 {name}（{label.zh}）"),
                             rtol=1e-4, atol=1e-5, check_dtype=False)
            current_params = ref_params


# -- 5.5 ------------------------------------------------------------------------------------------------
def _digit_sum_cases():
    rng = numpy_rng(55)
    return [0, 7, 1907] + [int(v) for v in rng.integers(10, 10 ** 8, size=3)]


_TRACE_TYPES = ("TypeError", "AttributeError", "OperatorNotAllowedInGraphError")


@exercise("5.5", name="digit_sum", points=2)
def _check_digit_sum(digit_sum):
    """Digit sum with a `while` loop on tensors inside tf.function; reference: Python's own digits.
    It must be a tf.function whose graph holds a loop op (a Python loop over range() unrolls instead),
    and one trace must serve every int32 scalar."""
    traced = is_a(digit_sum, "Function")
    before = int(digit_sum.experimental_get_tracing_count()) if traced else 0
    cases = _digit_sum_cases()
    for n in cases:
        expected = sum(int(c) for c in str(n))
        call = f"digit_sum(tf.constant({n}))"
        try:
            got = digit_sum(Fixture("constant", np.int32(n)))
        except LearnerError as exc:
            if exc.remote_type not in _TRACE_TYPES:
                raise
            head = f"{exc.remote_type}: {exc.message.splitlines()[0] if exc.message else ''}"
            raise CheckFailure(
                en=f"{call} raised {head}\n{exc.trace}\nWhile tf.function traces, n is a symbolic tensor with "
                   "no value yet: int(n), n.numpy() and str(n) cannot give its digits. Keep n a tensor: "
                   "`while n > 0:` (AutoGraph makes it a tf.while_loop), n % 10 and n //= 10.",
                zh=f"{call} 抛出了 `{head}`\n{exc.trace}\ntf.function 追踪时，n 是还没有数值的符号张量："
                   "int(n)、n.numpy() 和 str(n) 都得不到它的各位数字。请让 n 保持为张量：`while n > 0:`"
                   "（AutoGraph 把它变成 tf.while_loop）、n % 10 和 n //= 10。") from None
        g = _as_np(got)
        expect(g is not None and g.shape == (),
               en=f"{call}: expected a scalar tensor, got {describe(got)}. Return the running total.",
               zh=f"{call}：期望一个标量张量，得到 {describe(got, lang='zh')}。请返回累加的总和。")
        expect(float(g) == expected,
               en=f"{call}: expected {expected}, got {float(g):g}. Add the last digit (n % 10) to the total, "
                  f"then drop it (n //= 10), while n > 0.",
               zh=f"{call}：期望 {expected}，得到 {float(g):g}。当 n > 0 时，把最后一位（n % 10）加到总和上，"
                  f"再去掉这一位（n //= 10）。")
    kind = remote_type(digit_sum)
    expect(traced,
           en=f"digit_sum is a {kind}, not a tf.function: decorate it with @tf.function, so that its `while` "
              "loop is traced into a graph loop (eagerly it is plain Python, one step per digit).",
           zh=f"digit_sum 是 {kind}，不是 tf.function：请用 @tf.function 装饰它，这样它的 `while` 循环会被追踪成"
              "图中的循环（即时执行时它只是普通的 Python，每位数字执行一步）。")
    traces = int(digit_sum.experimental_get_tracing_count()) - before
    expect(traces <= 1,
           en=f"digit_sum was traced {traces} times for {len(cases)} int32 scalars: one trace should serve every "
              "n. Do not pass Python numbers or give the function Python state that changes between calls.",
           zh=f"对 {len(cases)} 个 int32 标量，digit_sum 被追踪了 {traces} 次：一次追踪应该适用于所有的 n。"
              "不要传入 Python 数，也不要让函数带有在调用之间变化的 Python 状态。")
    graph = digit_sum.get_concrete_function(Fixture("constant", np.int32(0))).graph
    types = [str(op.type) for op in graph.get_operations()]
    expect(any(t in ("While", "StatelessWhile") for t in types),
           en=f"digit_sum's graph has no loop op (its ops: {', '.join(sorted(set(types)))}): a Python loop over "
              "range(...) is unrolled while tracing, one copy of its body per step. Loop on the tensor itself, "
              "`while n > 0:`, so that AutoGraph turns it into one tf.while_loop.",
           zh=f"digit_sum 的计算图中没有循环操作（其中的操作：{', '.join(sorted(set(types)))}）：遍历 range(...) 的 "
              "Python 循环在追踪时被展开，每一步复制一份循环体。请直接在张量上循环，`while n > 0:`，"
              "这样 AutoGraph 会把它变成一个 tf.while_loop。")


# -- Section 11: conceptual questions (keys in the instructor's checks file), a planted bug to fix ---------
question("5.6", name="answer_5_6", points=1, kind="choice", choices="abcd")
question("5.7", name="answer_5_7", points=1, kind="choice", choices="abcd")
outcome_task("5.8", name="train_with_optimizer", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})

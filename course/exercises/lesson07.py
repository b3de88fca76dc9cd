"""Checks for lesson 07, optimizers: SGD with momentum, RMSprop, Adam, exponential decay.

Each update-rule check runs the learner's step for several steps on a small problem whose
gradient depends on the current weights (so a wrong step shows up in the trajectory), beside
`torch.optim` (or `course.optim`'s Keras form where torch has no identical rule), and compares
every step.
"""
import math

import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, expect_close, say
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise

__all__ = []

_STEPS = 6


def _problem(shape, seed):
    """A starting point w0 and the gradient of f(w) = Σ a·w² + b·w (elementwise a > 0), float64."""
    g = seeding.torch_generator(seed)
    w0 = torch.randn(shape, generator=g, dtype=torch.float64)
    a = torch.rand(shape, generator=g, dtype=torch.float64) * 2.0 + 0.2
    b = torch.randn(shape, generator=g, dtype=torch.float64)

    def grad(w):
        return 2.0 * a * w + b              # ∂f/∂w, never exactly zero on these inputs

    return w0, grad


def _tensor_pair(result, n, what):
    if not isinstance(result, (tuple, list)) or len(result) != n:
        sized = isinstance(result, (tuple, list))
        got = f"{len(result)} values" if sized else type(result).__name__
        got_zh = f"{len(result)} 个值" if sized else type(result).__name__
        raise CheckFailure(en=f"{what}: expected a tuple of {n} tensors, got {got}.",
                           zh=f"{what}：期望一个含 {n} 个张量的元组，得到 {got_zh}。")
    for r in result:
        if not isinstance(r, torch.Tensor):
            raise CheckFailure(en=f"{what}: expected a tuple of {n} torch tensors, got one of type "
                                  f"{type(r).__name__}.",
                               zh=f"{what}：期望一个含 {n} 个 torch 张量的元组，但其中有一个的类型是 "
                                  f"{type(r).__name__}。")
    return result


def _reference_run(opt_factory, w0, grad, steps):
    """Weights after each step of a torch.optim (or course.optim) optimizer."""
    w = w0.clone().requires_grad_(True)
    opt = opt_factory([w])
    out = []
    for _ in range(steps):
        g = grad(w.detach())
        if hasattr(opt, "zero_grad"):             # torch.optim
            w.grad = g.clone()
            opt.step()
        else:                                     # course.optim rule
            opt.apply([w], [g.clone()])
        out.append(w.detach().clone())
    return out


# -- 7.1 -------------------------------------------------------------------------------------

@exercise("7.1", name="sgd_momentum_step", points=2)
def _check_sgd_momentum_step(sgd_momentum_step):
    """TF1 / torch form: a = μ·a + g; w - lr·a (Nesterov: w - lr·(g + μ·a))."""
    cases = [((3,), 0.1, 0.9, False), ((2, 3), 0.05, 0.5, False), ((4,), 0.1, 0.9, True),
             ((3,), 0.2, 0.0, False)]
    for k, (shape, lr, mu, nesterov) in enumerate(cases):
        w0, grad = _problem(shape, 70 + k)
        p = w0.clone().requires_grad_(True)
        opt = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=nesterov)
        w, a = w0.clone(), torch.zeros_like(w0)
        call = f"sgd_momentum_step(w, g, velocity, lr={lr}, momentum={mu}, nesterov={nesterov})"
        for step in range(_STEPS):
            g = grad(w)
            p.grad = grad(p.detach())
            opt.step()                                                # the reference step
            w_before = w.clone()
            w, a = _tensor_pair(sgd_momentum_step(w.clone(), g.clone(), a.clone(), lr=lr, momentum=mu,
                                                  nesterov=nesterov), 2, call)
            if step == 0 and torch.allclose(w, w_before + lr * g, atol=1e-12):
                raise CheckFailure(en=f"{call}: the first step moved w uphill (w + lr·g); "
                                      f"descent subtracts: w <- w - lr·a.",
                                   zh=f"{call}：第一步让 w 朝上坡方向移动了（w + lr·g）；"
                                      f"梯度下降应当相减：w <- w - lr·a。")
            if mu:
                buffer = opt.state[p]["momentum_buffer"]
                if step == 0 and torch.allclose(a, -lr * g, atol=1e-12):
                    raise CheckFailure(en=f"{call}: your velocity is Keras' form (m = μ·m - lr·g); this "
                                          f"exercise keeps TF1's and torch's accumulator a = μ·a + g and "
                                          f"steps w <- w - lr·a.",
                                       zh=f"{call}：你的速度用的是 Keras 的形式（m = μ·m - lr·g）；本练习沿用 TF1 "
                                          f"和 torch 的累加量 a = μ·a + g，并按 w <- w - lr·a 更新。")
                expect_close(a, buffer, inputs={"w0": w0}, rtol=1e-9, atol=1e-12,
                             what=say(f"{call}, the new velocity a after step {step + 1} "
                                      f"(a = μ·a + g, torch.optim.SGD's momentum_buffer)",
                                      f"{call}，第 {step + 1} 步之后的新速度 a"
                                      f"（a = μ·a + g，即 torch.optim.SGD 的 momentum_buffer）"))
            expect_close(w, p.detach(), inputs={"w0": w0}, rtol=1e-9, atol=1e-12,
                         what=say(f"{call}, w after step {step + 1} (torch.optim.SGD gives the expected value)",
                                  f"{call}，第 {step + 1} 步之后的 w（期望值由 torch.optim.SGD 给出）"))


# -- 7.2 -------------------------------------------------------------------------------------

def _rmsprop_torch_form(w, g, s, lr, rho, epsilon):
    s = rho * s + (1 - rho) * g * g
    return w - lr * g / (s.sqrt() + epsilon), s


@exercise("7.2", name="rmsprop_step", points=2)
def _check_rmsprop_step(rmsprop_step):
    """Keras 3 form: s = ρ·s + (1-ρ)·g², w - lr·g/sqrt(s + ε); s starts at 0."""
    from course.optim import RMSprop

    cases = [((3,), 0.01, 0.9, 0.0, "torch"), ((2, 2), 0.05, 0.5, 0.0, "torch"),
             ((4,), 0.01, 0.9, 0.1, "keras"), ((3,), 0.001, 0.99, 1e-7, "keras")]
    for k, (shape, lr, rho, eps, reference) in enumerate(cases):
        w0, grad = _problem(shape, 80 + k)
        if reference == "torch":         # with ε = 0 the Keras and torch forms coincide
            expected = _reference_run(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=rho, eps=0.0),
                                      w0, grad, _STEPS)
            source = "torch.optim.RMSprop(alpha=rho, eps=0)"
        else:
            expected = _reference_run(lambda p: RMSprop(lr, rho, epsilon=eps, form="keras"), w0, grad, _STEPS)
            source = "keras.optimizers.RMSprop (course.optim.RMSprop, form='keras')"
        w, s = w0.clone(), torch.zeros_like(w0)
        call = f"rmsprop_step(w, g, s, lr={lr}, rho={rho}, epsilon={eps})"
        for step in range(_STEPS):
            g = grad(w)
            w_before, s_before = w.clone(), s.clone()
            w, s = _tensor_pair(rmsprop_step(w.clone(), g.clone(), s.clone(), lr=lr, rho=rho, epsilon=eps),
                                2, call)
            if eps:
                torch_w, _ = _rmsprop_torch_form(w_before, g, s_before, lr, rho, eps)
                if torch.allclose(w, torch_w, rtol=1e-9, atol=1e-12) and not torch.allclose(
                        w, expected[step], rtol=1e-9, atol=1e-12):
                    raise CheckFailure(en=f"{call}: you added ε outside the square root, sqrt(s) + ε "
                                          f"(PyTorch's form); Keras and TF1 add it inside: sqrt(s + ε).",
                                       zh=f"{call}：你把 ε 加在了平方根外面，即 sqrt(s) + ε（PyTorch 的形式）；"
                                          f"Keras 和 TF1 把它加在根号里面：sqrt(s + ε)。")
            expect_close(w, expected[step], inputs={"w0": w0}, rtol=1e-9, atol=1e-12,
                         what=say(f"{call}, w after step {step + 1} ({source} gives the expected value)",
                                  f"{call}，第 {step + 1} 步之后的 w（期望值由 {source} 给出）"))


# -- 7.3 -------------------------------------------------------------------------------------

@exercise("7.3", name="adam_step", points=3)
def _check_adam_step(adam_step):
    """Algorithm 1 of Kingma & Ba (= torch.optim.Adam): bias-corrected m̂, v̂; w - lr·m̂/(sqrt(v̂) + ε)."""
    cases = [((3,), 0.1, 0.9, 0.999, 1e-8), ((2, 3), 0.01, 0.8, 0.99, 1e-8),
             ((4,), 0.05, 0.9, 0.999, 1e-2), ((2,), 0.1, 0.0, 0.9, 1e-8)]
    for k, (shape, lr, b1, b2, eps) in enumerate(cases):
        w0, grad = _problem(shape, 90 + k)
        expected = _reference_run(lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps),
                                  w0, grad, _STEPS)
        w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
        call = f"adam_step(w, g, m, v, t, lr={lr}, beta_1={b1}, beta_2={b2}, epsilon={eps})"
        for step in range(_STEPS):
            t = step + 1
            g = grad(w)
            w_before, m_before, v_before = w.clone(), m.clone(), v.clone()
            w, m, v = _tensor_pair(adam_step(w.clone(), g.clone(), m.clone(), v.clone(), t, lr=lr, beta_1=b1,
                                             beta_2=b2, epsilon=eps), 3, call)
            m_ok = m_before * b1 + (1 - b1) * g
            v_ok = v_before * b2 + (1 - b2) * g * g
            if not torch.allclose(m, m_ok, rtol=1e-9, atol=1e-12):
                if torch.allclose(m, m_ok / (1 - b1 ** t), rtol=1e-9, atol=1e-12):
                    raise CheckFailure(en=f"{call} at t={t}: you returned the bias-corrected m̂ as the new m; "
                                          f"keep m uncorrected (m̂ = m/(1-β1^t) is only used for the step).",
                                       zh=f"{call}，t={t}：你把偏差校正后的 m̂ 当作新的 m 返回了；m 本身不做校正"
                                          f"（m̂ = m/(1-β1^t) 只在计算这一步的更新时使用）。")
                expect_close(m, m_ok, inputs={"g": g}, rtol=1e-9, atol=1e-12,
                             what=say(f"{call}, the new m at t={t} (m = β1·m + (1-β1)·g)",
                                      f"{call}，t={t} 时的新 m（m = β1·m + (1-β1)·g）"))
            if not torch.allclose(v, v_ok, rtol=1e-9, atol=1e-12):
                expect_close(v, v_ok, inputs={"g": g}, rtol=1e-9, atol=1e-12,
                             what=say(f"{call}, the new v at t={t} (v = β2·v + (1-β2)·g²)",
                                      f"{call}，t={t} 时的新 v（v = β2·v + (1-β2)·g²）"))
            no_correction = w_before - lr * m_ok / (v_ok.sqrt() + eps)
            if t == 1 and torch.allclose(w, no_correction, rtol=1e-9, atol=1e-12) and not torch.allclose(
                    w, expected[step], rtol=1e-9, atol=1e-12):
                raise CheckFailure(en=f"{call} at t=1: the step has no bias correction; divide m by "
                                      f"(1-β1^t) and v by (1-β2^t) before the step (t counts from 1).",
                                   zh=f"{call}，t=1：这一步没有做偏差校正；更新之前请把 m 除以 (1-β1^t)、"
                                      f"把 v 除以 (1-β2^t)（t 从 1 开始计数）。")
            keras_form = (w_before - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m_ok / (v_ok.sqrt() + eps))
            if torch.allclose(w, keras_form, rtol=1e-9, atol=1e-12) and not torch.allclose(
                    w, expected[step], rtol=1e-6, atol=1e-9):
                raise CheckFailure(en=f"{call} at t={t}: you added ε to sqrt(v) before the bias correction "
                                      f"(Keras' 'epsilon hat' form); this exercise follows the paper's "
                                      f"Algorithm 1, as torch.optim.Adam does: lr·m̂ / (sqrt(v̂) + ε).",
                                   zh=f"{call}，t={t}：你在偏差校正之前就把 ε 加到了 sqrt(v) 上（Keras 的 "
                                      f"'epsilon hat' 形式）；本练习和 torch.optim.Adam 一样遵循论文中的"
                                      f"算法 1：lr·m̂ / (sqrt(v̂) + ε)。")
            expect_close(w, expected[step], inputs={"w0": w0}, rtol=1e-6, atol=1e-9,
                         what=say(f"{call}, w after step t={t} (torch.optim.Adam gives the expected value)",
                                  f"{call}，第 t={t} 步之后的 w（期望值由 torch.optim.Adam 给出）"))


# -- 7.4 -------------------------------------------------------------------------------------

@exercise("7.4", name="exponential_decay", points=1)
def _check_exponential_decay(exponential_decay):
    """lr(step) = lr0 · rate^(step / decay_steps), floor of the exponent when staircase."""
    from course.optim import ExponentialDecay

    cases = [(0.1, 100, 0.96, False), (0.1, 100, 0.96, True), (1.0, 3, 0.5, True), (0.01, 1000, 0.1, False)]
    for lr0, decay_steps, rate, staircase in cases:
        reference = ExponentialDecay(lr0, decay_steps, rate, staircase)
        for step in (0, 1, 2, 3, 50, 99, 100, 101, 250, 1000, 5000):
            call = f"exponential_decay({step}, {lr0}, {decay_steps}, {rate}, staircase={staircase})"
            got = exponential_decay(step, lr0, decay_steps, rate, staircase=staircase)
            try:
                value = float(got)
            except (TypeError, ValueError):
                raise CheckFailure(en=f"{call}: expected a number, got {got!r}.",
                                   zh=f"{call}：期望一个数，得到 {got!r}。") from None
            expected = float(reference(step))
            if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-15):
                hint = say("", "")
                if staircase and math.isclose(value, lr0 * rate ** (step / decay_steps), rel_tol=1e-9):
                    hint = say(" With staircase=True the exponent is floor(step / decay_steps).",
                               "当 staircase=True 时，指数是 floor(step / decay_steps)。")
                elif math.isclose(value, lr0 * rate ** step, rel_tol=1e-9):
                    hint = say(" The exponent is step / decay_steps, not step.",
                               "指数是 step / decay_steps，而不是 step。")
                raise CheckFailure(en=f"{call}: expected {expected:.10g} (as keras.optimizers.schedules."
                                      f"ExponentialDecay), got {value:.10g}.{hint.en}",
                                   zh=f"{call}：期望 {expected:.10g}（与 keras.optimizers.schedules."
                                      f"ExponentialDecay 一致），得到 {value:.10g}。{hint.zh}")
    # torch's ExponentialLR multiplies by gamma once per scheduler step: staircase with decay_steps=1
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
    for step in range(5):
        got = float(exponential_decay(step, 0.5, 1, 0.8, staircase=True))
        if not math.isclose(got, opt.param_groups[0]["lr"], rel_tol=1e-9):
            want = opt.param_groups[0]["lr"]
            raise CheckFailure(en=f"exponential_decay({step}, 0.5, 1, 0.8, staircase=True): expected "
                                  f"{want:.10g} (torch ExponentialLR(gamma=0.8) after {step} steps), got {got:.10g}.",
                               zh=f"exponential_decay({step}, 0.5, 1, 0.8, staircase=True)：期望 {want:.10g}"
                                  f"（torch ExponentialLR(gamma=0.8) 经过 {step} 步之后的值），得到 {got:.10g}。")
        opt.step()
        sched.step()


# -- Section 10: conceptual questions (keys in the instructor's checks file) and an outcome task ----
question("7.5", name="answer_7_5", points=1, kind="choice", choices="abcd")
question("7.6", name="answer_7_6", points=1, kind="number")
outcome_task("7.7", name="train_classifier", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})

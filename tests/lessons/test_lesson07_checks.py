"""Lesson 07's checks pass the reference solutions and fail planted mistakes with a useful message."""
import math

import pytest
import torch

from lesson_status import status as _status


def sgd_momentum_step(w, g, velocity, lr=0.01, momentum=0.9, nesterov=False):
    velocity = momentum * velocity + g
    step = g + momentum * velocity if nesterov else velocity
    return w - lr * step, velocity


def rmsprop_step(w, g, s, lr=0.001, rho=0.9, epsilon=1e-7):
    s = rho * s + (1 - rho) * g ** 2
    return w - lr * g / torch.sqrt(s + epsilon), s


def adam_step(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - lr * m_hat / (torch.sqrt(v_hat) + epsilon), m, v


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = step / decay_steps
    if staircase:
        p = math.floor(p)
    return initial_learning_rate * decay_rate ** p


@pytest.mark.parametrize("eid, fn", [("7.1", sgd_momentum_step), ("7.2", rmsprop_step),
                                     ("7.3", adam_step), ("7.4", exponential_decay)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


def test_stub_reports_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    assert _status("7.3", stub)[0] == "not implemented"


def test_sgd_keras_velocity_is_named():
    def keras_form(w, g, velocity, lr=0.01, momentum=0.9, nesterov=False):
        velocity = momentum * velocity - lr * g
        return w + velocity, velocity
    status, message = _status("7.1", keras_form)
    assert status == "failed" and "Keras' form" in message


def test_sgd_wrong_nesterov_fails():
    def plain_only(w, g, velocity, lr=0.01, momentum=0.9, nesterov=False):
        velocity = momentum * velocity + g
        return w - lr * velocity, velocity
    status, message = _status("7.1", plain_only)
    assert status == "failed" and "nesterov=True" in message


def test_rmsprop_epsilon_outside_is_named():
    def torch_form(w, g, s, lr=0.001, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g ** 2
        return w - lr * g / (torch.sqrt(s) + epsilon), s
    status, message = _status("7.2", torch_form)
    assert status == "failed" and "inside" in message


def test_rmsprop_tf1_start_fails():
    def no_decay(w, g, s, lr=0.001, rho=0.9, epsilon=1e-7):
        s = s + g ** 2
        return w - lr * g / torch.sqrt(s + epsilon), s
    assert _status("7.2", no_decay)[0] == "failed"


def test_adam_without_bias_correction_is_named():
    def uncorrected(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        return w - lr * m / (torch.sqrt(v) + epsilon), m, v
    status, message = _status("7.3", uncorrected)
    assert status == "failed" and "bias correction" in message


def test_adam_keras_epsilon_hat_is_named():
    def keras_form(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * m / (torch.sqrt(v) + epsilon), m, v
    status, message = _status("7.3", keras_form)
    assert status == "failed" and "epsilon hat" in message


def test_adam_returning_corrected_moments_is_named():
    def corrected_state(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        m = (beta_1 * m + (1 - beta_1) * g) / (1 - beta_1 ** t)
        v = (beta_2 * v + (1 - beta_2) * g ** 2) / (1 - beta_2 ** t)
        return w - lr * m / (torch.sqrt(v) + epsilon), m, v
    status, message = _status("7.3", corrected_state)
    assert status == "failed" and "bias-corrected" in message


def test_exponential_decay_without_staircase_is_named():
    def smooth(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        return initial_learning_rate * decay_rate ** (step / decay_steps)
    status, message = _status("7.4", smooth)
    assert status == "failed" and "floor" in message


# -- Section 10: questions 7.5 and 7.6, outcome task 7.7 -----------------------------------------
import time  # noqa: E402

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_full_marks_and_zero, assert_stub_not_implemented, question_verdicts)


def optimizer_softmax(x, y, budget, make_optimizer):
    """The notebook's train_classifier with the optimizer as a parameter: five passes over (x, y)."""
    start = time.monotonic()
    W = torch.zeros(784, 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    optimizer = make_optimizer([W, b])
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        for idx in torch.randperm(len(x), generator=g).split(100):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(x[idx] @ W + b, y[idx]).backward()
            optimizer.step()
        if time.monotonic() - start > 0.5 * budget:
            break
    return W.detach(), b.detach()


@pytest.mark.parametrize("eid, right, wrong, why", [("7.5", "b", "a", "√v̂"), ("7.6", 0.1, 0.01, "1 - μ")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def _first_step(make_optimizer, scale):
    """|Δw| of the first step of torch.optim on scale · Σ (w - t)², from w = 0 (3 coordinates)."""
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([w])
    opt.zero_grad()
    (scale * (w - torch.tensor([3.0, -0.5, 0.01], dtype=torch.float64)) ** 2).sum().backward()
    opt.step()
    return w.detach().abs()


def test_question_7_5_key_agrees_with_torch_optim():
    sgd = [_first_step(lambda p: torch.optim.SGD(p, lr=1e-4), s) for s in (1, 100)]
    adam = [_first_step(lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-12), s) for s in (1, 100)]
    assert torch.allclose(sgd[1], 100 * sgd[0], rtol=1e-3)             # SGD: 100 times larger
    assert torch.allclose(adam[1], adam[0], rtol=1e-3)                 # Adam: the same
    assert question_verdicts("7.5", "b", "a")[1] == "passed"


def test_question_7_6_key_agrees_with_torch_momentum():
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.01, momentum=0.9)
    for _ in range(300):
        before = float(w)
        opt.zero_grad()
        w.sum().backward()                                             # gradient 1 at every step
        opt.step()
    step = before - float(w)
    assert question_verdicts("7.6", round(step, 4), 0.0)[1] == "passed"


def test_outcome_7_7_adam_reaches_the_target_and_keras_default_sgd_does_not():
    adam = lambda x, y, budget: optimizer_softmax(x, y, budget, lambda p: torch.optim.Adam(p, lr=0.01))  # noqa: E731
    slow = lambda x, y, budget: optimizer_softmax(x, y, budget, lambda p: torch.optim.SGD(p, lr=0.01))  # noqa: E731
    assert_bug_fails_and_fix_passes("7.7", slow, adam, seconds=None, practice=True)


def test_outcome_7_7_stub_is_not_implemented():
    assert_stub_not_implemented("7.7")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    assert_full_marks_and_zero("07_optimizers.ipynb")

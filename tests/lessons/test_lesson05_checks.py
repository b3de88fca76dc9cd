"""Lesson 05's checks pass the reference answers and reject typical wrong ones with a useful message."""
import numpy as np
import pytest
import torch

from course import tf
from course.exercises import run_checks
from course.exercises.lesson05 import _sgd_step_float64 as seed001_reference_step


def gradient(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


def second_derivative(f, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        dy_dx = inner.gradient(y, x)
    return outer.gradient(dy_dx, x)


def forward(params, X):
    W1, b1, W2, b2 = params
    return tf.nn.sigmoid(tf.matmul(tf.matmul(X, W1) + b1, W2) + b2)


def train_step(params, X, y, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(y - forward(params, X)))
    grads = tape.gradient(loss, params)
    optimizer.apply_gradients(zip(grads, params))
    return loss


def torch_forward(params, X):
    W1, b1, W2, b2 = params
    return torch.sigmoid((X @ W1 + b1) @ W2 + b2)


def torch_train_step(params, X, y, lr):
    loss = ((y - torch_forward(params, X)) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
    return loss


def stub(*args):
    raise NotImplementedError()


@tf.function
def digit_sum(n):
    total = 0
    while n > 0:                 # AutoGraph: a tf.while_loop
        total += n % 10
        n //= 10
    return total


@tf.function
def _digit_count(n):
    total = 0
    while n > 0:
        total += 1
        n //= 10
    return total


def _digit_sum_eager(n):
    total = 0
    while n > 0:                 # correct values, but eager Python: not a tf.function
        total += n % 10
        n //= 10
    return total


@tf.function
def _digit_sum_unrolled(n):
    total = 0
    for _ in range(10):          # a Python range: unrolled into ten copies, no loop op
        total += n % 10
        n //= 10
    return total


@tf.function
def _digit_sum_python_int(n):
    return sum(int(c) for c in str(int(n)))      # n has no value while tracing


@tf.function
def _digit_sum_numpy(n):
    return sum(int(c) for c in str(n.numpy()))


ANSWERS = {"5.1": gradient, "5.2": second_derivative, "5.3": train_step, "5.4": torch_train_step,
           "5.5": digit_sum}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_reference_answers_pass(exercise_id):
    result = run_checks(exercise_id, ANSWERS[exercise_id])
    assert result.status == "passed", result.message


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_stub_is_not_implemented(exercise_id):
    assert run_checks(exercise_id, stub).status == "not implemented"


def _gradient_unwatched(f, x):
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def _second_only_first(f, x):
    return gradient(f, x)


def _second_outside(f, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
    dy_dx = inner.gradient(y, x)
    return outer.gradient(dy_dx, x)


def _train_no_apply(params, X, y, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(y - forward(params, X)))
    tape.gradient(loss, params)
    return loss


def _train_ascent(params, X, y, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(y - forward(params, X)))
    grads = tape.gradient(loss, params)
    optimizer.apply_gradients(zip([-g for g in grads], params))
    return loss


def _train_sum_loss(params, X, y, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(y - forward(params, X)))
    grads = tape.gradient(loss, params)
    optimizer.apply_gradients(zip(grads, params))
    return loss


def _torch_no_zero(params, X, y, lr):
    loss = ((y - torch_forward(params, X)) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    return loss


def _torch_rebind(params, X, y, lr):
    loss = ((y - torch_forward(params, X)) ** 2).mean()
    grads = torch.autograd.grad(loss, params)
    for i, (p, g) in enumerate(zip(params, grads)):
        params[i] = (p - lr * g).detach().requires_grad_()
    return loss


@pytest.mark.parametrize("exercise_id, answer, words", [
    ("5.1", _gradient_unwatched, "tape.watch(x)"),
    ("5.1", lambda f, x: gradient(f, x) * 2, "differ"),
    ("5.2", _second_only_first, "first derivative"),
    ("5.2", _second_outside, "inside the outer tape"),
    ("5.3", _train_no_apply, "did not change"),
    ("5.3", _train_ascent, "uphill"),
    ("5.3", _train_sum_loss, "loss"),
    ("5.4", _torch_no_zero, "zero_()"),
    ("5.4", _torch_rebind, "in place"),
    ("5.5", _digit_count, "n % 10"),
    ("5.5", _digit_sum_eager, "decorate it with @tf.function"),
    ("5.5", _digit_sum_unrolled, "no loop op"),
    ("5.5", _digit_sum_python_int, "symbolic tensor with no value"),
    ("5.5", _digit_sum_numpy, "symbolic tensor with no value"),
])
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = run_checks(exercise_id, answer)
    assert result.status in ("failed", "error"), result
    assert words in result.message, result.message


def test_reference_step_matches_torch_autograd():
    """The hand-derived seed001 gradients used by checks 5.3/5.4 agree with torch autograd (float64)."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(9, 4), rng.rand(9, 1)
    params = [rng.randn(4, 3), rng.randn(3), rng.randn(3, 1), rng.randn(1)]
    loss, new = seed001_reference_step(params, X, y, 0.3)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    ref = ((torch.tensor(y) - torch_forward(tp, torch.tensor(X))) ** 2).mean()
    ref.backward()
    assert np.isclose(loss, ref.item())
    for p, t, n in zip(params, tp, new):
        np.testing.assert_allclose(n, p - 0.3 * t.grad.numpy(), rtol=1e-12, atol=1e-12)


# -- Section 11: questions 5.6 and 5.7, the planted-bug task 5.8 --------------------------------
from lesson_bugfix import grade_full_and_zero, trainer  # noqa: E402
from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_stub_not_implemented, question_verdicts)


def test_question_5_6_key_is_that_backward_accumulates():
    w = torch.tensor(1.5, requires_grad=True)
    (3.0 * w).backward()
    (w * w).backward()                                                      # independent: torch itself
    assert float(w.grad) == 3.0 + 2 * 1.5
    keyless, good, (status, en, zh) = question_verdicts("5.6", "b", "a")
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert "zero_grad" in en and "zero_grad" in zh


@pytest.mark.parity
def test_question_5_7_key_matches_tensorflow():
    real = pytest.importorskip("tensorflow")
    w = real.Variable(1.0)
    grads = []
    for _ in range(2):
        with real.GradientTape() as tape:
            loss = (w - 3.0) ** 2
        grads.append(tape.gradient(loss, w))
        if grads[-1] is not None:
            w = w - 0.1 * grads[-1]
    assert grads[0] is not None and grads[1] is None                        # choice (b)
    keyless, good, (status, en, zh) = question_verdicts("5.7", "b", "a")
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert "assign_sub" in en and "assign_sub" in zh


def test_outcome_5_8_fixed_optimizer_reaches_the_target_and_the_planted_bug_does_not():
    assert_bug_fails_and_fix_passes("5.8", trainer(5, buggy=True), trainer(5), practice=True)


def test_outcome_5_8_stub_is_not_implemented():
    assert_stub_not_implemented("5.8")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    grade_full_and_zero("05_gradient_tape")

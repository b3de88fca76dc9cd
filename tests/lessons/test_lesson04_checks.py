"""Lesson 04's checks pass the reference backward passes and reject typical wrong ones."""
import pytest
import torch

from course.exercises import run_checks
from course import scratch


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def relu_backward(dout, cache):
    return dout * (cache > 0).to(dout.dtype)


def dense_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(dim=0)


def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    z = logits - logits.amax(dim=1, keepdim=True)
    log_p = z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))
    loss = -log_p[torch.arange(n), labels].mean()
    dz = torch.exp(log_p)
    dz[torch.arange(n), labels] -= 1
    return loss, dz / n


def stub(*args):
    raise NotImplementedError()


ANSWERS = [("4.1", sigmoid_backward), ("4.2", relu_backward), ("4.3", dense_backward),
           ("4.4", softmax_cross_entropy)]


@pytest.mark.parametrize("exercise_id, answer", ANSWERS)
def test_reference_answers_pass(exercise_id, answer):
    result = run_checks(exercise_id, answer)
    assert result.status == "passed", result.message


def test_course_scratch_passes_too():
    for exercise_id, answer in [("4.1", scratch.sigmoid_backward), ("4.2", scratch.relu_backward),
                                ("4.3", scratch.dense_backward), ("4.4", scratch.softmax_cross_entropy)]:
        result = run_checks(exercise_id, answer)
        assert result.status == "passed", (exercise_id, result.message)


@pytest.mark.parametrize("exercise_id", ["4.1", "4.2", "4.3", "4.4"])
def test_stub_is_not_implemented(exercise_id):
    assert run_checks(exercise_id, stub).status == "not implemented"


def _softmax_ce_sum(logits, labels):
    loss, dz = softmax_cross_entropy(logits, labels)
    return loss, dz * logits.shape[0]


def _softmax_ce_naive(logits, labels):
    p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    n = logits.shape[0]
    loss = -torch.log(p[torch.arange(n), labels]).mean()
    return loss, softmax_cross_entropy(logits, labels)[1]


@pytest.mark.parametrize("exercise_id, answer, words", [
    ("4.1", lambda dout, y: dout * torch.sigmoid(y) * (1 - torch.sigmoid(y)), "not sigmoid(y)"),
    ("4.1", lambda dout, y: y * (1 - y), "differ"),
    ("4.2", lambda dout, x: dout * (x >= 0).to(dout.dtype), "x > 0, not x >= 0"),
    ("4.2", lambda dout, x: (x > 0).to(dout.dtype), "multiply it by dout"),
    ("4.3", lambda dout, c: (dout @ c[1].T, c[0].T @ dout, dout.mean(dim=0)), "SUM over the batch"),
    ("4.3", lambda dout, c: (dout @ c[1].T, dout.T @ c[0], dout.sum(dim=0)), "transpose"),
    ("4.3", lambda dout, c: (dout @ c[1].T, c[0].T @ dout), "tuple of 3"),
    ("4.4", _softmax_ce_sum, "1/N"),
    ("4.4", _softmax_ce_naive, "log-sum-exp"),
])
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = run_checks(exercise_id, answer)
    assert result.status in ("failed", "error"), result
    assert words in result.message, result.message


@pytest.mark.slow
def test_lesson04_full_mode_accuracy_claim():
    """Lesson 04 states 'about 97.8% test accuracy' after 5 epochs of hand-written backprop (full mode)."""
    import course.data
    (x_train, y_train), (x_test, y_test) = course.data.load_mnist()
    net = scratch.train_mlp(x_train, y_train, hidden=256, epochs=5, lr=0.1, momentum=0.9, batch_size=128,
                            validation_data=(x_test, y_test), seed=0)
    assert net.history["val_accuracy"][-1] >= 0.975, net.history


# -- Section 8: questions 4.5 and 4.6, the planted-bug task 4.7 ---------------------------------
from lesson_bugfix import grade_full_and_zero, trainer  # noqa: E402
from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_stub_not_implemented, question_verdicts)


def test_question_4_5_key_is_autograds_gradient():
    z = torch.zeros(1, 4, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.tensor([2])).backward()     # independent: torch autograd
    keyless, good, (status, en, zh) = question_verdicts("4.5", float(z.grad[0, 2]), 0.25)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert "-0.75" in en and "-0.75" in zh


def test_question_4_6_key_adds_the_gradients_of_both_uses():
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(5.0, dtype=torch.float64)
    (x * y + x).backward()                                                  # independent: torch autograd
    assert float(x.grad) == float(y) + 1.0                                  # the sum (b), not the product y
    keyless, good, (status, en, zh) = question_verdicts("4.6", "b", "a")
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert "y + 1" in en and "y + 1" in zh


def test_outcome_4_7_fixed_gradients_reach_the_target_and_the_planted_bug_does_not():
    assert_bug_fails_and_fix_passes("4.7", trainer(4, buggy=True), trainer(4), practice=True)


def test_outcome_4_7_stub_is_not_implemented():
    assert_stub_not_implemented("4.7")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    grade_full_and_zero("04_back_propagation")

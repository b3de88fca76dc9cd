"""Lesson 06's checks pass the reference losses, reject typical wrong ones, and their Keras rules
agree with real TensorFlow (parity)."""
import numpy as np
import pytest
import torch

from course.exercises import run_checks
from course.exercises import lesson06

EPS = 1e-7


def mse(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(dim=-1)


def log_softmax(z):
    m = z.amax(dim=-1, keepdim=True)
    return z - m - torch.log(torch.exp(z - m).sum(dim=-1, keepdim=True))


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    if from_logits:
        return -(y_true * log_softmax(y_pred)).sum(dim=-1)
    p = y_pred / y_pred.sum(dim=-1, keepdim=True)
    return -(y_true * torch.log(p.clamp(EPS, 1 - EPS))).sum(dim=-1)


def hinge(y_true, y_pred):
    if bool(((y_true == 0) | (y_true == 1)).all()):
        y_true = 2 * y_true - 1
    return torch.clamp(1 - y_true * y_pred, min=0).mean(dim=-1)


def stub(*args, **kwargs):
    raise NotImplementedError()


ANSWERS = [("6.1", mse), ("6.2", log_softmax), ("6.3", categorical_crossentropy), ("6.4", hinge)]


@pytest.mark.parametrize("exercise_id, answer", ANSWERS)
def test_reference_answers_pass(exercise_id, answer):
    result = run_checks(exercise_id, answer)
    assert result.status == "passed", result.message


def test_course_losses_pass_too():
    import course.losses as L
    for exercise_id, answer in [
        ("6.1", lambda t, p: L.mean_squared_error(t, p, reduction="none")),
        ("6.3", lambda t, p, from_logits=False: L.categorical_crossentropy(t, p, from_logits=from_logits,
                                                                            reduction="none")),
        ("6.4", lambda t, p: L.hinge(t, p, reduction="none")),
    ]:
        result = run_checks(exercise_id, answer)
        assert result.status == "passed", (exercise_id, result.message)


@pytest.mark.parametrize("exercise_id", ["6.1", "6.2", "6.3", "6.4"])
def test_stub_is_not_implemented(exercise_id):
    assert run_checks(exercise_id, stub).status == "not implemented"


def _cce_unclipped(y_true, y_pred, from_logits=False):
    if from_logits:
        return categorical_crossentropy(y_true, y_pred, True)
    return -(y_true * torch.log(y_pred / y_pred.sum(dim=-1, keepdim=True))).sum(dim=-1)


def _cce_naive_logits(y_true, y_pred, from_logits=False):
    if from_logits:
        return -(y_true * torch.log(torch.softmax(y_pred, dim=-1))).sum(dim=-1)
    return categorical_crossentropy(y_true, y_pred)


def _cce_not_renormalised(y_true, y_pred, from_logits=False):
    if from_logits:
        return categorical_crossentropy(y_true, y_pred, True)
    return -(y_true * torch.log(y_pred.clamp(EPS, 1 - EPS))).sum(dim=-1)


@pytest.mark.parametrize("exercise_id, answer, words", [
    ("6.1", lambda t, p: ((t - p) ** 2).mean(), "one number"),
    ("6.1", lambda t, p: ((t - p) ** 2).sum(dim=-1), "differ"),
    ("6.2", lambda z: torch.log(torch.softmax(z, dim=-1)), "non-finite"),
    ("6.2", lambda z: z - torch.log(torch.exp(z).sum(dim=-1, keepdim=True)), "non-finite"),
    ("6.3", _cce_unclipped, "clip"),
    ("6.3", _cce_naive_logits, "log-sum-exp"),
    ("6.3", _cce_not_renormalised, "do not sum to 1"),
    ("6.4", lambda t, p: torch.clamp(1 - t * p, min=0).mean(dim=-1), "-1/+1"),
    ("6.4", lambda t, p: hinge(t, p).mean(), "one number"),
])
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = run_checks(exercise_id, answer)
    assert result.status in ("failed", "error"), result
    assert words in result.message, result.message


@pytest.mark.parity
def test_check_references_match_tensorflow():
    """The Keras rules the checks write out in torch are TensorFlow's own."""
    tf = pytest.importorskip("tensorflow")
    for _, y_true, y_pred, from_logits in lesson06._cce_cases():
        ours = lesson06.keras_categorical_crossentropy(y_true, y_pred, from_logits).numpy()
        theirs = tf.keras.losses.categorical_crossentropy(y_true.numpy(), y_pred.numpy(),
                                                          from_logits=from_logits).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    g = torch.Generator().manual_seed(0)
    signs = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    for y_true in (signs, torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])):
        y_pred = torch.randn(2, 3, generator=g)
        np.testing.assert_allclose(hinge(y_true, y_pred).numpy(),
                                   tf.keras.losses.hinge(y_true.numpy(), y_pred.numpy()).numpy(), rtol=1e-6)
        np.testing.assert_allclose(mse(y_true, y_pred).numpy(),
                                   tf.keras.losses.mse(y_true.numpy(), y_pred.numpy()).numpy(),
                                   rtol=1e-6)


# -- Section 8: questions 6.5 and 6.6, outcome task 6.7 ------------------------------------------
from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_stub_not_implemented, question_verdicts, sgd_softmax)


@pytest.mark.parametrize("eid, right, wrong, why", [("6.5", "b", "a", "16.118"), ("6.6", 2.3026, 2.0, "1/10")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def test_question_6_6_key_is_the_cross_entropy_of_a_uniform_guess():
    uniform = torch.full((5, 10), 0.1)
    labels = torch.tensor([0, 3, 9, 4, 4])
    value = float(torch.nn.functional.nll_loss(uniform.log(), labels))       # independent: torch's NLL
    keyless, good, _ = question_verdicts("6.6", round(value, 4), 0.0)
    assert good == "passed"


def test_outcome_6_7_reference_reaches_the_target_and_zero_weights_do_not():
    train = lambda x, y, budget: sgd_softmax(x, y, budget, loss_fn=lambda z, t: -log_softmax(z).gather(  # noqa: E731
        1, t[:, None]).mean())
    zeros = lambda x, y, budget: (torch.zeros(784, 10), torch.zeros(10))  # noqa: E731
    assert_bug_fails_and_fix_passes("6.7", zeros, train, practice=True)


def test_outcome_6_7_stub_is_not_implemented():
    assert_stub_not_implemented("6.7")

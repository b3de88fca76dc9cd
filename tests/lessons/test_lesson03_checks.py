"""Lesson 03's checks pass the reference answers and reject typical wrong ones with a useful message."""
import pytest
import torch

from course.exercises import run_checks


def dense(x, w, b):
    return x @ w + b


def softmax(z):
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def mlp_forward(x, params):
    h = torch.relu(x @ params["w1"] + params["b1"])
    return softmax(h @ params["w2"] + params["b2"])


def stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("exercise_id, answer", [("3.1", dense), ("3.2", softmax), ("3.3", mlp_forward)])
def test_reference_answers_pass(exercise_id, answer):
    result = run_checks(exercise_id, answer)
    assert result.status == "passed", result.message


@pytest.mark.parametrize("exercise_id", ["3.1", "3.2", "3.3"])
def test_stub_is_not_implemented(exercise_id):
    assert run_checks(exercise_id, stub).status == "not implemented"


@pytest.mark.parametrize("exercise_id, answer, words", [
    ("3.1", lambda x, w, b: x @ w, "bias"),
    ("3.1", lambda x, w, b: torch.nn.functional.linear(x, w, b), "RuntimeError"),
    ("3.1", lambda x, w, b: x.mul_(1.5) @ w + b, "differ"),
    ("3.2", lambda z: torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True), "Subtract the maximum"),
    ("3.2", lambda z: torch.softmax(z, dim=0), "uses torch.softmax"),
    ("3.2", lambda z: z.sub_(z.amax(dim=-1, keepdim=True)).exp() / z.exp().sum(dim=-1, keepdim=True), "in place"),
    ("3.3", lambda x, p: torch.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"], "logits"),
    ("3.3", lambda x, p: softmax(torch.sigmoid(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]), "differ"),
])
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = run_checks(exercise_id, answer)
    assert result.status in ("failed", "error"), result
    assert words in result.message, result.message


# -- Section 8: questions 3.4 and 3.5, the planted-bug task 3.6 ---------------------------------
from lesson_bugfix import grade_full_and_zero, trainer  # noqa: E402
from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_stub_not_implemented, question_verdicts)


def test_question_3_4_key_is_one_linear_layer():
    g = torch.Generator().manual_seed(0)
    w1, b1, w2, b2, x = (torch.randn(*s, generator=g, dtype=torch.float64) for s in
                         [(784, 128), (128,), (128, 10), (10,), (5, 784)])
    two = torch.nn.functional.linear(torch.nn.functional.linear(x, w1.T, b1), w2.T, b2)   # independent: torch
    one_layer = x @ (w1 @ w2) + (b1 @ w2 + b2)                                    # choice (b)
    assert torch.allclose(two, one_layer, atol=1e-9) and not torch.allclose(two, x @ (w1 @ w2) + b2)
    keyless, good, (status, en, zh) = question_verdicts("3.4", "b", "a")
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert "b1W2 + b2" in en and "b1W2 + b2" in zh


def test_question_3_5_key_counts_torch_parameters():
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    count = sum(p.numel() for p in model.parameters())                  # independent: torch counts them
    keyless, good, (status, en, zh) = question_verdicts("3.5", count, count - 138)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert "1,290" in en and "1,290" in zh


def test_outcome_3_6_fixed_softmax_reaches_the_target_and_the_planted_bug_does_not():
    assert_bug_fails_and_fix_passes("3.6", trainer(3, buggy=True), trainer(3), practice=True)


def test_outcome_3_6_stub_is_not_implemented():
    assert_stub_not_implemented("3.6")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    grade_full_and_zero("03_forward_propagation")

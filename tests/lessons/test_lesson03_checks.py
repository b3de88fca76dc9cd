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

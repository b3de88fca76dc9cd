"""Lesson 08's checks pass the reference solutions and fail planted mistakes with a useful message."""
import math

import pytest
import torch

from lesson_status import status as _status


def compute_fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def glorot_uniform(shape, generator=None):
    fan_in, fan_out = compute_fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return torch.empty(shape).uniform_(-limit, limit, generator=generator)


def he_normal(shape, generator=None):
    fan_in, _ = compute_fans(shape)
    sigma = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    return torch.nn.init.trunc_normal_(torch.empty(shape), 0.0, sigma, -2 * sigma, 2 * sigma, generator=generator)


def keras_init_(model, kernel_initializer):
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.weight.copy_(kernel_initializer(tuple(layer.weight.T.shape)).T)
            elif isinstance(layer, torch.nn.Conv2d):
                out, inp, h, w = layer.weight.shape
                layer.weight.copy_(kernel_initializer((h, w, inp, out)).permute(3, 2, 0, 1))
            else:
                continue
            if layer.bias is not None:
                layer.bias.zero_()


@pytest.mark.parametrize("eid, fn", [("8.1", compute_fans), ("8.2", glorot_uniform), ("8.3", he_normal),
                                     ("8.4", keras_init_)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


def test_package_initializers_pass():
    from course import initializers
    assert _status("8.1", initializers.compute_fans)[0] == "passed"
    assert _status("8.2", lambda shape, generator=None: initializers.glorot_uniform(shape, generator=generator,
                                                                                     device="cpu"))[0] == "passed"
    assert _status("8.3", lambda shape, generator=None: initializers.he_normal(shape, generator=generator,
                                                                                device="cpu"))[0] == "passed"


def test_conv_fans_without_receptive_field_are_named():
    status, message = _status("8.1", lambda shape: (shape[-2], shape[-1]))
    assert status == "failed" and "receptive field" in message


def test_glorot_with_torch_linear_bound_fails():
    def torch_default(shape, generator=None):
        fan_in, _ = compute_fans(shape)
        bound = 1 / math.sqrt(fan_in)
        return torch.empty(shape).uniform_(-bound, bound, generator=generator)
    status, message = _status("8.2", torch_default)
    assert status == "failed" and "nn.Linear" in message


def test_glorot_normal_instead_of_uniform_fails():
    def normal(shape, generator=None):
        fan_in, fan_out = compute_fans(shape)
        std = math.sqrt(2.0 / (fan_in + fan_out))
        x = torch.empty(shape).normal_(0, std, generator=generator)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return x.clamp(-limit, limit)
    assert _status("8.2", normal)[0] == "failed"


def test_glorot_ignoring_generator_fails():
    def unseeded(shape, generator=None):
        return glorot_uniform(shape)
    status, message = _status("8.2", unseeded)
    assert status == "failed" and "generator" in message


def test_untruncated_he_is_named():
    def kaiming(shape, generator=None):
        fan_in, _ = compute_fans(shape)
        return torch.empty(shape).normal_(0, math.sqrt(2.0 / fan_in), generator=generator)
    status, message = _status("8.3", kaiming)
    assert status == "failed" and "truncated" in message


def test_he_without_correction_is_named():
    def uncorrected(shape, generator=None):
        fan_in, _ = compute_fans(shape)
        sigma = math.sqrt(2.0 / fan_in)
        return torch.nn.init.trunc_normal_(torch.empty(shape), 0.0, sigma, -2 * sigma, 2 * sigma, generator=generator)
    status, message = _status("8.3", uncorrected)
    assert status == "failed" and "0.8796" in message


def test_keras_init_without_transpose_is_named():
    def reshaped(model, kernel_initializer):
        with torch.no_grad():
            for layer in model.modules():
                if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                    w = layer.weight
                    if w.dim() == 2:
                        shape = (w.shape[1], w.shape[0])
                    else:
                        shape = (w.shape[2], w.shape[3], w.shape[1], w.shape[0])
                    w.copy_(kernel_initializer(shape).reshape(w.shape))
                    if layer.bias is not None:
                        layer.bias.zero_()
    status, message = _status("8.4", reshaped)
    assert status == "failed" and "wrong places" in message


def test_keras_init_keeping_biases_fails():
    def no_bias(model, kernel_initializer):
        with torch.no_grad():
            for layer in model.modules():
                if isinstance(layer, torch.nn.Linear):
                    layer.weight.copy_(kernel_initializer(tuple(layer.weight.T.shape)).T)
                elif isinstance(layer, torch.nn.Conv2d):
                    out, inp, h, w = layer.weight.shape
                    layer.weight.copy_(kernel_initializer((h, w, inp, out)).permute(3, 2, 0, 1))
    status, message = _status("8.4", no_bias)
    assert status == "failed" and "zeros" in message


# -- Section 8: questions 8.5 and 8.6, planted-bug task 8.7 --------------------------------------
import time  # noqa: E402

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_full_marks_and_zero, assert_stub_not_implemented, question_verdicts)


def sgd_from(x, y, budget, W0):
    """The notebook's train_buggy / train_fixed: plain SGD (lr 0.5, batches of 100) from W0, five passes."""
    start = time.monotonic()
    W = W0.clone().requires_grad_()
    b = torch.zeros(10, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        for idx in torch.randperm(len(x), generator=g).split(100):
            torch.nn.functional.cross_entropy(x[idx] @ W + b, y[idx]).backward()
            with torch.no_grad():
                for p in (W, b):
                    p -= 0.5 * p.grad
                    p.grad = None
        if time.monotonic() - start > 0.5 * budget:
            break
    return W.detach(), b.detach()


@pytest.mark.parametrize("eid, right, wrong, why", [("8.5", "a", "b", "symmetry"), ("8.6", 0.05, 0.0025, "√400")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and "不是正确答案" in zh


def test_question_8_5_key_agrees_with_training_a_constant_network():
    g = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.fill_(0.01)
            layer.bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(50):
        x, y = torch.randn(32, 20, generator=g), torch.randint(0, 3, (32,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    hidden = model[0].weight.detach()                                  # (16, 20): one row per hidden unit
    assert not torch.allclose(hidden[0], torch.full((20,), 0.01))      # it trained
    assert torch.allclose(hidden, hidden[0].expand_as(hidden))        # every unit still the same
    assert question_verdicts("8.5", "a", "b")[1] == "passed"


def test_question_8_6_key_keeps_the_variance_at_one():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20000, 400, generator=g, dtype=torch.float64)
    w = torch.randn(400, 200, generator=g, dtype=torch.float64) * 0.05
    assert abs(float((x @ w).var()) - 1.0) < 0.05
    assert question_verdicts("8.6", 0.05, 0.0)[1] == "passed"


def test_outcome_8_7_fixed_reaches_the_target_and_the_planted_bug_does_not():
    fixed = lambda x, y, budget: sgd_from(x, y, budget, torch.zeros(784, 10))  # noqa: E731
    buggy = lambda x, y, budget: sgd_from(  # noqa: E731
        x, y, budget, torch.randn(784, 10, generator=torch.Generator().manual_seed(1)))
    assert_bug_fails_and_fix_passes("8.7", buggy, fixed, seconds=None, practice=True)


def test_outcome_8_7_stub_is_not_implemented():
    assert_stub_not_implemented("8.7")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    assert_full_marks_and_zero("08_initialization.ipynb")

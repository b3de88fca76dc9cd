"""Lesson 07's checks pass the reference solutions and fail planted mistakes with a useful message."""
import math

import pytest
import torch

from course.exercises import run_checks
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

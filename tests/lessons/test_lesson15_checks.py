"""Lesson 15's checks pass the reference solutions and fail planted mistakes with a useful message."""
import pytest
import torch
import torch.nn.functional as F

from course.exercises import run_checks
from lesson_status import status as _status


def magnitude_masks(weights, amount):
    magnitudes = torch.cat([w.abs().reshape(-1) for w in weights])
    k = round(amount * magnitudes.numel())
    if k == 0:
        return [torch.ones_like(w) for w in weights]
    threshold = magnitudes.kthvalue(k).values
    return [(w.abs() > threshold).float() for w in weights]


def quantize_per_row(w):
    s = w.abs().amax(dim=1) / 127
    return torch.clamp(torch.round(w / s[:, None]), -127, 127).to(torch.int8), s


def distillation_loss(z_s, z_t, y, *, temperature=4.0, alpha=0.9):
    T = temperature
    soft = F.kl_div(F.log_softmax(z_s / T, -1), F.softmax(z_t / T, -1), reduction="batchmean")
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(z_s, y)


@pytest.mark.parametrize("eid, fn", [("15.1", magnitude_masks), ("15.2", quantize_per_row),
                                     ("15.3", distillation_loss)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


def test_per_layer_pruning_is_named():
    def per_layer(weights, amount):
        out = []
        for w in weights:
            k = round(amount * w.numel())
            out.append(torch.ones_like(w) if k == 0 else (w.abs() > w.abs().reshape(-1).kthvalue(k).values).float())
        return out
    status, message = _status("15.1", per_layer)
    assert status == "failed" and "TOGETHER" in message


def test_truncation_and_float_storage_are_named():
    def truncating(w):
        s = w.abs().amax(dim=1) / 127
        return torch.trunc(w / s[:, None]).to(torch.int8), s
    status, message = _status("15.2", truncating)
    assert status == "failed" and "ROUND" in message

    def float_q(w):
        q, s = quantize_per_row(w)
        return q.float(), s
    status, message = _status("15.2", float_q)
    assert status == "failed" and "int8" in message


def test_missing_t_squared_and_detached_loss_are_named():
    def no_t2(z_s, z_t, y, *, temperature=4.0, alpha=0.9):
        T = temperature
        soft = F.kl_div(F.log_softmax(z_s / T, -1), F.softmax(z_t / T, -1), reduction="batchmean")
        return alpha * soft + (1 - alpha) * F.cross_entropy(z_s, y)
    status, message = _status("15.3", no_t2)
    assert status == "failed" and "T²" in message

    def detached(z_s, z_t, y, *, temperature=4.0, alpha=0.9):
        return distillation_loss(z_s, z_t, y, temperature=temperature, alpha=alpha).detach()
    status, message = _status("15.3", detached)
    assert status == "failed" and "differentiable" in message

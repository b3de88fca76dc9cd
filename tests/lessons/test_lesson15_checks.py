"""Lesson 15's checks pass the reference solutions and fail planted mistakes with a useful message."""
import pytest
import torch
import torch.nn.functional as F

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


# -- Check your understanding: questions 15.4 and 15.5, the planted-bug task 15.6 -------------------
import io  # noqa: E402
import zlib  # noqa: E402

import torch.nn.utils.prune  # noqa: E402

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_stub_not_implemented, question_verdicts, sgd_softmax)


@pytest.mark.parametrize("eid, right, wrong, why", [("15.4", "c", "a", "float32"), ("15.5", 0.001, 0.002, "0.002")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def test_question_15_4_key_pruned_float32_file_keeps_its_size_until_compressed():
    torch.manual_seed(0)
    dense = torch.nn.Linear(300, 300)
    pruned = torch.nn.Linear(300, 300)
    pruned.load_state_dict(dense.state_dict())
    torch.nn.utils.prune.global_unstructured([(pruned, "weight")], pruning_method=torch.nn.utils.prune.L1Unstructured,
                                             amount=0.9)                      # independent: torch's own pruning
    torch.nn.utils.prune.remove(pruned, "weight")

    def saved(module):
        buf = io.BytesIO()
        torch.save(module.state_dict(), buf)
        return buf.getvalue()
    assert abs(len(saved(pruned)) - len(saved(dense))) < 100                # same size stored as float32
    assert len(zlib.compress(saved(pruned))) < 0.3 * len(zlib.compress(saved(dense)))
    assert question_verdicts("15.4", "c", "b")[1] == "passed"


def test_question_15_5_key_is_the_largest_rounding_error_of_int8():
    row = torch.linspace(-0.254, 0.254, 200001, dtype=torch.float64)          # every value the row may hold
    s = row.abs().max() / 127
    error = float((torch.round(row / s).clamp(-127, 127) * s - row).abs().max())
    assert question_verdicts("15.5", round(error, 6), 0.0)[1] == "passed"


def _train_pruned(x, y, budget, *, signed=False, amount=0.7):
    W, b = sgd_softmax(x, y, budget)
    k = int(amount * W.numel())
    scores = W if signed else W.abs()                                         # the planted bug: signed values
    return W * (scores > scores.flatten().kthvalue(k).values), b


def test_outcome_15_6_fixed_script_reaches_the_target_and_the_planted_bug_does_not():
    fixed = lambda x, y, budget: _train_pruned(x, y, budget)  # noqa: E731
    buggy = lambda x, y, budget: _train_pruned(x, y, budget, signed=True)  # noqa: E731
    W, _ = fixed(torch.rand(200, 784), torch.randint(0, 10, (200,)), 0.1)
    assert float((W == 0).double().mean()) == pytest.approx(0.7, abs=1e-3)
    assert_bug_fails_and_fix_passes("15.6", buggy, fixed, practice=True)


def test_outcome_15_6_stub_is_not_implemented():
    assert_stub_not_implemented("15.6")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    from lesson_outcome import assert_full_marks_and_zero
    assert_full_marks_and_zero("15_export_and_optimization.ipynb")

"""Lesson 13's checks pass reference solutions and fail planted mistakes with a useful message."""
import os
import tempfile

import numpy as np
import pytest
import torch

from lesson_status import status as _status


def roundtrip_max_diff(model, x, path):
    from course.tf.keras.models import load_model
    model.save(path)
    loaded = load_model(path)
    return float(np.abs(model.predict(x, verbose=0) - loaded.predict(x, verbose=0)).max())


def atomic_save(path, write):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)


def load_checkpoint(path, model, optimizer):
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["epoch"]


@pytest.mark.parametrize("eid, fn", [("13.1", roundtrip_max_diff), ("13.2", atomic_save), ("13.3", save_checkpoint),
                                     ("13.4", load_checkpoint)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


def _save_only(model, x, path):
    model.save(path)
    return 0.0


def _compare_with_itself(model, x, path):
    from course.tf.keras.models import load_model
    model.save(path)
    load_model(path)
    return float(np.abs(model.predict(x, verbose=0) - model.predict(x, verbose=0)).max())


def _direct(path, write):
    write(path)


def _tmp_elsewhere(path, write):
    fd, tmp = tempfile.mkstemp()
    os.close(fd)
    write(tmp)
    os.replace(tmp, path)


def _swallows(path, write):
    try:
        atomic_save(path, write)
    except RuntimeError:
        pass


def _leaves_tmp(path, write):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    os.close(fd)
    write(tmp)
    os.replace(tmp, path)


def _whole_objects(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model": model, "optimizer": optimizer}, path)


def _model_only(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": {}}, path)


def _no_optimizer(path, model, optimizer):
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    return state["epoch"]


def _unsafe(path, model, optimizer):
    state = torch.load(path, weights_only=False)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["epoch"]


@pytest.mark.parametrize("eid, fn, hint", [
    ("13.1", _save_only, "never loaded"),
    ("13.1", _compare_with_itself, "LOADED"),
    ("13.2", _direct, "passed `path` itself"),
    ("13.2", _tmp_elsewhere, "file system"),
    ("13.2", _swallows, "swallowed"),
    ("13.2", _leaves_tmp, "left behind"),
    ("13.3", _whole_objects, "weights_only"),
    ("13.3", _model_only, "'optimizer'"),
    ("13.4", _no_optimizer, "optimizer's state"),
    ("13.4", _unsafe, "weights_only=True"),
    ("13.4", lambda path, model, optimizer: load_checkpoint(path, model, optimizer) + 1, "return 3"),
])
def test_planted_mistakes_fail_with_a_hint(eid, fn, hint):
    status, message = _status(eid, fn)
    assert status == "failed", (status, message)
    assert hint in message, message


def test_unsolved_exercises_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for eid in ("13.1", "13.2", "13.3", "13.4"):
        assert _status(eid, stub)[0] == "not implemented"


# -- Check your understanding: questions 13.5 and 13.6, planted bug 13.7 ---------------------------
import io  # noqa: E402
import time  # noqa: E402

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_full_marks_and_zero, assert_stub_not_implemented,
    question_verdicts)


@pytest.mark.parametrize("eid, right, wrong, why", [("13.5", "b", "a", "load_weights"),
                                                    ("13.6", 300000, 200000, "3 *")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def test_question_13_6_key_counts_torch_adam_state():
    """The weights plus torch.optim.Adam's state tensors after one step, for 100,000 parameters."""
    w = torch.nn.Parameter(torch.zeros(100_000))
    opt = torch.optim.Adam([w])
    w.sum().backward()
    opt.step()
    state = opt.state_dict()["state"][0]
    count = w.numel() + sum(t.numel() for k, t in state.items() if k != "step")
    _, good, _ = question_verdicts("13.6", count, 0)
    assert good == "passed"


def _train_and_reload(transpose):
    def train(x, y, budget):
        start = time.monotonic()
        torch.manual_seed(0)
        net = torch.nn.Linear(784, 10)
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        g = torch.Generator().manual_seed(0)
        steps = 0
        while steps < 60 or time.monotonic() - start < 0.5 * budget:
            for idx in torch.randperm(len(x), generator=g).split(100):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
                opt.step()
                steps += 1
                if steps >= 60 and time.monotonic() - start > 0.5 * budget:
                    break
        buffer = io.BytesIO()
        torch.save(net.state_dict(), buffer)
        buffer.seek(0)
        state = torch.load(buffer, weights_only=True)
        W = state["weight"].T if transpose else state["weight"].reshape(784, 10)
        return W, state["bias"]
    return train


def test_planted_bug_13_7_fails_and_the_fix_passes():
    assert_bug_fails_and_fix_passes("13.7", _train_and_reload(transpose=False),
                                    _train_and_reload(transpose=True))


def test_outcome_13_7_stub_is_not_implemented():
    assert_stub_not_implemented("13.7")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    assert_full_marks_and_zero("13_saving_and_loading.ipynb")

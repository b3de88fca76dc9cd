"""Lesson 13's checks pass reference solutions and fail planted mistakes with a useful message."""
import os
import tempfile

import numpy as np
import pytest
import torch

from course.exercises import run_checks
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

"""Lesson 09's checks pass reference solutions and fail planted mistakes with a useful message."""
import numpy as np
import pytest
import torch
from torch import nn

from course.exercises import run_checks
from lesson_status import status as _status


def preprocess(images, labels, num_classes=10):
    x = np.asarray(images).reshape(len(images), -1).astype(np.float32) / 255.0
    return x, np.eye(num_classes, dtype=np.float32)[np.asarray(labels)]


def preprocess_torch(images, labels, num_classes=10):
    x = torch.from_numpy(np.asarray(images)).reshape(len(images), -1).float() / 255.0
    return x, nn.functional.one_hot(torch.as_tensor(labels).long(), num_classes).float()


def build_mlp(hidden=128, dropout=0.2, num_classes=10, *, rate=None, input_shape=(28, 28)):
    from course.tf.keras import layers, models
    first = layers.Flatten(input_shape=input_shape) if input_shape else layers.Flatten()
    return models.Sequential([first, layers.Dense(hidden, activation="relu"),
                              layers.Dropout(dropout if rate is None else rate),
                              layers.Dense(num_classes, activation="softmax")])


def confusion(y_true, y_pred, num_classes=10):
    counts = torch.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)
    return (y_true == y_pred).float().mean().item(), counts


def torch_mlp(hidden=128, dropout=0.2, num_classes=10):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, num_classes))


@pytest.mark.parametrize("eid, fn", [("9.1", preprocess), ("9.1", preprocess_torch), ("9.2", build_mlp),
                                     ("9.3", confusion), ("9.4", torch_mlp)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


@pytest.mark.parametrize("eid, fn, hint", [
    ("9.1", lambda im, lb, c=10: (im.reshape(len(im), -1).astype(np.float32), preprocess(im, lb, c)[1]), "255"),
    ("9.1", lambda im, lb, c=10: (im.reshape(len(im), -1) / 255.0, preprocess(im, lb, c)[1]), "float32"),
    ("9.1", lambda im, lb, c=10: (preprocess(im, lb, c)[0], lb), "one-hot"),
    ("9.1", lambda im, lb, c=10: (im.astype(np.float32) / 255, preprocess(im, lb, c)[1]), "flatten"),
    ("9.2", lambda hidden=128, dropout=0.2, num_classes=10: build_mlp(hidden, dropout, num_classes,
                                                                      rate=1 - dropout), "keep_prob"),
    ("9.2", lambda hidden=128, dropout=0.2, num_classes=10: build_mlp(hidden, dropout, num_classes,
                                                                      input_shape=None), "input_shape"),
    ("9.2", lambda hidden=128, dropout=0.2, num_classes=10: torch_mlp(hidden, dropout, num_classes), "torch"),
    ("9.3", lambda t, p, c=10: (confusion(t, p, c)[0], confusion(t, p, c)[1].T), "transposed"),
    ("9.3", lambda t, p, c=10: (100 * confusion(t, p, c)[0], confusion(t, p, c)[1]), "percentage"),
    ("9.3", lambda t, p, c=10: (confusion(t, p, c)[0], confusion(t, p, c)[1].numpy()), "torch.Tensor"),
    ("9.4", lambda hidden=128, dropout=0.2, num_classes=10: nn.Sequential(torch_mlp(hidden, dropout, num_classes),
                                                                          nn.Softmax(dim=1)), "logits"),
    ("9.4", lambda hidden=128, dropout=0.2, num_classes=10: nn.Sequential(
        *list(torch_mlp(hidden, dropout, num_classes))[1:]), "Flatten"),
    ("9.4", lambda hidden=128, dropout=0.2, num_classes=10: torch_mlp(hidden, 1 - dropout, num_classes), "keep_prob"),
    ("9.4", lambda hidden=128, dropout=0.2, num_classes=10: nn.Sequential(
        nn.Flatten(), nn.Linear(784, hidden), nn.Dropout(dropout), nn.Linear(hidden, num_classes)), "ReLU"),
])
def test_planted_mistakes_fail_with_a_hint(eid, fn, hint):
    status, message = _status(eid, fn)
    assert status == "failed", (status, message)
    assert hint in message, message


def test_unsolved_exercises_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for eid in ("9.1", "9.2", "9.3", "9.4"):
        assert _status(eid, stub)[0] == "not implemented"

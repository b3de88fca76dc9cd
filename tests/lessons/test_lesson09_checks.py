"""Lesson 09's checks pass reference solutions and fail planted mistakes with a useful message."""
import numpy as np
import pytest
import torch
from torch import nn

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


# -- Section 9: questions 9.5 and 9.6, planted-bug task 9.7 --------------------------------------
import time  # noqa: E402

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_full_marks_and_zero, assert_stub_not_implemented, question_verdicts)


def shuffled_loop(x, y, budget, *, shuffle_labels=True):
    """The notebook's train_fixed (and, with shuffle_labels=False, train_buggy): five passes."""
    start = time.monotonic()
    W = torch.zeros(784, 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        order = torch.randperm(len(x), generator=g)
        x, y = x[order], (y[order] if shuffle_labels else y)
        for i in range(0, len(x), 100):
            optimizer.zero_grad()
            loss_fn(x[i:i + 100] @ W + b, y[i:i + 100]).backward()
            optimizer.step()
        if time.monotonic() - start > 0.5 * budget:
            break
    return W.detach(), b.detach()


@pytest.mark.parametrize("eid, right, wrong, why", [("9.5", 203530, 101770, "200 960"), ("9.6", 2346, 2343, "782")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def test_question_keys_agree_with_torch():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    assert question_verdicts("9.5", sum(p.numel() for p in mlp.parameters()), 0)[1] == "passed"
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(50000, 1)), batch_size=64)
    assert question_verdicts("9.6", 3 * len(loader), 0)[1] == "passed"


def test_outcome_9_7_fixed_reaches_the_target_and_the_planted_bug_does_not():
    buggy = lambda x, y, budget: shuffled_loop(x, y, budget, shuffle_labels=False)  # noqa: E731
    assert_bug_fails_and_fix_passes("9.7", buggy, shuffled_loop, seconds=None, practice=True)


def test_outcome_9_7_stub_is_not_implemented():
    assert_stub_not_implemented("9.7")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    assert_full_marks_and_zero("09_mlp_mnist.ipynb")

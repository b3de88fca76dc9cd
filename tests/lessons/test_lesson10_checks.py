"""Lesson 10's checks pass reference solutions and fail planted mistakes with a useful message; the
check's early-stopping rule agrees with the Keras-style EarlyStopping callback."""
import pytest
import torch
from torchvision.transforms import v2

from course.exercises import run_checks
from course.exercises.lesson10 import _EARLY_CASES, _early_stopping_reference
from lesson_status import status as _status


def l2_penalty(weights, l2=0.01):
    return l2 * sum((w ** 2).sum() for w in weights)


def dropout_forward(x, rate, training=True):
    if not training or rate == 0:
        return x
    return x * (torch.rand_like(x) >= rate) / (1 - rate)


def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, wait = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        if best is None or loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
            continue
        wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def augment_batch(images, degrees=10.0, translate=0.1):
    t = v2.RandomAffine(degrees=degrees, translate=(translate, translate))
    return torch.stack([t(image[None])[0] for image in images])


@pytest.mark.parametrize("eid, fn", [("10.1", l2_penalty), ("10.2", dropout_forward), ("10.3", early_stopping),
                                     ("10.4", augment_batch)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


def _batch_transform(images, degrees=10.0, translate=0.1):
    t = v2.RandomAffine(degrees=degrees, translate=(translate, translate))
    return t(images[:, None])[:, 0]


@pytest.mark.parametrize("eid, fn, hint", [
    ("10.1", lambda ws, l2=0.01: l2 * sum((w ** 2).sum() for w in ws) / 2, "l2_loss"),
    ("10.1", lambda ws, l2=0.01: l2 * sum((w ** 2).mean() for w in ws), "MEAN"),
    ("10.1", lambda ws, l2=0.01: l2 * sum(w.norm() for w in ws), "norm"),
    ("10.1", lambda ws, l2=0.01: l2 * (ws[0] ** 2).sum(), "first tensor"),
    ("10.1", lambda ws, l2=0.01: l2 * sum((w ** 2).sum().item() for w in ws), "autograd"),
    ("10.2", lambda x, rate, training=True: dropout_forward(x, 1 - rate, training), "keep_prob"),
    ("10.2", lambda x, rate, training=True: x * (torch.rand_like(x) >= rate) if training else x, "(1 - rate)"),
    ("10.2", lambda x, rate, training=True: x * (torch.rand_like(x) >= rate) if training else x * (1 - rate),
     "inference"),
    ("10.2", lambda x, rate, training=True: dropout_forward(x, rate, True), "training=False"),
    ("10.3", lambda v, p, d=0.0: tuple(e + 1 for e in early_stopping(v, p, d)), "from 0"),
    ("10.3", lambda v, p, d=0.0: early_stopping(v, p + 1, d), "in a row"),
    ("10.3", lambda v, p, d=0.0: early_stopping(v, p, 0.0), "min_delta"),
    ("10.4", _batch_transform, "ONE set"),
    ("10.4", lambda im, degrees=10.0, translate=0.1: torch.stack(
        [v2.RandomAffine(degrees=degrees, translate=(translate, translate))(i[None]) for i in im]), "channel axis"),
    ("10.4", lambda im, degrees=10.0, translate=0.1: augment_batch(im, degrees, 3 * translate), "3 pixels"),
])
def test_planted_mistakes_fail_with_a_hint(eid, fn, hint):
    status, message = _status(eid, fn)
    assert status == "failed", (status, message)
    assert hint in message, message


class _FakeModel:
    stop_training = False

    def get_weights(self):
        return []

    def set_weights(self, weights):
        pass


@pytest.mark.parametrize("losses, patience, min_delta", _EARLY_CASES)
def test_reference_rule_agrees_with_the_callback(losses, patience, min_delta):
    from course.keras.callbacks import EarlyStopping
    cb = EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta, restore_best_weights=True)
    model = _FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    last = len(losses) - 1
    for epoch, value in enumerate(losses):
        cb.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            last = epoch
            break
    assert _early_stopping_reference(losses, patience, min_delta) == (last, cb.best_epoch)


def test_unsolved_exercises_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for eid in ("10.1", "10.2", "10.3", "10.4"):
        assert _status(eid, stub)[0] == "not implemented"


# -- Check your understanding: questions 10.5 and 10.6, planted bug 10.7 ---------------------------

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_full_marks_and_zero, assert_stub_not_implemented,
    question_verdicts, sgd_softmax)


@pytest.mark.parametrize("eid, right, wrong, why", [("10.5", "b", "a", "0.75"), ("10.6", 0.998, 0.98, "2 * lambda")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def test_question_keys_agree_with_torch():
    """10.5: torch's Dropout(0.25) on 2.0s outputs 0 and 2.667 (choice b); 10.6: one torch.optim.SGD step
    (lr 0.1) on Keras' L2(0.01) penalty alone multiplies a weight by 0.998."""
    torch.manual_seed(0)
    values = {round(v, 3) for v in torch.nn.Dropout(0.25).train()(torch.full((1000,), 2.0)).tolist()}
    assert values == {0.0, 2.667}
    _, good, _ = question_verdicts("10.5", "b", "a")
    assert good == "passed"
    w = torch.nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.SGD([w], lr=0.1)
    (0.01 * (w ** 2).sum()).backward()
    opt.step()
    _, good, _ = question_verdicts("10.6", float(w), 0.0)
    assert good == "passed"


def _flip(xb, g):
    images = xb.reshape(-1, 28, 28)
    flip = torch.rand(len(xb), generator=g) < 0.5
    return torch.where(flip[:, None, None], images.flip(-1), images).reshape(-1, 784)


def test_planted_bug_10_7_fails_and_the_fix_passes():
    assert_bug_fails_and_fix_passes("10.7", lambda x, y, budget: sgd_softmax(x, y, budget, prep=_flip),
                                    lambda x, y, budget: sgd_softmax(x, y, budget, prep=lambda xb, g: xb))


def test_outcome_10_7_stub_is_not_implemented_and_practice_is_recorded():
    assert_stub_not_implemented("10.7")
    assert run_checks("10.7", lambda x, y, budget: (torch.zeros(784, 10), torch.zeros(10))).status == "recorded"


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    assert_full_marks_and_zero("10_regularization.ipynb")

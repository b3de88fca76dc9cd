"""Shared by the lesson-check tests: the questions and outcome tasks graded with the instructor's
checks file (solutions/instructor_checks.py)."""
import contextlib
import time
from pathlib import Path

import torch

from course.exercises import registry, run_checks
from course.exercises.outcome import outcome_settings

INSTRUCTOR = Path(__file__).resolve().parents[2] / "solutions" / "instructor_checks.py"


@contextlib.contextmanager
def instructor(seconds=None):
    """The instructor's keys and targets loaded (undone afterwards); `seconds` shortens every
    outcome budget (the target stays the instructor's)."""
    with registry.isolated():
        registry.load_checks_file(INSTRUCTOR)
        if seconds is not None:
            for exercise_id in registry.exercise_ids():
                values = registry.settings(exercise_id)
                if "target" in values:
                    outcome_settings(exercise_id, **{**values, "seconds": seconds})
        yield


def sgd_softmax(x, y, budget, *, shuffle=True, loss_fn=None, min_steps=60, prep=None):
    """The lessons' reference trainer: plain SGD (lr 0.5, batches of 100) on a linear softmax
    classifier, 60 steps at least, then until half the budget. `prep(batch, generator)` transforms each
    batch first (the planted bugs of lessons 10 and 11)."""
    start = time.monotonic()
    W = torch.zeros(784, 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    loss_fn = loss_fn or (lambda z, t: torch.nn.functional.cross_entropy(z, t))
    steps = 0
    while steps < min_steps or time.monotonic() - start < 0.5 * budget:
        order = torch.randperm(len(x), generator=g) if shuffle else torch.arange(len(x))
        for idx in order.split(100):
            xb = x[idx] if prep is None else prep(x[idx], g)
            loss_fn(xb @ W + b, y[idx]).backward()
            with torch.no_grad():
                for p in (W, b):
                    p -= 0.5 * p.grad
                    p.grad = None
            steps += 1
            if steps >= min_steps and time.monotonic() - start > 0.5 * budget:
                break
    return W.detach(), b.detach()


def question_verdicts(exercise_id, right, wrong):
    """(status without a key, status of the right answer, (status, message) of the wrong one)."""
    keyless = run_checks(exercise_id, lambda: right).status
    with instructor():
        good = run_checks(exercise_id, lambda: right).status
        bad = run_checks(exercise_id, lambda: wrong)
    return keyless, good, (bad.status, bad.message, bad.text("zh"))


def assert_full_marks_and_zero(notebook):
    """The solution of `notebook` (a file name in solutions/) grades full marks with the instructor's
    file, and its student edition in lessons/ zero out of the same maximum."""
    from course.exercises.grader import grade_notebook
    root = INSTRUCTOR.parents[1]
    full = grade_notebook(root / "solutions" / notebook, checks_file=INSTRUCTOR, timeout=600)
    assert full.total == full.max > 0, full.to_text()
    empty = grade_notebook(root / "lessons" / notebook, checks_file=INSTRUCTOR, timeout=600)
    assert (empty.total, empty.max) == (0, full.max), empty.to_text()


def assert_stub_not_implemented(exercise_id):
    """The student edition's train(x, y, budget) stub reads as 'not implemented', not as a failure."""
    def stub(x, y, budget):
        raise NotImplementedError()
    assert run_checks(exercise_id, stub).status == "not implemented"


def assert_bug_fails_and_fix_passes(exercise_id, buggy, fixed, seconds=4, *, practice=False):
    """With the instructor's target and a short budget (`seconds`; None: the instructor's own), the
    planted bug (one train function, or a list of them) scores below it and the fix passes.
    practice=True: first, without the instructor's file, the fix's practice run is only recorded."""
    if practice:
        assert run_checks(exercise_id, fixed).status == "recorded"
    with instructor(seconds=seconds):
        for bug in buggy if isinstance(buggy, (list, tuple)) else [buggy]:
            result = run_checks(exercise_id, bug)
            assert result.status == "failed" and "below the target" in result.message, result.message
        result = run_checks(exercise_id, fixed)
        assert result.status == "passed", result.message

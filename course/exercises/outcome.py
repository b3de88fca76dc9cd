"""Open-ended outcome tasks: reach a target test accuracy within a time budget.

The learner writes `train(x, y, budget)`: `x` holds MNIST training images as float32 (n, 784) in
[0, 1], `y` their int64 labels (n,), `budget` the seconds it may run. It returns the weights of a
linear softmax classifier, `(W, b)` with W (784, 10) and b (10,) (tensors or arrays; a dict
{"W": ..., "b": ...} works too). The lesson may hand the learner a working function to improve, or
one with a planted bug to find: the grade is the outcome either way.

The check runs on the trusted side. It builds the training data on the learner's side as a fixture
(not timed), calls `train` with the budget under `remote.time_limit`, so the grader's kernel stops
a `train` that overruns (then: zero points and a message saying so), and it evaluates the returned
weights itself, on MNIST test images it loads in its own process: `argmax(x @ W + b)` against the
labels. The learner's code is never handed the held-out data and never reports its own accuracy.
(MNIST is public, though: code that loads its test images on purpose and fits them would score; the
outcome grade measures a result, and a reviewer reading the code still catches that.)

The target, the budget and the data sizes are the instructor's (their checks file)::

    from course.exercises.outcome import outcome_settings
    outcome_settings("3.11", target=0.85, seconds=20, n_train=5000, n_test=2000)

Without them (`check()` in a notebook) the task runs a practice round with the lesson's public
practice values and reports the accuracy reached as *recorded* (no points).
"""
from __future__ import annotations

import math
import time

from course.exercises import registry
from course.exercises.expect import CheckFailure, Recorded, describe, say
from course.exercises.fixtures import Fixture
from course.exercises.remote import CheckTimeout, current, time_limit

__all__ = ["outcome_task", "outcome_settings", "evaluate", "GRACE"]

_KEYS = ("target", "seconds", "n_train", "n_test", "train_start", "test_start")
GRACE = (2.0, 0.25)       # a train() may run seconds * (1 + 0.25) + 2 s before it is stopped


def _limit(seconds: float) -> float:
    return seconds * (1 + GRACE[1]) + GRACE[0]


def outcome_settings(exercise_id: str, *, target: float, seconds: float, n_train: int = 5000, n_test: int = 2000,
                     train_start: int = 0, test_start: int = 0) -> None:
    """The graded target accuracy (0-1), budget (seconds) and data of outcome task `exercise_id`, in
    an instructor's checks file."""
    if not 0 < target <= 1:
        raise ValueError(f"outcome_settings({exercise_id!r}, target=...) expects an accuracy in (0, 1]; got "
                         f"{target!r}.")
    if not 0 < seconds <= 300:
        raise ValueError(f"outcome_settings({exercise_id!r}, seconds=...) expects a budget in (0, 300] seconds; "
                         f"got {seconds!r}.")
    if not (0 < n_train and 0 < n_test and 0 <= train_start and train_start + n_train <= 60000
            and 0 <= test_start and test_start + n_test <= 10000):
        raise ValueError(f"outcome_settings({exercise_id!r}): the training slice must lie in MNIST's 60,000 "
                         f"training images and the test slice in its 10,000 test images; got train "
                         f"[{train_start}, {train_start + n_train}), test [{test_start}, {test_start + n_test}).")
    registry.configure(exercise_id, target=float(target), seconds=float(seconds), n_train=int(n_train),
                       n_test=int(n_test), train_start=int(train_start), test_start=int(test_start))


def _weights(got):
    """(W, b) as float64 torch tensors from what train() returned; CheckFailure if malformed."""
    import torch
    if isinstance(got, dict) and set(got) >= {"W", "b"}:
        got = (got["W"], got["b"])
    ok = isinstance(got, (tuple, list)) and len(got) == 2
    if ok:
        try:
            W, b = (torch.as_tensor(t).detach().to(torch.float64) for t in got)
        except Exception:
            ok = False
    if not ok or tuple(W.shape) != (784, 10) or tuple(b.shape) != (10,):
        raise CheckFailure(en=f"train(x, y, budget) should return (W, b) with W of shape (784, 10) and b of shape "
                              f"(10,) (tensors or arrays), or {{'W': W, 'b': b}}; got {describe(got)}.",
                           zh=f"train(x, y, budget) 应返回 (W, b)，其中 W 的形状为 (784, 10)，b 的形状为 (10,)"
                              f"（张量或数组），或者 {{'W': W, 'b': b}}；得到的是 {describe(got, lang='zh')}。")
    if not (torch.isfinite(W).all() and torch.isfinite(b).all()):
        raise CheckFailure(en="train(x, y, budget) returned weights with NaN or inf: training diverged (a learning "
                              "rate too large, or unnormalised inputs?).",
                           zh="train(x, y, budget) 返回的权重中有 NaN 或 inf：训练发散了（学习率太大，"
                              "还是输入没有归一化？）。")
    return W, b


def evaluate(W, b, n_test: int, test_start: int = 0) -> float:
    """Test accuracy of argmax(x @ W + b) on MNIST test images [test_start, test_start + n_test),
    loaded here (the checks' process)."""
    import numpy as np
    import torch

    from course.data.mnist import load_mnist_numpy
    _, (images, labels) = load_mnist_numpy()
    x = torch.from_numpy(images[test_start:test_start + n_test].reshape(n_test, -1).astype(np.float64) / 255.0)
    y = torch.from_numpy(labels[test_start:test_start + n_test].astype(np.int64))
    return float(((x @ W + b).argmax(dim=1) == y).double().mean())


def outcome_task(exercise_id: str, *, name: str = "train", points: float = 3, order: str = "given",
                 practice: dict) -> None:
    """Declare outcome task `exercise_id`: the learner's `name(x, y, budget)` trained on MNIST images
    (in `order`: 'given' or 'sorted' by label), graded by the test accuracy of the weights it returns.
    `practice` holds the public values of `check()`'s practice round (the keys of outcome_settings)."""
    if order not in ("given", "sorted"):
        raise ValueError(f"outcome_task({exercise_id!r}, order=...) expects 'given' or 'sorted'; got {order!r}.")
    missing = [k for k in ("target", "seconds", "n_train", "n_test") if k not in practice]
    if missing:
        raise ValueError(f"outcome_task({exercise_id!r}, practice=...) needs {missing}.")

    def check_outcome(train):
        private = registry.settings(exercise_id)
        graded = "target" in private
        values = {"train_start": 0, "test_start": 0, **practice, **(private if graded else {})}
        target, seconds = float(values["target"]), float(values["seconds"])
        n_train, n_test = int(values["n_train"]), int(values["n_test"])
        transport = current()
        x = transport.make(Fixture("mnist_subset", "x", values["train_start"], n_train, order))
        y = transport.make(Fixture("mnist_subset", "y", values["train_start"], n_train, order))
        limit = _limit(seconds)
        call = f"{name}(x, y, budget={seconds:g})"
        start = time.monotonic()
        try:
            with time_limit(limit):
                got = train(x, y, seconds)
        except CheckTimeout:
            got, elapsed = None, math.inf
        else:
            elapsed = time.monotonic() - start
        if elapsed > limit:
            took = "was stopped" if elapsed == math.inf else f"took {elapsed:.1f} s"
            took_zh = "被停止了" if elapsed == math.inf else f"用了 {elapsed:.1f} 秒"
            raise CheckFailure(en=f"{call} {took}: past its budget of {seconds:g} s (the grader stops it at "
                                  f"{limit:.1f} s) and scores 0. Check the clock inside your loop (time.monotonic()) "
                                  f"and return the weights before the budget runs out.",
                               zh=f"{call} {took_zh}：超出了 {seconds:g} 秒的时间预算（评分程序在 {limit:.1f} 秒时"
                                  f"停止它），得 0 分。请在循环中查看时钟（time.monotonic()），在预算用完之前"
                                  f"返回权重。")
        W, b = _weights(got)
        accuracy = evaluate(W, b, n_test, int(values["test_start"]))
        reached = (f"{call} reached {accuracy:.1%} test accuracy on {n_test} held-out images in {elapsed:.1f} s "
                   f"(target {target:.0%})")
        reached_zh = (f"{call} 在 {n_test} 张留出的测试图像上达到 {accuracy:.1%} 的准确率，用时 {elapsed:.1f} 秒"
                      f"（目标 {target:.0%}）")
        if not graded:
            verdict = say("" if accuracy >= target else " — below the practice target", "" if accuracy >= target
                          else "——低于练习目标")
            raise Recorded(say(f"practice run: {reached}{verdict.en}. Your instructor's grading uses their own "
                               f"target and budget.",
                               f"练习运行：{reached_zh}{verdict.zh}。老师评分时使用他们自己的目标和时间预算。"))
        if accuracy < target:
            raise CheckFailure(en=f"{reached}: below the target.", zh=f"{reached_zh}：未达到目标。")
        return True

    check_outcome.__qualname__ = f"outcome_{exercise_id.replace('.', '_')}"
    registry.exercise(exercise_id, name=name, points=points)(check_outcome)

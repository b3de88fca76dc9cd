"""Shared by the lesson-check tests of lessons 03, 04 and 05: their "find and fix the bug" outcome
tasks (3.6, 4.7, 5.8) and a full grade of their solution and student editions with the instructor's file.

`trainer(lesson, buggy)` is the lesson's training function, written here independently of the notebook:
plain SGD (learning rate 0.5, batches of 100) on a linear softmax classifier, 60 steps at least, then
until half the budget; `buggy=True` plants the lesson's bug (3: softmax over the batch axis, 4: the
integer labels subtracted instead of their one-hot rows, 5: zero_grad() between backward() and step()).
"""
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _forward_softmax(dim):
    def step(W, b, xb, yb, opt):
        p = torch.softmax(xb @ W + b, dim=dim)
        (-torch.log(p[torch.arange(len(yb)), yb]).mean()).backward()
        with torch.no_grad():
            for v in (W, b):
                v -= 0.5 * v.grad
                v.grad = None
    return step


def _by_hand(one_hot):
    def step(W, b, xb, yb, opt):
        p = torch.softmax(xb @ W + b, dim=1)
        target = torch.nn.functional.one_hot(yb, 10) if one_hot else yb[:, None]
        dz = (p - target) / len(yb)
        W -= 0.5 * xb.T @ dz
        b -= 0.5 * dz.sum(dim=0)
    return step


def _optimizer(zero_first):
    def step(W, b, xb, yb, opt):
        if zero_first:
            opt.zero_grad()
        torch.nn.functional.cross_entropy(xb @ W + b, yb).backward()
        if not zero_first:
            opt.zero_grad()
        opt.step()
    return step


STEPS = {3: (_forward_softmax(1), _forward_softmax(0)), 4: (_by_hand(True), _by_hand(False)),
         5: (_optimizer(True), _optimizer(False))}


def trainer(lesson, buggy=False):
    step = STEPS[lesson][int(buggy)]

    def train(x, y, budget):
        start = time.monotonic()
        grad = lesson != 4
        W = torch.zeros(784, 10, requires_grad=grad)
        b = torch.zeros(10, requires_grad=grad)
        opt = torch.optim.SGD([W, b], lr=0.5) if lesson == 5 else None
        g = torch.Generator().manual_seed(0)
        steps = 0
        while steps < 60 or time.monotonic() - start < 0.5 * budget:
            for idx in torch.randperm(len(x), generator=g).split(100):
                step(W, b, x[idx], y[idx], opt)
                steps += 1
                if steps >= 60 and time.monotonic() - start > 0.5 * budget:
                    break
        return W.detach(), b.detach()
    return train


def grade_full_and_zero(name):
    """The solution grades full marks with the instructor's file, the student edition zero."""
    pytest.importorskip("ipykernel")
    from lesson_outcome import assert_full_marks_and_zero
    assert_full_marks_and_zero(f"{name}.ipynb")

"""Conceptual questions: multiple choice or a number, scored by the grader against a private key.

The package declares a question without its answer::

    question("3.9", name="answer_3_9", points=1, kind="choice", choices="abcd")

and the learner answers in a code cell, with a value or with a function returning it (the lessons
use the function form, so that the student edition's stub says "not implemented yet")::

    def answer_3_9():
        return "c"

The key lives in the instructor's checks file (`course grade --checks FILE`), never in the package
a learner installs nor in the learner's kernel::

    from course.exercises.questions import answer_key
    answer_key("3.9", "c", explain=("Why c is right ...", "为什么选 c……"))
    answer_key("3.10", 0.5, tol=1e-3)             # a number: |answer - key| <= tol (+ rel * |key|)

Without a key (`check()` in a notebook, or a grade without the instructor's file) a well-formed
answer is *recorded*: no points, and the message says the instructor grades it. A malformed answer
(not one of the choices, not a finite number) fails with a message saying what is expected.
"""
from __future__ import annotations

import math

from course.exercises import registry
from course.exercises.expect import CheckFailure, Recorded, describe, say
from course.exercises.language import Text
from course.exercises.remote import RemoteObject

__all__ = ["question", "answer_key", "KINDS"]

KINDS = ("choice", "number")


def _given(obj):
    """The learner's answer: the value itself, or what their function returns."""
    if isinstance(obj, RemoteObject) and obj._meta["callable"] and not obj.remote_is_class:
        return obj()
    return obj


def _normalise(exercise_id, kind, choices, value):
    if kind == "choice":
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        options = ", ".join(f'"{c}"' for c in choices)
        raise CheckFailure(en=f"Question {exercise_id} expects one of {options} (a string); got "
                              f"{describe(value)}.",
                           zh=f"问题 {exercise_id} 的答案应是 {options} 之一（字符串）；得到的是 "
                              f"{describe(value, lang='zh')}。")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        raise CheckFailure(en=f"Question {exercise_id} expects a finite number (an int or a float); got "
                              f"{describe(value)}.",
                           zh=f"问题 {exercise_id} 的答案应是一个有限的数（int 或 float）；得到的是 "
                              f"{describe(value, lang='zh')}。")
    return float(value)


def question(exercise_id: str, *, name: str, points: float = 1, kind: str = "choice", choices="abcd") -> None:
    """Declare question `exercise_id`: the learner defines `name` (a value or a function returning
    it); `kind` 'choice' (one of `choices`, letters compared case-blind) or 'number'."""
    if kind not in KINDS:
        raise ValueError(f"question({exercise_id!r}, kind=...) expects one of {KINDS}; got {kind!r}.")
    options = tuple(str(c).lower() for c in choices) if kind == "choice" else ()
    if kind == "choice" and len(options) < 2:
        raise ValueError(f"question({exercise_id!r}) needs at least two choices; got {choices!r}.")

    def check_answer(obj):
        answer = _normalise(exercise_id, kind, options, _given(obj))
        key = registry.settings(exercise_id)
        if "answer" not in key:
            shown = f'"{answer}"' if kind == "choice" else f"{answer:g}"
            raise Recorded(say(f"recorded: your answer is {shown}; your instructor's grading scores it.",
                               f"已记录：你的答案是 {shown}；由老师评分时给分。"))
        right = key["answer"]
        if kind == "choice":
            correct = answer == str(right).strip().lower()
        else:
            tol = float(key.get("tol", 0.0)) + float(key.get("rel", 0.0)) * abs(float(right))
            correct = abs(answer - float(right)) <= tol
        if correct:
            return True
        why = Text.of(key.get("explain") or "")
        shown = f'"{answer}"' if kind == "choice" else f"{answer:g}"
        raise CheckFailure(en=f"Question {exercise_id}: {shown} is not the answer. {why.en}".strip(),
                           zh=f"问题 {exercise_id}：{shown} 不是正确答案。{why.zh}".strip())

    check_answer.__qualname__ = f"question_{exercise_id.replace('.', '_')}"
    registry.exercise(exercise_id, name=name, points=points)(check_answer)


def answer_key(exercise_id: str, answer, *, tol: float = 0.0, rel: float = 0.0, explain=None) -> None:
    """The key of question `exercise_id`, in an instructor's checks file: a choice (a letter) or a
    number (right when |answer - key| <= tol + rel * |key|); `explain` (English, or (English,
    Chinese)) is shown with a wrong answer."""
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float)):
        raise ValueError(f"answer_key({exercise_id!r}, ...) expects a letter or a number; got {answer!r}.")
    if not (tol >= 0 and rel >= 0):
        raise ValueError(f"answer_key({exercise_id!r}, tol=..., rel=...) expects tolerances >= 0; got {tol!r}, "
                         f"{rel!r}.")
    text = None
    if explain is not None:
        text = Text(*explain) if isinstance(explain, (tuple, list)) else Text.of(explain)
    registry.configure(exercise_id, answer=answer, tol=float(tol), rel=float(rel), explain=text)

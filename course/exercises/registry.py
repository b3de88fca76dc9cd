"""The exercise registry: exercise id ("4.2") -> the checks that grade it.

A check is a function registered with `@exercise`; it receives the learner's object (found by
`name` in the notebook) and

- returns None or True: full points;
- returns a number in [0, points]: that many points (partial credit);
- raises `CheckFailure` (an AssertionError) or returns False: no points, the message says why.

Checks for lesson N live in `course/exercises/lessonNN.py` and are imported on first use. An
instructor may keep private checks in a separate file (`course grade --checks FILE`) that uses the
same decorator: a check for an existing id adds to that exercise (its points add to the maximum),
a new id adds an exercise to its lesson. The same file may `configure(id, ...)` an exercise's private
values (the answer key of a conceptual question, the target and budget of an outcome task:
course.exercises.questions, course.exercises.outcome); they live in the grader's process only.

Checks (and private checks files) run in the grader's process, never in the learner's kernel: the
learner's object arrives as plain data or as a `RemoteObject` (course.exercises.remote) whose calls
carry plain data. A checks file written for the earlier in-kernel grading keeps working unchanged
as long as its checks call the learner's object with plain data (numbers, strings, arrays, tensors,
lists, dicts); one that hands the learner's code a lambda, a model or another live object sends a
named `Fixture` instead (course.exercises.fixtures), or runs a `probe` there.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import re
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from course.exercises.language import say

__all__ = ["ID_RE", "Check", "exercise", "checks_for", "exercise_ids", "lesson_of", "load_lesson",
           "load_checks_file", "object_name", "max_points", "forbidden", "isolated", "sort_key", "configure",
           "settings"]

ID_RE = re.compile(r"^(\d+)\.(\d+)$")

_checks: dict[str, list["Check"]] = {}     # id -> checks, in registration order
_loaded_lessons: set[int] = set()
_origin: str = "package"                    # where registrations come from right now
_settings: dict[str, dict] = {}             # id -> an instructor's private values (answer keys, budgets)


@dataclass(frozen=True)
class Check:
    """One registered check of exercise `id`, worth `points`, applied to the object called `name`."""
    id: str
    name: str | None
    points: float
    func: Callable
    origin: str            # 'package' or the path of a private checks file
    forbid: object = None  # a course.exercises.forbidden.Forbid, or None

    @property
    def key(self):
        return (self.id, getattr(self.func, "__module__", None), getattr(self.func, "__qualname__", None),
                self.origin)


def sort_key(exercise_id: str):
    """Sort "1.10" after "1.9"."""
    m = ID_RE.match(exercise_id)
    return (int(m.group(1)), int(m.group(2))) if m else (10**9, exercise_id)


def lesson_of(exercise_id: str) -> int:
    """The lesson number of an id: lesson_of("4.2") == 4."""
    m = ID_RE.match(exercise_id)
    if m is None:
        # Raised in the learner's notebook (check("...")): said in the lesson's language.
        raise ValueError(say(f"Exercise ids look like '4.2' (lesson 4, exercise 2); got {exercise_id!r}.",
                             f"练习编号的格式是 '4.2'（第 4 课，第 2 题）；得到 {exercise_id!r}。").get())
    return int(m.group(1))


def exercise(id: str, *, name: str | None = None, points: float = 1, forbid=None):
    """Register the decorated function as a check of exercise `id`.

    `name` is the name of the learner's object the grader passes to the check (a function, class
    or value defined in the notebook); `points` is what passing the check is worth; `forbid` (a
    `course.exercises.forbidden.Forbid`) lists what the learner's code must not use.

    The check runs where the learner's code cannot reach it: it receives the learner's object as
    plain data or as a `course.exercises.remote.RemoteObject` whose calls go to the learner's side.
    """
    lesson_of(id)
    if name is not None and not str(name).isidentifier():
        raise ValueError(f"@exercise({id!r}, name=...) expects a Python identifier; got {name!r}.")
    if not points > 0:
        raise ValueError(f"@exercise({id!r}, points=...) expects a positive number; got {points!r}.")

    def register(func):
        if _origin != "package":            # a private check may extend a package exercise
            load_lesson(lesson_of(id))
        resolved = name
        if resolved is None:
            others = [c.name for c in _checks.get(id, []) if c.name]
            if not others:
                raise ValueError(f"@exercise({id!r}) needs name='...': the name of the object the learner "
                                 f"defines, e.g. @exercise({id!r}, name='scale_tensor', points=2).")
            resolved = others[0]
        new = Check(id=id, name=resolved, points=points, func=func, origin=_origin, forbid=forbid)
        existing = _checks.setdefault(id, [])
        existing[:] = [c for c in existing if c.key != new.key]     # re-registering replaces
        existing.append(new)
        return func

    return register


def load_lesson(lesson: int) -> bool:
    """Import course.exercises.lessonNN (once); False if that lesson has no checks module."""
    if lesson in _loaded_lessons:
        return True
    module = f"course.exercises.lesson{lesson:02d}"
    global _origin
    if importlib.util.find_spec(module) is None:
        return False
    previous, _origin = _origin, "package"      # also when a private checks file triggers the import
    try:
        importlib.import_module(module)
    finally:
        _origin = previous
    _loaded_lessons.add(lesson)
    return True


def load_checks_file(path: str | Path) -> list[str]:
    """Execute a private checks file; return the ids it registered checks for."""
    global _origin
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checks file {str(path)!r} does not exist; --checks expects a Python file "
                                f"that registers checks with @exercise.")
    before = {k: list(v) for k, v in _checks.items()}
    previous, _origin = _origin, str(path.resolve())
    try:
        runpy.run_path(str(path), run_name="__course_checks__")
    finally:
        _origin = previous
    return sorted({i for i, cs in _checks.items() if cs != before.get(i)}, key=sort_key)


def configure(exercise_id: str, **values) -> None:
    """Set private values of exercise `exercise_id` (an answer key, a target, a budget); called from an
    instructor's checks file, so the values live in the grader's process only, never in the package
    a learner installs nor in the learner's kernel. Later calls add to (and override) earlier ones."""
    lesson_of(exercise_id)
    _settings.setdefault(exercise_id, {}).update(values)


def settings(exercise_id: str) -> dict:
    """The private values set for `exercise_id` (a copy; empty when no checks file set any)."""
    return dict(_settings.get(exercise_id, {}))


def checks_for(exercise_id: str) -> list[Check]:
    """The registered checks of one exercise (its lesson's module is imported if needed)."""
    load_lesson(lesson_of(exercise_id))
    return list(_checks.get(exercise_id, []))


def exercise_ids(lesson: int | None = None) -> list[str]:
    """Registered exercise ids, sorted; only lesson `lesson`'s (imported if needed) when given."""
    if lesson is not None:
        load_lesson(lesson)
    ids = [i for i, cs in _checks.items() if cs and (lesson is None or lesson_of(i) == lesson)]
    return sorted(ids, key=sort_key)


def object_name(exercise_id: str) -> str | None:
    """The name of the object exercise `exercise_id` grades."""
    checks = checks_for(exercise_id)
    return checks[0].name if checks else None


def max_points(exercise_id: str) -> float:
    return sum(c.points for c in checks_for(exercise_id))


def forbidden(exercise_id: str):
    """What exercise `exercise_id`'s code must not use (all its checks' rules together), or None."""
    rules = [c.forbid for c in checks_for(exercise_id) if c.forbid is not None]
    if not rules:
        return None
    total = rules[0]
    for rule in rules[1:]:
        total = total + rule
    return total


@contextlib.contextmanager
def isolated():
    """Registrations made inside the block are undone when it ends (for private checks files)."""
    saved = {k: list(v) for k, v in _checks.items()}
    saved_settings = {k: dict(v) for k, v in _settings.items()}
    saved_lessons = set(_loaded_lessons)
    try:
        yield
    finally:
        # Lesson modules imported inside stay imported, so keep their registrations.
        for lesson in _loaded_lessons - saved_lessons:
            for i, cs in _checks.items():
                if lesson_of(i) == lesson:
                    saved.setdefault(i, [c for c in cs if c.origin == "package"])
        _checks.clear()
        _checks.update(saved)
        _settings.clear()
        _settings.update(saved_settings)

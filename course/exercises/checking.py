"""Run an exercise's checks against the learner's object and say how it went.

In a notebook, under an exercise::

    from course.exercises import check
    check("1.1", scale_tensor)        # ✓ Exercise 1.1 passed (2/2 points)

An unsolved exercise (the stub's `raise NotImplementedError()`) prints
"Exercise 1.1: not implemented yet" and does not raise, so the lesson runs top to bottom; any
other exception from the learner's code is reported with a short traceback, never raised. Each
result is also stored in `RESULTS` (kernel-global), and `grade_one` is what the grader runs in
the learner's kernel: the same code path as `check`.
"""
from __future__ import annotations

import json
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from course.exercises import registry
from course.exercises.expect import CheckFailure

__all__ = ["Result", "RESULTS", "check", "run_checks", "grade_one", "format_result"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)        # .../course
_MISSING = object()


@dataclass
class Result:
    """The outcome of one exercise: status is one of passed, partial, failed, not implemented,
    error, missing, no checks (and, from the grader, timeout, crashed)."""
    id: str
    points: float
    max: float
    status: str
    message: str

    def to_json(self) -> dict:
        return asdict(self)


RESULTS: dict[str, Result] = {}


def _number(x):
    return int(x) if float(x).is_integer() else round(float(x), 4)


def _is_stub(exc: BaseException) -> bool:
    """The lesson stub raises a bare NotImplementedError(); anything with a message is a real error
    (e.g. an operation the facade or torch does not support)."""
    return type(exc) is NotImplementedError and not str(exc)


def _learner_frames(tb, check_files: set[str]):
    """Traceback entries outside the course package and the checks: the learner's own code."""
    import sysconfig
    library = {sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")}
    frames = []
    for entry in traceback.extract_tb(tb):
        name = entry.filename
        if name in check_files or name.startswith(_PACKAGE_DIR) or any(name.startswith(p) for p in library):
            continue
        frames.append(entry)
    return frames


def _frame_label(filename: str) -> str:
    try:
        from IPython import get_ipython
        shell = get_ipython()
        if shell is not None:
            label = shell.compile.format_code_name(filename)
            if label:
                return " ".join(label)
    except Exception:
        pass
    return f"File {filename}"


def _short_traceback(frames, limit: int = 4) -> str:
    lines = []
    for entry in frames[-limit:]:
        lines.append(f"  {_frame_label(entry.filename)}, line {entry.lineno}, in {entry.name}")
        if entry.line:
            lines.append(f"    {entry.line.strip()}")
    return "\n".join(lines)


def _run_one(c: registry.Check, obj) -> tuple[float, str, str]:
    """(points, status, message) for one check."""
    check_files = {getattr(c.func, "__code__", None) and c.func.__code__.co_filename} - {None}
    try:
        verdict = c.func(obj)
    except NotImplementedError as exc:
        if _is_stub(exc):
            return 0, "not implemented", "not implemented yet"
        frames = _learner_frames(exc.__traceback__, check_files)
        return 0, "error", f"your code raised NotImplementedError: {exc}\n{_short_traceback(frames)}".rstrip()
    except AssertionError as exc:
        frames = _learner_frames(exc.__traceback__, check_files)
        if isinstance(exc, CheckFailure) or not frames:
            return 0, "failed", str(exc) or "a check failed (no details given)"
        return 0, "error", f"your code raised AssertionError: {exc}\n{_short_traceback(frames)}".rstrip()
    except Exception as exc:
        frames = _learner_frames(exc.__traceback__, check_files)
        head = f"{type(exc).__name__}: {exc}"
        if frames:
            return 0, "error", f"your code raised {head}\n{_short_traceback(frames)}"
        return 0, "failed", f"the check could not use your result: {head}"
    if verdict is None or verdict is True:
        return c.points, "passed", ""
    if verdict is False:
        return 0, "failed", "wrong result"
    if isinstance(verdict, (int, float)):
        earned = min(max(float(verdict), 0.0), float(c.points))
        return earned, "passed" if earned == c.points else "partial", ""
    raise TypeError(f"check {c.func.__qualname__} for exercise {c.id} returned {verdict!r}; "
                    f"a check returns None/True (pass), False (fail) or points earned.")


def run_checks(exercise_id: str, obj=_MISSING) -> Result:
    """Run every registered check of `exercise_id` on `obj`; store and return the Result."""
    checks = registry.checks_for(exercise_id)
    if not checks:
        result = Result(exercise_id, 0, 0, "no checks",
                        f"no checks are registered for exercise {exercise_id}; is the id right?")
        RESULTS[exercise_id] = result
        return result
    total = sum(c.points for c in checks)
    if obj is _MISSING:
        name = checks[0].name
        result = Result(exercise_id, 0, _number(total), "missing",
                        f"`{name}` is not defined in the notebook; exercise {exercise_id} expects it under "
                        f"that name (was it renamed or deleted, or its cell not run?)")
        RESULTS[exercise_id] = result
        return result
    earned, statuses, messages = 0.0, [], []
    for c in checks:
        points, status, message = _run_one(c, obj)
        earned += points
        statuses.append(status)
        if message and message not in messages:
            messages.append(message)
        if status == "not implemented":
            break
    if "not implemented" in statuses:
        status = "not implemented"
    elif all(s == "passed" for s in statuses):
        status = "passed"
    elif earned > 0:
        status = "partial"
    else:
        status = "error" if "error" in statuses else "failed"
    result = Result(exercise_id, _number(earned), _number(total), status, "\n".join(messages))
    RESULTS[exercise_id] = result
    return result


def format_result(r: Result) -> str:
    """The verdict line(s) a learner sees."""
    score = f"{r.points}/{r.max} points"
    if r.status == "passed":
        return f"✓ Exercise {r.id} passed ({score})"
    if r.status == "not implemented":
        return f"Exercise {r.id}: not implemented yet"
    if r.status == "partial":
        return f"~ Exercise {r.id}: {score}\n{r.message}".rstrip()
    return f"✗ Exercise {r.id} ({score}): {r.message}"


def check(exercise_id: str, obj=_MISSING) -> None:
    """Check the learner's answer to exercise `exercise_id` and print the verdict.

    `obj` is the function, class or value the exercise asks for; left out, it is looked up by the
    name the exercise expects in the caller's namespace.
    """
    registry.lesson_of(exercise_id)
    if obj is _MISSING:
        name = registry.object_name(exercise_id)
        namespace = sys._getframe(1).f_globals
        if name is not None and name in namespace:
            obj = namespace[name]
    print(format_result(run_checks(exercise_id, obj)))


_loaded_files: set[str] = set()


def grade_one(exercise_id: str, namespace: dict, nonce: str, checks_file: str | None = None) -> None:
    """Grader entry point inside the learner's kernel: check the object named by the registry and
    print one line `nonce + JSON(result)`."""
    if checks_file and checks_file not in _loaded_files:
        registry.load_checks_file(checks_file)
        _loaded_files.add(checks_file)
    name = registry.object_name(exercise_id)
    obj = namespace.get(name, _MISSING) if name else _MISSING
    result = run_checks(exercise_id, obj)
    sys.stdout.flush()
    print(nonce + json.dumps(result.to_json()), flush=True)

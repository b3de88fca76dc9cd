"""Run an exercise's checks against the learner's object and say how it went.

In a notebook, under an exercise::

    from course.exercises import check
    check("1.1", scale_tensor)        # ✓ Exercise 1.1 passed (2/2 points)

An unsolved exercise (the stub's `raise NotImplementedError()`) prints
"Exercise 1.1: not implemented yet" and does not raise, so the lesson runs top to bottom; any
other exception from the learner's code is reported with a short traceback, never raised. Each
result is also stored in `RESULTS`.

The checks never run inside the learner's code: they receive the learner's object through a
transport (`course.exercises.remote`) that carries only plain data. `check()` uses the driver in
the same process (advice for the learner); `course grade` uses the driver in the learner's kernel
and runs the checks, the comparisons and the points in its own process (the verdict). Both go
through `run_checks`, so advice and verdict agree.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

from course.exercises import language, registry, remote
from course.exercises.codec import CodecError
from course.exercises.expect import CheckFailure, Recorded
from course.exercises.language import Text, say
from course.exercises.forbidden import relevant_sources, violations
from course.exercises.seeding import seeded

__all__ = ["Result", "RESULTS", "check", "run_checks", "format_result"]

_MISSING = object()
_EMPTY = Text("", "")
_NOT_IMPLEMENTED = say("not implemented yet", "尚未实现")
_CRASHED = say("the kernel died while this exercise was checked", "检查这道练习时内核崩溃了")


@dataclass
class Result:
    """The outcome of one exercise: status is one of passed, partial, failed, not implemented,
    error, missing, no checks, recorded (well-formed; only the instructor's checks file scores it)
    (and, from the grader, timeout, crashed); `seed` is the
    seed the checks drew their inputs from. `message` is the explanation in English,
    `message_zh` in Chinese (`text(lang)` picks one; made from a Text by `Result.of`)."""
    id: str
    points: float
    max: float
    status: str
    message: str
    seed: int | None = None
    message_zh: str | None = None

    @classmethod
    def of(cls, id, points, max, status, text, seed=None) -> "Result":
        text = Text.of(text)
        return cls(id, points, max, status, text.en, seed, text.zh)

    def text(self, lang: str | None = None) -> str:
        """The explanation in `lang` (default: COURSE_LANG's language)."""
        if language.language(lang) == "zh" and self.message_zh is not None:
            return self.message_zh
        return self.message

    def to_json(self) -> dict:
        return asdict(self)


RESULTS: dict[str, Result] = {}


def _number(x):
    return int(x) if float(x).is_integer() else round(float(x), 4)


class _Stop(Exception):
    """The learner's process timed out or died: the exercise stops here."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def _run_one(c: registry.Check, obj) -> tuple[float, str, Text]:
    """(points, status, message) for one check; points are capped here, on the checks' side."""
    try:
        verdict = c.func(obj)
    except remote.LearnerError as exc:
        if exc.remote_type == "NotImplementedError" and not exc.message:
            return 0, "not implemented", _NOT_IMPLEMENTED
        # The learner's own error text stays as Python wrote it (in backticks in the Chinese sentence).
        head, trace = f"{exc.remote_type}: {exc.message}", f"\n{exc.trace}".rstrip()
        return 0, "error", say(f"your code raised {head}{trace}", f"你的代码抛出了异常 `{head}`{trace}")
    except Recorded as exc:
        return 0, "recorded", exc.text
    except CheckFailure as exc:
        return 0, "failed", exc.text or say("a check failed (no details given)", "检查未通过（没有给出细节）")
    except remote.CheckTimeout as exc:
        raise _Stop("timeout", say(f"{exc} (an endless loop?) and was stopped",
                                   "你的代码没有在限定时间内完成（是死循环吗？），已被停止")) from None
    except remote.KernelCrashed:
        raise _Stop("crashed", _CRASHED) from None
    except remote.ForbiddenUse as exc:
        rule = registry.forbidden(c.id)
        names = ", ".join(exc.names)
        why = Text.of(rule.why if rule else "")
        return 0, "failed", say(f"your code called {names} while it ran. {why.en}".strip(),
                                f"你的代码在运行时调用了 {names}。{why.zh}".strip())
    except remote.NoReply as exc:
        return 0, "error", say(f"{exc}: did a cell replace or delete part of the course package?",
                               f"没有收到你的代码的答复（`{exc}`）：是不是有单元格替换或删除了 course 包的一部分？")
    except (CodecError, Exception) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        return 0, "failed", say(f"the check could not use your result: {detail}",
                                f"检查程序无法使用你的结果：`{detail}`")
    if verdict is None or verdict is True:
        return c.points, "passed", _EMPTY
    if verdict is False:
        return 0, "failed", say("wrong result", "结果错误")
    if isinstance(verdict, (int, float)):
        earned = min(max(float(verdict), 0.0), float(c.points))
        return earned, "passed" if earned == c.points else "partial", _EMPTY
    raise TypeError(f"check {c.func.__qualname__} for exercise {c.id} returned {verdict!r}; "
                    f"a check returns None/True (pass), False (fail) or points earned.")


def _forbidden_message(exercise_id, sources, context) -> Text:
    rule = registry.forbidden(exercise_id)
    if rule is None or not sources:
        return _EMPTY
    found = violations(sources, rule, context)
    if not found:
        return _EMPTY
    uses, why = Text.join(found[:3], "; ", "；"), Text.of(rule.why)
    return say(f"your code uses {uses.en}. {why.en}".strip(), f"你的代码使用了 {uses.zh}。{why.zh}".strip())


def run_checks(exercise_id: str, obj=_MISSING, *, transport: remote.Transport | None = None,
               sources=None, context=(), seed: int | None = None) -> Result:
    """Run every registered check of `exercise_id`; store and return the Result.

    Either `obj` (the learner's object, reached through the in-process driver) or `transport` (the
    learner's kernel: the object is looked up there by the exercise's name). `sources` are the cells
    of the learner's answer, checked for forbidden calls; `context` every code cell (for imports).
    """
    checks = registry.checks_for(exercise_id)
    if not checks:
        result = Result.of(exercise_id, 0, 0, "no checks",
                           say(f"no checks are registered for exercise {exercise_id}; is the id right?",
                               f"练习 {exercise_id} 没有注册任何检查；练习编号写对了吗？"))
        RESULTS[exercise_id] = result
        return result
    total = sum(c.points for c in checks)
    name = checks[0].name
    missing = Result.of(exercise_id, 0, _number(total), "missing",
                        say(f"`{name}` is not defined in the notebook; exercise {exercise_id} expects it under "
                            f"that name (was it renamed or deleted, or its cell not run?)",
                            f"笔记本中没有定义 `{name}`；练习 {exercise_id} 要求使用这个名字"
                            f"（它是否被改名或删除了，或者它所在的单元格没有运行？）"))
    own = transport is None
    if own:
        if obj is _MISSING:
            RESULTS[exercise_id] = missing
            return missing
        transport = remote.LocalTransport({name: obj})
        if sources is None:
            sources, context = _object_sources(obj, name)
    with seeded(seed) as used_seed:
        try:
            result = _run_all(exercise_id, checks, total, name, transport, sources, context, missing)
        finally:
            if own:
                transport.close()
        result.seed = used_seed
    RESULTS[exercise_id] = result
    return result


def _run_all(exercise_id, checks, total, name, transport, sources, context, missing) -> Result:
    try:
        target = transport.lookup(name)
    except remote.CheckTimeout:
        return Result.of(exercise_id, 0, _number(total), "timeout",
                         say("looking up your answer did not finish in time", "查找你的答案没有在限定时间内完成"))
    except remote.KernelCrashed:
        return Result.of(exercise_id, 0, _number(total), "crashed", _CRASHED)
    except Exception as exc:
        return Result.of(exercise_id, 0, _number(total), "error",
                         say(f"your answer could not be read: {exc}", f"无法读取你的答案：`{exc}`"))
    if target is remote.MISSING:
        return missing
    forbidden = _forbidden_message(exercise_id, sources, context)
    if forbidden:
        return Result.of(exercise_id, 0, _number(total), "failed", forbidden)
    earned, statuses, messages = 0.0, [], []
    rule = registry.forbidden(exercise_id)
    transport.watch = {"names": list(rule.names), "methods": list(rule.methods)} if rule else None
    with remote.using(transport):
        for c in checks:
            try:
                points, status, message = _run_one(c, target)
            except _Stop as stop:
                return Result.of(exercise_id, 0, _number(total), stop.status, stop.message)
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
    elif earned == 0 and "recorded" in statuses and all(s in ("passed", "recorded") for s in statuses):
        status = "recorded"
    elif earned > 0:
        status = "partial"
    else:
        status = "error" if "error" in statuses else "failed"
    earned = min(earned, total)
    return Result.of(exercise_id, _number(earned), _number(total), status, Text.join(messages, "\n"))


def _object_sources(obj, name):
    """The learner's answer as source: from the notebook's history when in IPython, else inspect."""
    import inspect
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except Exception:
        shell = None
    if shell is not None and name:
        cells = [c for c in shell.user_ns.get("In", []) if isinstance(c, str)]
        found = relevant_sources(cells, name)
        if found:
            return found, cells
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError):
        return [], ()
    try:
        context = [inspect.getsource(inspect.getmodule(obj))]
    except (TypeError, OSError):
        context = ()
    return [source], context


def format_result(r: Result, lang: str | None = None) -> str:
    """The verdict line(s) a learner sees, in `lang` (default: Chinese when COURSE_LANG says so)."""
    return language.result_line(r, lang)


def check(exercise_id: str, obj=_MISSING) -> None:
    """Check the learner's answer to exercise `exercise_id` and print the verdict (advice; the grade
    comes from `course grade`, which runs the same checks outside the learner's process).

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

"""Exercises: the check registry, the in-notebook `check(...)`, assertion helpers and the grader.

Checks for lesson N live in `course/exercises/lessonNN.py`::

    from course.exercises import exercise, expect_close

    @exercise("1.1", name="scale_tensor", points=2)
    def _(scale_tensor):
        x = torch.arange(3.0)
        expect_close(scale_tensor(x, 2.0), x * 2.0, what="scale_tensor(x, 2.0)", inputs={"x": x})

and a notebook calls `check("1.1", scale_tensor)` under the exercise.

A check never runs inside the learner's code: `scale_tensor` above is the learner's function seen
through `course.exercises.remote` (a call sends plain data to the learner's side and decodes the
plain data that comes back), so the check's inputs, expected values and comparisons stay on the
checks' side. What cannot be sent as data (a function to differentiate, a model, a folder) is a
named `Fixture`, built on the learner's side; `probe(...)` runs one there and reports plain data.
`@exercise(..., forbid=Forbid(...))` names what the learner's code must not use. Every message a
check writes is given in English and Chinese where it is raised (`CheckFailure(en=..., zh=...)`,
`say(en, zh)`); the lesson's language picks one when the verdict is shown (course.exercises.language).
"""
from course.exercises.checking import RESULTS, Result, check, format_result, run_checks
from course.exercises.expect import CheckFailure, describe, expect, expect_close, expect_equal, expect_shape
from course.exercises.fixtures import Fixture
from course.exercises.forbidden import Forbid
from course.exercises.language import Text, say
from course.exercises.registry import checks_for, exercise, exercise_ids, load_checks_file
from course.exercises.remote import probe

__all__ = ["exercise", "check", "run_checks", "RESULTS", "Result", "format_result", "CheckFailure", "expect",
           "expect_equal", "expect_close", "expect_shape", "describe", "checks_for", "exercise_ids",
           "load_checks_file", "Fixture", "probe", "Forbid", "Text", "say"]

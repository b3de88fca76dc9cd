"""Conceptual questions and outcome tasks: keys and budgets live in the instructor's checks file only.

- Without a key, a well-formed answer is "recorded" (no points), in English and Chinese.
- With the instructor's file, right answers score and wrong ones fail with the key's explanation.
- The keys are not in the package a learner installs, nor in the learner's kernel while it is graded.
- An outcome task's `train` that overruns its budget is stopped by the grader and scores zero.
"""
import re
import time
import tomllib
from pathlib import Path

import pytest
import torch

from course.exercises import registry, run_checks
from course.exercises.outcome import GRACE, evaluate, outcome_settings, outcome_task
from course.exercises.questions import answer_key, question

ROOT = Path(__file__).resolve().parents[2]
INSTRUCTOR = ROOT / "solutions" / "instructor_checks.py"


@pytest.fixture
def declared():
    """Questions 94.1 (choice) and 94.2 (number) and outcome task 94.3, without keys."""
    with registry.isolated():
        question("94.1", name="answer_94_1", points=1, kind="choice", choices="abcd")
        question("94.2", name="answer_94_2", points=2, kind="number")
        outcome_task("94.3", name="train_94", points=3, practice={"target": 0.6, "seconds": 1, "n_train": 500,
                                                                     "n_test": 500})
        yield


def test_keyless_answers_are_recorded_in_both_languages(declared):
    r = run_checks("94.1", lambda: "B")
    assert (r.status, r.points, r.max) == ("recorded", 0, 1)
    assert r.text("en").startswith('recorded: your answer is "b"') and "instructor" in r.text("en")
    assert r.text("zh").startswith("已记录：你的答案是") and "老师" in r.text("zh")
    r = run_checks("94.2", 2.5)                      # a value works as well as a function
    assert (r.status, r.points) == ("recorded", 0) and "2.5" in r.text("en") and "2.5" in r.text("zh")


def test_malformed_answers_fail_with_what_is_expected(declared):
    r = run_checks("94.1", lambda: "e")
    assert r.status == "failed" and '"a", "b", "c", "d"' in r.text("en") and "之一" in r.text("zh")
    for bad in ("2.5", float("nan"), True, None):
        r = run_checks("94.2", bad)
        assert r.status == "failed" and "finite number" in r.text("en") and "有限的数" in r.text("zh"), bad
    r = run_checks("94.1", _stub)
    assert r.status == "not implemented"


def _stub():
    raise NotImplementedError()


def test_a_key_scores_right_and_wrong_answers(declared):
    answer_key("94.1", "c", explain=("Because of C.", "因为 C。"))
    answer_key("94.2", 2.302585, tol=0.01)
    assert run_checks("94.1", lambda: " C ").status == "passed"
    r = run_checks("94.1", lambda: "a")
    assert (r.status, r.points) == ("failed", 0)
    assert r.text("en") == 'Question 94.1: "a" is not the answer. Because of C.'
    assert r.text("zh") == '问题 94.1："a" 不是正确答案。因为 C。'
    assert (run_checks("94.2", 2.30).status, run_checks("94.2", 2.30).points) == ("passed", 2)
    assert run_checks("94.2", 2.32).status == "failed"          # outside the tolerance
    answer_key("94.2", 100, rel=0.05)
    assert run_checks("94.2", 104.9).status == "passed" and run_checks("94.2", 105.1).status == "failed"


def test_keys_do_not_outlive_the_checks_file():
    with registry.isolated():
        registry.load_checks_file(INSTRUCTOR)
        assert registry.settings("6.5")["answer"] == "b"
        assert run_checks("6.5", lambda: "b").status == "passed"
    assert registry.settings("6.5") == {}
    assert run_checks("6.5", lambda: "b").status == "recorded"


def test_bad_keys_and_settings_are_refused():
    with registry.isolated():
        with pytest.raises(ValueError, match="letter or a number"):
            answer_key("94.1", ["b"])
        with pytest.raises(ValueError, match="tolerances >= 0"):
            answer_key("94.2", 1.0, tol=-1)
        with pytest.raises(ValueError, match=r"accuracy in \(0, 1\]"):
            outcome_settings("94.3", target=85, seconds=10)
        with pytest.raises(ValueError, match="training slice"):
            outcome_settings("94.3", target=0.8, seconds=10, n_train=60000, train_start=1)


def test_the_keys_are_not_in_the_installed_package():
    """The wheel holds the `course*` packages only; no module there calls answer_key or
    outcome_settings (the key file is outside the package), and the keys' values are nowhere there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["course*"]
    assert not INSTRUCTOR.resolve().is_relative_to((ROOT / "course").resolve())
    keys = re.findall(r'answer_key\("(\d+\.\d+)", ([^,]+),', INSTRUCTOR.read_text())
    assert len(keys) >= 6
    for path in (ROOT / "course").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for exercise_id, _ in keys:
            assert f'answer_key("{exercise_id}"' not in text and f'outcome_settings("{exercise_id}"' not in text
    # Every lesson's checks imported: no exercise has a key or a budget without the checks file.
    with registry.isolated():
        from course.exercises.grader import _import_all_checks
        _import_all_checks()
        ids = registry.exercise_ids()
        assert {"6.5", "6.6", "6.7", "12.5", "12.6", "12.7", "14.4", "14.5", "14.6"} <= set(ids)
        assert all(registry.settings(i) == {} for i in ids)


def _linear_regression_train(x, y, budget):
    """A fast learner: least squares on one-hot targets (about 70% on 1000 MNIST test images), no loop."""
    ones = torch.ones(len(x), 1)
    a = torch.cat([x, ones], dim=1).double()
    t = torch.nn.functional.one_hot(y, 10).double()
    sol = torch.linalg.lstsq(a.T @ a + 1e-1 * torch.eye(785, dtype=torch.float64), a.T @ t).solution
    return sol[:784], sol[784]


def test_outcome_practice_round_is_recorded_and_graded_with_settings(declared):
    r = run_checks("94.3", _linear_regression_train)
    assert r.status == "recorded" and "practice run" in r.text("en") and "练习运行" in r.text("zh")
    outcome_settings("94.3", target=0.6, seconds=5, n_train=2000, n_test=1000, test_start=1000)
    assert run_checks("94.3", _linear_regression_train).status == "passed"
    outcome_settings("94.3", target=0.99, seconds=5, n_train=2000, n_test=1000)
    r = run_checks("94.3", _linear_regression_train)
    assert r.status == "failed" and "below the target" in r.text("en") and "未达到目标" in r.text("zh")


def test_outcome_weights_are_evaluated_on_the_checks_side(declared):
    outcome_settings("94.3", target=0.5, seconds=5, n_train=1000, n_test=500)
    r = run_checks("94.3", lambda x, y, budget: (torch.zeros(784, 10), torch.zeros(10)))
    assert r.status == "failed" and "below the target" in r.text("en")
    r = run_checks("94.3", lambda x, y, budget: torch.zeros(784, 10))
    assert r.status == "failed" and "(784, 10)" in r.text("en") and "(784, 10)" in r.text("zh")
    r = run_checks("94.3", lambda x, y, budget: (torch.full((784, 10), float("nan")), torch.zeros(10)))
    assert r.status == "failed" and "NaN" in r.text("en") and "NaN" in r.text("zh")
    # the evaluation is numpy/torch arithmetic on MNIST's test labels, independent of the learner
    W, b = _linear_regression_train(*_data(2000), 1)
    from course.data.mnist import load_mnist_numpy
    _, (images, labels) = load_mnist_numpy()
    import numpy as np
    x = images[:500].reshape(500, -1).astype(np.float64) / 255.0
    expected = float((np.argmax(x @ W.numpy() + b.numpy(), axis=1) == labels[:500]).mean())
    assert evaluate(W, b, 500) == pytest.approx(expected, abs=0)


def _data(n):
    from course.exercises.fixtures import build
    return build("mnist_subset", "x", 0, n), build("mnist_subset", "y", 0, n)


def test_sorted_fixture_is_sorted_and_the_same_images():
    x, y = _data(300)
    from course.exercises.fixtures import build
    xs, ys = build("mnist_subset", "x", 0, 300, "sorted"), build("mnist_subset", "y", 0, 300, "sorted")
    assert torch.equal(ys, torch.sort(y, stable=True).values)
    assert torch.equal(xs, x[torch.sort(y, stable=True).indices])
    assert x.dtype == torch.float32 and x.shape == (300, 784) and float(x.max()) <= 1.0


def test_an_overrunning_train_scores_zero_with_a_clear_message(declared):
    """check() cannot stop the learner's code in its own process; it measures and refuses the result."""
    outcome_settings("94.3", target=0.1, seconds=0.2, n_train=500, n_test=500)
    limit = 0.2 * (1 + GRACE[1]) + GRACE[0]

    def slow(x, y, budget):
        time.sleep(limit + 0.5)
        return _linear_regression_train(x, y, budget)
    r = run_checks("94.3", slow)
    assert (r.status, r.points) == ("failed", 0)
    assert "past its budget of 0.2 s" in r.text("en") and "scores 0" in r.text("en")
    assert "超出了 0.2 秒的时间预算" in r.text("zh") and "得 0 分" in r.text("zh")


# -- through the grader: the learner's kernel, the instructor's file ---------------------------------

LEARNER = ['import sys\nimport time',
           # looks for the keys wherever the kernel could hold them: there are none, so it answers "a"
           'def answer_6_5():\n    for m in list(sys.modules.values()):\n'
           '        found = getattr(m, "_settings", None)\n'
           '        if isinstance(found, dict) and found.get("6.5"):\n            return found["6.5"]["answer"]\n'
           '    return "a"',
           'def answer_6_6():\n    return 2.3026',
           'def train_classifier(x, y, budget):\n    while True:\n        time.sleep(0.05)']


def test_grader_scores_keys_and_stops_an_overrunning_train(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    from course.exercises.grader import grade_notebook
    checks = tmp_path / "private" / "checks.py"
    checks.parent.mkdir()
    checks.write_text(f"import runpy\nrunpy.run_path({str(INSTRUCTOR)!r})\n"
                      "from course.exercises.outcome import outcome_settings\n"
                      "outcome_settings('6.7', target=0.5, seconds=1, n_train=500, n_test=500)\n")
    cells = [nbformat.v4.new_markdown_cell("## Exercise 6.5")] + [nbformat.v4.new_code_cell(c) for c in LEARNER]
    path = tmp_path / "06_answers.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    start = time.monotonic()
    grade = grade_notebook(path, checks_file=checks, timeout=60)
    took = time.monotonic() - start
    found = {r.id: r for r in grade.exercises}
    assert (found["6.5"].status, found["6.5"].points) == ("failed", 0), found["6.5"]       # the key was not found
    assert (found["6.6"].status, found["6.6"].points) == ("passed", 1)
    r = found["6.7"]
    assert (r.status, r.points, r.max) == ("failed", 0, 3), r
    assert "was stopped: past its budget of 1 s" in r.text("en") and "被停止了" in r.text("zh"), r.text("en")
    limit = 1 * (1 + GRACE[1]) + GRACE[0]
    assert took < 60 + limit, took                 # stopped at its limit, not at the exercise's deadline
    # Without the instructor's file the same answers are only recorded.
    grade = grade_notebook(path, timeout=60)
    assert {r.id: r.status for r in grade.exercises}["6.6"] == "recorded"


def test_a_train_that_ignores_the_interrupt_is_stopped_too(tmp_path):
    """The kernel is restarted (the cells that ran are run again) and the task still scores 0."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    from course.exercises.grader import grade_notebook
    checks = tmp_path / "private" / "checks.py"
    checks.parent.mkdir()
    checks.write_text("from course.exercises.outcome import outcome_settings\n"
                      "outcome_settings('6.7', target=0.5, seconds=1, n_train=500, n_test=500)\n")
    stubborn = ('import time\n\ndef train_classifier(x, y, budget):\n    while True:\n        try:\n'
                '            time.sleep(0.05)\n        except KeyboardInterrupt:\n            pass')
    path = tmp_path / "06_stubborn.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(stubborn)]), str(path))
    grade = grade_notebook(path, checks_file=checks, timeout=60, interrupt_grace=1.0)
    r = {r.id: r for r in grade.exercises}["6.7"]
    assert (r.status, r.points) == ("failed", 0) and "was stopped" in r.text("en"), r.text("en")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["06_losses", "12_data_pipelines", "14_distributed_training"])
def test_solutions_grade_full_and_lessons_zero_with_the_instructor_file(name):
    pytest.importorskip("ipykernel")
    from course.exercises.grader import grade_notebook
    full = grade_notebook(ROOT / "solutions" / f"{name}.ipynb", checks_file=INSTRUCTOR, timeout=300)
    assert full.total == full.max > 0, full.to_text()
    empty = grade_notebook(ROOT / "lessons" / f"{name}.ipynb", checks_file=INSTRUCTOR, timeout=300)
    assert (empty.total, empty.max) == (0, full.max), empty.to_text()


def test_recorded_lines_in_both_languages(declared):
    from course.exercises.language import grade_row, result_line
    r = run_checks("94.1", lambda: "b")
    assert result_line(r, "en") == ('• Exercise 94.1: recorded: your answer is "b"; '
                                    'your instructor\'s grading scores it.')
    assert result_line(r, "zh") == '• 练习 94.1：已记录：你的答案是 "b"；由老师评分时给分。'
    assert grade_row(r, 4, "en").split(None, 3)[-1].startswith('recorded: your answer is "b"')
    assert grade_row(r, 4, "zh").split(None, 3)[-1].startswith('已记录：你的答案是 "b"')       # said once

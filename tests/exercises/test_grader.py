"""The in-notebook `check(...)` and the grader (`course grade`).

Most notebooks here are tiny synthetic ones (lesson 90/91 ids, checks registered from a private
checks file), so grading is fast; lesson 01 is graded for the real case.
"""
import contextlib
import csv
import io
import json
import linecache
from pathlib import Path

import pytest
import torch

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")
from nbformat import v4  # noqa: E402

from course.cli import main  # noqa: E402
from course.exercises import RESULTS, check, expect_close, exercise, registry  # noqa: E402
from course.exercises.grader import exercises_in, grade_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

CHECKS = '''
from course.exercises import exercise, expect_equal

def simple(id, name, arg, expected, points=1):
    @exercise(id, name=name, points=points)
    def _(f):
        expect_equal(f(arg), expected, what=f"{name}({arg})")

simple("90.1", "double", 3, 6, points=2)
simple("90.2", "triple", 3, 9)
simple("90.3", "quad", 3, 12, points=3)
simple("90.4", "penta", 3, 15)
simple("90.5", "hexa", 3, 18, points=2)
simple("90.6", "septa", 3, 21)
simple("90.7", "octa", 3, 24)
simple("90.8", "nona", 3, 27)
simple("90.9", "deca", 3, 30)
'''


def notebook(path, *codes, markdown=("## Exercise 90.1",)):
    cells = [v4.new_markdown_cell(m) for m in markdown] + [v4.new_code_cell(c) for c in codes]
    nbformat.write(v4.new_notebook(cells=cells), str(path))
    return path


@pytest.fixture(scope="module")
def checks_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("private") / "checks.py"
    path.write_text(CHECKS)
    return path


# -- check() in the notebook ------------------------------------------------------------------

@pytest.fixture
def registered():
    with registry.isolated():
        @exercise("91.1", name="scale", points=2)
        def _(scale):
            x = torch.arange(3.0)
            expect_close(scale(x, 2.0), x * 2.0, what="scale(x, 2.0)", inputs={"x": x})

        @exercise("91.2", name="half", points=4)
        def _(half):
            return 4 * sum(half(v) == v / 2 for v in (2, 4, 6, 8)) / 4       # partial credit
        yield


def test_check_passes_and_records(registered, capsys):
    check("91.1", lambda x, f: x * f)
    assert capsys.readouterr().out == "✓ Exercise 91.1 passed (2/2 points)\n"
    assert RESULTS["91.1"].points == 2 and RESULTS["91.1"].status == "passed"


def test_unsolved_exercise_reports_without_raising(registered, capsys):
    def scale(x, factor):
        # YOUR CODE HERE
        raise NotImplementedError()
    check("91.1", scale)
    assert capsys.readouterr().out == "Exercise 91.1: not implemented yet\n"
    assert RESULTS["91.1"].status == "not implemented" and RESULTS["91.1"].points == 0


def learner_code(source, name):
    """A function compiled from `source` under a file name of its own, as a notebook cell's would be."""
    filename = f"<cell {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def test_learner_exception_is_reported_not_raised(registered, capsys):
    scale = learner_code('def scale(x, factor):\n    return x / 0 if factor > 100 else {}["missing"]\n', "scale")
    check("91.1", scale)
    out = capsys.readouterr().out
    assert out.startswith("✗ Exercise 91.1 (0/2 points): your code raised KeyError: 'missing'")
    assert "in scale" in out and '{}["missing"]' in out            # a short traceback into the learner's code
    assert RESULTS["91.1"].status == "error"
    # An explained NotImplementedError (e.g. an unsupported operation) is an error, not "unsolved".
    check("91.1", lambda x, f: (_ for _ in ()).throw(NotImplementedError("tf.foo is not supported")))
    assert "your code raised NotImplementedError: tf.foo is not supported" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [
    (lambda x, f: (x * f).reshape(3, 1), "shape: expected (3,), got (3, 1)"),
    (lambda x, f: (x * f).double(), "dtype: expected float32, got float64"),
    (lambda x, f: x * f + torch.tensor([0.0, 0.0, 0.5]),
     "values differ at 1 of 3 positions: at (2,) got 4.5, expected 4"),
    (lambda x, f: (x * f).tolist(), "expected a tensor like tensor [0, 2, 4]"),
])
def test_tensor_messages(registered, capsys, answer, words):
    check("91.1", answer)
    out = capsys.readouterr().out
    # The finding first, a few values with 4 significant digits, the input last.
    assert out.startswith(f"✗ Exercise 91.1 (0/2 points): scale(x, 2.0): {words}")
    assert out.rstrip().endswith("Input: x = tensor [0, 1, 2] (shape (3,), float32).")


def test_partial_credit_and_lookup_by_name(registered, capsys):
    namespace = {"check": check, "half": lambda v: v / 2 if v < 5 else v}
    exec('check("91.2")', namespace)                                  # object found by its registered name
    assert capsys.readouterr().out.startswith("~ Exercise 91.2: 2/4 points")
    exec('check("91.1")', namespace)
    assert "`scale` is not defined in the notebook" in capsys.readouterr().out


def test_private_checks_extend_exercises(checks_file):
    with registry.isolated():
        registry.load_checks_file(checks_file)
        assert registry.max_points("90.1") == 2 and registry.object_name("90.5") == "hexa"
    assert registry.checks_for("90.1") == []                           # isolated() undid the registrations


def test_private_check_adds_to_a_package_exercise(tmp_path):
    extra = tmp_path / "extra.py"
    extra.write_text("from course.exercises import exercise\n@exercise('1.4', points=1)\ndef _(f):\n    pass\n")
    for _ in range(2):                         # the package's own checks survive each isolated() block
        with registry.isolated():
            registry.load_checks_file(extra)
            checks = registry.checks_for("1.4")
            assert [c.origin for c in checks] == ["package", str(extra)]
            assert checks[1].name == "pairwise_sq_distances" and registry.max_points("1.4") == 3
        assert [c.origin for c in registry.checks_for("1.4")] == ["package"]


# -- the grader ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mixed(tmp_path_factory, checks_file):
    """One notebook with a solved, a wrong, a looping, a crashing, a renamed and a raising exercise."""
    path = tmp_path_factory.mktemp("mixed") / "90_mixed.ipynb"
    notebook(path,
             "def double(x):\n    return 2 * x",
             'check("90.1", double)',
             "def triple(x):\n    return 2 * x",                                   # wrong
             "def quad(x):\n    while True:\n        pass",                        # loops when called
             "while True:\n    pass",                                              # loops at top level
             "def penta(x):\n    return 5 * x",                                   # after the loop: still runs
             "import os\ndef hexa(x):\n    return 6 * x\nos._exit(1)",             # kernel crash
             "def septa(x):\n    return 7 * x",                                   # after the crash
             "def octa_renamed(x):\n    return 8 * x",                            # renamed
             "def nona(x):\n    return 1 / 0",                                    # raises
             "def deca(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",  # unsolved
             markdown=("# Exercises\n## Exercise 90.1\n## Exercise 90.2",))
    before = path.read_bytes(), path.stat().st_mtime_ns
    code, out = run_cli("grade", str(path), "--json", "--timeout", "3", "--checks", str(checks_file))
    return path, before, code, json.loads(out)


def run_cli(*argv):
    """(exit status, stdout) of `course ARGV...`."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(list(argv))
    return code, buffer.getvalue()


def test_partial_score(mixed):
    path, _, code, grade = mixed
    assert code == 0
    assert grade["notebook"] == str(path)
    points = {e["id"]: (e["points"], e["max"], e["status"]) for e in grade["exercises"]}
    assert points == {
        "90.1": (2, 2, "passed"), "90.2": (0, 1, "failed"), "90.3": (0, 3, "timeout"),
        "90.4": (1, 1, "passed"), "90.5": (0, 2, "missing"), "90.6": (1, 1, "passed"),
        "90.7": (0, 1, "missing"), "90.8": (0, 1, "error"), "90.9": (0, 1, "not implemented")}
    assert (grade["total"], grade["max"]) == (4, 13)
    messages = {e["id"]: e["message"] for e in grade["exercises"]}
    assert "triple(3): expected 9, got 6" in messages["90.2"]
    assert "longer than 3 s" in messages["90.3"]
    assert "`octa` is not defined" in messages["90.7"]
    assert "ZeroDivisionError" in messages["90.8"]


def test_notebook_file_unchanged(mixed):
    path, (data, mtime), _, _ = mixed
    assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime


def test_kernel_that_ignores_interrupts_is_restarted(tmp_path, checks_file):
    """A loop that ignores SIGINT (at top level, then inside a checked function) costs its own cell
    and exercise only: the kernel is restarted and the cells that had succeeded are run again."""
    ignore = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    path = notebook(tmp_path / "hung.ipynb",
                    "def double(x):\n    return 2 * x",
                    ignore + "while True:\n    pass",
                    "def triple(x):\n    return 3 * x",
                    "def quad(x):\n    " + ignore.replace("\n", "\n    ") + "while True:\n        pass",
                    "def penta(x):\n    return 5 * x",
                    markdown=("## Exercise 90.1",))
    grade = grade_notebook(path, timeout=2, checks_file=checks_file, interrupt_grace=1)
    status = {r.id: (r.points, r.status) for r in grade.exercises}
    assert status["90.1"] == (2, "passed") and status["90.2"] == (1, "passed") and status["90.4"] == (1, "passed")
    assert status["90.3"] == (0, "timeout")
    assert [s for _, s, _ in grade.cells] == ["ok", "hung", "ok", "ok", "ok"]
    assert (grade.total, grade.max) == (4, 13)


def test_exercises_found_by_heading_check_call_and_file_name(tmp_path):
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("### Exercise 1.2 · One-hot (独热编码)"),
                                v4.new_code_cell('check("0.1", f)'),
                                v4.new_markdown_cell("Exercise 7.7 in running text does not count.")])
    assert exercises_in(nb, tmp_path / "whatever.ipynb") == ["0.1", "1.1", "1.2", "1.3", "1.4"]
    assert exercises_in(v4.new_notebook(), "01_tensors_copy.ipynb") == ["1.1", "1.2", "1.3", "1.4"]


def test_cli_json_list_csv_and_unreadable_files(tmp_path, checks_file):
    good = notebook(tmp_path / "a.ipynb", "def double(x):\n    return x + x")
    other = notebook(tmp_path / "b.ipynb", "def double(x):\n    return x")
    (tmp_path / "broken.ipynb").write_text("{ not json")
    (tmp_path / "plain.ipynb").write_text('{"hello": 1}')
    table = tmp_path / "grades.csv"
    code, out = run_cli("grade", str(good), str(other), "--json", "--csv", str(table),
                        "--timeout", "5", "--checks", str(checks_file))
    assert code == 0
    data = json.loads(out)
    assert [(d["notebook"], d["total"], d["max"]) for d in data] == [(str(good), 2, 13), (str(other), 0, 13)]
    rows = list(csv.reader(table.open()))
    assert rows[0] == ["notebook"] + [f"90.{i}" for i in range(1, 10)] + ["total", "max"]
    assert rows[1][0] == str(good) and rows[1][1] == "2" and rows[1][-2:] == ["2", "13"]
    assert rows[2][1] == "0" and len(rows) == 3
    for bad in ("missing.ipynb", "broken.ipynb", "plain.ipynb"):
        code, out = run_cli("grade", str(tmp_path / bad))
        assert code == 2 and out.strip() == ""
    code, out = run_cli("grade", str(good), str(tmp_path / "missing.ipynb"), "--checks", str(checks_file))
    assert code == 2 and out.strip().splitlines()[-1] == "Total: 2/13"       # the readable one is still graded
    assert run_cli("grade", str(good), "--checks", str(tmp_path / "nope.py"))[0] == 2


def test_fast_mode_in_the_kernel(tmp_path):
    checks = tmp_path / "fast_checks.py"
    checks.write_text("from course.exercises import exercise, expect_equal\n"
                      "@exercise('92.1', name='fast')\n"
                      "def _(fast):\n    expect_equal(fast, True, what='fast_mode()')\n")
    path = notebook(tmp_path / "fast.ipynb", "import course.config\nfast = course.config.fast_mode()",
                    markdown=("## Exercise 92.1",))
    assert grade_notebook(path, checks_file=checks, timeout=20).total == 1
    assert grade_notebook(path, checks_file=checks, timeout=20, fast=False).total == 0


def test_lesson_01_solution_full_marks_lesson_zero(checks_file, tmp_path):
    extra = tmp_path / "extra.py"          # a private check on top of the package's for exercise 1.4
    extra.write_text("import torch\nfrom course.exercises import exercise, expect_close\n"
                     "@exercise('1.4', points=1)\n"
                     "def _(f):\n    a = torch.eye(3)\n    expect_close(f(a, a), 2 * (1 - torch.eye(3)))\n")
    solution, lesson = ROOT / "solutions" / "01_tensors.ipynb", ROOT / "lessons" / "01_tensors.ipynb"
    before = lesson.read_bytes()
    code, out = run_cli("grade", str(solution), str(lesson), "--json", "--timeout", "60", "--checks", str(extra))
    assert code == 0
    full, empty = json.loads(out)
    assert (full["total"], full["max"]) == (9, 9), full
    assert (empty["total"], empty["max"]) == (0, 9)
    assert {e["status"] for e in empty["exercises"]} == {"not implemented"}
    assert lesson.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["solutions", "lessons"])
def test_every_notebook_grades_full_or_zero(folder):
    paths = sorted(str(p) for p in (ROOT / folder).glob("*.ipynb"))
    # The questions' keys and the outcome tasks' targets are the instructor's (not in the package).
    code, out = run_cli("grade", *paths, "--json", "--timeout", "600", "--checks",
                        str(ROOT / "solutions" / "instructor_checks.py"))
    assert code == 0
    data = json.loads(out)
    for grade in data if isinstance(data, list) else [data]:
        assert grade["max"] > 0, grade["notebook"]
        assert grade["total"] == (grade["max"] if folder == "solutions" else 0), grade

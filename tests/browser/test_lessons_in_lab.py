"""Every lesson run in JupyterLab in headless Chromium, as a learner runs it; and two exercises
answered through the editor.

For each lesson: open it, Run > Run All Cells, wait for the kernel, then check what the page shows:
no error outputs (an unsolved exercise's check prints "not implemented yet" instead of raising),
an image under every figure cell, MathJax typeset (no raw `$$` or TeX commands left in rendered
Markdown) and the check feedback visible under every check cell. Screenshots of each lesson go to
the folder given by `--screenshots`.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from labpage import LESSONS, REPO, has_math

pytestmark = pytest.mark.browser

LESSON_FILES = sorted(p.name for p in LESSONS.glob("[0-9][0-9]_*.ipynb"))
# The Chinese edition (lessons/zh/): every lesson opened and its rendering checked; one run as well.
ZH_FILES = sorted(f"zh/{p.name}" for p in (LESSONS / "zh").glob("[0-9][0-9]_*.ipynb"))
ZH_RUN = ZH_FILES[:1]
RUN_TIMEOUT = 420          # seconds for one lesson's Run All in fast mode

# A cell draws a figure when it plots (the regex), or when the instructors' executed solution shows
# an image for the same source (solutions/ keeps its outputs).
_PLOTS = re.compile(r"course\.plot\.\w+\(|plt\.(show|subplots|figure|imshow|plot)\(|\.plot\(")
# check("1.2") or check("1.2", name) checks the learner's object; check("1.2", <expression>) a demo
_CHECK = re.compile(r"""^\s*check\(\s*["'](\d+\.\d+)["']\s*(\)|,\s*(\w+)\s*\)|,)""", re.M)
# an unsolved exercise's check, in English or in the Chinese edition
_NOT_DONE = re.compile(r"not implemented yet|未实现|尚未")
_STUB = re.compile(r"^\s*(?:def|class)\s+(\w+)", re.M)
# After every "Epoch k/N" line of fit's output, the finished epoch as Keras prints it: the bar
# ("94/94 ━━━━…", verbose=1) or the line ("94/94 - 0s - …", verbose=2), never a widget left at "0/94".
_EPOCH = re.compile(r"^Epoch \d+/\d+\n(.*)$", re.M)
_EPOCH_DONE = re.compile(r"^\s*(\d+)/\1 (━{20} |- )")
_TEX_LEFT = re.compile(r"\$\$|\\(frac|partial|sum|sqrt|mathbb|leftarrow|rightarrow|cdot|top|qquad|mathrm)\b")


def _solution_cells(lesson: str) -> list[nbformat.NotebookNode]:
    path = REPO / "solutions" / lesson
    return nbformat.read(path, as_version=4).cells if path.exists() else []


def _figure_sources(lesson: str) -> set[str]:
    return {c.source for c in _solution_cells(lesson) if c.cell_type == "code"
            and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))}


def _is_figure(cell: dict, solution_figures: set[str]) -> bool:
    return cell["type"] == "code" and (cell["source"] in solution_figures or bool(_PLOTS.search(cell["source"])))


def _problems(lesson: str, cells: list[dict]) -> list[str]:
    """Everything wrong on the page after Run All, one line each (all of them, not just the first)."""
    return _run_problems(lesson, cells) + _rendering_problems(cells)


def _run_problems(lesson: str, cells: list[dict]) -> list[str]:
    problems = []
    figures = _figure_sources(lesson)
    code = [c for c in cells if c["type"] == "code"]
    # the learner's stubs: what a check of an unsolved exercise reports as "not implemented yet"
    stubs = {m.group(1) for c in code if "raise NotImplementedError()" in c["source"]
             for m in _STUB.finditer(c["source"])}
    for c in code:
        where = f"cell {c['index']} ({c['source'].strip().splitlines()[0][:60]!r})" if c["source"].strip() \
            else f"cell {c['index']}"
        if c["executionCount"] is None:
            problems.append(f"{where} did not run")
        for o in c["outputs"]:
            if o["output_type"] == "error":
                problems.append(f"{where} raised {o['ename']}: {o['evalue']}")
            elif o["output_type"] == "stream" and o["name"] == "stderr" and "Traceback" in (o["text"] or ""):
                problems.append(f"{where} printed a traceback: {o['text'][-400:]}")
            elif o["output_type"] == "stream" and "missing from font" in (o["text"] or ""):
                problems.append(f"{where} drew a figure label with missing glyphs: {o['text'][-300:]}")
        for m in _EPOCH.finditer(c["visibleText"] or ""):            # what the learner sees
            if not _EPOCH_DONE.match(m.group(1)):
                problems.append(f"{where} shows {m.group(0).splitlines()[0]!r} without a finished progress line: "
                                f"{m.group(1)[:120]!r}")
        if _is_figure(c, figures):
            shown = [i for i in c["images"] if i["complete"] and i["width"] > 0 and i["shownWidth"] > 0]
            if not shown:
                problems.append(f"{where} draws a figure, but no image is shown "
                                f"(outputs: {[o['mimes'] or o['output_type'] for o in c['outputs']]})")
        for m in _CHECK.finditer(c["source"]):
            exercise, learners = m.group(1), m.group(2) == ")" or m.group(3) in stubs
            text = c["visibleText"]
            if not re.search(rf"(Exercise|练习)\s*{re.escape(exercise)}\b", text):
                problems.append(f"{where}: no check feedback for exercise {exercise} is visible (shows {text[:200]!r})")
            elif learners and not _NOT_DONE.search(text):
                problems.append(f"{where}: the unsolved exercise {exercise} should say 'not implemented yet'; "
                                f"shows {text[:300]!r}")
    return problems


def _rendering_problems(cells: list[dict]) -> list[str]:
    """Markdown not rendered, maths not typeset or raw TeX left on the page."""
    problems = []
    for c in cells:
        if c["type"] != "markdown":
            continue
        first = c["source"].strip().splitlines()[0][:60] if c["source"].strip() else ""
        if not c["rendered"]:
            problems.append(f"markdown cell {c['index']} ({first!r}) is not rendered")
            continue
        if has_math(c["source"]) and c["mathjax"] == 0:
            problems.append(f"markdown cell {c['index']} ({first!r}) has maths but MathJax rendered none")
        if c["mathErrors"]:
            problems.append(f"markdown cell {c['index']} ({first!r}): MathJax errors {c['mathErrors']}")
        left = _TEX_LEFT.search(c["text"])
        if left:
            start = max(left.start() - 60, 0)
            problems.append(f"markdown cell {c['index']} ({first!r}) shows raw TeX {left.group(0)!r}: "
                            f"…{c['text'][start:left.end() + 60]!r}…")
    return problems


def _first(cells, predicate):
    return next((c["index"] for c in cells if predicate(c)), None)


def _stem(lesson: str) -> str:
    return lesson[:-len(".ipynb")].replace("/", "-")


@pytest.mark.parametrize("lesson", LESSON_FILES + ZH_RUN, ids=[_stem(n) for n in LESSON_FILES + ZH_RUN])
def test_lesson_runs_in_jupyterlab(lab_page, lesson):
    stem = _stem(lesson)
    lab_page.open(lesson)
    assert lab_page.progress()["counts"], f"{lesson} shows no cells"
    lab_page.menu("Run", "Run All Cells")
    lab_page.wait_run(lambda p: next((n for n in p["counts"] if n is not None), None) is not None,
                      RUN_TIMEOUT, f"Run All Cells in {lesson}")
    lab_page.wait_rendered()
    cells = lab_page.cells()

    figures = _figure_sources(lesson)
    lab_page.screenshot(f"{stem}-1-top", 0)
    views = [("2-maths", _first(cells, lambda c: c["type"] == "markdown" and c["mathjax"] > 0)),
             ("3-figure", _first(cells, lambda c: _is_figure(c, figures))),
             ("4-check", _first(cells, lambda c: c["type"] == "code" and _CHECK.search(c["source"]))),
             ("5-end", cells[-1]["index"])]
    for name, index in views:
        if index is not None:
            lab_page.screenshot(f"{stem}-{name}", index, output=name in ("3-figure", "4-check"))

    problems = _problems(lesson, cells)
    assert not problems, f"{lesson} in JupyterLab:\n  " + "\n  ".join(problems)


@pytest.mark.skipif(not ZH_FILES, reason="no Chinese edition (lessons/zh/) yet")
@pytest.mark.parametrize("lesson", ZH_FILES, ids=[_stem(n) for n in ZH_FILES])
def test_chinese_lesson_renders_in_jupyterlab(lab_page, lesson):
    """Opened, not run: its Markdown rendered and its maths typeset."""
    stem = _stem(lesson)
    lab_page.open(lesson, kernel=False)
    cells = lab_page.cells()
    lab_page.screenshot(f"{stem}-1-top", 0)
    maths = _first(cells, lambda c: c["type"] == "markdown" and c["mathjax"] > 0)
    if maths is not None:
        lab_page.screenshot(f"{stem}-2-maths", maths)
    problems = _rendering_problems(cells)
    glyphs = lab_page.missing_glyphs()
    if glyphs["missing"]:
        problems.append(f"{glyphs['count']} of {glyphs['checked']} Chinese characters show as missing-glyph "
                        f"boxes, e.g. {''.join(glyphs['missing'])} (install a CJK font: fonts-wqy-zenhei or "
                        f"fonts-noto-cjk)")
    assert glyphs["checked"] >= 50, f"{lesson}: only {glyphs['checked']} distinct Chinese characters rendered"
    assert not problems, f"{lesson} in JupyterLab:\n  " + "\n  ".join(problems)


# --- answering an exercise through the editor -----------------------------------------------------

def _solution_text(lesson: str, name: str) -> str:
    """The instructors' answer for the function `name`, as a learner would write it: the solution
    cell without nbgrader's markers."""
    for c in _solution_cells(lesson):
        if c.cell_type == "code" and f"def {name}(" in c.source and "### BEGIN SOLUTION" in c.source:
            return "\n".join(line for line in c.source.splitlines()
                             if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    raise AssertionError(f"no solution cell defines {name} in solutions/{lesson}")


WRONG = {
    # the gradient passed through at x == 0 (the exercise asks for derivative 0 there)
    "relu_backward": 'def relu_backward(dout, cache):\n'
                     '    """dL/dx for y = relu(x), given dout = dL/dy and cache = x."""\n'
                     '    return dout * (cache >= 0).to(dout.dtype)\n',
    # one-hot rows of the wrong dtype and with the classes off by one
    "one_hot": 'def one_hot(labels, depth):\n'
               '    """int64 labels (N,) -> float32 one-hot rows (N, depth), as tf.one_hot(labels, depth)."""\n'
               '    rows = [[1 if j == (int(k) + 1) % depth else 0 for j in range(depth)] for k in labels]\n'
               '    return torch.tensor(rows)\n',
}

EXERCISES = [("01_tensors.ipynb", "1.2", "one_hot"), ("04_back_propagation.ipynb", "4.2", "relu_backward")]


@pytest.mark.parametrize("lesson,exercise,name", EXERCISES, ids=[e[1] for e in EXERCISES])
def test_exercise_answered_in_the_editor(lab_page, lesson, exercise, name):
    stem = _stem(lesson)
    lab_page.open(lesson)
    cells = lab_page.cells()
    stub = _first(cells, lambda c: c["type"] == "code" and f"def {name}(" in c["source"]
                  and "NotImplementedError" in c["source"])
    assert stub is not None, f"{lesson} has no stub cell for {name}"
    check_cell = _first(cells, lambda c: c["type"] == "code" and c["index"] > stub
                        and re.search(rf"""check\(\s*["']{re.escape(exercise)}["']""", c["source"]))
    assert check_cell is not None, f"{lesson} has no check cell for exercise {exercise}"

    # The lesson up to the exercise, as a learner would have run it: select it, Run > Run All Above.
    lab_page.select_cell(stub)
    lab_page.menu("Run", "Run All Above Selected Cell")
    above = max(c["index"] for c in cells[:stub] if c["type"] == "code")
    lab_page.wait_run(lambda p: p["counts"][above] is not None, RUN_TIMEOUT, f"the cells above {name}")

    def answer(text: str, shot: str) -> str:
        before = lab_page.progress()["counts"][check_cell]
        source = lab_page.replace_cell_text(stub, text)
        assert source == text.rstrip("\n") or source == text, (
            f"the editor changed the inserted text (auto-closed brackets or re-indented?):\n{source}")
        lab_page.shift_enter()                      # runs the exercise cell, selects the check cell
        lab_page.shift_enter()                      # runs the check cell
        lab_page.wait_run(lambda p: p["counts"][check_cell] not in (None, before), 120,
                          f"the check cell of exercise {exercise}")
        lab_page.screenshot(f"{stem}-exercise-{exercise}-{shot}", check_cell, output=True)
        cell = lab_page.cells()[check_cell]
        errors = [f"{o['ename']}: {o['evalue']}" for o in cell["outputs"] if o["output_type"] == "error"]
        assert not errors, f"the check cell of {exercise} raised {errors}"
        return cell["visibleText"]

    wrong = answer(WRONG[name], "wrong")
    assert f"✗ Exercise {exercise}" in wrong and f"Exercise {exercise} passed" not in wrong, (
        f"a wrong {name} should be reported as failed; the page shows {wrong!r}")

    right = answer(_solution_text(lesson, name), "right")
    assert f"✓ Exercise {exercise} passed" in right, (
        f"the instructors' {name} should pass; the page shows {right!r}")


# --- the checks themselves ------------------------------------------------------------------------

def test_the_checks_see_what_is_wrong_on_a_broken_page(lab_page, lab_server):
    """A notebook made to fail each check (written into the server's temporary folder) gets one
    problem for each, so a green lesson means something."""
    new = nbformat.v4
    notebook = new.new_notebook(metadata=nbformat.read(LESSONS / LESSON_FILES[0], as_version=4).metadata)
    notebook.cells = [
        new.new_markdown_cell("Maths MathJax cannot typeset: $$\\frac{1}{2$$"),
        new.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.close()"),
        new.new_code_cell("from course.exercises import check\n\n\n"
                          "def one_hot(labels, depth):\n    raise NotImplementedError()"),
        new.new_code_cell('check("1.2", one_hot)\nfrom IPython.display import clear_output\nclear_output()'),
        new.new_code_cell('print("Epoch 1/3")\nprint("0/94" + " " * 20)'),                 # a bar that never finished
        new.new_code_cell("import numpy as np\nfrom course import tf\n"                   # a real one: no problem
                          "m = tf.keras.Sequential([tf.keras.layers.Dense(2)])\nm.compile(loss='mse')\n"
                          "m.fit(np.zeros((8, 3), 'float32'), np.zeros((8, 2), 'float32'), epochs=2, verbose=1)"),
        new.new_code_cell("1 / 0"),
        new.new_code_cell('print("never runs")'),
    ]
    name = "zz_broken_on_purpose.ipynb"
    nbformat.write(notebook, lab_server.notebooks / name)
    lab_page.open(name, render_timeout=5)
    lab_page.menu("Run", "Run All Cells")
    lab_page.wait_run(lambda p: p["counts"][1] is not None, RUN_TIMEOUT, "Run All Cells")
    cells = lab_page.cells()
    problems = _problems(name, cells)
    bars = [m.group(1) for m in _EPOCH.finditer(cells[5]["visibleText"])]     # the real fit, as the learner sees it
    assert len(bars) == 2 and all(_EPOCH_DONE.match(bar) for bar in bars), cells[5]["visibleText"]
    expected = ["has maths but MathJax rendered none", "shows raw TeX '$$'", "draws a figure, but no image is shown",
                "no check feedback for exercise 1.2", "without a finished progress line", "raised ZeroDivisionError",
                "cell 7 ('print(\"never runs\")') did not run"]
    for phrase in expected:
        assert sum(phrase in p for p in problems) == 1, f"expected one problem with {phrase!r}; got {problems}"
    assert len(problems) == len(expected), problems

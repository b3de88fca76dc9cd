"""Execution stamps: `course lessons execute` records the mode and seconds of every cell it ran, and
`course lessons build --check` refuses stored outputs that are not all from one stamped run."""
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat import v4  # noqa: E402

from course.cli import main  # noqa: E402
from course.notebooks import build_all, check_lessons, stamps  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def executed(mode="fast", *cells):
    """A notebook as `course lessons execute` leaves it (stamped in memory, written and read back)."""
    cells = cells or (v4.new_markdown_cell("# Demo"),
                      v4.new_code_cell("print(1)", outputs=[v4.new_output("stream", text="1\n")]),
                      v4.new_code_cell("x = 2"),
                      v4.new_code_cell("x", outputs=[v4.new_output("execute_result", data={"text/plain": "2"},
                                                                   execution_count=3)]))
    nb = v4.new_notebook(cells=list(cells))
    for cell in nb.cells:
        if cell.cell_type == "code":
            stamps.stamp_cell(cell, mode=mode, seconds=0.5)
    stamps.stamp_notebook(nb, mode=mode)
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def test_a_stamped_run_survives_writing_and_reading():
    nb = executed()
    assert stamps.problems(nb, source="s.ipynb") == []
    assert nb.metadata.course.executed == {"mode": "fast", "seconds": 1.5, "cells": 3}
    assert nb.cells[1].metadata.course.executed["mode"] == "fast"
    assert nb.cells[1].metadata.course.executed["seconds"] == 0.5


@pytest.mark.parametrize("change, words", [
    (lambda nb: nb.cells[1].metadata.pop("course"), "cell 1 (counting from 0) has outputs but no execution stamp"),
    (lambda nb: nb.cells.append(v4.new_code_cell("y = 3")), "cell 4 (counting from 0) has code but no execution"),
    (lambda nb: setattr(nb.cells[2], "source", "x = 3"), "cell 2 (counting from 0): the code changed after"),
    (lambda nb: nb.cells[1].outputs[0].update(text="9\n"), "cell 1 (counting from 0): the outputs changed"),
    (lambda nb: nb.metadata.pop("course"), "no notebook execution stamp"),
    (lambda nb: nb.cells[3].metadata.course.executed.update(mode="full"),
     "its cells come from fast and full mode but the notebook says 'fast'"),
    (lambda nb: nb.metadata.course.executed.update(mode="mixed"), "declares mixed modes but not why"),
    (lambda nb: nb.cells[1].metadata.course.executed.update(mode="quick"), "the stamp's mode is 'quick'"),
])
def test_each_untrustworthy_output_is_named(change, words):
    nb = executed()
    change(nb)
    found = stamps.problems(nb, source="solutions/01_demo.ipynb")
    assert any(words in p for p in found), found
    assert all("solutions/01_demo.ipynb" in p for p in found)


def test_a_declared_mix_is_accepted_and_a_notebook_without_stamps_is_one_problem():
    nb = executed()
    nb.cells[3].metadata.course.executed["mode"] = "full"
    nb.metadata.course.executed.update(mode="mixed", why="the figure cell comes from a full run")
    assert stamps.problems(nb) == []
    bare = v4.new_notebook(cells=[v4.new_code_cell("print(1)"), v4.new_code_cell("print(2)")])
    assert len(stamps.problems(bare, source="b.ipynb")) == 1 and stamps.is_unstamped(bare)
    with pytest.raises(ValueError, match="mode must be one of"):
        stamps.stamp_cell(bare.cells[0], mode="slow", seconds=1)


def write(root, name, nb):
    (root / "solutions").mkdir(exist_ok=True)
    nbformat.write(nb, str(root / "solutions" / name))


def test_build_check_fails_on_unstamped_or_stale_outputs(tmp_path, capsys, monkeypatch):
    import course.notebooks.builder as builder
    monkeypatch.setattr(builder, "REQUIRE_TRANSLATION", False)
    bare = v4.new_notebook(cells=[v4.new_code_cell("print(1)", outputs=[v4.new_output("stream", text="1\n")])])
    write(tmp_path, "01_demo.ipynb", bare)
    write(tmp_path, "02_other.ipynb", executed())
    build_all(tmp_path)
    root = str(tmp_path)
    assert main(["lessons", "build", "--check", "--root", root]) == 1
    out = capsys.readouterr()
    assert "outputs: solutions/01_demo.ipynb: no execution stamps" in out.out and "02_other" not in out.out
    assert "course lessons execute" in out.err
    write(tmp_path, "01_demo.ipynb", executed())
    stale = executed()
    stale.cells[2].source = "x = 5"                 # code edited after the run
    write(tmp_path, "02_other.ipynb", stale)
    build_all(tmp_path)
    assert main(["lessons", "build", "--check", "--root", root]) == 1
    out = capsys.readouterr().out
    assert "02_other.ipynb, cell 2 (counting from 0): the code changed" in out and "01_demo" not in out
    write(tmp_path, "03_empty.ipynb", v4.new_notebook(cells=[v4.new_code_cell("print(1)")]))   # nothing stored
    assert not any("03_empty" in p for p in check_lessons(tmp_path).output_problems)


def test_student_editions_carry_no_stamps(tmp_path, monkeypatch):
    import course.notebooks.builder as builder
    monkeypatch.setattr(builder, "REQUIRE_TRANSLATION", False)
    write(tmp_path, "01_demo.ipynb", executed("full"))
    assert build_all(tmp_path).output_problems == []
    text = (tmp_path / "lessons" / "01_demo.ipynb").read_text()
    assert "executed" not in text and '"outputs": []' in text


def test_cli_execute_stamps_the_mode_and_the_seconds(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell("import course.config\nprint(course.config.fast_mode())"),
                                          v4.new_code_cell("import time\ntime.sleep(0.3)"),
                                          v4.new_code_cell("")]), str(path))
    for flag, mode, printed in (([], "fast", "True\n"), (["--full"], "full", "False\n")):
        assert main(["lessons", "execute", *flag, str(path)]) == 0
        assert f"({mode} mode, " in capsys.readouterr().out
        nb = nbformat.read(str(path), as_version=4)
        first, sleep, empty = nb.cells
        assert first.outputs[0].text == printed and "execution" not in first.metadata
        assert first.metadata.course.executed["mode"] == mode
        assert 0.3 <= sleep.metadata.course.executed["seconds"] < 5
        assert "course" not in empty.metadata                     # not run, not stamped
        assert nb.metadata.course.executed["mode"] == mode and nb.metadata.course.executed["cells"] == 2
        assert nb.metadata.course.executed["seconds"] >= 0.3
        assert stamps.problems(nb) == []


def test_the_solutions_outputs_are_stamped_and_current():
    assert check_lessons(ROOT).output_problems == []


def test_figures_are_stored_even_when_the_caller_uses_agg(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")          # what the test suite sets; the kernel inherits it
    path = tmp_path / "fig.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()")]), str(path))
    assert main(["lessons", "execute", str(path)]) == 0
    outputs = nbformat.read(str(path), as_version=4).cells[0].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs), outputs
    import os
    assert os.environ["MPLBACKEND"] == "Agg"          # restored for the caller


def test_a_figure_cell_without_its_figure_is_named():
    draws = v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2])",
                             outputs=[v4.new_output("display_data", data={"text/plain": "<Figure>"})])
    nb = executed("fast", draws)
    assert "draws a figure but stored none" in stamps.problems(nb)[0]
    png = v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    assert stamps.problems(executed("fast", v4.new_code_cell(draws.source, outputs=[png]))) == []
    saved = v4.new_code_cell("fig, ax = plt.subplots()\nfig.savefig('a.png')\nplt.close(fig)")
    assert stamps.problems(executed("fast", saved)) == []

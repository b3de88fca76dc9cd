"""The lesson builder: markers, cleaning, determinism, errors, and `course lessons build [--check]`."""
import json

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat import v4  # noqa: E402

from course.cli import main  # noqa: E402
from course.notebooks import MarkerError, build_all, build_notebook, build_text, check_lessons, strip_markers  # noqa: E402

SOLVED = '''def scale(x, factor):
    """Multiply x by factor."""
    ### BEGIN SOLUTION
    y = x * factor
    return y
    ### END SOLUTION'''


def make_solution(root, name="01_demo.ipynb", cells=None):
    cells = cells if cells is not None else [
        v4.new_markdown_cell("# Demo (演示)\n### Exercise 1.1"),
        v4.new_code_cell(SOLVED, execution_count=4, outputs=[v4.new_output("stream", text="secret output\n")],
                         metadata={"nbgrader": {"solution": True}, "tags": ["keep-me"], "ExecuteTime": {"a": 1}}),
        v4.new_code_cell("# NBVAL_CHECK_OUTPUT\ncheck(\"1.1\", scale)", execution_count=5,
                         outputs=[v4.new_output("stream", text="✓ Exercise 1.1 passed (1/1 points)\n")]),
    ]
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Py",
                                                               "language": "python"},
                                                "language_info": {"name": "python", "version": "3.11.7"},
                                                "widgets": {"state": {}}})
    (root / "solutions").mkdir(exist_ok=True)
    path = root / "solutions" / name
    nbformat.write(nb, str(path))
    return path


def lesson_of(root, name="01_demo.ipynb"):
    return nbformat.read(str(root / "lessons" / name), as_version=4)


def test_solution_block_becomes_stub_at_its_indentation():
    code = "class A:\n    def f(self):\n        ### BEGIN SOLUTION\n        return 1\n        ### END SOLUTION\n    x = 2"
    assert strip_markers(code) == ("class A:\n    def f(self):\n        # YOUR CODE HERE\n"
                                   "        raise NotImplementedError()\n    x = 2")


def test_hidden_tests_removed_and_markdown_answer():
    code = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n### BEGIN HIDDEN TESTS\nassert f() == 1\n### END HIDDEN TESTS\nprint(2)"
    assert strip_markers(code) == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\nprint(2)"
    text = "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert strip_markers(text, markdown=True) == "Why?\nYOUR ANSWER HERE"


def test_lesson_is_clean(tmp_path):
    make_solution(tmp_path)
    build_all(tmp_path)
    nb = lesson_of(tmp_path)
    nbformat.validate(nb)
    head, md, solved, chk = nb.cells
    assert head.cell_type == "markdown"
    assert head.source == ("Generated from solutions/01_demo.ipynb by `course lessons build`; "
                           "edit that file, not this one.")
    assert md.source == "# Demo (演示)\n### Exercise 1.1"
    assert solved.source == ('def scale(x, factor):\n    """Multiply x by factor."""\n'
                             "    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert chk.source == 'check("1.1", scale)'            # the nbval marker goes: lessons store no outputs
    for cell in (solved, chk):
        assert cell.outputs == [] and cell.execution_count is None
    assert solved.metadata == {"tags": ["keep-me"]}        # nbgrader / timing metadata stripped
    assert [c.id for c in nb.cells] == ["cell-00", "cell-01", "cell-02", "cell-03"]
    assert "widgets" not in nb.metadata and "version" not in nb.metadata.language_info
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)


def test_output_is_deterministic_and_stable_json(tmp_path):
    path = make_solution(tmp_path)
    first = build_text(path, root=tmp_path)
    assert first == build_text(path, root=tmp_path)
    assert first.endswith("}\n") and first.startswith('{\n "cells": [\n')
    data = json.loads(first)
    assert first == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    # Re-saving the solution with new random cell ids and execution counts changes nothing.
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(nb.cells):
        cell.id = f"random-{i * 7919}"
        if cell.cell_type == "code":
            cell.execution_count = 40 + i
    nbformat.write(nb, str(path))
    assert build_text(path, root=tmp_path) == first


def test_solution_only_cells_are_dropped(tmp_path):
    cells = [v4.new_markdown_cell("Instructor note: the answer is 42.", metadata={"tags": ["solution-only"]}),
             v4.new_code_cell("x = 1")]
    make_solution(tmp_path, cells=cells)
    build_all(tmp_path)
    sources = [c.source for c in lesson_of(tmp_path).cells]
    assert sources[1:] == ["x = 1"] and "42" not in "".join(sources)


@pytest.mark.parametrize("code, line, words", [
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION", 3, "cannot nest"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1", 2, "no '### END SOLUTION'"),
    ("def f():\n    return 1\n    ### END SOLUTION", 3, "without a matching '### BEGIN SOLUTION'"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END HIDDEN TESTS", 4, "expected '### END SOLUTION'"),
    ("### BEGIN HIDDEN TESTS\n### BEGIN SOLUTION\n### END SOLUTION\n### END HIDDEN TESTS", 2, "cannot nest"),
])
def test_bad_markers_name_file_cell_and_line(tmp_path, code, line, words):
    make_solution(tmp_path, cells=[v4.new_markdown_cell("intro"), v4.new_code_cell(code)])
    with pytest.raises(MarkerError) as err:
        build_all(tmp_path)
    message = str(err.value)
    assert "solutions/01_demo.ipynb" in message and "cell 1" in message and f"line {line}" in message
    assert words in message
    assert (err.value.cell, err.value.line) == (1, line)
    assert not (tmp_path / "lessons" / "01_demo.ipynb").exists()


def test_top_level_stub_is_refused_unless_tagged(tmp_path):
    code = "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
    make_solution(tmp_path, cells=[v4.new_code_cell(code)])
    with pytest.raises(MarkerError, match="top level.*Run All"):
        build_all(tmp_path)
    make_solution(tmp_path, cells=[v4.new_code_cell(code, metadata={"tags": ["raises-exception"]})])
    build_all(tmp_path)
    assert lesson_of(tmp_path).cells[1].source == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_build_notebook_in_memory():
    nb = v4.new_notebook(cells=[v4.new_code_cell(SOLVED)])
    lesson = build_notebook(nb, source="solutions/07_x.ipynb")
    assert "x * factor" not in lesson.cells[1].source
    assert "solutions/07_x.ipynb" in lesson.cells[0].source


def test_cli_build_and_check(tmp_path, capsys):
    path = make_solution(tmp_path)
    root = str(tmp_path)
    assert main(["lessons", "build", "--check", "--root", root]) == 1          # nothing built yet
    assert "out of date: lessons/01_demo.ipynb" in capsys.readouterr().out
    assert main(["lessons", "build", "--root", root]) == 0
    assert "wrote lessons/01_demo.ipynb" in capsys.readouterr().out
    before = (tmp_path / "lessons" / "01_demo.ipynb").read_bytes()
    assert main(["lessons", "build", "--check", "--root", root]) == 0
    assert main(["lessons", "build", "--root", root]) == 0                      # idempotent
    assert (tmp_path / "lessons" / "01_demo.ipynb").read_bytes() == before
    capsys.readouterr()
    nb = nbformat.read(str(path), as_version=4)                                 # edit the solution
    nb.cells[0].source += "\nMore text."
    nbformat.write(nb, str(path))
    assert main(["lessons", "build", "--check", "--root", root]) == 1
    assert "lessons/01_demo.ipynb" in capsys.readouterr().out
    assert (tmp_path / "lessons" / "01_demo.ipynb").read_bytes() == before      # --check writes nothing
    (tmp_path / "lessons" / "05_orphan.ipynb").write_text("{}")
    main(["lessons", "build", "--root", root])
    assert main(["lessons", "build", "--check", "--root", root]) == 1
    assert "no source in solutions/: lessons/05_orphan.ipynb" in capsys.readouterr().out
    assert check_lessons(tmp_path).orphans == [tmp_path / "lessons" / "05_orphan.ipynb"]


def test_cli_reports_bad_input(tmp_path, capsys):
    make_solution(tmp_path, name="Tensors.ipynb")
    assert main(["lessons", "build", "--root", str(tmp_path)]) == 2
    assert "NN_snake_case" in capsys.readouterr().err
    (tmp_path / "solutions" / "Tensors.ipynb").unlink()
    make_solution(tmp_path, cells=[v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    pass")])
    assert main(["lessons", "build", "--root", str(tmp_path)]) == 2
    assert "solutions/01_demo.ipynb, cell 0" in capsys.readouterr().err
    assert main(["lessons", "build", "--root", str(tmp_path / "nowhere")]) == 2


def test_cli_execute_saves_outputs_and_names_failing_cell(tmp_path, capsys):
    good = tmp_path / "good.ipynb"
    bad = tmp_path / "bad.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell("import course.config\nprint(course.config.fast_mode())")]),
                   str(good))
    nbformat.write(v4.new_notebook(cells=[v4.new_markdown_cell("x"), v4.new_code_cell("1 / 0")]), str(bad))
    assert main(["lessons", "execute", str(good), str(bad)]) == 1
    cell = nbformat.read(str(good), as_version=4).cells[0]
    assert cell.outputs[0].text == "True\n" and cell.execution_count == 1 and "execution" not in cell.metadata
    assert "cell 1 (counting from 0)" in capsys.readouterr().err

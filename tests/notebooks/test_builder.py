"""The lesson builder: markers, cleaning, determinism, errors, and `course lessons build [--check]`."""
import json

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat import v4  # noqa: E402

from course.cli import main  # noqa: E402
from course.notebooks import MarkerError, build_all, build_notebook, build_text, check_lessons, strip_markers  # noqa: E402
from course.notebooks import stamps  # noqa: E402

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
    for cell in nb.cells:                      # as `course lessons execute` leaves a solution
        if cell.cell_type == "code":
            stamps.stamp_cell(cell, mode="fast", seconds=0.1)
    stamps.stamp_notebook(nb, mode="fast")
    (root / "solutions").mkdir(exist_ok=True)
    path = root / "solutions" / name
    nbformat.write(nb, str(path))
    return path


def lesson_of(root, name="01_demo.ipynb"):
    return nbformat.read(str(root / "lessons" / name), as_version=4)


def test_solution_block_becomes_stub_at_its_indentation():
    code = ("class A:\n    def f(self):\n        ### BEGIN SOLUTION\n        return 1\n"
            "        ### END SOLUTION\n    x = 2")
    assert strip_markers(code) == ("class A:\n    def f(self):\n        # YOUR CODE HERE\n"
                                   "        raise NotImplementedError()\n    x = 2")


def test_hidden_tests_removed_and_markdown_answer():
    code = ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
            "### BEGIN HIDDEN TESTS\nassert f() == 1\n### END HIDDEN TESTS\nprint(2)")
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
                           "edit that file, not this one.\n\n"
                           "Glossary · 术语表: [glossary.md](glossary.md) · "
                           "中文版: [zh/01_demo.ipynb](zh/01_demo.ipynb)")
    assert md.source == "# Demo (演示)\n### Exercise 1.1"
    assert solved.source == ('def scale(x, factor):\n    """Multiply x by factor."""\n'
                             "    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert chk.source == 'check("1.1", scale)'            # the nbval marker goes: lessons store no outputs
    for cell in (solved, chk):
        assert cell.outputs == [] and cell.execution_count is None
    assert solved.metadata == {"tags": ["keep-me"]}        # nbgrader / timing metadata stripped
    assert [c.id for c in nb.cells] == ["cell-00", "cell-01", "cell-02", "cell-03"]
    assert "widgets" not in nb.metadata and "version" not in nb.metadata.language_info
    assert nb.metadata.course == {"lang": "en"}
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


def test_cli_build_and_check(tmp_path, capsys, monkeypatch):
    import course.notebooks.builder as builder
    monkeypatch.setattr(builder, "REQUIRE_TRANSLATION", False)      # staleness only: the demo is untranslated
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


# --- The Chinese edition: one source, two editions, the rules that keep them in step -------------

ZH_HEADING = "# 演示 (Demo)\n### 练习 1.1 (Exercise 1.1)"
EN_PROSE = "The loss $L = (y - \\hat y)^2$ of `scale(x, 2)`."
ZH_PROSE = "`scale(x, 2)` 的损失是 $L = (y - \\hat y)^2$。"


def zh_meta(text, en=None):
    """metadata.course for a cell translated as `text`; `en`: the English it translates (stamped)."""
    from course.notebooks.translation import fingerprint
    return {"course": {"zh": text, **({"en": fingerprint(en)} if en is not None else {})}}


def bilingual_cells(prose_zh=ZH_PROSE, heading_zh=ZH_HEADING, code_zh=None):
    solved = SOLVED.replace('    """Multiply x by factor."""', '    """Multiply x by factor."""  # scale it')
    heading = "# Demo (演示)\n### Exercise 1.1"
    return [
        v4.new_markdown_cell(heading, metadata=zh_meta(heading_zh, heading)),
        v4.new_markdown_cell(EN_PROSE, metadata=zh_meta(prose_zh, EN_PROSE)),
        v4.new_code_cell(solved, metadata=zh_meta(code_zh) if code_zh is not None else {}),
        v4.new_code_cell('check("1.1", scale)'),
    ]


def problems_of(tmp_path, **kwargs):
    make_solution(tmp_path, cells=bilingual_cells(**kwargs))
    return check_lessons(tmp_path).problems


def test_both_editions_are_written_with_their_language(tmp_path):
    code_zh = SOLVED.replace('    """Multiply x by factor."""', '    """Multiply x by factor."""  # 缩放')
    make_solution(tmp_path, cells=bilingual_cells(code_zh=code_zh))
    result = build_all(tmp_path)
    assert result.problems == [] and result.untranslated == []
    en, zh = lesson_of(tmp_path), lesson_of(tmp_path, "zh/01_demo.ipynb")
    assert (en.metadata.course.lang, zh.metadata.course.lang) == ("en", "zh")
    assert zh.cells[0].source.startswith("由 `course lessons build` 从 solutions/01_demo.ipynb 生成")
    assert "[glossary.md](../glossary.md)" in zh.cells[0].source
    assert zh.cells[1].cell_type == "code" and 'os.environ["COURSE_LANG"] = "zh"' in zh.cells[1].source
    assert [c.source for c in zh.cells[2:4]] == [ZH_HEADING, ZH_PROSE]
    assert [c.source for c in en.cells[1:3]] == ["# Demo (演示)\n### Exercise 1.1", EN_PROSE]
    assert "# 缩放" in zh.cells[4].source and "# scale it" in en.cells[3].source
    assert "x * factor" not in zh.cells[4].source and "raise NotImplementedError()" in zh.cells[4].source
    assert "course" not in zh.cells[2].metadata                     # the translation is not copied along
    assert [c.source for c in zh.cells[5:]] == [c.source for c in en.cells[4:]]


def test_editions_share_the_grader_heading():
    from course.exercises.grader import _HEADING
    assert _HEADING.findall(ZH_HEADING) == ["1.1"]


def test_check_fails_on_a_planted_missing_translation(tmp_path, capsys):
    make_solution(tmp_path, cells=bilingual_cells())
    root = str(tmp_path)
    assert main(["lessons", "build", "--root", root]) == 0
    assert main(["lessons", "build", "--check", "--root", root]) == 0
    nb = nbformat.read(str(tmp_path / "solutions" / "01_demo.ipynb"), as_version=4)
    nb.cells.insert(2, v4.new_markdown_cell("A new paragraph nobody translated."))
    nbformat.write(nb, str(tmp_path / "solutions" / "01_demo.ipynb"))
    main(["lessons", "build", "--root", root])                      # even freshly built, still wrong
    capsys.readouterr()
    assert main(["lessons", "build", "--check", "--root", root]) == 1
    out = capsys.readouterr().out
    assert "translation: solutions/01_demo.ipynb, cell 2 (counting from 0): has no Chinese translation" in out


def test_check_fails_when_the_chinese_edition_is_stale(tmp_path, capsys):
    make_solution(tmp_path, cells=bilingual_cells())
    build_all(tmp_path)
    zh = tmp_path / "lessons" / "zh" / "01_demo.ipynb"
    zh.write_text(zh.read_text(encoding="utf-8").replace("损失", "损耗"), encoding="utf-8")
    assert main(["lessons", "build", "--check", "--root", str(tmp_path)]) == 1
    assert "out of date: lessons/zh/01_demo.ipynb" in capsys.readouterr().out
    (tmp_path / "lessons" / "zh" / "07_orphan.ipynb").write_text("{}")
    assert tmp_path / "lessons" / "zh" / "07_orphan.ipynb" in check_lessons(tmp_path).orphans


@pytest.mark.parametrize("kwargs, words", [
    (dict(prose_zh="The loss $L = (y - \\hat y)^2$ of `scale(x, 2)`."), "holds no Chinese text"),
    (dict(prose_zh="`scale(x, 2)` 的损失是 $L = (y - y)^2$。"), "lacks the formulas"),
    (dict(prose_zh="`scale(x, 2)` 的损失是 $L = (y - \\hat y)^2$，$x$ 是输入。"), "has formulas the English does not"),
    (dict(prose_zh="`scale(x, 3)` 的损失是 $L = (y - \\hat y)^2$。"), "lacks the code spans"),
    (dict(prose_zh=""), "has no Chinese translation"),
    (dict(heading_zh="# 演示\n### 练习 1.1"), "no heading with 'Exercise 1.1'"),
    (dict(heading_zh="# 演示\n### Exercise 1.1 · 缩放"), "lacks '练习'"),
    (dict(code_zh=SOLVED.replace("x * factor", "factor * x")), "differs from the code beyond comments"),
])
def test_each_translation_rule(tmp_path, kwargs, words):
    found = problems_of(tmp_path, **kwargs)
    assert found and words in found[0], found


def test_formulas_may_move_and_wrap(tmp_path):
    en = "Here $a$ and then\n$$b = c\n + d$$ and `f(x)`."
    zh = "先看 `f(x)`，再看 $$b = c + d$$，其中 $a$ 很小。"
    from course.notebooks.translation import markdown_problems
    assert markdown_problems(en, zh) == []
    assert markdown_problems("```python\nx = 1\n```\nSee $x$.", "```python\nx = 1\n```\n见 $x$。") == []
    assert markdown_problems("`$x$` costs", "`$x$` 的代价") == []     # a dollar in code is not a formula
    assert markdown_problems("$x$ `y`", None) == []                 # nothing to translate
    assert markdown_problems("$x$ and $$y$$", None) == ["has no Chinese translation (metadata.course.zh)"]


def test_comments_may_differ_but_not_code():
    from course.notebooks.translation import same_code
    assert same_code("x = 1  # one\ny = x\n", "# 一\nx = 1  # 一\n\ny = x")
    assert not same_code("x = 1", "x = 2  # 二")
    assert not same_code('s = "one"', 's = "一"')                    # strings are code
    assert same_code("%timeit f()  # time it", "%timeit f()  # 计时")  # magics: compared by tokens
    assert not same_code("%timeit f()", "%timeit g()")


def test_untranslated_lessons_are_skipped_until_required(tmp_path):
    make_solution(tmp_path)
    result = build_all(tmp_path, require_translation=False)
    assert result.untranslated == [tmp_path / "solutions" / "01_demo.ipynb"] and result.problems == []
    assert not (tmp_path / "lessons" / "zh").exists()
    strict = check_lessons(tmp_path, require_translation=True)
    assert strict.problems and "cell 0" in strict.problems[0]
    make_solution(tmp_path, cells=bilingual_cells()[:1] + [v4.new_markdown_cell("Untranslated prose.")])
    assert check_lessons(tmp_path, require_translation=False).problems   # begun: must be complete


def test_glossary_is_generated_and_checked(tmp_path, capsys):
    make_solution(tmp_path, cells=bilingual_cells())
    source = tmp_path / "solutions" / "glossary.json"
    source.write_text(json.dumps({"terms": [{"en": "loss function", "zh": "损失函数", "lesson": 1},
                                            {"en": "tensor", "zh": "张量", "lesson": 1}]}), encoding="utf-8")
    assert main(["lessons", "build", "--root", str(tmp_path)]) == 0
    page = (tmp_path / "lessons" / "glossary.md").read_text(encoding="utf-8")
    assert "| loss function | 损失函数 |" in page and "[中文](zh/01_demo.ipynb)" in page
    source.write_text(json.dumps({"terms": [{"en": "tensor", "zh": "张量", "lesson": 1}]}), encoding="utf-8")
    capsys.readouterr()
    assert main(["lessons", "build", "--check", "--root", str(tmp_path)]) == 1
    assert "out of date: lessons/glossary.md" in capsys.readouterr().out
    source.write_text(json.dumps({"terms": [{"en": "tensor", "lesson": 1}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="'en', 'zh'"):
        build_all(tmp_path)


def test_every_lesson_must_be_translated_by_default(tmp_path, capsys):
    from course.notebooks.builder import REQUIRE_TRANSLATION
    assert REQUIRE_TRANSLATION                                       # the course is complete in both editions
    make_solution(tmp_path)                                          # an English-only lesson
    main(["lessons", "build", "--root", str(tmp_path)])
    capsys.readouterr()
    assert main(["lessons", "build", "--check", "--root", str(tmp_path)]) == 1
    assert "cell 0 (counting from 0): has no Chinese translation" in capsys.readouterr().out


def test_code_comments_translate_by_mapping(tmp_path):
    code = 'x = "# not a comment"  # the input\n%timeit f(x)  # time it\ny = x  # the input'
    from course.notebooks.translation import apply_comments
    out, stale = apply_comments(code, {"# the input": "# 输入", "# gone": "# 已删除"})
    assert out == 'x = "# not a comment"  # 输入\n%timeit f(x)  # time it\ny = x  # 输入' and stale == ["# gone"]
    cells = [v4.new_markdown_cell("Text.", metadata=zh_meta("文本。", "Text.")),
             v4.new_code_cell("x = 1  # one\ny = 2  # two", metadata=zh_meta({"# one": "一"}))]
    make_solution(tmp_path, cells=cells)
    result = build_all(tmp_path)
    assert result.problems == []
    assert lesson_of(tmp_path, "zh/01_demo.ipynb").cells[3].source == "x = 1  # 一\ny = 2  # two"
    assert lesson_of(tmp_path).cells[2].source == "x = 1  # one\ny = 2  # two"
    cells[1].source = "x = 1  # the first\ny = 2  # two"                 # the English comment changed
    make_solution(tmp_path, cells=cells)
    found = check_lessons(tmp_path).problems
    assert len(found) == 1 and "Chinese comment for '# one' matches no comment" in found[0]


def test_an_english_edit_without_its_chinese_fails_until_stamped(tmp_path, capsys):
    path = make_solution(tmp_path, cells=bilingual_cells())
    root = str(tmp_path)
    main(["lessons", "build", "--root", root])
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[1].source = EN_PROSE.replace("The loss", "The squared loss")      # English edited, Chinese not
    nbformat.write(nb, str(path))
    main(["lessons", "build", "--root", root])
    capsys.readouterr()
    assert main(["lessons", "build", "--check", "--root", root]) == 1
    assert "cell 1 (counting from 0): its English changed after the Chinese was written" in capsys.readouterr().out
    nb.cells[1].metadata["course"]["zh"] = ZH_PROSE.replace("损失", "平方损失")  # the translator catches up ...
    nbformat.write(nb, str(path))
    assert main(["lessons", "stamp", str(path)]) == 0                         # ... and stamps
    assert "1 translated cell(s) stamped" in capsys.readouterr().out
    main(["lessons", "build", "--root", root])
    assert main(["lessons", "build", "--check", "--root", root]) == 0
    assert "平方损失" in lesson_of(tmp_path, "zh/01_demo.ipynb").cells[3].source

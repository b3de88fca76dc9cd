"""Check feedback in the learner's language: `check()` under COURSE_LANG=zh and `course grade` on the
Chinese edition of a lesson speak Chinese; the English edition and the JSON report stay as they were."""
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

from course.exercises import check  # noqa: E402
from course.exercises import language  # noqa: E402
from course.exercises.checking import Result, format_result  # noqa: E402
from course.exercises.grader import NotebookGrade, grade_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_lang(monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    return monkeypatch


def test_language_from_environment_and_metadata(no_lang):
    assert language.language() == "en"
    assert language.notebook_language(nbformat.v4.new_notebook(metadata={"course": {"lang": "zh"}})) == "zh"
    assert language.notebook_language(nbformat.v4.new_notebook()) == "en"
    no_lang.setenv("COURSE_LANG", "zh_CN")
    assert language.language() == "zh" and language.notebook_language(nbformat.v4.new_notebook()) == "zh"


@pytest.mark.parametrize("status, message, zh", [
    ("passed", "", "✓ 练习 1.1 通过（2/2 分）"),
    ("not implemented", "not implemented yet", "练习 1.1：尚未实现"),
    ("failed", "scale(2) returned 5; expected 4", "✗ 练习 1.1（0/2 分，未通过）：scale(2) returned 5; expected 4"),
    ("missing", "`scale` is not defined in the notebook; exercise 1.1 expects it under that name (was it "
                "renamed or deleted, or its cell not run?)", "笔记本中没有定义 `scale`"),
    ("error", "your code raised ValueError: bad\nTraceback", "你的代码抛出了异常 ValueError: bad\nTraceback"),
])
def test_result_lines(no_lang, status, message, zh):
    r = Result("1.1", 2 if status == "passed" else 0, 2, status, message)
    english = format_result(r)
    no_lang.setenv("COURSE_LANG", "zh")
    assert zh in format_result(r)
    no_lang.delenv("COURSE_LANG")
    assert format_result(r) == english and "练习" not in english


def test_check_speaks_the_lessons_language(no_lang, capsys):
    check("0.1", lambda keep_prob: keep_prob)                        # a wrong answer
    assert capsys.readouterr().out.startswith("✗ Exercise 0.1")
    no_lang.setenv("COURSE_LANG", "zh")                              # what the Chinese edition's first cell sets
    check("0.1", lambda keep_prob: keep_prob)
    assert capsys.readouterr().out.startswith("✗ 练习 0.1（0/")
    check("0.1", lambda keep_prob: 1 - keep_prob)
    assert capsys.readouterr().out.startswith("✓ 练习 0.1 通过")


def test_grade_report_in_english_unless_chinese(no_lang):
    r = Result("0.1", 0, 1, "not implemented", "not implemented yet")
    assert NotebookGrade("x.ipynb", [r]).to_text() == "x.ipynb\n  Exercise 0.1  0/1  not implemented yet\nTotal: 0/1"
    assert NotebookGrade("x.ipynb", [r], lang="zh").to_text() == "x.ipynb\n  练习 0.1  0/1  尚未实现\n总分：0/1"


def test_chinese_edition_graded_with_a_wrong_answer_gives_chinese_feedback(no_lang, tmp_path):
    nb = nbformat.read(str(ROOT / "lessons" / "zh" / "00_setup_and_devices.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def keep_prob_to_rate" in c.source)
    cell.source = cell.source.replace("raise NotImplementedError()", "return keep_prob")   # rate = keep_prob: wrong
    path = tmp_path / "00_setup_and_devices.ipynb"
    nbformat.write(nb, str(path))
    grade = grade_notebook(path)
    assert grade.lang == "zh"                                        # from metadata.course.lang; no COURSE_LANG set
    text = grade.to_text()
    assert "  练习 0.1  0/1  未通过：" in text and text.endswith("总分：0/1"), text
    assert grade.to_json()["exercises"][0]["status"] == "failed"     # machine-readable fields stay the same

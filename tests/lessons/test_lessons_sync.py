"""lessons/ (English) and lessons/zh/ (Chinese) are exactly what `course lessons build` makes from
solutions/, leak no solution, and keep the translation rules; the Chinese edition runs the very code
nbval executes in the English one, so it is left out of nbval (pyproject's addopts)."""
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from course.notebooks import NAME_RE, build_text, check_lessons  # noqa: E402
from course.notebooks.builder import LANG_CELL, REQUIRE_TRANSLATION  # noqa: E402
from course.notebooks.translation import is_untranslated, problems, same_code  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
ZH_LESSONS = sorted((ROOT / "lessons" / "zh").glob("*.ipynb"))
BLOCK = re.compile(r"^[ \t]*### BEGIN (SOLUTION|HIDDEN TESTS)[ \t]*\n(.*?)^[ \t]*### END \1[ \t]*$",
                   re.MULTILINE | re.DOTALL)


def _sources(nb):
    return [c.source if isinstance(c.source, str) else "".join(c.source) for c in nb.cells]


def secret_lines(nb):
    """Lines inside solution/hidden blocks that say something (not blank, not punctuation, not a
    line the notebook also shows outside the blocks)."""
    inside, outside = set(), set()
    for text in _sources(nb):
        for m in BLOCK.finditer(text):
            inside.update(line.strip() for line in m.group(2).split("\n"))
        outside.update(line.strip() for line in BLOCK.sub("", text).split("\n"))
    inside |= {re.split(r"\s+#", line)[0].strip() for line in inside}       # the code without its comment
    return {line for line in inside - outside if len(re.sub(r"[^0-9A-Za-z]", "", line)) >= 6}


def test_there_are_lessons():
    assert SOLUTIONS, "no solutions/*.ipynb found"
    assert all(NAME_RE.match(p.name) for p in SOLUTIONS), [p.name for p in SOLUTIONS]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_lesson_is_up_to_date(solution):
    lesson = ROOT / "lessons" / solution.name
    assert lesson.is_file(), f"{lesson.name} is missing: run `course lessons build`"
    assert lesson.read_text(encoding="utf-8") == build_text(solution, root=ROOT), \
        f"lessons/{solution.name} differs from what solutions/{solution.name} generates: run `course lessons build`"


def test_every_lesson_has_a_solution():
    names = {p.name for p in SOLUTIONS}
    assert [p.name for p in LESSONS if p.name not in names] == []


def _lines(text):
    """Each line stripped, and again without a trailing comment."""
    lines = {line.strip() for line in text.split("\n")}
    return lines | {re.split(r"\s+#", line)[0].strip() for line in lines}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_text_in_its_lesson(solution):
    # Whole lines, in the lesson generated from this solution: a later lesson may legitimately
    # show what an earlier exercise asked for, and prose may share words with code.
    secrets = secret_lines(nbformat.read(str(solution), as_version=4))
    assert secrets, f"{solution.name} has no solution blocks"
    lesson = ROOT / "lessons" / solution.name
    shown = set().union(*(_lines(t) for t in _sources(nbformat.read(str(lesson), as_version=4))))
    leaked = sorted(secrets & shown)
    assert not leaked, f"lessons/{lesson.name} shows solution lines: {leaked}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lessons_carry_no_outputs(lesson):
    nb = nbformat.read(str(lesson), as_version=4)
    assert nb.cells[0].source.startswith(f"Generated from solutions/{lesson.name}")
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def _translated(solution):
    return not is_untranslated(nbformat.read(str(solution), as_version=4))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_chinese_edition_is_up_to_date_and_complete(solution):
    if not REQUIRE_TRANSLATION and not _translated(solution):
        pytest.skip(f"{solution.name} is not translated yet")
    nb = nbformat.read(str(solution), as_version=4)
    assert problems(nb, source=f"solutions/{solution.name}") == []
    lesson = ROOT / "lessons" / "zh" / solution.name
    assert lesson.is_file(), f"lessons/zh/{lesson.name} is missing: run `course lessons build`"
    assert lesson.read_text(encoding="utf-8") == build_text(solution, root=ROOT, lang="zh"), \
        f"lessons/zh/{solution.name} differs from what solutions/{solution.name} generates: run `course lessons build`"


def test_the_whole_build_is_clean():
    result = check_lessons(ROOT)
    assert (result.changed, result.orphans, result.problems) == ([], [], []), "run `course lessons build`"
    if REQUIRE_TRANSLATION:
        assert len(ZH_LESSONS) == len(SOLUTIONS)


@pytest.mark.parametrize("lesson", ZH_LESSONS, ids=lambda p: p.name)
def test_chinese_edition_runs_the_code_nbval_runs_in_english(lesson):
    """One execution covers both editions: the Chinese lesson's code cells are the English lesson's
    (which nbval executes) up to comments, after one generated cell that sets COURSE_LANG."""
    zh = nbformat.read(str(lesson), as_version=4)
    en = nbformat.read(str(ROOT / "lessons" / lesson.name), as_version=4)
    assert (zh.metadata.course.lang, en.metadata.course.lang) == ("zh", "en")
    zh_code = [c.source for c in zh.cells if c.cell_type == "code"]
    en_code = [c.source for c in en.cells if c.cell_type == "code"]
    assert zh_code[0] == LANG_CELL
    assert len(zh_code[1:]) == len(en_code)
    for i, (a, b) in enumerate(zip(en_code, zh_code[1:])):
        assert same_code(a, b), f"lessons/zh/{lesson.name}: code cell {i + 1} differs from the English beyond comments"
    assert [c.cell_type for c in zh.cells[2:]] == [c.cell_type for c in en.cells[1:]]
    assert [c.get("metadata", {}) for c in zh.cells[2:]] == [c.get("metadata", {}) for c in en.cells[1:]]


def test_chinese_edition_is_not_executed_twice():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")      # no tomllib: Python 3.10 has none
    addopts = re.search(r"^addopts\s*=\s*\"(.*)\"\s*$", text, re.MULTILINE)
    assert addopts and "--ignore=lessons/zh" in addopts.group(1).split()


def test_every_lesson_links_the_glossary():
    assert (ROOT / "lessons" / "glossary.md").is_file()
    for lesson in LESSONS + ZH_LESSONS:
        head = nbformat.read(str(lesson), as_version=4).cells[0].source
        assert "glossary.md" in head, lesson


def test_glossary_terms_are_used_where_they_are_introduced():
    """Each Chinese term of the glossary appears in the Chinese edition of the lesson that introduces it
    (the part before a parenthesis: '馈送（feed）' is used as '馈送')."""
    import json
    terms = json.loads((ROOT / "solutions" / "glossary.json").read_text(encoding="utf-8"))["terms"]
    prose = {}
    for lesson in ZH_LESSONS:
        nb = nbformat.read(str(lesson), as_version=4)
        prose[int(lesson.name[:2])] = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    missing = [(t["lesson"], t["en"], t["zh"]) for t in terms
               if t["lesson"] in prose and re.split(r"[（(]", t["zh"])[0].strip() not in prose[t["lesson"]]]
    assert missing == []


_LABEL_CALLS = {"set_title", "set_xlabel", "set_ylabel", "title", "xlabel", "ylabel", "suptitle"}
_LABEL_KEYWORDS = {"title", "xlabel", "ylabel", "label"}
_WORDS = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")


def _english_literal(node):
    import ast
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _WORDS.search(node.value) is not None
    if isinstance(node, ast.JoinedStr):
        return any(_english_literal(v) for v in node.values)
    return False


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_figure_text_goes_through_the_language_helper(solution):
    """Titles, axis labels and legend labels with English words are written
    `course.plot.label("English", "中文")`, so the Chinese edition draws them in Chinese."""
    import ast
    found = []
    for index, text in enumerate(_sources(nbformat.read(str(solution), as_version=4))):
        try:
            tree = ast.parse(text)
        except SyntaxError:                       # magics: not a figure cell
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = node.args[:1] if name in _LABEL_CALLS else []
            args += [k.value for k in node.keywords if k.arg in _LABEL_KEYWORDS]
            found += [f"cell {index}: {ast.unparse(a)}" for a in args if _english_literal(a)]
    assert found == [], f"{solution.name}: wrap these in course.plot.label(en, zh): {found}"

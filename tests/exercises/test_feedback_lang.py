"""Check feedback in the learner's language: `check()` under COURSE_LANG=zh and `course grade` on the
Chinese edition of a lesson speak Chinese (the verdict lines, every check's explanation, the text and
the JSON report); the English edition reads as before. Every message of the checks is written in both
languages where it is raised (an AST scan below finds any that is not)."""
import ast
import re
from pathlib import Path

import pytest
import torch

from course.exercises import check, language
from course.exercises.checking import Result, format_result, run_checks
from course.exercises.expect import CheckFailure, expect_close, expect_equal, say

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "course" / "exercises"
# Two English words in a row: what a Chinese message must not contain outside its code spans.
_ENGLISH = re.compile(r"\b[a-z]{2,}\s+[a-z]{2,}\b")


def english_left(text: str) -> list[str]:
    """English prose left in `text`, once code spans (`...`), tracebacks and Python reprs are removed."""
    text = text.split("Traceback", 1)[0]
    text = re.sub(r"`[^`]*`", "", text)
    return _ENGLISH.findall(text)


@pytest.fixture
def no_lang(monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    return monkeypatch


def test_language_from_environment_and_metadata(no_lang):
    nbformat = pytest.importorskip("nbformat")
    assert language.language() == "en"
    assert language.notebook_language(nbformat.v4.new_notebook(metadata={"course": {"lang": "zh"}})) == "zh"
    assert language.notebook_language(nbformat.v4.new_notebook()) == "en"
    no_lang.setenv("COURSE_LANG", "zh_CN")
    assert language.language() == "zh" and language.notebook_language(nbformat.v4.new_notebook()) == "zh"


@pytest.mark.parametrize("status, en, zh, line_en, line_zh", [
    ("passed", "", "", "✓ Exercise 1.1 passed (2/2 points)", "✓ 练习 1.1 通过（2/2 分）"),
    ("not implemented", "not implemented yet", "尚未实现", "Exercise 1.1: not implemented yet", "练习 1.1：尚未实现"),
    ("failed", "scale(2): expected 4, got 5.", "scale(2)：期望 4，得到 5。",
     "✗ Exercise 1.1 (0/2 points): scale(2): expected 4, got 5.",
     "✗ 练习 1.1（0/2 分，未通过）：scale(2)：期望 4，得到 5。"),
    ("partial", "one of two", "两项中的一项", "~ Exercise 1.1: 1/2 points\none of two",
     "~ 练习 1.1：1/2 分\n两项中的一项"),
])
def test_verdict_lines_from_one_table(no_lang, status, en, zh, line_en, line_zh):
    r = Result.of("1.1", {"passed": 2, "partial": 1}.get(status, 0), 2, status, say(en, zh))
    assert format_result(r) == line_en and format_result(r, "en") == line_en
    assert format_result(r, "zh") == line_zh
    no_lang.setenv("COURSE_LANG", "zh")
    assert format_result(r) == line_zh


def test_a_message_keeps_its_numbers_in_both_languages():
    x = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(CheckFailure) as info:
        expect_close(x * 2 + torch.tensor([0.0, 0.0, 1.0]), x * 2, what="scale(x, 2.0)", inputs={"x": x})
    en, zh = info.value.text.en, info.value.text.zh
    assert str(info.value) == en
    assert en == ("scale(x, 2.0): values differ at 1 of 3 positions: at (2,) got 7, expected 6 (tolerance "
                  "atol=1e-06, rtol=1e-05). Input: x = tensor [1, 2, 3] (shape (3,), float32).")
    assert zh == ("scale(x, 2.0)：有 1 个位置（共 3 个）的值不同：在 (2,) 处得到 7，期望 6（容差 atol=1e-06，"
                  "rtol=1e-05）。输入：x = 张量 [1, 2, 3]（形状 (3,)，float32）。")
    with pytest.raises(CheckFailure) as info:
        expect_close(torch.zeros(2, 3), torch.zeros(3, 2), what=say("the gradient", "梯度"))
    assert info.value.text.en == "the gradient: shape: expected (3, 2), got (2, 3)."
    assert info.value.text.zh == "梯度：形状：期望 (3, 2)，得到 (2, 3)。"
    with pytest.raises(CheckFailure) as info:
        expect_equal(3, 4)
    assert (info.value.text.en, info.value.text.zh) == ("the result: expected 4, got 3.", "结果：期望 4，得到 3。")


def test_a_message_keeps_both_languages_through_pickling():
    import copy
    import pickle
    failure = pickle.loads(pickle.dumps(CheckFailure(en="f(x): expected 1, got 2.", zh="f(x)：期望 1，得到 2。")))
    assert (str(failure), failure.text.zh) == ("f(x): expected 1, got 2.", "f(x)：期望 1，得到 2。")
    text = say("the loss", "损失")
    assert pickle.loads(pickle.dumps(text)) == text == copy.deepcopy(text)


def test_check_speaks_the_lessons_language(no_lang, capsys):
    check("0.1", lambda keep_prob: keep_prob)                        # a wrong answer
    out = capsys.readouterr().out
    assert out.startswith("✗ Exercise 0.1") and "rate is the probability of dropping" in out
    no_lang.setenv("COURSE_LANG", "zh")                              # what the Chinese edition's first cell sets
    check("0.1", lambda keep_prob: keep_prob)
    out = capsys.readouterr().out
    assert out.startswith("✗ 练习 0.1（0/1 分，未通过）：keep_prob_to_rate(1.0)：期望 0，得到 1") and "丢弃" in out
    assert not english_left(out), out
    check("0.1", lambda keep_prob: 1 - keep_prob)
    assert capsys.readouterr().out.startswith("✓ 练习 0.1 通过")


@pytest.mark.parametrize("exercise, answer", [
    ("1.1", lambda images: torch.from_numpy(images).float().unsqueeze(-1)),           # not divided by 255
    ("1.2", lambda labels, depth: torch.nn.functional.one_hot(labels, depth)),         # int64, not float32
    ("1.3", lambda x: (x - x.mean(0)) / x.std(0)),                                     # unbiased std
    ("3.1", lambda x, w, b: x @ w),                                                    # no bias
    ("6.1", lambda y_true, y_pred: ((y_true - y_pred) ** 2).mean()),                   # one number
])
def test_wrong_answers_are_explained_entirely_in_chinese(exercise, answer):
    result = run_checks(exercise, answer)
    assert result.status in ("failed", "error", "partial") and result.message, result
    zh = result.text("zh")
    assert zh and zh != result.message and not english_left(zh), zh
    # The numbers and shapes are the same in both languages.
    assert re.findall(r"\(\d+(?:, \d+)*,?\)", zh) == re.findall(r"\(\d+(?:, \d+)*,?\)", result.message)


def _planted_mistakes(path: Path):
    """(exercise id, wrong answer) of a lesson's check tests: their `(id, answer, words)` parametrizations."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"planted_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for test in vars(module).values():
        for mark in getattr(test, "pytestmark", []):
            names = mark.args[0] if mark.name == "parametrize" else ""
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
            if len(names) != 3 or names[2] not in ("words", "hint"):
                continue
            for values in mark.args[1]:
                eid, answer = getattr(values, "values", values)[:2]
                if isinstance(eid, str) and callable(answer):
                    yield eid, answer


@pytest.mark.parametrize("path", sorted((ROOT / "tests").glob("test_lesson*_checks.py")), ids=lambda p: p.stem)
def test_every_planted_mistake_is_explained_in_chinese(path):
    """The wrong answers the lesson tests plant, each explained in Chinese with nothing left in English
    but code and quoted error text (in backticks)."""
    seen = 0
    for eid, answer in _planted_mistakes(path):
        result = run_checks(eid, answer)
        seen += 1
        zh = result.text("zh")
        assert result.status != "passed" and zh, (eid, result)
        assert zh != result.message and not english_left(zh), (eid, zh)
    if not seen:
        pytest.skip(f"{path.name} plants its mistakes without a (id, answer, words) parametrization")


def test_the_machinerys_sentences_in_chinese(no_lang):
    missing = run_checks("0.1")
    assert missing.status == "missing" and missing.text("zh").startswith("笔记本中没有定义 `keep_prob_to_rate`")

    def raises(keep_prob):
        raise ValueError("bad")
    error = run_checks("0.1", raises)
    assert error.status == "error" and error.text("zh").startswith("你的代码抛出了异常 `ValueError: bad`")
    assert error.message.startswith("your code raised ValueError: bad")
    unknown = run_checks("0.99")
    assert unknown.text("zh") == "练习 0.99 没有注册任何检查；练习编号写对了吗？"

    def softmax(z):
        return torch.softmax(z, dim=-1)
    forbidden = run_checks("3.2", softmax)
    assert forbidden.status == "failed" and forbidden.text("zh").startswith("你的代码使用了 ")
    assert "return torch.softmax(z, dim=-1)" in forbidden.text("zh") and not english_left(forbidden.text("zh"))


# --- every message of every check is written in Chinese too -------------------------------------

def _calls(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name):
                yield node


def _is_say(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("say", "Text")


def _literal_text(node) -> str | None:
    """The constant text of a str literal or f-string (placeholders dropped); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return None if left is None and right is None else f"{left or ''} {right or ''}"
    return None


def _untranslated(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in _calls(tree, "CheckFailure"):
        keywords = {k.arg for k in node.keywords}
        ok = "zh" in keywords or len(node.args) == 2 or (len(node.args) == 1 and _is_say(node.args[0]))
        if not ok:
            bad.append(f"{path.name}:{node.lineno}: CheckFailure without zh=")
    for node in _calls(tree, "expect"):
        keywords = {k.arg for k in node.keywords}
        ok = "zh" in keywords or len(node.args) == 3 or (len(node.args) == 2 and _is_say(node.args[1]))
        if not ok:
            bad.append(f"{path.name}:{node.lineno}: expect(...) without zh=")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for k in node.keywords:
            if k.arg == "what":
                text = _literal_text(k.value)
                if text is not None and english_left(text):
                    bad.append(f"{path.name}:{node.lineno}: what= is English prose; use say(en, zh)")
            if k.arg == "why" and not _is_say(k.value):
                bad.append(f"{path.name}:{node.lineno}: Forbid(why=...) is not say(en, zh)")
    return bad


@pytest.mark.parametrize("path", sorted(EXERCISES.glob("lesson*.py")), ids=lambda p: p.stem)
def test_every_check_message_has_its_chinese(path):
    bad = _untranslated(path)
    assert not bad, "messages without their Chinese (write CheckFailure(en=..., zh=...)):\n" + "\n".join(bad)


# Words a translator might reach for, and the glossary's word for the same thing (lessons/glossary.md).
_NOT_THE_GLOSSARYS = {"权值": "权重", "学习速率": "学习率", "损耗": "损失函数", "代价函数": "损失函数", "步长": "步幅",
                      "填补": "填充", "斜率": "梯度", "形态": "形状", "周期": "轮（epoch）", "批处理": "批次",
                      "热键编码": "独热编码", "优化程序": "优化器", "回呼": "回调", "正确率": "准确率"}


def _chinese_texts(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            values = [k.value for k in node.keywords if k.arg == "zh"]
            if _is_say(node) and len(node.args) == 2:
                values.append(node.args[1])
            for value in values:
                text = _literal_text(value)
                if text:
                    yield node.lineno, text


def test_chinese_messages_use_the_glossarys_terms():
    import json
    glossary = {t["zh"] for t in json.loads((ROOT / "solutions" / "glossary.json").read_text("utf-8"))["terms"]}
    assert set(_NOT_THE_GLOSSARYS.values()) <= glossary
    found = [f"{path.name}:{line}: {word} (the glossary says {_NOT_THE_GLOSSARYS[word]})"
             for path in sorted(EXERCISES.glob("*.py")) for line, text in _chinese_texts(path)
             for word in _NOT_THE_GLOSSARYS if word in text]
    assert not found, "\n".join(found)


def test_the_scan_finds_an_untranslated_message(tmp_path):
    sample = tmp_path / "lesson99.py"
    sample.write_text('raise CheckFailure(f"f(x): expected {a}")\nexpect(ok, "no")\n'
                      'expect_close(a, b, what="the loss after one step")\nForbid(why="not that")\n'
                      'raise CheckFailure(en="x", zh="y")\nexpect(ok, en="a", zh="b")\n'
                      'expect_close(a, b, what="dense(x, w, b)")\n')
    assert len(_untranslated(sample)) == 4


# --- course grade -------------------------------------------------------------------------------

def test_grade_report_in_english_unless_chinese(no_lang):
    from course.exercises.grader import NotebookGrade
    r = Result.of("0.1", 0, 1, "not implemented", say("not implemented yet", "尚未实现"))
    assert NotebookGrade("x.ipynb", [r]).to_text() == "x.ipynb\n  Exercise 0.1  0/1  not implemented yet\nTotal: 0/1"
    assert NotebookGrade("x.ipynb", [r], lang="zh").to_text() == "x.ipynb\n  练习 0.1  0/1  尚未实现\n总分：0/1"
    report = NotebookGrade("x.ipynb", [r], lang="zh").to_json()
    assert report["lang"] == "zh" and report["exercises"][0]["status"] == "not implemented"
    assert report["exercises"][0]["verdict"] == "尚未实现" and report["exercises"][0]["message"] == "尚未实现"
    assert NotebookGrade("x.ipynb", [r]).to_json()["exercises"][0]["message"] == "not implemented yet"


def test_chinese_edition_graded_with_a_wrong_answer_gives_chinese_feedback(no_lang, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    from course.exercises.grader import grade_notebook
    nb = nbformat.read(str(ROOT / "lessons" / "zh" / "00_setup_and_devices.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def keep_prob_to_rate" in c.source)
    cell.source = cell.source.replace("raise NotImplementedError()", "return keep_prob")   # rate = keep_prob: wrong
    path = tmp_path / "00_setup_and_devices.ipynb"
    nbformat.write(nb, str(path))
    grade = grade_notebook(path)
    assert grade.lang == "zh"                                        # from metadata.course.lang; no COURSE_LANG set
    text = grade.to_text()
    assert "  练习 0.1  0/1  未通过：keep_prob_to_rate(1.0)：期望 0，得到 1" in text, text
    assert text.endswith("总分：0/1") and not english_left(text.split("\n", 1)[1]), text
    report = grade.to_json()
    row = report["exercises"][0]
    assert row["status"] == "failed" and row["verdict"] == "未通过"  # the status code stays machine-readable
    assert row["message"].startswith("keep_prob_to_rate(1.0)：期望 0，得到 1") and not english_left(row["message"])

"""The fixed sentences of a verdict, in the learner's language (English or Simplified Chinese).

`check()` speaks Chinese when `COURSE_LANG` names Chinese (the Chinese edition of a lesson sets
`COURSE_LANG=zh` in its first code cell); `course grade` when the graded notebook is the Chinese
edition (`metadata.course.lang == "zh"`) or `COURSE_LANG` says so. What is translated: the result
lines (passed, not implemented yet, points, total, the status words) and the sentences the checking
machinery writes itself (missing answer, exception raised, timeout, crash). What a check explains
about the numbers (expected, got, on which input) stays as the check wrote it. The exercise ids and
the points are the same in both languages, so a grade reads the same in either.
"""
from __future__ import annotations

import os
import re

__all__ = ["LANGS", "language", "notebook_language", "status_word", "translate_message", "result_line_zh",
           "grade_row_zh", "total_line_zh"]

LANGS = ("en", "zh")

_STATUS_ZH = {"passed": "通过", "partial": "部分得分", "failed": "未通过", "not implemented": "尚未实现",
              "error": "出错", "missing": "缺少答案", "no checks": "没有检查", "timeout": "超时",
              "crashed": "内核崩溃", "refused": "拒绝运行"}

# The machinery's own sentences (course.exercises.checking and .grader), English pattern -> Chinese.
_MESSAGES_ZH = [
    (r"not implemented yet", "尚未实现"),
    (r"wrong result", "结果错误"),
    (r"a check failed \(no details given\)", "检查未通过（没有给出细节）"),
    (r"`(?P<name>[^`]+)` is not defined in the notebook; exercise (?P<id>\S+) expects it under that name "
     r"\(was it renamed or deleted, or its cell not run\?\)",
     "笔记本中没有定义 `{name}`；练习 {id} 要求使用这个名字（它是否被改名或删除了，或者它所在的单元格没有运行？）"),
    (r"your code raised (?P<rest>.*)", "你的代码抛出了异常 {rest}"),
    (r"your code called (?P<rest>.*)", "你的代码调用了被禁止的 {rest}"),
    (r"your code uses (?P<rest>.*)", "你的代码使用了被禁止的 {rest}"),
    (r"the check could not use your result: (?P<rest>.*)", "检查程序无法使用你的结果：{rest}"),
    (r"your answer could not be read: (?P<rest>.*)", "无法读取你的答案：{rest}"),
    (r"looking up your answer did not finish in time", "查找你的答案没有在限定时间内完成"),
    (r"the kernel died while this exercise was checked", "检查这道练习时内核崩溃了"),
    (r"checking took longer than (?P<s>\S+) s \(an endless loop\?\) and was stopped",
     "检查用时超过 {s} 秒（是死循环吗？），已被停止"),
    (r"no checks are registered for exercise (?P<id>\S+); is the id right\?",
     "练习 {id} 没有注册任何检查；练习编号写对了吗？"),
]


def language(lang: str | None = None) -> str:
    """`lang` if it is 'en' or 'zh'; else 'zh' when COURSE_LANG names Chinese, 'en' otherwise."""
    if lang in LANGS:
        return lang
    return "zh" if os.environ.get("COURSE_LANG", "").strip().lower().startswith("zh") else "en"


def notebook_language(nb) -> str:
    """The language of a lesson notebook: its `metadata.course.lang`, else COURSE_LANG."""
    course = (nb.get("metadata", {}) or {}).get("course", {}) or {}
    lang = str(course.get("lang", "")).lower() if isinstance(course, dict) else ""
    return "zh" if lang.startswith("zh") else language()


def status_word(status: str, lang: str | None = None) -> str:
    return _STATUS_ZH.get(status, status) if language(lang) == "zh" else status


def translate_message(message: str, lang: str | None = None) -> str:
    """The message with its first line translated when it is one of the machinery's own sentences."""
    if language(lang) != "zh" or not message:
        return message
    first, sep, rest = message.partition("\n")
    for pattern, template in _MESSAGES_ZH:
        m = re.fullmatch(pattern, first, flags=re.DOTALL)
        if m:
            return template.format(**m.groupdict()) + sep + rest
    return message


def result_line_zh(r) -> str:
    """The verdict line(s) `check()` prints for the Result `r`, in Chinese."""
    score = f"{r.points}/{r.max} 分"
    if r.status == "passed":
        return f"✓ 练习 {r.id} 通过（{score}）"
    if r.status == "not implemented":
        return f"练习 {r.id}：尚未实现"
    if r.status == "partial":
        return f"~ 练习 {r.id}：{score}\n{translate_message(r.message, 'zh')}".rstrip()
    return f"✗ 练习 {r.id}（{score}，{status_word(r.status, 'zh')}）：{translate_message(r.message, 'zh')}"


def grade_row_zh(r, width: int) -> str:
    """One exercise's line of the grader's text report, in Chinese."""
    first = r.message.split("\n", 1)[0] if r.message else ""
    word, said = status_word(r.status, "zh"), translate_message(first, "zh")
    note = word if not said or said == word else f"{word}：{said}"
    return f"  练习 {r.id:<{width}}  {r.points}/{r.max}  {note}"


def total_line_zh(total, maximum) -> str:
    return f"总分：{total}/{maximum}"

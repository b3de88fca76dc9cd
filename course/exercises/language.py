"""Every learner-facing sentence of `check()` and `course grade`, in English and Simplified Chinese.

A check writes each message once per language where it raises it
(`CheckFailure(en=f"...", zh=f"...")`, or a `Text` built with `say(en, zh)`); the language is
chosen when the verdict is rendered: `check()` speaks Chinese when `COURSE_LANG` names Chinese
(the Chinese edition of a lesson sets `COURSE_LANG=zh` in its first code cell), `course grade` when
the graded notebook is the Chinese edition (`metadata.course.lang == "zh"`) or `COURSE_LANG` says
so. Numbers, shapes, code and formulas are the same in both languages; so are the exercise ids,
the points and the machine-readable status codes of the JSON report.
"""
from __future__ import annotations

import os

__all__ = ["LANGS", "Text", "say", "tr", "language", "notebook_language", "status_word", "result_line",
           "grade_row", "total_line"]

LANGS = ("en", "zh")


class Text:
    """One message in both languages; str() gives the English (what logs and exceptions show)."""

    __slots__ = ("en", "zh")

    def __init__(self, en: str, zh: str):
        if isinstance(en, Text) or isinstance(zh, Text):
            raise TypeError("Text(en, zh) takes two strings; use `text.en` / `text.zh` to build one from another")
        object.__setattr__(self, "en", str(en))
        object.__setattr__(self, "zh", str(zh))

    def __setattr__(self, name, value):
        raise AttributeError("a Text is immutable")

    def __reduce__(self):               # pickle and copy rebuild it through __init__
        return Text, (self.en, self.zh)

    @classmethod
    def of(cls, x) -> "Text":
        """`x` as a Text: a plain str (code, a number, a shape) reads the same in both languages."""
        if isinstance(x, Text):
            return x
        x = "" if x is None else str(x)
        return cls(x, x)

    def get(self, lang: str | None = None) -> str:
        return self.zh if language(lang) == "zh" else self.en

    def __str__(self) -> str:
        return self.en

    def __repr__(self) -> str:
        return f"say({self.en!r}, {self.zh!r})"

    def __bool__(self) -> bool:
        return bool(self.en or self.zh)

    def __eq__(self, other) -> bool:
        return isinstance(other, Text) and (self.en, self.zh) == (other.en, other.zh)

    def __hash__(self) -> int:
        return hash((self.en, self.zh))

    def __add__(self, other) -> "Text":
        other = Text.of(other)
        return Text(self.en + other.en, self.zh + other.zh)

    def __radd__(self, other) -> "Text":
        return Text.of(other) + self

    @staticmethod
    def join(parts, en: str = " ", zh: str | None = None) -> "Text":
        """The parts (Text or str) joined with `en` in English and `zh` (default `en`) in Chinese."""
        parts = [Text.of(p) for p in parts]
        return Text((en).join(p.en for p in parts), (en if zh is None else zh).join(p.zh for p in parts))

    def strip(self) -> "Text":
        return Text(self.en.strip(), self.zh.strip())


def say(en: str, zh: str) -> Text:
    """The message `en` in English and `zh` in Chinese."""
    return Text(en, zh)


def tr(x, lang: str | None = None) -> str:
    """`x` in `lang`: a Text's translation, a plain str as it is."""
    return x.get(lang) if isinstance(x, Text) else ("" if x is None else str(x))


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


_STATUS = {"zh": {"passed": "通过", "partial": "部分得分", "failed": "未通过", "not implemented": "尚未实现",
                  "error": "出错", "missing": "缺少答案", "no checks": "没有检查", "timeout": "超时",
                  "crashed": "内核崩溃", "refused": "拒绝运行",
                  "recorded": "已记录"}}

# The verdict lines, one table per language: `check()` prints LINE[status]; the grader's text
# report prints ROW per exercise and TOTAL at the end.
_TEMPLATES = {
    "en": {"score": "{points}/{max} points",
           "passed": "✓ Exercise {id} passed ({score})",
           "not implemented": "Exercise {id}: not implemented yet",
           "partial": "~ Exercise {id}: {score}\n{message}",
           "recorded": "• Exercise {id}: {message}",
           "other": "✗ Exercise {id} ({score}): {message}",
           "row": "  Exercise {id:<{width}}  {points}/{max}  {note}",
           "note": "{status}: {said}",
           "total": "Total: {total}/{max}"},
    "zh": {"score": "{points}/{max} 分",
           "passed": "✓ 练习 {id} 通过（{score}）",
           "not implemented": "练习 {id}：尚未实现",
           "partial": "~ 练习 {id}：{score}\n{message}",
           "recorded": "• 练习 {id}：{message}",
           "other": "✗ 练习 {id}（{score}，{status}）：{message}",
           "row": "  练习 {id:<{width}}  {points}/{max}  {note}",
           "note": "{status}：{said}",
           "total": "总分：{total}/{max}"},
}


def status_word(status: str, lang: str | None = None) -> str:
    return _STATUS.get(language(lang), {}).get(status, status)


def _message(r, lang: str) -> str:
    text = getattr(r, "text", None)
    return text(lang) if callable(text) else (r.message or "")


def result_line(r, lang: str | None = None) -> str:
    """The verdict line(s) `check()` prints for the Result `r`."""
    t = _TEMPLATES[language(lang)]
    score = t["score"].format(points=r.points, max=r.max)
    key = r.status if r.status in ("passed", "not implemented", "partial", "recorded") else "other"
    line = t[key].format(id=r.id, score=score, message=_message(r, language(lang)),
                         status=status_word(r.status, lang))
    return line.rstrip() if key == "partial" else line


def grade_row(r, width: int, lang: str | None = None) -> str:
    """One exercise's line of the grader's text report."""
    lang = language(lang)
    message = _message(r, lang)
    said = message.split("\n", 1)[0] if message else ""
    word = status_word(r.status, lang)
    if not said:
        note = word
    elif said == word or said.startswith(word + "：") or (lang == "en" and said.startswith(r.status)):
        note = said
    else:
        note = _TEMPLATES[lang]["note"].format(status=word, said=said)
    return _TEMPLATES[lang]["row"].format(id=r.id, width=width, points=r.points, max=r.max, note=note)


def total_line(total, maximum, lang: str | None = None) -> str:
    return _TEMPLATES[language(lang)]["total"].format(total=total, max=maximum)

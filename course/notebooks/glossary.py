"""The bilingual glossary: `solutions/glossary.json` -> `lessons/glossary.md`.

The source is a JSON object ``{"terms": [{"en": ..., "zh": ..., "lesson": N}, ...]}``: the English
term, its standard Chinese rendering (the one every lesson and message uses), and the lesson that
introduces it. The page lists the terms by lesson, each lesson linked in both editions.
"""
from __future__ import annotations

import json
from pathlib import Path

__all__ = ["GLOSSARY_SOURCE", "GLOSSARY_PAGE", "load_terms", "render"]

GLOSSARY_SOURCE = "glossary.json"
GLOSSARY_PAGE = "glossary.md"


def load_terms(path: str | Path) -> list[dict]:
    """The terms of a glossary source, checked: each has non-empty 'en' and 'zh' and an int 'lesson'."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    terms = data.get("terms") if isinstance(data, dict) else None
    if not isinstance(terms, list):
        raise ValueError(f"{path.name}: expected an object with a list 'terms'; got {type(data).__name__}.")
    seen = set()
    for i, term in enumerate(terms):
        if not (isinstance(term, dict) and str(term.get("en", "")).strip() and str(term.get("zh", "")).strip()
                and isinstance(term.get("lesson"), int)):
            raise ValueError(f"{path.name}: term {i} must have 'en', 'zh' (non-empty) and an integer 'lesson'; "
                             f"got {term!r}.")
        if term["en"].lower() in seen:
            raise ValueError(f"{path.name}: the term {term['en']!r} appears twice; keep one.")
        seen.add(term["en"].lower())
    return terms


def render(terms: list[dict], *, source: str, lessons: dict[int, str]) -> str:
    """The glossary page. `lessons` maps a lesson number to its file name (e.g. 1 -> '01_tensors.ipynb')."""
    lines = ["# Glossary · 术语表", "",
             f"Generated from {source} by `course lessons build`; edit that file, not this one.",
             f"由 `course lessons build` 从 {source} 生成；请修改那个文件，不要修改本文件。", "",
             "Each term is listed under the lesson that introduces it; the Chinese edition and the check "
             "messages use the Chinese term given here.",
             "每个术语列在首次介绍它的那一课之下；中文版课程和检查反馈都使用这里给出的中文术语。", ""]
    for number in sorted({t["lesson"] for t in terms}):
        name = lessons.get(number)
        title = f"Lesson {number} · 第 {number} 课"
        if name:
            title += f" ([English]({name}) · [中文](zh/{name}))"
        lines += [f"## {title}", "", "| English | 中文 |", "|---|---|"]
        for term in sorted((t for t in terms if t["lesson"] == number), key=lambda t: t["en"].lower()):
            lines.append(f"| {term['en']} | {term['zh']} |")
        lines.append("")
    return "\n".join(lines)

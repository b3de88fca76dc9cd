"""The two editions of a lesson, English and Simplified Chinese, kept in one solution notebook.

Where the Chinese lives: in the cell it translates, under ``metadata.course.zh``. A markdown cell's
``zh`` is its Chinese markdown (a string, or a list of lines like a cell's ``source``). A code cell's
optional ``zh`` translates its comments: a mapping from an English comment, as written in the code
(``"# small figures keep the notebook light"``), to its Chinese text; the builder replaces those
comment tokens and nothing else, so the code itself exists once. (A string there is accepted too: the
whole cell with Chinese comments, which must parse to the same AST as the English.) Cells without
``zh`` are shared by both editions.

The rules that keep the editions in step (`problems` lists every broken one):

- every markdown cell with English prose has a translation, and the translation holds CJK text;
- the translation carries the same formulas (``$...$``, ``$$...$$``) and the same code (inline
  spans and fenced blocks) as its English twin, and the same answer markers;
- a heading that names "Exercise N.M" (the grader finds exercises by it) keeps that token in the
  Chinese heading, with 练习 beside it;
- a code cell's Chinese comments translate comments the cell has (a stale one is reported), and
  the Chinese variant is the English code up to comments;
- a translation was written for the English the cell holds now: ``metadata.course.en`` keeps a
  fingerprint of the English it translates (`stamp` writes it once the Chinese is up to date), so
  an English edit without its Chinese one is caught.
"""
from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize

__all__ = ["LANGS", "CJK", "zh_source", "zh_comments", "apply_comments", "code_zh", "needs_translation", "formulas",
           "code_spans", "same_code",
           "markdown_problems", "code_problems", "problems", "is_untranslated", "fingerprint", "stamp"]

LANGS = ("en", "zh")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_FENCED = re.compile(r"^[ \t]*(```+|~~~+)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$")
_URL = re.compile(r"\]\([^)]*\)|<[^>]+>|https?://\S+")
_HEADING_EXERCISE = re.compile(r"^\s{0,3}#{1,6}\s.*?\bExercise\s+(\d+\.\d+)\b", re.MULTILINE)
_ANSWER_MARKER = re.compile(r"^\s*### (?:BEGIN|END) (?:SOLUTION|HIDDEN TESTS)\s*$", re.MULTILINE)


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def _zh(cell):
    course = cell.get("metadata", {}).get("course", {})
    return course.get("zh") if isinstance(course, dict) else None


def zh_source(cell) -> str | None:
    """The Chinese text a cell carries as a whole (``metadata.course.zh`` as text), or None."""
    value = _zh(cell)
    return None if value is None or isinstance(value, dict) else _text(value)


def zh_comments(cell) -> dict | None:
    """A code cell's comment translations (``metadata.course.zh`` as a mapping), or None."""
    value = _zh(cell)
    return dict(value) if isinstance(value, dict) else None


def _comment_spans(code: str):
    """(line index, column, text) of every comment of `code`; by line ends when it does not tokenize."""
    try:
        return [(t.start[0] - 1, t.start[1], t.string)
                for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):        # IPython magics and the like
        spans = []
        for i, line in enumerate(code.split("\n")):
            at = line.find("#")
            if at >= 0:
                spans.append((i, at, line[at:]))
        return spans


def apply_comments(code: str, mapping: dict) -> tuple[str, list[str]]:
    """`code` with each comment equal to a key of `mapping` replaced by its value (a '# ' is added
    when the value lacks it); also the keys that matched no comment."""
    lines = code.split("\n")
    used = set()
    for i, col, text in reversed(_comment_spans(code)):
        key = text.rstrip()
        if key in mapping:
            value = mapping[key] if mapping[key].lstrip().startswith("#") else "# " + mapping[key]
            lines[i] = lines[i][:col] + value + lines[i][col + len(text):]
            used.add(key)
    return "\n".join(lines), [k for k in mapping if k not in used]


def code_zh(cell, code: str) -> str:
    """The Chinese edition of the code cell whose English code is `code`."""
    mapping = zh_comments(cell)
    if mapping is not None:
        return apply_comments(code, mapping)[0]
    return zh_source(cell) or code


def _norm(text: str) -> str:
    return " ".join(text.split())


def _split(text: str):
    """(code pieces, formulas, prose left over) of a markdown text."""
    code = []

    def keep(m, group):
        code.append(_norm(m.group(group)))
        return " "

    text = _FENCED.sub(lambda m: keep(m, 2), text)
    text = _INLINE.sub(lambda m: keep(m, 2), text)
    maths = []

    def keep_math(m):
        maths.append(_norm(m.group(1)))
        return " "

    text = _DISPLAY.sub(keep_math, text)
    text = _INLINE_MATH.sub(keep_math, text)
    return code, maths, text


def formulas(text: str) -> set[str]:
    """The formulas of a markdown text, whitespace-normalised."""
    return set(_split(text)[1])


def code_spans(text: str) -> set[str]:
    """The inline code spans and fenced code blocks of a markdown text, whitespace-normalised."""
    return set(_split(text)[0])


def needs_translation(text: str) -> bool:
    """True if a markdown text has English prose (words outside code, formulas and link targets)."""
    prose = _URL.sub(" ", _split(text)[2])
    prose = _ANSWER_MARKER.sub(" ", prose)
    return re.search(r"[A-Za-z]{2,}", prose) is not None


def _short(items) -> str:
    items = sorted(items)
    shown = ", ".join(repr(i if len(i) <= 40 else i[:37] + "...") for i in items[:3])
    return shown + (f" and {len(items) - 3} more" if len(items) > 3 else "")


def markdown_problems(en: str, zh: str | None) -> list[str]:
    """What is wrong with `zh` as the translation of the markdown `en` (empty: nothing)."""
    if zh is None or not zh.strip():
        return ["has no Chinese translation (metadata.course.zh)"] if needs_translation(en) else []
    found = []
    if not CJK.search(zh):
        found.append("its Chinese translation holds no Chinese text")
    en_code, en_math, _ = _split(en)
    zh_code, zh_math, _ = _split(zh)
    for what, a, b in (("formulas", set(en_math), set(zh_math)), ("code spans", set(en_code), set(zh_code))):
        if a - b:
            found.append(f"the Chinese lacks the {what} {_short(a - b)} of the English")
        if b - a:
            found.append(f"the Chinese has {what} the English does not: {_short(b - a)}")
    for number in _HEADING_EXERCISE.findall(en):
        headings = [line for line in zh.split("\n") if _HEADING_EXERCISE.match(line)
                    and _HEADING_EXERCISE.match(line).group(1) == number]
        if not headings:
            found.append(f"the Chinese has no heading with 'Exercise {number}' (the grader finds the exercise by it)")
        elif not any("练习" in line for line in headings):
            found.append(f"the Chinese heading of Exercise {number} lacks '练习'")
    if len(_ANSWER_MARKER.findall(en)) != len(_ANSWER_MARKER.findall(zh)):
        found.append("the Chinese and the English have different answer markers (### BEGIN/END SOLUTION)")
    return found


def _tokens_without_comments(code: str) -> list[tuple[int, str]]:
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(code).readline)
                if t.type not in skip]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [(0, line.split("#")[0].strip()) for line in code.split("\n") if line.split("#")[0].strip()]


def same_code(a: str, b: str) -> bool:
    """True if two code cells differ at most in their comments (and layout the parser ignores)."""
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:                      # IPython magics: compare the tokens instead
        return _tokens_without_comments(a) == _tokens_without_comments(b)


def code_problems(en: str, zh: str | None) -> list[str]:
    """What is wrong with `zh` as the Chinese-commented variant of the code `en`."""
    if zh is None or same_code(en, zh):
        return []
    return ["its Chinese variant (metadata.course.zh) differs from the code beyond comments; both editions "
            "must run the same code: change only comments there, or copy the new code over"]


def fingerprint(text: str) -> str:
    """A short fingerprint of a cell's English (trailing whitespace of lines ignored)."""
    norm = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]


def stamp(nb) -> int:
    """Record, in every translated markdown cell, that its Chinese matches its English as it is now;
    returns how many fingerprints changed. Run it after updating the Chinese of edited cells."""
    changed = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and zh_source(cell) is not None:
            value = fingerprint(_text(cell.source))
            if cell.metadata["course"].get("en") != value:
                cell.metadata["course"]["en"] = value
                changed += 1
    return changed


def is_untranslated(nb) -> bool:
    """True if no cell of the notebook carries a translation (the lesson has not been started)."""
    return all(_zh(cell) is None for cell in nb.cells)


def problems(nb, *, source: str) -> list[str]:
    """Every broken rule of the notebook, each naming the file and the cell (counting from 0)."""
    found = []
    for index, cell in enumerate(nb.cells):
        if "solution-only" in cell.get("metadata", {}).get("tags", []):
            continue
        text, zh = _text(cell.source), zh_source(cell)
        if _zh(cell) is not None and cell.cell_type == "markdown" and zh is None:
            found.append(f"{source}, cell {index} (counting from 0): metadata.course.zh of a markdown cell "
                         f"must be its Chinese text, not a mapping")
            continue
        if cell.cell_type == "markdown":
            issues = markdown_problems(text, zh)
            if zh is not None and cell.metadata["course"].get("en") != fingerprint(text):
                issues.append("its English changed after the Chinese was written (metadata.course.en is not the "
                              "English's fingerprint): update the Chinese, then run `course lessons stamp` on "
                              "this notebook")
        elif cell.cell_type == "code":
            mapping = zh_comments(cell)
            if mapping is None:
                issues = code_problems(text, zh)
            else:
                translated, stale = apply_comments(text, mapping)
                issues = [f"its Chinese comment for {k!r} matches no comment of the cell (the code changed: "
                          f"update or remove it in metadata.course.zh)" for k in stale]
                issues += code_problems(text, translated)
        else:
            issues = [] if zh is None else ["a raw cell is shared by both editions and takes no translation"]
        found.extend(f"{source}, cell {index} (counting from 0): {issue}" for issue in issues)
    return found

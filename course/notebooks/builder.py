"""Generate `lessons/NN_name.ipynb` from `solutions/NN_name.ipynb`.

For each solution notebook the builder

- replaces every ``### BEGIN SOLUTION`` / ``### END SOLUTION`` block with ``# YOUR CODE HERE`` and
  ``raise NotImplementedError()`` at the block's indentation (markdown: ``YOUR ANSWER HERE``), and
  removes ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` blocks;
- drops cells tagged ``solution-only``; removes ``# NBVAL_CHECK_OUTPUT`` / ``# NBVAL_IGNORE_OUTPUT``
  lines (a lesson has no stored outputs to compare);
- clears outputs and execution counts, keeps only presentational cell metadata
  (tags, jupyter, slideshow, editable, deletable), and writes canonical notebook metadata;
- inserts a first markdown cell naming the source;
- numbers cell ids by position (``cell-00``, ``cell-01``, ...) and writes sorted JSON with indent 1
  and a final newline, so identical input gives byte-identical output.

A solution block whose stub would run at the top level of a cell (outside any function) is
refused: the lesson would stop there under "Run All". Put the exercise inside a function, or tag
the cell ``raises-exception`` if stopping is really meant.

Two editions from one source. A solution notebook carries its prose in English (the cells' source)
and in Simplified Chinese (each translated cell's ``metadata.course.zh``; see
`course.notebooks.translation` for the format and the rules). We chose per-cell metadata over
paired cells: the solution still reads, runs and diffs as one English notebook, a translation
cannot drift away from the cell it translates, and the code exists once. The builder writes

- ``lessons/NN_name.ipynb``, the English edition (``metadata.course.lang == "en"``);
- ``lessons/zh/NN_name.ipynb``, the Chinese edition (``"zh"``): the same cells with the Chinese
  markdown (and Chinese comments where a code cell has them), a Chinese header, and a generated
  code cell after the header that sets ``COURSE_LANG=zh`` for figure labels and check messages;
- ``lessons/glossary.md`` from ``solutions/glossary.json``, linked from every edition's header.

`--check` fails when a file is stale or missing, when a translation breaks a rule (a markdown
cell without its translation, different formulas or code spans, an exercise heading without
"Exercise N.M" and 练习, code that differs beyond comments), and when a solution's stored outputs
are not all from one stamped run of `course lessons execute` (see `course.notebooks.stamps`; the
stamps never reach the student editions, which keep no cell metadata but the presentational kind).
While `REQUIRE_TRANSLATION` is false a
lesson no cell of which is translated yet is reported and skipped instead; a lesson that has begun
must be complete.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from course.notebooks import stamps, translation
from course.notebooks.glossary import GLOSSARY_PAGE, GLOSSARY_SOURCE, load_terms, render
from course.notebooks.markers import MarkerError, find_blocks, strip_markers

__all__ = ["SOLUTIONS", "LESSONS", "ZH", "NAME_RE", "HEADER", "HEADER_ZH", "LANG_CELL", "REQUIRE_TRANSLATION",
           "BuildResult", "find_root", "build_notebook", "build_text", "build_all", "check_lessons",
           "lesson_path", "MarkerError"]

SOLUTIONS = "solutions"
LESSONS = "lessons"
NAME_RE = re.compile(r"^\d\d_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
ZH = "zh"                                  # the Chinese edition's folder inside lessons/
HEADER = "Generated from {source} by `course lessons build`; edit that file, not this one."
_LINKS_EN = "Glossary · 术语表: [glossary.md](glossary.md) · 中文版: [zh/{name}](zh/{name})"
HEADER_ZH = "由 `course lessons build` 从 {source} 生成；请修改那个文件，不要修改本文件。"
_LINKS_ZH = "术语表 · Glossary: [glossary.md](../glossary.md) · English edition: [../{name}](../{name})"
LANG_CELL = ('# 中文版：图表标签和 check() 的反馈使用中文（由 COURSE_LANG 决定）。\n'
             'import os\n'
             'os.environ["COURSE_LANG"] = "zh"')
REQUIRE_TRANSLATION = True                # every lesson is translated: none may lack its Chinese edition

_KEEP_CELL_METADATA = ("tags", "jupyter", "slideshow", "editable", "deletable")
_DROP_TAG = "solution-only"
_NBVAL_OUTPUT_LINE = re.compile(r"^\s*#\s*NBVAL_(?:CHECK|IGNORE)_OUTPUT\s*$")
_NB_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                      "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                      "pygments_lexer": "ipython3"},
}


def _nbformat():
    try:
        import nbformat
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("The lesson builder needs nbformat: pip install nbformat "
                          "(or install this package with its 'test' extra).") from None
    return nbformat


def find_root(start: str | Path | None = None) -> Path:
    """`start` if given (it must hold solutions/), else the nearest folder at or above the working
    directory that holds solutions/."""
    if start is not None:
        root = Path(start).resolve()
        if not (root / SOLUTIONS).is_dir():
            raise FileNotFoundError(f"{root} has no '{SOLUTIONS}/' folder; --root must name the folder that "
                                    f"holds '{SOLUTIONS}/' and '{LESSONS}/'.")
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / SOLUTIONS).is_dir():
            return folder
    raise FileNotFoundError(f"No '{SOLUTIONS}/' folder at or above {here}. Run this from the course "
                            f"repository, or pass --root pointing at the folder that holds '{SOLUTIONS}/'.")


def _stub_runs_at_top_level(code: str) -> bool:
    """True if a `raise NotImplementedError()` in `code` sits outside every function/lambda."""
    try:
        tree = ast.parse(code)
    except SyntaxError:                       # IPython magics etc.: fall back to indentation
        return any(line.startswith("raise NotImplementedError()") for line in code.split("\n"))

    def walk(node, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if walk(child, True):
                    return True
                continue
            if (not inside and isinstance(child, ast.Raise) and child.exc is not None
                    and "NotImplementedError" in ast.unparse(child.exc)):
                return True
            if walk(child, inside):
                return True
        return False

    return walk(tree, False)


def _clean_metadata(metadata: dict) -> dict:
    kept = {k: metadata[k] for k in _KEEP_CELL_METADATA if k in metadata}
    if "tags" in kept:
        kept["tags"] = [t for t in kept["tags"] if t != _DROP_TAG]
        if not kept["tags"]:
            del kept["tags"]
    return kept


def build_notebook(nb, *, source: str, lang: str = "en"):
    """The lesson notebook (a new NotebookNode) for the solution notebook `nb`, in `lang` ('en', 'zh').

    `source` is the solution's path as shown to readers, e.g. 'solutions/01_tensors.ipynb'; it
    appears in the header cell and in error messages. A cell without a Chinese text is shared.
    """
    if lang not in translation.LANGS:
        raise ValueError(f"lang must be one of {translation.LANGS}; got {lang!r}.")
    nbformat = _nbformat()
    v4 = nbformat.v4
    name = source.rsplit("/", 1)[-1]
    if lang == "en":
        cells = [v4.new_markdown_cell(HEADER.format(source=source) + "\n\n" + _LINKS_EN.format(name=name))]
    else:
        cells = [v4.new_markdown_cell(HEADER_ZH.format(source=source) + "\n\n" + _LINKS_ZH.format(name=name)),
                 v4.new_code_cell(LANG_CELL)]
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if _DROP_TAG in tags:
            continue
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if lang == "zh" and cell.cell_type == "markdown":
            text = translation.zh_source(cell) or text
        elif lang == "zh" and cell.cell_type == "code":
            text = translation.code_zh(cell, text)
        if cell.cell_type == "code":
            blocks = find_blocks(text, path=source, cell=index)
            code = strip_markers(text, path=source, cell=index)
            code = "\n".join(line for line in code.split("\n") if not _NBVAL_OUTPUT_LINE.match(line))
            if blocks:                        # no blank tail where a hidden-tests block was
                code = code.rstrip() + ("\n" if text.endswith("\n") else "")
            if (any(b.kind == "solution" for b in blocks) and "raises-exception" not in tags
                    and _stub_runs_at_top_level(code)):
                first = next(b for b in blocks if b.kind == "solution")
                raise MarkerError(
                    "this solution block would leave `raise NotImplementedError()` at the top level of the "
                    "cell, so the lesson would stop here under 'Run All'. Put the exercise inside a function "
                    "that the check calls, or tag the cell 'raises-exception'.",
                    path=source, cell=index, line=first.begin)
            new = v4.new_code_cell(code)
        elif cell.cell_type == "markdown":
            new = v4.new_markdown_cell(strip_markers(text, markdown=True, path=source, cell=index))
            if "attachments" in cell:
                new["attachments"] = cell["attachments"]
        else:
            new = v4.new_raw_cell(text)
        new["metadata"] = _clean_metadata(dict(cell.get("metadata", {})))
        cells.append(new)
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:02d}"
    metadata = json.loads(json.dumps(_NB_METADATA))
    metadata["course"] = {"lang": lang}
    lesson = v4.new_notebook(cells=cells, metadata=metadata)
    lesson.nbformat, lesson.nbformat_minor = 4, 5
    return lesson


def _shown(solution: Path, root: Path) -> str:
    try:
        return solution.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return f"{SOLUTIONS}/{solution.name}"


def _text_of(lesson) -> str:
    nbformat = _nbformat()
    nbformat.validate(lesson)
    text = nbformat.writes(lesson, version=4)      # sorted keys, indent 1, sources split in lines
    return text if text.endswith("\n") else text + "\n"


def build_text(solution: str | Path, *, root: str | Path, lang: str = "en") -> str:
    """The lesson file's exact text, in `lang`, for the solution notebook at `solution`."""
    nbformat = _nbformat()
    solution, root = Path(solution), Path(root)
    nb = nbformat.read(str(solution), as_version=4)
    return _text_of(build_notebook(nb, source=_shown(solution, root), lang=lang))


def lesson_path(root: str | Path, name: str, lang: str = "en") -> Path:
    """Where the `lang` edition of the lesson `name` lives under `root`."""
    folder = Path(root) / LESSONS
    return folder / name if lang == "en" else folder / lang / name


@dataclass
class BuildResult:
    """What a build found: file path -> generated text, which files differ from disk, what is wrong."""
    root: Path
    texts: dict[Path, str] = field(default_factory=dict)
    changed: list[Path] = field(default_factory=list)     # missing or different on disk
    orphans: list[Path] = field(default_factory=list)     # lessons with no solution
    problems: list[str] = field(default_factory=list)     # broken translation rules
    untranslated: list[Path] = field(default_factory=list)  # solutions with no translation yet
    output_problems: list[str] = field(default_factory=list)  # stored outputs not from one stamped run

    @property
    def ok(self) -> bool:
        return not (self.changed or self.orphans or self.problems or self.output_problems)


def _solution_files(root: Path) -> list[Path]:
    folder = root / SOLUTIONS
    files = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    bad = [p.name for p in files if not NAME_RE.match(p.name)]
    if bad:
        raise ValueError(f"{SOLUTIONS}/ holds notebooks not named NN_snake_case.ipynb: {', '.join(bad)}. "
                         f"Rename them (two digits, underscore, lower-case words), e.g. 01_tensors.ipynb.")
    return files


def _check_outputs(nb, shown: str, result: BuildResult) -> None:
    has_outputs = any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    if stamps.is_unstamped(nb) and not has_outputs:           # nothing stored, nothing to vouch for
        return
    result.output_problems.extend(stamps.problems(nb, source=shown))


def build_all(root: str | Path | None = None, *, write: bool = True,
              require_translation: bool | None = None) -> BuildResult:
    """Regenerate every lesson in both editions and the glossary; write what changed when `write`.

    Translation problems are collected in `problems` (the files are still written); a solution with
    no translation at all is listed in `untranslated` and gets no Chinese edition, unless
    `require_translation` (default `REQUIRE_TRANSLATION`) makes that a problem too. Stored outputs
    not from one stamped run go to `output_problems`.
    """
    nbformat = _nbformat()
    root = find_root(root)
    require = REQUIRE_TRANSLATION if require_translation is None else require_translation
    result = BuildResult(root=root)
    names = {}
    for solution in _solution_files(root):
        shown = _shown(solution, root)
        nb = nbformat.read(str(solution), as_version=4)
        names[int(solution.name[:2])] = solution.name
        result.texts[lesson_path(root, solution.name)] = _text_of(build_notebook(nb, source=shown))
        _check_outputs(nb, shown, result)
        if translation.is_untranslated(nb) and not require:
            result.untranslated.append(solution)
            continue
        result.problems.extend(translation.problems(nb, source=shown))
        result.texts[lesson_path(root, solution.name, ZH)] = _text_of(build_notebook(nb, source=shown, lang=ZH))
    glossary = root / SOLUTIONS / GLOSSARY_SOURCE
    if glossary.is_file():
        terms = load_terms(glossary)
        result.texts[root / LESSONS / GLOSSARY_PAGE] = render(
            terms, source=f"{SOLUTIONS}/{GLOSSARY_SOURCE}", lessons=names) + "\n"
    for path, text in result.texts.items():
        on_disk = path.read_text(encoding="utf-8") if path.is_file() else None
        if on_disk != text:
            result.changed.append(path)
    for folder in (root / LESSONS, root / LESSONS / ZH):
        if folder.is_dir():
            result.orphans += sorted(p for p in folder.glob("*.ipynb") if p not in result.texts)
    if write:
        for path in result.changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(result.texts[path], encoding="utf-8", newline="\n")
    return result


def check_lessons(root: str | Path | None = None, *, require_translation: bool | None = None) -> BuildResult:
    """Regenerate in memory only; `changed`, `orphans`, `problems` and `output_problems` list what is
    out of date or wrong."""
    return build_all(root, write=False, require_translation=require_translation)

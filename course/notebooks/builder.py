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
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from course.notebooks.markers import MarkerError, find_blocks, strip_markers

__all__ = ["SOLUTIONS", "LESSONS", "NAME_RE", "HEADER", "BuildResult", "find_root", "build_notebook",
           "build_text", "build_all", "check_lessons", "MarkerError"]

SOLUTIONS = "solutions"
LESSONS = "lessons"
NAME_RE = re.compile(r"^\d\d_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
HEADER = "Generated from {source} by `course lessons build`; edit that file, not this one."

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


def build_notebook(nb, *, source: str):
    """The lesson notebook (a new NotebookNode) for the solution notebook `nb`.

    `source` is the solution's path as shown to readers, e.g. 'solutions/01_tensors.ipynb'; it
    appears in the header cell and in error messages.
    """
    nbformat = _nbformat()
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(HEADER.format(source=source))]
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if _DROP_TAG in tags:
            continue
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
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
    lesson = v4.new_notebook(cells=cells, metadata=json.loads(json.dumps(_NB_METADATA)))
    lesson.nbformat, lesson.nbformat_minor = 4, 5
    return lesson


def build_text(solution: str | Path, *, root: str | Path) -> str:
    """The lesson file's exact text for the solution notebook at `solution`."""
    nbformat = _nbformat()
    solution, root = Path(solution), Path(root)
    try:
        shown = solution.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = f"{SOLUTIONS}/{solution.name}"
    nb = nbformat.read(str(solution), as_version=4)
    lesson = build_notebook(nb, source=shown)
    nbformat.validate(lesson)
    text = nbformat.writes(lesson, version=4)      # sorted keys, indent 1, sources split in lines
    return text if text.endswith("\n") else text + "\n"


@dataclass
class BuildResult:
    """What a build found: lesson path -> generated text, and which lessons differ from disk."""
    root: Path
    texts: dict[Path, str] = field(default_factory=dict)
    changed: list[Path] = field(default_factory=list)     # missing or different on disk
    orphans: list[Path] = field(default_factory=list)     # lessons with no solution


def _solution_files(root: Path) -> list[Path]:
    folder = root / SOLUTIONS
    files = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    bad = [p.name for p in files if not NAME_RE.match(p.name)]
    if bad:
        raise ValueError(f"{SOLUTIONS}/ holds notebooks not named NN_snake_case.ipynb: {', '.join(bad)}. "
                         f"Rename them (two digits, underscore, lower-case words), e.g. 01_tensors.ipynb.")
    return files


def build_all(root: str | Path | None = None, *, write: bool = True) -> BuildResult:
    """Regenerate every lesson; write the ones that changed when `write` is true."""
    root = find_root(root)
    result = BuildResult(root=root)
    for solution in _solution_files(root):
        lesson = root / LESSONS / solution.name
        text = build_text(solution, root=root)
        result.texts[lesson] = text
        on_disk = lesson.read_text(encoding="utf-8") if lesson.is_file() else None
        if on_disk != text:
            result.changed.append(lesson)
    names = {p.name for p in result.texts}
    if (root / LESSONS).is_dir():
        result.orphans = sorted(p for p in (root / LESSONS).glob("*.ipynb") if p.name not in names)
    if write:
        (root / LESSONS).mkdir(exist_ok=True)
        for lesson in result.changed:
            lesson.write_text(result.texts[lesson], encoding="utf-8", newline="\n")
    return result


def check_lessons(root: str | Path | None = None) -> BuildResult:
    """Regenerate in memory only; `changed` and `orphans` list what is out of date on disk."""
    return build_all(root, write=False)

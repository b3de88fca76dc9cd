"""Execution stamps: which mode made a solution's stored outputs, and how long each cell took.

`course lessons execute [--full]` runs a solution notebook top to bottom and stamps

- every code cell it ran: ``metadata.course.executed = {"mode": "fast"|"full", "seconds": 1.3,
  "code": <fingerprint of the source it ran>, "outputs": <fingerprint of the outputs it stored>}``;
- the notebook: ``metadata.course.executed = {"mode": ..., "seconds": <sum over its cells>, "cells": n}``.

The fingerprints let the check tell outputs made by that run from outputs made since (a cell re-run
in JupyterLab keeps its metadata but gets new outputs) and from code edited since (the stored
outputs no longer come from the code beside them). The student editions in ``lessons/`` have no
outputs, so the builder drops the stamps with the rest of the cell metadata.

`problems(nb)` lists what makes a notebook's stored outputs untrustworthy: a code cell without a
stamp (never run by the executor, or added since), a stamp whose code or outputs fingerprint no
longer matches, a cell that draws a figure (``plt.subplots``, ``course.plot.*``, ...) but stored no
image (a kernel with MPLBACKEND=Agg shows nothing), a notebook without its total,
and cells of different modes in a notebook whose
total does not declare ``"mode": "mixed"`` (with a ``"why"``). The executor only ever writes one
mode per notebook, so a mix means outputs assembled from two runs, which must be said.

There is no way to stamp outputs without running them: a stamp would then claim a mode nobody measured.
"""
from __future__ import annotations

import hashlib
import json
import re

__all__ = ["MODES", "fingerprint", "stamp_cell", "stamp_notebook", "stamp_of",
           "problems", "is_unstamped"]

MODES = ("fast", "full")
_KEY = "executed"
_DRAWS = re.compile(r"\bplt\.(?:show|subplots|figure|plot|imshow)\(|\bcourse\.plot\.\w+\(")
_KEEPS_NO_FIGURE = re.compile(r"\bplt\.close\(|\.savefig\(")



def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def _canonical(outputs) -> str:
    """Outputs as JSON independent of how nbformat split their strings into lines."""
    def norm(value):
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items() if k != "transient"}
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return "".join(value)
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value
    return json.dumps(norm(list(outputs)), sort_keys=True, ensure_ascii=False)


def fingerprint(text: str) -> str:
    """A short, stable fingerprint (16 hex digits of SHA-256) of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _course(node) -> dict:
    metadata = node.setdefault("metadata", {})
    course = metadata.get("course")
    if not isinstance(course, dict):
        metadata["course"] = {}
        course = metadata["course"]           # a NotebookNode stores a converted copy of what it is given
    return course


def stamp_of(node) -> dict | None:
    """The execution stamp of a cell or notebook, or None."""
    course = node.get("metadata", {}).get("course")
    value = course.get(_KEY) if isinstance(course, dict) else None
    return value if isinstance(value, dict) else None


def stamp_cell(cell, *, mode: str, seconds: float) -> None:
    """Record that `cell` was just run in `mode`, taking `seconds`, and made the outputs it holds."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    _course(cell)[_KEY] = {"mode": mode, "seconds": round(float(seconds), 2),
                           "code": fingerprint(_text(cell.source)),
                           "outputs": fingerprint(_canonical(cell.get("outputs", [])))}


def stamp_notebook(nb, *, mode: str) -> float:
    """Record the run's mode and total seconds (the sum of its stamped cells) on the notebook; return the total."""
    stamps = [stamp_of(c) for c in nb.cells if c.cell_type == "code"]
    total = round(sum(s["seconds"] for s in stamps if s), 1)
    _course(nb)[_KEY] = {"mode": mode, "seconds": total, "cells": sum(1 for s in stamps if s)}
    return total


def _lost_figure(cell) -> bool:
    """True for a cell that draws a figure (and neither closes nor saves it) but stored no image."""
    code = _text(cell.source)
    if not _DRAWS.search(code) or _KEEPS_NO_FIGURE.search(code):
        return False
    outputs = cell.get("outputs", [])
    return not any(o.get("output_type") == "error" or any(k.startswith("image/") for k in o.get("data", {}))
                   for o in outputs)


def is_unstamped(nb) -> bool:
    """True when neither the notebook nor any of its cells carries an execution stamp."""
    return stamp_of(nb) is None and not any(stamp_of(c) for c in nb.cells)


def problems(nb, *, source: str = "notebook") -> list[str]:
    """What makes the stored outputs of `nb` untrustworthy (empty when every output is stamped and current)."""
    found, modes = [], set()
    rerun = f"run `course lessons execute {source}` (add --full for full-mode outputs)"
    if is_unstamped(nb):
        return [f"{source}: no execution stamps (metadata.course.executed): its outputs may come from any mode "
                f"or an older code; {rerun}"]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not _text(cell.source).strip():
            continue
        where = f"{source}, cell {index} (counting from 0)"
        stamp = stamp_of(cell)
        if stamp is None:
            what = "has outputs" if cell.get("outputs") else "has code"
            found.append(f"{where} {what} but no execution stamp (metadata.course.executed): {rerun}")
            continue
        mode = stamp.get("mode")
        if mode not in MODES:
            found.append(f"{where}: the stamp's mode is {mode!r}, expected one of {MODES}: {rerun}")
            continue
        modes.add(mode)
        if stamp.get("code") != fingerprint(_text(cell.source)):
            found.append(f"{where}: the code changed after its outputs were made: {rerun}")
        elif stamp.get("outputs") != fingerprint(_canonical(cell.get("outputs", []))):
            found.append(f"{where}: the outputs changed after the stamped run (re-run by hand?): {rerun}")
        elif _lost_figure(cell):
            found.append(f"{where} draws a figure but stored none (the kernel had a non-interactive MPLBACKEND, "
                         f"such as Agg): {rerun}")
    total = stamp_of(nb)
    if total is None:
        found.append(f"{source}: no notebook execution stamp (metadata.course.executed with the total): {rerun}")
    elif total.get("mode") == "mixed":
        if not str(total.get("why", "")).strip():
            found.append(f"{source}: the notebook declares mixed modes but not why (metadata.course.executed.why)")
    elif modes and modes != {total.get("mode")}:
        found.append(f"{source}: its cells come from {' and '.join(sorted(modes))} mode but the notebook says "
                     f"{total.get('mode')!r}; outputs assembled from two runs must declare \"mode\": \"mixed\" "
                     f"with a \"why\" in metadata.course.executed, or {rerun}")
    return found

"""Run solution notebooks top to bottom and save them with their outputs, stamped with the mode.

The outputs saved in `solutions/` are the references nbval compares the `# NBVAL_CHECK_OUTPUT`
cells against, and the figures a reader of a solution sees. By default they are produced the way
CI runs, in fast mode (COURSE_FAST=1); `fast=False` runs the full mode that reproduces the numbers
the text states. Progress bars are off (TQDM_DISABLE=1), figures go to the inline backend whatever
MPLBACKEND the caller has, and the kernel runs in the notebook's own folder.
Every code cell run gets an execution stamp (mode, seconds, fingerprints of its code and
outputs; see `course.notebooks.stamps`), the notebook the total; nbclient's own timing metadata
(`metadata.execution`) is not kept.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from course.notebooks import stamps

__all__ = ["execute_in_place", "ExecutionFailed", "INLINE_BACKEND"]

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"     # what JupyterLab's kernel uses


class ExecutionFailed(RuntimeError):
    """A cell raised; the message names the notebook and the cell."""


def execute_in_place(path: str | Path, *, timeout: float = 600, fast: bool = True) -> float:
    """Execute the notebook at `path` in a fresh kernel, stamp it, overwrite it; return the total seconds.

    Nothing is written when a cell raises (the file keeps its previous, stamped outputs).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    mode = "fast" if fast else "full"
    for cell in nb.cells:                    # a cell the run skips (empty) keeps no stale stamp
        course = cell.get("metadata", {}).get("course")
        if isinstance(course, dict):
            course.pop("executed", None)
    started: dict[int, float] = {}
    seconds: dict[int, float] = {}

    def on_start(cell, cell_index, **_):
        started[cell_index] = time.perf_counter()

    def on_done(cell, cell_index, **_):
        seconds[cell_index] = time.perf_counter() - started.pop(cell_index)

    saved = {k: os.environ.get(k) for k in ("COURSE_FAST", "TQDM_DISABLE", "OMP_WAIT_POLICY", "MPLBACKEND")}
    # OMP_WAIT_POLICY: idle OpenMP threads in the kernel sleep rather than spin. MPLBACKEND: the
    # kernel inherits this environment, and a non-interactive backend there (MPLBACKEND=Agg, as
    # tests set it) would make plt.show() store no figure at all.
    os.environ.update(COURSE_FAST="1" if fast else "0", TQDM_DISABLE="1",
                      OMP_WAIT_POLICY=saved["OMP_WAIT_POLICY"] or "PASSIVE", MPLBACKEND=INLINE_BACKEND)
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                                on_cell_execute=on_start, on_cell_executed=on_done, coalesce_streams=True,
                                resources={"metadata": {"path": str(path.resolve().parent)}})
        client.execute()
    except CellExecutionError as exc:
        index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                      and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        raise ExecutionFailed(f"{path}: cell {index} (counting from 0) raised:\n{exc}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    for index, took in seconds.items():       # stamped once the outputs are final (streams coalesced)
        stamps.stamp_cell(nb.cells[index], mode=mode, seconds=took)
    total = stamps.stamp_notebook(nb, mode=mode)
    nbformat.write(nb, str(path))
    return total

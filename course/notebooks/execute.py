"""Run solution notebooks top to bottom and save them with their outputs.

The outputs saved in `solutions/` are the references nbval compares the `# NBVAL_CHECK_OUTPUT`
cells against, so they are produced the way CI runs: fast mode (COURSE_FAST=1), no progress bars
(TQDM_DISABLE=1), in the notebook's own folder. No timing metadata is recorded.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["execute_in_place", "ExecutionFailed"]


class ExecutionFailed(RuntimeError):
    """A cell raised; the message names the notebook and the cell."""


def execute_in_place(path: str | Path, *, timeout: float = 600, fast: bool = True) -> None:
    """Execute the notebook at `path` in a fresh kernel and overwrite it with the outputs."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    saved = {k: os.environ.get(k) for k in ("COURSE_FAST", "TQDM_DISABLE", "OMP_WAIT_POLICY")}
    # OMP_WAIT_POLICY: idle OpenMP threads in the kernel sleep rather than spin.
    os.environ.update(COURSE_FAST="1" if fast else "0", TQDM_DISABLE="1",
                      OMP_WAIT_POLICY=saved["OMP_WAIT_POLICY"] or "PASSIVE")
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
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
    nbformat.write(nb, str(path))

"""Grade a learner's notebook: run it in a fresh kernel, then run each exercise's checks there.

The notebook file is read once and never written. Its code cells run one by one with a per-cell
deadline (cells that only call `check(...)` are skipped: the grader checks by itself). A cell that
loops forever is interrupted; if the interrupt is ignored, or the kernel dies, the kernel is
restarted, the cells that had succeeded are run again, and grading goes on. Then, for every
exercise of the notebook's lessons, the grader calls the registered checks in the kernel on the
object the exercise names, again with a deadline, so a bad exercise costs its own points only.

Which exercises: every id in an "Exercise N.M" heading or a `check("N.M", ...)` call, and every
registered exercise of the lessons those ids (or the file name's `NN_` prefix) belong to, so
deleting an exercise's heading does not remove it from the total.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from course.exercises import language, registry
from course.exercises.checking import Result, _number, run_checks
from course.exercises.forbidden import refused_imports, relevant_sources
from course.exercises.kernel import Kernel, KernelStartError, Outcome
from course.exercises.language import say
from course.exercises.remote import KernelTransport
from course.exercises.sandbox import Sandbox, choose_mode
from course.exercises.seeding import new_seed

__all__ = ["NotebookReadError", "KernelStartError", "NotebookGrade", "read_notebook", "exercises_in",
           "grade_notebook", "grade_notebooks", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 120.0
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s.*?\bExercise\s+(\d+\.\d+)\b", re.MULTILINE)
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")
_CHECK_ONLY_LINE = re.compile(r"""^\s*(?:check\(\s*["']\d+\.\d+["'].*\)\s*;?\s*|#.*|)$""")
_PREFIX = re.compile(r"^(\d\d)_")


class NotebookReadError(ValueError):
    """The file is missing, is not JSON, or is not a notebook."""


@dataclass
class NotebookGrade:
    notebook: str
    exercises: list[Result] = field(default_factory=list)
    cells: list[tuple[int, str, str]] = field(default_factory=list)   # (cell index, status, error)
    lang: str = "en"                   # the report's language: the notebook's metadata.course.lang

    @property
    def total(self):
        return _number(sum(r.points for r in self.exercises))

    @property
    def max(self):
        return _number(sum(r.max for r in self.exercises))

    def to_json(self) -> dict:
        """The machine-readable report: `status` is a fixed code in every language; `verdict` and
        `message` are in the report's language (`lang`)."""
        return {"notebook": self.notebook, "lang": self.lang,
                "exercises": [{"id": r.id, "points": r.points, "max": r.max, "status": r.status,
                               "verdict": language.status_word(r.status, self.lang),
                               "message": r.text(self.lang), "seed": r.seed} for r in self.exercises],
                "total": self.total, "max": self.max}

    def to_text(self) -> str:
        width = max((len(r.id) for r in self.exercises), default=3)
        return "\n".join([self.notebook, *(language.grade_row(r, width, self.lang) for r in self.exercises),
                          language.total_line(self.total, self.max, self.lang)])


def read_notebook(path: str | Path):
    """The notebook at `path` (nbformat v4 node); NotebookReadError saying why not."""
    import nbformat
    path = Path(path)
    if not path.is_file():
        raise NotebookReadError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookReadError(f"{path}: not a notebook (not valid JSON: {exc})") from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise NotebookReadError(f"{path}: not a notebook (JSON without 'cells' and 'nbformat')")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise NotebookReadError(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def exercises_in(nb, path: str | Path = "") -> list[str]:
    """The exercise ids to grade in `nb` (see the module docstring)."""
    mentioned = set()
    for cell in nb.cells:
        text = _source(cell)
        if cell.cell_type == "markdown":
            mentioned.update(_HEADING.findall(text))
        elif cell.cell_type == "code":
            mentioned.update(_CHECK_CALL.findall(text))
    lessons = {registry.lesson_of(i) for i in mentioned}
    m = _PREFIX.match(Path(path).name)
    if m:
        lessons.add(int(m.group(1)))
    ids = set(mentioned)
    for lesson in lessons:
        ids.update(registry.exercise_ids(lesson))
    return sorted(ids, key=registry.sort_key)


def _check_only(code: str) -> bool:
    lines = code.split("\n")
    return any(l.strip().startswith("check(") for l in lines) and all(_CHECK_ONLY_LINE.match(l) for l in lines)


class _Run:
    """One notebook's execution: the kernel, the cells that succeeded, recovery after a hang/crash."""

    def __init__(self, kernel: Kernel, timeout: float):
        self.kernel, self.timeout = kernel, timeout
        self.ok: list[str] = []          # code of the cells that succeeded, in order

    def recover(self) -> None:
        """Fresh kernel; re-run the cells that had succeeded (dropping any that now hang or crash)."""
        while True:
            self.kernel.restart()
            for j, code in enumerate(self.ok):
                out = self.kernel.run(code, self.timeout)
                if out.status in ("hung", "crashed"):
                    del self.ok[j]
                    break
            else:
                return

    def run(self, code: str, *, store_history: bool = True):
        out = self.kernel.run(code, self.timeout, store_history=store_history)
        if out.status in ("hung", "crashed"):
            self.recover()
        return out


def grade_notebook(path: str | Path, *, timeout: float = DEFAULT_TIMEOUT, checks_file: str | Path | None = None,
                   fast: bool = True, interrupt_grace: float = 5.0, startup_timeout: float = 60.0,
                   sandbox: str | None = None) -> NotebookGrade:
    """Grade one notebook (read-only). Raises NotebookReadError or KernelStartError.

    The notebook runs from a private copy, in a kernel isolated by a `Sandbox` of mode `sandbox`
    (None: the best this machine allows); when this returns, every process it started is gone."""
    path = Path(path)
    nb = read_notebook(path)
    checks = str(Path(checks_file).resolve()) if checks_file else None
    with registry.isolated():
        if checks:
            registry.load_checks_file(checks)
        ids = exercises_in(nb, path)
        maxima = {i: _number(registry.max_points(i)) for i in ids}
    grade = NotebookGrade(notebook=str(path), lang=language.notebook_language(nb))
    # OMP_WAIT_POLICY: idle OpenMP threads sleep rather than spin (spinning made fits ~8x slower
    # while the grader and the kernel share a small machine).
    env = {"COURSE_FAST": "1" if fast else "0", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1",
           "PYTHONUNBUFFERED": "1", "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    box = Sandbox(mode=sandbox)        # a private folder; the checks file stays out of its view
    box.add_file(path)
    kernel = Kernel(env=env, sandbox=box, startup_timeout=startup_timeout, interrupt_grace=interrupt_grace)
    with box, kernel:
        run = _Run(kernel, timeout)
        # The reply channel's functions are saved before the learner's code runs.
        run.run("__import__('course.exercises.driver')", store_history=False)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            code = _source(cell)
            if not code.strip() or _check_only(code):
                continue
            refused = refused_imports(code)
            if refused:         # the checks' package is not the learner's to import or patch
                grade.cells.append((index, "refused", f"not run: it uses course.exercises ({refused[0]}); "
                                                      f"only `from course.exercises import check` is allowed"))
                continue
            out = run.run(code)
            if out.status == "ok":
                run.ok.append(code)
            grade.cells.append((index, out.status, out.error))
        code_cells = [_source(c) for c in nb.cells if c.cell_type == "code"]
        _check_exercises(grade, run, kernel.cwd, ids, maxima, checks, code_cells, timeout)
    return grade


def _check_exercises(grade, run, folder, ids, maxima, checks, code_cells, timeout) -> None:
    """The checks run here, in the grader's process: they choose the inputs, compute the expected
    values and compare; the learner's kernel only answers their requests with plain data."""
    deadline = [0.0]

    def send(code, limit=None):
        # One deadline per exercise, however many requests its checks make; `limit`: a check's own
        # shorter limit for this request (an outcome task's time budget, remote.time_limit).
        remaining = deadline[0] - time.monotonic()
        if remaining <= 0:
            return Outcome("timeout")
        seconds = min(timeout, max(remaining, 1.0))
        if limit is not None:
            seconds = min(seconds, max(float(limit), 0.1))
        out = run.kernel.run(code, seconds, store_history=False)
        if out.status in ("hung", "crashed"):
            run.recover()
        return out

    transport = KernelTransport(send, folder)
    seed = new_seed()
    with registry.isolated():
        if checks:
            registry.load_checks_file(checks)
        for exercise_id in ids:
            sources = relevant_sources(code_cells, registry.object_name(exercise_id))
            deadline[0] = time.monotonic() + timeout
            result = run_checks(exercise_id, transport=transport, sources=sources, context=code_cells, seed=seed)
            grade.exercises.append(_result(result, maxima[exercise_id], timeout))
    transport.close()


def _result(result: Result, maximum, timeout: float) -> Result:
    """The verdict, its points capped at the maximum computed before any of the learner's code ran."""
    points = min(max(float(result.points), 0.0), float(maximum))
    text = say(result.message, result.text("zh"))
    if result.status == "timeout":
        text = say(f"checking took longer than {timeout:g} s (an endless loop?) and was stopped",
                   f"检查用时超过 {timeout:g} 秒（是死循环吗？），已被停止")
    return Result.of(result.id, _number(points), maximum, result.status, text, result.seed)


def grade_notebooks(paths, *, jobs: int = 1, sandbox: str | None = None,
                    **kwargs) -> tuple[list[NotebookGrade], list[str]]:
    """Grade several notebooks, `jobs` at a time; returns (grades in the order given, one line per
    notebook not graded: unreadable, or its grading process died twice).

    Each notebook gets its own sandbox. The weak sandbox grades one at a time (its kernels would see
    each other's folders). KernelStartError stops the batch."""
    mode = choose_mode(sandbox)
    paths = [str(p) for p in paths]
    jobs = max(1, min(int(jobs), len(paths))) if mode != "weak" else 1
    if mode == "weak":
        _import_all_checks()
    if jobs == 1:
        outcomes = [_grade_or_error(p, mode, kwargs) for p in paths]
    else:
        outcomes = _in_parallel(paths, jobs, mode, kwargs)
    grades, errors = [], []
    for outcome in outcomes:
        if isinstance(outcome, KernelStartError):
            raise outcome
        (errors if isinstance(outcome, str) else grades).append(outcome)
    return grades, errors


def _import_all_checks() -> None:
    """Every lesson's checks, imported before any notebook runs: in the weak sandbox a learner's
    code can write the package's files, and must not change the checks that grade the next one."""
    import pkgutil

    import course.exercises
    for info in pkgutil.iter_modules(course.exercises.__path__):
        lesson = re.fullmatch(r"lesson(\d\d)", info.name)
        if lesson:
            registry.load_lesson(int(lesson.group(1)))


def _grade_or_error(path: str, mode: str, kwargs: dict):
    """A NotebookGrade, a read error's text, or the KernelStartError (picklable: it crosses processes)."""
    try:
        return grade_notebook(path, sandbox=mode, **kwargs)
    except NotebookReadError as exc:
        return f"cannot read {exc}"
    except KernelStartError as exc:
        return KernelStartError(str(exc))


def _in_parallel(paths: list, jobs: int, mode: str, kwargs: dict) -> list:
    # Worker processes, not threads: the check registry and the grading loop hold global state.
    # "spawn" because this process may have torch's thread pools running, which fork would copy broken.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    outcomes: dict = {}
    for _ in range(2):          # a worker that dies breaks the pool: the rest get one fresh pool
        pending = [i for i in range(len(paths)) if i not in outcomes]
        if not pending:
            break
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {i: pool.submit(_grade_or_error, paths[i], mode, kwargs) for i in pending}
            for i, future in futures.items():
                try:
                    outcomes[i] = future.result()
                except BrokenProcessPool:
                    continue
                if isinstance(outcomes[i], KernelStartError):
                    for f in futures.values():
                        f.cancel()
                    return [outcomes[i]]
    return [outcomes.get(i, f"{path}: not graded: the process grading it died twice (out of memory?); "
                            f"grade it alone to see why") for i, path in enumerate(paths)]

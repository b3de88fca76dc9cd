"""`course grade NOTEBOOK... [-j N] [--json [FILE]] [--csv FILE] [--timeout S] [--checks FILE] [--full]
[--sandbox auto|namespace|userns|weak]`.

Prints points per exercise and `Total: X/Y` for each notebook (or JSON: one object, or a list for
several notebooks; each records the sandbox mode). Says on stderr which sandbox isolates the
learners' code. `--csv FILE` and `--json FILE` are written atomically once every notebook is graded
and every process of the learners' code is gone. Exit status 0 when the notebooks were graded,
whatever the score; 2 when one cannot be read (the others are still graded) or the sandbox asked for
is not available; 1 when no kernel could be started.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["add_parser", "run_grade", "main"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `grade` to an argparse subparsers object; the handler is `args.func`."""
    from course.exercises.grader import DEFAULT_TIMEOUT

    p = subparsers.add_parser(
        "grade", help="grade learners' notebooks (per-exercise points and a total)",
        description="Execute each notebook from a private copy in a fresh, sandboxed kernel (the file is not "
                    "modified), then run every exercise's registered checks in this process against the "
                    "learner's objects, seen through plain data.")
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="notebook files to grade")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print JSON instead of text; with FILE, write the JSON there and print the text")
    p.add_argument("--csv", metavar="FILE", help="also write one row per notebook to FILE")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="grade N notebooks at a time, each in its own sandbox (default 1)")
    p.add_argument("--sandbox", choices=("auto", "namespace", "userns", "weak"), default="auto",
                   help="how the learners' code is isolated: 'namespace' (root: private mount and pid "
                        "namespaces, user nobody), 'userns' (the same for an ordinary user, through a "
                        "user namespace), 'weak' (limits and a private folder only); default: the "
                        "strongest that works here")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds allowed per cell and per exercise check (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--checks", metavar="FILE",
                   help="a private Python file registering extra checks with @exercise (never shipped)")
    p.add_argument("--full", action="store_true",
                   help="run in full mode (by default the kernel gets COURSE_FAST=1)")
    p.set_defaults(func=run_grade)
    return p


def _csv_text(grades) -> str:
    from course.exercises.registry import sort_key
    ids = sorted({r.id for g in grades for r in g.exercises}, key=sort_key)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["notebook", *ids, "total", "max"])
    for g in grades:
        points = {r.id: r.points for r in g.exercises}
        writer.writerow([g.notebook, *(points.get(i, "") for i in ids), g.total, g.max])
    return out.getvalue()


def _write_atomically(path: str, text: str) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_grade(args) -> int:
    from course.exercises.grader import KernelStartError, grade_notebooks
    from course.exercises.sandbox import SandboxError, choose_mode

    if args.timeout <= 0:
        print(f"course grade: --timeout expects a positive number of seconds; got {args.timeout:g}.",
              file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"course grade: -j expects a number of notebooks at a time, 1 or more; got {args.jobs}.",
              file=sys.stderr)
        return 2
    if args.json and args.json.endswith(".ipynb"):      # `--json a.ipynb b.ipynb`: a notebook, not FILE
        args.notebooks.insert(0, args.json)
        args.json = "-"
    if not args.notebooks:
        print("course grade: expected one or more NOTEBOOK files to grade; got none.", file=sys.stderr)
        return 2
    try:
        mode = choose_mode(args.sandbox)
    except SandboxError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    jobs = 1 if mode == "weak" else args.jobs
    how = " (one notebook at a time; see the README, Grading a class)" if mode == "weak" else f", {jobs} at a time"
    print(f"course grade: sandbox: {mode}{how}", file=sys.stderr)
    try:
        grades, errors = grade_notebooks(args.notebooks, timeout=args.timeout, checks_file=args.checks,
                                         fast=not args.full, jobs=jobs, sandbox=mode)
    except KernelStartError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:           # --checks FILE missing
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    # Every learner's process is gone by now (grade_notebooks waits for it): the files are final.
    for message in errors:
        print(f"course grade: {message}", file=sys.stderr)
    if args.json:
        data = [dict(g.to_json(), sandbox=mode) for g in grades]
        text = json.dumps(data[0] if len(args.notebooks) == 1 and len(data) == 1 else data, indent=2,
                          ensure_ascii=False)
        if args.json != "-":
            _write_atomically(args.json, text + "\n")
    if args.json == "-":
        print(text)
    else:
        print("\n\n".join(g.to_text() for g in grades))
    if args.csv:
        _write_atomically(args.csv, _csv_text(grades))
    return 2 if errors else 0


def main(argv=None) -> int:
    """Stand-alone entry point: `python -m course.exercises.cli NOTEBOOK...`."""
    parser = argparse.ArgumentParser(prog="course")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["grade", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

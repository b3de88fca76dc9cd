"""`course grade NOTEBOOK... [--json] [--csv FILE] [--timeout S] [--checks FILE] [--full]`.

Prints points per exercise and `Total: X/Y` for each notebook (or JSON: one object, or a list for
several notebooks). Exit status 0 when the notebooks were graded, whatever the score; 2 when one
cannot be read (the others are still graded); 1 when no kernel could be started.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys

__all__ = ["add_parser", "run_grade", "main"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `grade` to an argparse subparsers object; the handler is `args.func`."""
    from course.exercises.grader import DEFAULT_TIMEOUT

    p = subparsers.add_parser(
        "grade", help="grade learners' notebooks (per-exercise points and a total)",
        description="Execute each notebook in a fresh kernel (the file is not modified), then run every "
                    "exercise's registered checks against the learner's objects.")
    p.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebook files to grade")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--csv", metavar="FILE", help="also write one row per notebook to FILE")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds allowed per cell and per exercise check (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--checks", metavar="FILE",
                   help="a private Python file registering extra checks with @exercise (never shipped)")
    p.add_argument("--full", action="store_true",
                   help="run in full mode (by default the kernel gets COURSE_FAST=1)")
    p.set_defaults(func=run_grade)
    return p


def _write_csv(path: str, grades) -> None:
    from course.exercises.registry import sort_key
    ids = sorted({r.id for g in grades for r in g.exercises}, key=sort_key)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["notebook", *ids, "total", "max"])
        for g in grades:
            points = {r.id: r.points for r in g.exercises}
            writer.writerow([g.notebook, *(points.get(i, "") for i in ids), g.total, g.max])


def run_grade(args) -> int:
    from course.exercises.grader import KernelStartError, grade_notebooks

    if args.timeout <= 0:
        print(f"course grade: --timeout expects a positive number of seconds; got {args.timeout:g}.",
              file=sys.stderr)
        return 2
    try:
        grades, errors = grade_notebooks(args.notebooks, timeout=args.timeout, checks_file=args.checks,
                                         fast=not args.full)
    except KernelStartError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:           # --checks FILE missing
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    for message in errors:
        print(f"course grade: cannot read {message}", file=sys.stderr)
    if args.json:
        data = [g.to_json() for g in grades]
        print(json.dumps(data[0] if len(args.notebooks) == 1 and len(data) == 1 else data, indent=2,
                         ensure_ascii=False))
    else:
        print("\n\n".join(g.to_text() for g in grades))
    if args.csv:
        _write_csv(args.csv, grades)
    return 2 if errors else 0


def main(argv=None) -> int:
    """Stand-alone entry point: `python -m course.exercises.cli NOTEBOOK...`."""
    parser = argparse.ArgumentParser(prog="course")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["grade", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

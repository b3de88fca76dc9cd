"""`course lessons build [--check] [--root DIR]`: regenerate lessons/ from solutions/;
`course lessons stamp SOLUTION...`: record that their Chinese matches their English as it is now;
`course lessons execute [--full] SOLUTION...`: run solution notebooks (fast mode unless --full) and save
their outputs, each code cell stamped with the mode and its seconds, the notebook with the total.

`add_parser(subparsers)` registers the `lessons` command on the top-level `course` parser; the
chosen handler is stored as `args.func` and returns the exit status.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run_build", "run_stamp", "run_execute", "main"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `lessons` (with its `build` subcommand) to an argparse subparsers object."""
    lessons = subparsers.add_parser("lessons", help="build the learners' notebooks from solutions/",
                                    description="Work with the lesson notebooks.")
    lessons.set_defaults(func=lambda args: (lessons.print_help(), 2)[1])
    actions = lessons.add_subparsers(dest="lessons_command", metavar="{build,stamp,execute}")
    build = actions.add_parser(
        "build", help="regenerate lessons/ from solutions/",
        description="Regenerate lessons/NN_name.ipynb (English) and lessons/zh/NN_name.ipynb (Chinese) from "
                    "solutions/NN_name.ipynb, and lessons/glossary.md from solutions/glossary.json: solution blocks "
                    "become 'raise NotImplementedError()', outputs are cleared, a header names the source.")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 and list the files that differ from what would be generated, "
                            "the translations that break a rule and the solutions whose stored outputs are not "
                            "all from one stamped run of `course lessons execute`")
    build.add_argument("--root", default=None,
                       help="folder holding solutions/ and lessons/ (default: found from the working directory)")
    build.set_defaults(func=run_build)
    stamp = actions.add_parser(
        "stamp", help="record that the Chinese of solution notebooks matches their English as it is now",
        description="After updating the Chinese (metadata.course.zh) of markdown cells whose English changed, "
                    "record the English's fingerprint in each translated cell, so that `build --check` accepts "
                    "them again. Writes only the fingerprints.")
    stamp.add_argument("notebooks", nargs="+", metavar="SOLUTION")
    stamp.set_defaults(func=run_stamp)
    execute = actions.add_parser(
        "execute", help="run solution notebooks top to bottom and save their outputs",
        description="Execute each notebook in a fresh kernel in fast mode (COURSE_FAST=1, TQDM_DISABLE=1; "
                    "--full: COURSE_FAST=0) and save it with its outputs (the references for its "
                    "# NBVAL_CHECK_OUTPUT cells), each code cell stamped with the mode and the seconds it took "
                    "(metadata.course.executed), the notebook with the total.")
    execute.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    execute.add_argument("--full", action="store_true", help="run in full mode instead of fast mode")
    execute.add_argument("--timeout", type=float, default=600, metavar="S", help="seconds per cell (default 600)")
    execute.set_defaults(func=run_execute)
    return lessons


def run_stamp(args) -> int:
    import nbformat

    from course.notebooks.translation import stamp

    status = 0
    for name in args.notebooks:
        try:
            nb = nbformat.read(name, as_version=4)
        except (OSError, ValueError) as exc:
            print(f"course lessons stamp: {name}: {exc}", file=sys.stderr)
            status = 1
            continue
        changed = stamp(nb)
        if changed:
            nbformat.write(nb, name)
        print(f"{name}: {changed} translated cell(s) stamped")
    return status


def run_execute(args) -> int:
    from course.notebooks.execute import ExecutionFailed, execute_in_place

    status = 0
    for name in args.notebooks:
        try:
            total = execute_in_place(name, timeout=args.timeout, fast=not args.full)
            print(f"executed {name} ({'full' if args.full else 'fast'} mode, {total:.1f} s in its cells)")
        except (ExecutionFailed, FileNotFoundError) as exc:
            print(f"course lessons execute: {exc}", file=sys.stderr)
            status = 1
    return status


def run_build(args) -> int:
    from course.notebooks.builder import check_lessons, build_all
    from course.notebooks.markers import MarkerError

    try:
        result = check_lessons(args.root) if args.check else build_all(args.root)
    except (MarkerError, ValueError, FileNotFoundError) as exc:
        print(f"course lessons build: {exc}", file=sys.stderr)
        return 2

    def rel(p):
        return p.relative_to(result.root).as_posix()

    for solution in result.untranslated:
        print(f"not translated yet (no Chinese edition): {rel(solution)}", file=sys.stderr)
    for problem in result.problems:
        print(f"translation: {problem}")
    for problem in result.output_problems:
        print(f"outputs: {problem}")
    if args.check:
        stale = [rel(p) for p in result.changed]
        if stale or result.orphans or result.problems or result.output_problems:
            for name in stale:
                print(f"out of date: {name}")
            for p in result.orphans:
                print(f"no source in solutions/: {rel(p)}")
            if stale or result.orphans:
                print("Run `course lessons build` to regenerate.", file=sys.stderr)
            if result.problems:
                print("Fix the translations in solutions/ (metadata.course.zh of the cells named above).",
                      file=sys.stderr)
            if result.output_problems:
                print("Re-execute the solutions named above with `course lessons execute [--full]`.",
                      file=sys.stderr)
            return 1
        print(f"{len(result.texts)} files (lessons in both editions, glossary) up to date.")
        return 0
    for p in result.changed:
        print(f"wrote {rel(p)}")
    for p in result.orphans:
        print(f"warning: {rel(p)} has no source in solutions/", file=sys.stderr)
    print(f"{len(result.texts)} files, {len(result.changed)} rewritten.")
    return 1 if result.problems else 0


def main(argv=None) -> int:
    """Stand-alone entry point: `python -m course.notebooks.cli build [--check]` (or `execute ...`)."""
    parser = argparse.ArgumentParser(prog="course")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["lessons", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

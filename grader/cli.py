"""The ``grader`` command line (contract in DESIGN.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import __version__


class UserError(Exception):
    """A mistake in how the command was used: one sentence, no traceback."""


def _cmd_grade(args: argparse.Namespace) -> int:
    from grader import assignments
    from grader.batch import ResultsFile, collect, grade_batch, progress
    from grader.reports.table import format_result

    assignments.get(args.assignment)
    items = collect(args.paths)
    if not items:
        raise UserError("no submissions found (give notebooks, .py files or folders holding them)")
    results_file = None
    out = None
    if args.json == "-":
        out = sys.stdout
    elif args.json:
        results_file = ResultsFile(Path(args.json))
        todo = [i for i in items if not results_file.is_current(i, args.assignment)]
        skipped = len(items) - len(todo)
        if skipped:
            print(f"{skipped} submission(s) already graded in {args.json}; grading {len(todo)}", file=sys.stderr)
        results_file.drop_stale({(i.label, args.assignment) for i in todo})
        items = todo

    def record(result):
        if results_file is not None:
            results_file.append(result)
        elif out is not None:
            out.write(result.to_json() + "\n")
            out.flush()

    bar = progress(len(items))
    results = []
    for result in grade_batch(items, args.assignment, jobs=args.jobs, on_result=record):
        results.append(result)
        bar.update(1)
    bar.close()
    if out is None:
        order = {i.label: n for n, i in enumerate(items)}
        for result in sorted(results, key=lambda r: order.get(r.submission, 0)):
            print(format_result(result, verbose=True))
    return 0


def _cmd_check_solutions(args: argparse.Namespace) -> int:
    from grader.check_solutions import check_solutions

    return check_solutions(repeats=args.repeats)


def _cmd_demo(args: argparse.Namespace) -> int:
    from grader.demo import run_demo

    return run_demo(Path(args.dest) if args.dest else None)


def _course(args: argparse.Namespace) -> Path:
    course = Path(args.course)
    if args.command != "release" and not course.is_dir():
        raise UserError(f"course folder {course} does not exist; create it with: grader release --course {course}")
    return course


def _cmd_release(args: argparse.Namespace) -> int:
    from grader.nbgrader_bridge.course import release

    release(_course(args))
    return 0


def _cmd_autograde(args: argparse.Namespace) -> int:
    from grader.nbgrader_bridge.autograde import autograde

    autograde(_course(args), args.assignment)
    return 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    from grader.nbgrader_bridge.feedback import feedback

    feedback(_course(args), args.assignment)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    from grader.assignments import ASSIGNMENTS

    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build, autograde and report the embedded sample course")
    p.add_argument("--dest", help="folder for the demo course (default: a new temporary folder)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("release", help="write an nbgrader course folder and release the assignments")
    p.add_argument("--course", required=True, help="the nbgrader course folder")
    p.set_defaults(func=_cmd_release)

    for name, func, text in (
        ("autograde", _cmd_autograde, "grade submitted/<student>/<assignment>/ into the gradebook"),
        ("feedback", _cmd_feedback, "generate nbgrader feedback for autograded submissions"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--course", required=True, help="the nbgrader course folder")
        p.add_argument("--assignment", choices=list(ASSIGNMENTS), help="only this assignment")
        p.set_defaults(func=func)

    p = sub.add_parser("grade", help="grade notebooks or .py files directly")
    p.add_argument("--assignment", required=True, choices=list(ASSIGNMENTS))
    p.add_argument("paths", nargs="+", metavar="PATH", help="notebook, .py file, or folder of them")
    p.add_argument("--json", metavar="FILE", help="write JSON Lines records to FILE (resumable) or - for stdout")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("check-solutions", help="references score full marks, mutants lose points, quiz keys re-derived")
    p.add_argument("--repeats", type=int, default=20, help="unseeded runs of each reference")
    p.set_defaults(func=_cmd_check_solutions)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grader`` console script."""
    from grader.assignments import UnknownAssignment

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, UnknownAssignment) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted; results written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The ``grader`` command line (contract in docs/architecture.md)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from grader import __version__, outputs


class UserError(Exception):
    """A mistake in how the command was used: one sentence, no traceback."""


def _count(n: int, noun: str) -> str:
    """``1 page``, ``3 pages``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _some(names: list[str], shown: int = 3) -> str:
    """Up to ``shown`` names, then how many more."""
    more = f" (and {len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _cmd_grade(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        return _grade(args, stack)


def _grade(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from grader import assignments
    from grader.batch import SUFFIXES, ResultsFile, collect, grade_batch, progress
    from grader.reports.table import format_result

    from grader.grading import max_points

    max_points(assignments.get(args.assignment))  # loads its checks or questions: a broken one is one sentence, now
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    # A mistyped path is the operator's slip, not a student's submission: stop before grading
    # anything rather than file an error record under a name no student has.
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise UserError(f"no such file or folder: {_some(missing)}; nothing was graded")
    # Outputs are checked before anything is graded: a bad path must not cost a batch's work.
    if args.feedback:
        outputs.check_dir(args.feedback, "feedback folder")
    streamed = args.json == "-" or bool(args.json) and outputs.is_stream(args.json)
    if args.json and args.json != "-":
        outputs.check_file(args.json, "results file")
    others = [p for p in args.paths if Path(p).is_file() and Path(p).suffix not in SUFFIXES]
    if others:
        print(f"grader: skipping {_some(others)}: only .py and .ipynb files are submissions", file=sys.stderr)
    items = collect(args.paths, args.assignment)
    if not items:
        raise UserError("no submissions found (give notebooks, .py files or folders holding them); nothing was graded")
    results_file = None
    out = None
    kept = []
    if streamed:  # stdout, or a device such as /dev/null: written in place, nothing to resume
        out = sys.stdout if args.json == "-" else stack.enter_context(outputs.open_stream(args.json))
    elif args.json:
        results_file = ResultsFile(Path(args.json))
        current = {i for i in items if results_file.is_current(i, args.assignment)}
        todo = [i for i in items if i not in current]
        kept = [results_file.records[(i.label, args.assignment)] for i in items if i in current]
        if kept:
            print(f"already graded in {args.json}: {len(kept)} of {_count(len(items), 'submission')}; grading the other {len(todo)}",
                  file=sys.stderr)
        results_file.drop_stale({(i.label, args.assignment) for i in todo})
        items = todo

    def record(result):
        if results_file is not None:
            results_file.append(result)
        elif out is not None:
            out.write(result.to_json() + "\n")
            out.flush()

    if args.scheduler:
        from grader.executors import ClusterError, grade_on_cluster

        def run():
            try:
                yield from grade_on_cluster(items, args.assignment, args.scheduler, on_result=record)
            except ClusterError as exc:
                raise UserError(str(exc)) from None
    else:
        def run():
            yield from grade_batch(items, args.assignment, jobs=args.jobs, on_result=record)

    bar = progress(len(items))
    results = []
    for result in run():
        results.append(result)
        bar.update(1)
    bar.close()
    if args.feedback:
        from grader.reports.feedback import write_feedback
        from grader.results import SubmissionResult

        # Submissions skipped as already graded get their page from their stored record.
        pages = write_feedback([SubmissionResult.from_dict(r) for r in kept] + results, Path(args.feedback))
        print(f"feedback: {_count(len(pages), 'page')} in {args.feedback}", file=sys.stderr)
    if args.json:
        print(f"{graded_summary(results)}; records in {'standard output' if args.json == '-' else args.json}", file=sys.stderr)
    else:
        order = {i.label: n for n, i in enumerate(items)}
        for result in sorted(results, key=lambda r: order.get(r.submission, 0)):
            print(format_result(result, verbose=True))
    faults = sum(r.grader_fault for r in results)
    if faults:  # the grader could not work on these: not the students' doing, so not exit 0
        again = "run the same command again to grade them" if results_file is not None else "grade them again"
        print(f"grader: {_count(faults, 'submission')} could not be graded because of a grader fault (see the "
              f"messages above); {again}", file=sys.stderr)
        return 1
    return 0


def graded_summary(results: list) -> str:
    """``graded 9 of 10 submissions; 1 could not be graded: a.ipynb`` (no final full stop)."""
    if not results:
        return "nothing left to grade"
    errors = [r.submission for r in results if r.status == "error"]
    text = f"graded {len(results) - len(errors)} of {_count(len(results), 'submission')}"
    if errors:
        text += f"; {len(errors)} could not be graded: {_some(errors)}"
    return text


def _cmd_report(args: argparse.Namespace) -> int:
    from grader.reports.class_report import write_class_report

    outputs.check_file(args.output, "report")
    if args.csv:
        outputs.check_file(args.csv, "CSV file")
    html = write_class_report(Path(args.results), Path(args.output), Path(args.csv) if args.csv else None, args.title)
    print(f"class report: {html}" + (f"; CSV: {args.csv}" if args.csv else ""))
    return 0


def _cmd_gradescope(args: argparse.Namespace) -> int:
    from grader.platforms.gradescope import build_gradescope_bundle

    outputs.check_file(args.output, "zip file")
    zip_path = build_gradescope_bundle(args.assignment, Path(args.output), hidden_visibility=args.hidden_visibility,
                                       summary=args.summary)
    print(f"Gradescope autograder for {args.assignment}: {zip_path} (upload it under Configure Autograder)")
    return 0


def _cmd_canvas(args: argparse.Namespace) -> int:
    from grader.platforms.canvas import canvas_csv_from_course, canvas_csv_from_results

    if args.results and args.course:
        raise UserError("give either a results file (grader canvas RESULTS.jsonl -o grades.csv) or --course DIR, not both")
    if not args.results and not args.course:
        raise UserError("give the grades to export: a results file (grader canvas RESULTS.jsonl -o grades.csv) or --course DIR")
    outputs.check_file(args.output, "CSV file")
    columns = {}
    for given in args.column:
        assignment, sep, column = given.partition("=")
        if not sep or not assignment.strip() or not column.strip():
            raise UserError(f"--column takes ASSIGNMENT=COLUMN (e.g. maxpool='Max pooling (4321)'), not {given!r}")
        columns[assignment.strip()] = column.strip()
    options = {"id_column": args.id_column, "columns": columns, "section": args.section, "ungraded": args.ungraded}
    if args.results:
        path = canvas_csv_from_results(Path(args.results), Path(args.output), **options)
    else:
        path = canvas_csv_from_course(Path(args.course), Path(args.output), **options)
    print(f"Canvas grades CSV: {path} (Grades > Import in Canvas)")
    return 0


def _cmd_check_solutions(args: argparse.Namespace) -> int:
    from grader.check_solutions import check_solutions

    if args.repeats < 1:
        raise UserError("--repeats must be at least 1")
    return check_solutions(repeats=args.repeats)


def _cmd_new(args: argparse.Namespace) -> int:
    from grader.scaffold import new_assignment

    if not args.definition:  # the built-in unit is part of the package: never scaffold into it or the cwd
        raise UserError("grader new needs --definition DIR: the course definition folder to add the assignment to")
    written = new_assignment(Path(args.definition), args.name)
    print(f"new assignment {args.name}: wrote {', '.join(str(p) for p in written)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from grader.demo import run_demo

    return run_demo(Path(args.dest) if args.dest else None)


def _course(args: argparse.Namespace) -> Path:
    course = Path(args.course)
    if args.command == "release":
        if course.exists() and not course.is_dir():
            raise UserError(f"{course} is a file, not a folder; give a new or existing course folder")
        return course
    if course.exists() and not course.is_dir():
        raise UserError(f"{course} is a file, not a course folder; give the folder grader release wrote")
    if not course.is_dir():
        raise UserError(f"course folder {course} does not exist; create it with: grader release --course {course}")
    if not (course / "gradebook.db").is_file() or not (course / "nbgrader_config.py").is_file():
        raise UserError(f"{course} is not a released course (no gradebook.db or nbgrader_config.py); run: grader release --course {course}")
    from grader.assignments import ASSIGNMENTS
    from grader.nbgrader_bridge.gradebook import gradebook_assignments
    from grader.nbgrader_bridge.instructor_config import config_status

    problem, warnings = config_status(course)
    if problem:
        raise UserError(problem)
    ours = set(gradebook_assignments(course / "gradebook.db") or ()) & set(ASSIGNMENTS)
    if not ours:
        from grader import assignments
        from grader.nbgrader_bridge.course import recorded_definition

        recorded, builtin = recorded_definition(course), assignments.current().root == assignments.builtin().root
        if recorded is not None and Path(recorded) != assignments.current().root:
            fix = f"it was released with --definition {recorded}; add --definition {recorded}"
        elif recorded is None and not builtin:
            fix = "it was released with the built-in unit; leave out --definition"
        else:
            fix = "it belongs to another course; release this one into a new folder with: grader release --course NEW_FOLDER"
        raise UserError(f"the gradebook in {course} holds none of this course's assignments ({', '.join(ASSIGNMENTS)}): {fix}")
    for warning in warnings:  # only about the grader's generated part: the instructor's settings are theirs
        print(f"grader: warning: {warning}", file=sys.stderr)
    return course


def _cmd_release(args: argparse.Namespace) -> int:
    from grader.nbgrader_bridge.course import release

    course = _course(args)
    outputs.check_dir(course, "course folder")
    if course.is_dir():
        for name in ("nbgrader_config.py", "gradebook.db"):
            outputs.check_file(course / name, "course file")
    released = release(course)
    print(f"released {', '.join(p.parent.name for p in released)} into {course / 'release'} "
          f"(give students release/<assignment>/<assignment>.ipynb); gradebook: {course / 'gradebook.db'}")
    return 0


def _cmd_autograde(args: argparse.Namespace) -> int:
    from grader.nbgrader_bridge.autograde import GRADES_CSV, AutogradeIncomplete, autograde

    course = _course(args)
    outputs.check_file(course / GRADES_CSV, "grades file")
    try:
        csv_path = autograde(course, args.assignment, force=args.force)
    except AutogradeIncomplete as exc:  # the others are graded: say where, then why not all
        print(f"grades: {exc.csv_path} (incomplete)")
        print(f"grader: {exc}", file=sys.stderr)
        return 1
    print(f"grades: {csv_path}")
    return 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    from grader.nbgrader_bridge.feedback import feedback

    course = _course(args)
    outputs.check_dir(course / "feedback", "feedback folder")
    pages = feedback(course, args.assignment)
    print(f"feedback: {_count(len(pages), 'page')} under {Path(args.course) / 'feedback'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    from grader.assignments import ASSIGNMENTS
    from grader.platforms.canvas import ID_COLUMNS, UNGRADED
    from grader.platforms.gradescope import VISIBILITIES

    parser = argparse.ArgumentParser(
        prog="grader",
        description="Release, grade and report the assignments of a course definition (see README.md).",
    )
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build, autograde and report the embedded sample course")
    p.add_argument("--dest", help="folder for the demo course, in a folder that exists (default: a new temporary folder)")
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
        if name == "autograde":
            p.add_argument("--force", action="store_true", help="regrade submissions already autograded")
        p.set_defaults(func=func)

    p = sub.add_parser("grade", help="grade notebooks or .py files directly")
    p.add_argument("--assignment", required=True, choices=list(ASSIGNMENTS), help="the assignment the submissions are for")
    p.add_argument("paths", nargs="+", metavar="PATH", help="notebook, .py file, or folder of them (other files are skipped)")
    p.add_argument("--json", metavar="FILE", help="write JSON Lines records to FILE (resumable) or - for stdout")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    p.add_argument("--feedback", metavar="DIR", help="also write one HTML feedback page per submission, "
                   "<student>-<assignment>.html, into DIR (created if missing)")
    p.add_argument("--scheduler", metavar="ADDR", help="grade on a Dask cluster (tcp://HOST:PORT; needs pip install .[dask])")
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("report", help="class report (HTML, optional CSV) from a results file")
    p.add_argument("results", metavar="RESULTS", help="JSON Lines file written by grader grade --json")
    p.add_argument("-o", "--output", required=True, metavar="HTML", help="where to write the report")
    p.add_argument("--csv", metavar="FILE", help="also write one row per submission for spreadsheets")
    p.add_argument("--title", help="the report's title")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip")
    p.add_argument("--assignment", required=True, choices=list(ASSIGNMENTS), help="the assignment the autograder grades")
    p.add_argument("-o", "--output", required=True, metavar="ZIP", help="e.g. autograder.zip")
    p.add_argument(
        "--hidden-visibility", default="after_published",
        choices=VISIBILITIES,
        help="when students see the hidden checks' results (default: after_published)",
    )
    p.add_argument(
        "--summary", default="failed", choices=("failed", "score"),
        help="what students see at once: their total and the names of the failed properties (failed), "
             "or the total only (score) (default: failed)",
    )
    p.set_defaults(func=_cmd_gradescope)

    p = sub.add_parser("canvas", help="grades CSV in Canvas's gradebook import layout")
    p.add_argument("results", nargs="?", metavar="RESULTS", help="JSON Lines file written by grader grade --json")
    p.add_argument("--course", help="read the nbgrader gradebook of this course folder instead")
    p.add_argument("-o", "--output", required=True, metavar="CSV", help="where to write the CSV")
    p.add_argument(
        "--id-column", default="SIS Login ID", choices=ID_COLUMNS,
        help="Canvas column that holds the course's student ids (default: SIS Login ID)",
    )
    p.add_argument(
        "--column", action="append", default=[], metavar="ASSIGNMENT=COLUMN",
        help="name the assignment's grade column, e.g. maxpool='Max pooling (4321)' to fill Canvas "
             "assignment 4321 instead of creating a new one (repeatable)",
    )
    p.add_argument("--section", default="", help="value of the Section column for every row")
    p.add_argument(
        "--ungraded", default="blank", choices=UNGRADED,
        help="a submission that could not be graded: leave its cell empty, so Canvas keeps its grade "
             "(blank, the default), or write 0 (zero); a warning names them either way",
    )
    p.set_defaults(func=_cmd_canvas)

    p = sub.add_parser("check-solutions", help="references score full marks, mutants lose points, quiz keys re-derived")
    p.add_argument("--repeats", type=int, default=20, help="unseeded runs of each reference (default: 20)")
    p.set_defaults(func=_cmd_check_solutions)

    p = sub.add_parser("new", help="scaffold a new code assignment in a course definition")
    p.add_argument("name", help="the assignment's name (a Python identifier, not a keyword)")
    p.set_defaults(func=_cmd_new)

    for p in sub.choices.values():  # every command grades with (or writes into) a course definition
        p.add_argument("--definition", metavar="DIR", help="course definition folder (default: the built-in unit)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grader`` console script."""
    from grader import assignments
    from grader.assignments import DefinitionError

    # --definition is read first: the parser's --assignment choices are the definition's.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("command", nargs="?")
    pre.add_argument("--definition")
    known, _ = pre.parse_known_args(argv)
    if not known.definition or known.command == "new":  # `new` may create the definition
        return _main(argv)
    try:
        selected = assignments.use(known.definition)
    except DefinitionError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    with selected:  # restored afterwards: main may be called in-process (tests, demo)
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    from grader.assignments import DefinitionError, UnknownAssignment
    from grader.nbgrader_bridge.commands import NbgraderFailed
    from grader.platforms import PlatformError
    from grader.reports.class_report import ResultsFileError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, UnknownAssignment, PlatformError, ResultsFileError, outputs.OutputError, DefinitionError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except NbgraderFailed as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.command == "grade" and not args.json:  # the table is printed at the end: nothing to keep
            print("grader: interrupted; nothing was kept (--json FILE keeps each result as it is graded)", file=sys.stderr)
        else:
            print(f"grader: interrupted; {_KEPT.get(args.command, 'results written so far are kept')}", file=sys.stderr)
        return 130


# What an interrupted command leaves, and how to finish it (one sentence after "interrupted; ").
_KEPT = {
    "release": "run the same command again to finish the release",
    "autograde": "the grades already in the gradebook are kept; the same command grades the rest",
    "feedback": "the pages already written are kept; the same command writes the rest",
    "demo": "nothing else was changed",
}


if __name__ == "__main__":
    sys.exit(main())

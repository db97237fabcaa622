"""The class report: what a class got right and wrong, from a JSON Lines results file.

One HTML page (self-contained, inline SVG plots) with, per assignment, first what to re-teach
(the named misconceptions, then the failing checks, each ranked by how many students it affects
and labelled by what those students share) and the answers left blank (counted apart: not a
mistake to re-teach), then the score distribution, every check's pass rate and the most common
sets of failed checks; and a CSV with one row per submission for spreadsheets. A submission that
could not be graded is counted apart, never as a score of 0.
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from grader.outputs import write_csv, write_text
from grader.quiz import NO_ANSWER
from grader.reports.feedback import esc, fmt_points, page
from grader.results import SubmissionResult, read_records, student_of

TOP = 8  # how many misconceptions / patterns a report lists
BINS = 10  # score histogram bins of 10 % each


class ResultsFileError(ValueError):
    """A results file that cannot be reported on; the message says what to do."""


@dataclass
class CheckStats:
    """How one check fared across a class."""

    name: str
    max_score: float
    passed: int = 0
    total: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Finding:
    """One thing to re-teach: what the students share, and how many students it affects."""

    label: str  # a misconception's name, or a check's name (the property it tests)
    students: int
    detail: str = ""  # where a misconception was seen, or the message every such student got


@dataclass
class AssignmentSummary:
    """Everything the report shows about one assignment."""

    assignment: str
    submissions: int = 0
    ungraded: int = 0
    students: int = 0  # students with a graded submission
    fractions: list[float] = field(default_factory=list)  # score / max_score per submission
    checks: dict[str, CheckStats] = field(default_factory=dict)
    misconceptions: list[Finding] = field(default_factory=list)  # named ones, most students first
    failing: list[Finding] = field(default_factory=list)  # failed checks, most students first
    no_answer: dict[str, int] = field(default_factory=dict)  # answer left blank -> students
    no_answer_students: int = 0  # students who left at least one answer blank
    patterns: list[tuple[tuple[str, ...], int]] = field(default_factory=list)

    def histogram(self) -> list[int]:
        """Submissions per 10 % score band; 100 % falls in the top band."""
        counts = [0] * BINS
        for f in self.fractions:
            counts[min(int(f * BINS), BINS - 1)] += 1
        return counts


def load_records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines results file (as written by ``grader grade --json``).

    Lines that are not whole records (e.g. the torn tail of a killed run) are skipped.
    Raises :class:`ResultsFileError` for a missing or empty file.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise ResultsFileError(f"results file {path} does not exist; write one with: grader grade --assignment A PATH... --json {path}")
    if not path.is_file():  # a folder, FIFO or device: reading it could block or mean nothing
        raise ResultsFileError(f"{path} is not a regular file; give the results file written by grader grade --json")
    try:
        records, skipped = read_records(path)
    except OSError as exc:
        raise ResultsFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not records:
        raise ResultsFileError(f"{path} holds no result records; is it the file written by grader grade --json?")
    if skipped:  # said, not silent: a line that is not a record is a submission the export lacks
        print(f"grader: {path}: skipped {skipped} line(s) that are not result records "
              "(e.g. the torn last line of a killed run)", file=sys.stderr)
    return records


def records_from_results(results: Iterable[SubmissionResult]) -> list[dict[str, Any]]:
    """Records for in-memory results (the same records ``grader grade --json`` writes)."""
    return [result.to_dict() for result in results]


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def shared_message(messages: Iterable[str]) -> str:
    """What a set of failure messages says in common: the message itself if they agree, with
    each number that differs between them shown as ``…`` ("multiplied kept units by …" when
    one student multiplied by 1.333 and another by 1); ``""`` if their words differ."""
    split = [(_NUMBER.split(m), _NUMBER.findall(m)) for m in {m.strip() for m in messages}]
    if not split or any(words != split[0][0] for words, _ in split):
        return ""
    words, first = split[0]
    numbers = [n if all(found[i] == n for _, found in split) else "…" for i, n in enumerate(first)]
    return "".join(w + (numbers[i] if i < len(numbers) else "") for i, w in enumerate(words))


def _ranked(students: dict[str, set[str]], detail: dict[str, str]) -> list[Finding]:
    order = sorted(students, key=lambda label: (-len(students[label]), label))
    return [Finding(label, len(students[label]), detail.get(label, "")) for label in order[:TOP]]


def _is_blank(test: dict[str, Any]) -> bool:
    return str(test.get("output", "")).strip() == NO_ANSWER and test.get("status") != "passed"


def summarise(records: Sequence[dict[str, Any]]) -> list[AssignmentSummary]:
    """One summary per assignment, in order of first appearance."""
    summaries: dict[str, AssignmentSummary] = {}
    graded: dict[str, set[str]] = {}  # assignment -> students with a graded submission
    named: dict[str, dict[str, set[str]]] = {}  # assignment -> misconception -> students
    named_where: dict[str, dict[str, set[str]]] = {}  # assignment -> misconception -> checks
    failed_by: dict[str, dict[str, set[str]]] = {}  # assignment -> check -> students
    told: dict[str, dict[str, list[str]]] = {}  # assignment -> check -> failure messages
    blank: dict[str, dict[str, set[str]]] = {}  # assignment -> answer -> students
    patterns: dict[str, Counter] = {}
    for record in records:
        name = record["assignment"]
        s = summaries.setdefault(name, AssignmentSummary(name))
        s.submissions += 1
        if record.get("status") == "error":  # no grade: kept out of the scores, counted apart
            s.ungraded += 1
            continue
        top = _num(record.get("max_score"))
        s.fractions.append(min(max(_num(record.get("score")) / top, 0.0), 1.0) if top > 0 else 0.0)
        student = student_of(str(record["submission"]), name)
        graded.setdefault(name, set()).add(student)
        failed = []
        for test in record.get("tests") or []:
            check = s.checks.setdefault(str(test.get("name", "")), CheckStats(str(test.get("name", "")), _num(test.get("max_score"))))
            check.total += 1
            if test.get("status") == "passed":
                check.passed += 1
            elif _is_blank(test):
                answer = check.name.split(":", 1)[0]
                blank.setdefault(name, {}).setdefault(answer, set()).add(student)
            else:
                failed.append(check.name)
                failed_by.setdefault(name, {}).setdefault(check.name, set()).add(student)
                told.setdefault(name, {}).setdefault(check.name, []).append(str(test.get("output", "")))
                if test.get("misconception"):
                    label = str(test["misconception"])
                    named.setdefault(name, {}).setdefault(label, set()).add(student)
                    named_where.setdefault(name, {}).setdefault(label, set()).add(check.name.split(":", 1)[0])
        if failed:
            patterns.setdefault(name, Counter())[tuple(failed)] += 1
    for name, s in summaries.items():
        s.students = len(graded.get(name, ()))
        where = {label: "in " + ", ".join(sorted(checks)) for label, checks in named_where.get(name, {}).items()}
        s.misconceptions = _ranked(named.get(name, {}), where)
        shared = {check: shared_message(messages) for check, messages in told.get(name, {}).items()}
        s.failing = _ranked(failed_by.get(name, {}), shared)
        answers = blank.get(name, {})
        s.no_answer = {a: len(answers[a]) for a in sorted(answers, key=lambda a: (-len(answers[a]), a))}
        s.no_answer_students = len(set().union(*answers.values())) if answers else 0
        s.patterns = patterns.get(name, Counter()).most_common(TOP)
    return list(summaries.values())


# --- inline SVG plots -------------------------------------------------------------------------

_W, _BAR_W, _ROW_H = 760, 500, 42  # label on its own line above each bar: messages are long


def _clip(text: str, n: int = 115) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def hbar_chart(plot_id: str, caption: str, rows: Sequence[tuple[str, float, str]], colour: str = "#1565c0") -> str:
    """Horizontal bars: ``rows`` of (label, value in [0, 1], text shown after the bar)."""
    height = _ROW_H * len(rows) + 6
    out = [
        f'<svg class="plot" id="{esc(plot_id)}" data-plot="{esc(plot_id)}" role="img" '
        f'width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{esc(caption)}</title>",
    ]
    for i, (label, value, text) in enumerate(rows):
        y = 2 + i * _ROW_H
        width = max(0.0, min(1.0, value)) * _BAR_W
        out.append(
            f'<g class="bar" data-label="{esc(label)}" data-value="{value:.4f}"><title>{esc(label)}: {esc(text)}</title>'
            f'<text x="0" y="{y + 13}" font-size="12">{esc(_clip(label))}</text>'
            f'<rect x="0" y="{y + 18}" width="{_BAR_W}" height="16" fill="#eee"/>'
            f'<rect x="0" y="{y + 18}" width="{width:.1f}" height="16" fill="{colour}"/>'
            f'<text x="{_BAR_W + 8}" y="{y + 31}" font-size="12">{esc(text)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def histogram_chart(plot_id: str, caption: str, counts: Sequence[int]) -> str:
    """Vertical bars of submissions per 10 % score band."""
    height, base, left, band = 220, 190, 40, 66
    top = max(counts) or 1
    out = [
        f'<svg class="plot" id="{esc(plot_id)}" data-plot="histogram" role="img" width="{left + band * len(counts) + 10}" '
        f'height="{height}" viewBox="0 0 {left + band * len(counts) + 10} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{esc(caption)}</title>",
        f'<line x1="{left}" y1="{base}" x2="{left + band * len(counts)}" y2="{base}" stroke="#555"/>',
    ]
    for i, count in enumerate(counts):
        h = 160 * count / top
        x = left + i * band
        lo, hi = i * 100 // len(counts), (i + 1) * 100 // len(counts)
        out.append(
            f'<g class="bin" data-count="{count}"><title>{lo}–{hi} %: {count} submission(s)</title>'
            f'<rect x="{x + 4}" y="{base - h:.1f}" width="{band - 8}" height="{h:.1f}" fill="#2e7d32"/>'
            f'<text x="{x + band / 2}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="12">{count}</text>'
            f'<text x="{x + band / 2}" y="{base + 16}" text-anchor="middle" font-size="11">{lo}–{hi}%</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


# --- the page ---------------------------------------------------------------------------------


def _section(s: AssignmentSummary) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in s.assignment)
    mean = statistics.fmean(s.fractions) if s.fractions else 0.0
    median = statistics.median(s.fractions) if s.fractions else 0.0
    parts = [
        f'<section class="assignment" id="assignment-{esc(slug)}" data-assignment="{esc(s.assignment)}">',
        f"<h2>Assignment <code>{esc(s.assignment)}</code></h2>",
        f'<p class="summary">{s.submissions} submission(s); mean {mean:.0%}, median {median:.0%} of the points'
        + (f" of the {s.submissions - s.ungraded} graded; {s.ungraded} could not be graded (left out of the scores)"
           if s.ungraded else "")
        + ".</p>",
    ]
    students = max(s.students, 1)
    if s.misconceptions:
        rows = [(f.label, f.students / students, f"{f.students} student(s) · {f.detail}") for f in s.misconceptions]
        parts += [
            "<h3>Named misconceptions (what to re-teach)</h3>",
            hbar_chart(f"misconceptions-{slug}", f"Named misconceptions by students affected, {s.assignment}", rows, "#c62828"),
        ]
    if s.failing:
        rows = [(f"{f.label}: {f.detail}" if f.detail else f.label, f.students / students, f"{f.students} student(s)")
                for f in s.failing]
        parts += [
            "<h3>Failing checks, by students affected</h3>",
            hbar_chart(f"mistakes-{slug}", f"Failing checks by students affected, {s.assignment}", rows, "#ef6c00"),
        ]
    if s.no_answer:
        most = ", ".join(f"{esc(a)} ({n})" for a, n in list(s.no_answer.items())[:TOP])
        parts.append(
            f'<p class="no-answer" data-students="{s.no_answer_students}">Left blank (not counted as mistakes): '
            f"{s.no_answer_students} student(s) left {sum(s.no_answer.values())} answer(s) blank; most often {most}.</p>"
        )
    # then the whole picture: how the scores spread and how often each check passed
    parts += [
        "<h3>Score distribution</h3>",
        histogram_chart(f"histogram-{slug}", f"Scores of {s.assignment}", s.histogram()),
    ]
    if s.checks:
        rows = [
            (c.name, c.pass_rate, f"{c.pass_rate:.0%} ({c.passed}/{c.total}) · {fmt_points(c.max_score)} pt")
            for c in s.checks.values()
        ]
        parts += ["<h3>Pass rate of every check</h3>", hbar_chart(f"checks-{slug}", f"Pass rate per check, {s.assignment}", rows)]
    if s.patterns:
        rows = [(" + ".join(p), n / max(s.submissions - s.ungraded, 1), f"{n} submission(s)") for p, n in s.patterns]
        parts += [
            "<h3>Most common sets of failed checks</h3>",
            hbar_chart(f"patterns-{slug}", f"Failed-check patterns, {s.assignment}", rows, "#6d4c41"),
        ]
    parts.append("</section>")
    return "\n".join(parts)


def render_class_report(records: Sequence[dict[str, Any]], title: str = "Class report") -> str:
    """The HTML class report for result records (see :func:`load_records`)."""
    body = [f"<h1>{esc(title)}</h1>"] + [_section(s) for s in summarise(records)]
    return page(title, "\n".join(body))


def write_class_csv(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """One row per submission: assignment, student (as read from the submission's path, see
    :func:`student_of`), submission, status, score, max_score, message, then one column per
    check (its points; empty where the check did not run). The score of a submission that could
    not be graded (status ``error``) is empty, not 0."""
    checks: dict[str, None] = {}
    for record in records:
        for test in record.get("tests") or []:
            checks.setdefault(str(test.get("name", "")), None)
    rows = [["assignment", "student", "submission", "status", "score", "max_score", "message", *checks]]
    for record in records:
        points = {str(t.get("name", "")): fmt_points(_num(t.get("score"))) for t in record.get("tests") or []}
        rows.append(
            [str(record.get("assignment", ""))]
            + [student_of(str(record.get("submission", "")), str(record.get("assignment", "")))]
            + [str(record.get(k, "")) for k in ("submission", "status")]
            # an error record is no grade: its score cell is empty, as in grades.csv and the Canvas CSV
            + ["" if record.get("status") == "error" else fmt_points(_num(record.get("score"))),
               fmt_points(_num(record.get("max_score")))]
            + [str(record.get("message", ""))]
            + [points.get(name, "") for name in checks]
        )
    # Labels and messages are student-influenced: write_csv keeps them from running as formulas.
    return write_csv(path, rows)


def write_class_report(results_path: Path, out_html: Path, csv_path: Path | None = None, title: str | None = None) -> Path:
    """``grader report``: read a results file, write the HTML report (and the CSV if asked)."""
    records = load_records(results_path)
    out_html = write_text(out_html, render_class_report(records, title or f"Class report: {Path(results_path).name}"))
    if csv_path is not None:
        write_class_csv(records, Path(csv_path))
    return out_html

"""Result records: one per check, one per submission (the JSON Lines contract in docs/architecture.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Iterable

from grader import grading_version

def student_of(label: str, assignment: str) -> str:
    """The student a submission path belongs to.

    ``.../<student>/<assignment>/<file>`` (nbgrader's ``submitted/`` layout) gives ``<student>``,
    ``.../<student>/<assignment>.ipynb`` gives ``<student>``, and otherwise the file's stem
    (``alice.ipynb`` gives ``alice``).
    """
    parts = PurePath(label.replace("\\", "/")).parts
    stem = PurePath(parts[-1]).stem if parts else label
    if len(parts) >= 3 and parts[-2] == assignment:
        return parts[-3]
    if len(parts) >= 2 and stem == assignment:
        return parts[-2]
    return stem


@dataclass
class TestResult:
    """The verdict of one check (or one quiz answer) on one submission."""

    __test__ = False  # not a pytest test class

    name: str
    score: float
    max_score: float
    status: str
    output: str = ""
    cell: str = ""  # the nbgrader grade cell the points belong to; not part of the JSON record
    # Quiz answers only; written to the record only when set (extra fields, after the contract's):
    understood: str = ""  # LaTeX of the answer as the grader understood it
    misconception: str = ""  # name of the recognised misconception, if any

    def to_dict(self) -> dict[str, Any]:
        """The test's JSON object (contract fields, then the optional quiz fields when set)."""
        record: dict[str, Any] = {
            "name": self.name,
            "score": round(self.score, 6),
            "max_score": round(self.max_score, 6),
            "status": self.status,
            "output": self.output,
        }
        # Kept in the file so `grader report` can count misconceptions and feedback can be
        # re-rendered from a results file alone.
        if self.understood:
            record["understood"] = self.understood
        if self.misconception:
            record["misconception"] = self.misconception
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "TestResult":
        """Rebuild a test from its JSON object (``cell`` is not in the record)."""
        return cls(
            name=str(record.get("name", "")),
            score=float(record.get("score") or 0.0),
            max_score=float(record.get("max_score") or 0.0),
            status=str(record.get("status", "error")),
            output=str(record.get("output", "")),
            understood=str(record.get("understood", "")),
            misconception=str(record.get("misconception", "")),
        )


@dataclass
class SubmissionResult:
    """Everything known about one graded (or ungradable) submission."""

    submission: str
    assignment: str
    status: str = "graded"  # or "error": could not be graded at all
    message: str = ""
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. extra cells that were not graded
    isolation: str = ""
    content_hash: str = ""
    max_score_if_error: float = 0.0
    grader_fault: bool = False  # an "error" caused by the grader, not the submission: grade again

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def student(self) -> str:
        """Whose submission this is, read from its path (see :func:`student_of`)."""
        return student_of(self.submission, self.assignment)

    @property
    def max_score(self) -> float:
        if not self.tests:
            return self.max_score_if_error
        return sum(t.max_score for t in self.tests)

    def cell_scores(self) -> dict[str, tuple[float, float]]:
        """(score, max_score) per nbgrader grade cell."""
        out: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            got, top = out.get(t.cell, (0.0, 0.0))
            out[t.cell] = (got + t.score, top + t.max_score)
        return out

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "submission": self.submission,
            "assignment": self.assignment,
            "score": round(self.score, 6),
            "max_score": round(self.max_score, 6),
            "status": self.status,
        }
        if self.message:
            record["message"] = self.message
        record["tests"] = [t.to_dict() for t in self.tests]
        if self.notes:
            record["notes"] = list(self.notes)
        record["isolation"] = self.isolation
        record["grader_version"] = grading_version()
        if self.content_hash:
            record["content_hash"] = self.content_hash
        if self.grader_fault:
            record["grader_fault"] = True
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "SubmissionResult":
        """Rebuild a result from its JSON record (e.g. a line of a results file)."""
        tests = [TestResult.from_dict(t) for t in record.get("tests") or [] if isinstance(t, dict)]
        return cls(
            submission=str(record.get("submission", "")),
            assignment=str(record.get("assignment", "")),
            status=str(record.get("status", "graded")),
            message=str(record.get("message", "")),
            tests=tests,
            notes=[str(n) for n in record.get("notes") or []],
            isolation=str(record.get("isolation", "")),
            content_hash=str(record.get("content_hash", "")),
            max_score_if_error=0.0 if tests else float(record.get("max_score") or 0.0),
            grader_fault=record.get("grader_fault") is True,
        )

    def to_json(self) -> str:
        """One JSON Lines record (no newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)


def parse_record(line: str) -> dict[str, Any] | None:
    """The result record on one line of a JSON Lines results file, or ``None`` if the line is
    not one (blank, torn, not JSON, or JSON without a string ``submission`` and ``assignment``)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: a line of deeply nested brackets
        return None
    if isinstance(record, dict) and isinstance(record.get("submission"), str) and isinstance(record.get("assignment"), str):
        return record
    return None


def parse_records(lines: Iterable[str], whole_lines_only: bool = False) -> tuple[list[dict[str, Any]], int]:
    """The records among ``lines`` (as :func:`parse_record` reads them) and how many non-blank
    lines were not records. With ``whole_lines_only``, a line without its newline (the torn tail
    of a killed run) is passed over and not counted."""
    records, others = [], 0
    for line in lines:
        if whole_lines_only and not line.endswith("\n"):
            continue
        record = parse_record(line)
        if record is not None:
            records.append(record)
        elif line.strip():
            others += 1
    return records, others


def read_records(path: Path, whole_lines_only: bool = False) -> tuple[list[dict[str, Any]], int]:
    """:func:`parse_records` over the file at ``path`` (undecodable bytes replaced; ``OSError``
    is the caller's to explain)."""
    with Path(path).open("r", encoding="utf-8", errors="replace") as fh:
        return parse_records(fh, whole_lines_only)

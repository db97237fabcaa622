"""The first sanitizing step of ``nbgrader autograde``: make a submission's nbgrader cells sound.

Stock nbgrader stops a whole autograde run on one notebook with a duplicated grade cell (its
``DeduplicateIds`` empties the copy's metadata, which then fails validation as "an old version of
the nbgrader metadata"; nbgrader issue #1083), and gives a deleted autograder cell no score at all.
:class:`RestoreGradeCells` runs before nbgrader's own checks and, by ``grade_id``, against the
gradebook (the trusted record ``nbgrader generate_assignment`` made of the source notebook):

* the first cell of each known ``grade_id`` gets the trusted nbgrader metadata back;
* later copies of a course cell (locked: autograder, setup and text cells) are removed; later
  copies of a solution cell stay as plain cells (the student's code is kept visible);
* nbgrader metadata with an unknown, missing or malformed ``grade_id``, or on a cell of another
  type than the course's cell of that ``grade_id``, is removed (points a student claims count nowhere);
* a missing autograder cell is put back from the gradebook, where it stood in the source;
* hidden-test markers (``### BEGIN HIDDEN TESTS``) in any cell but the course's locked cells
  become plain text, so a student's copy of one cannot stop ``generate_feedback``.

A submission that ``grader autograde`` would have refused before nbgrader saw it (a link, too
large, an unsafe student id: a run of nbgrader itself) is kept as refused and scored 0 with the
same one-sentence reason ``grader grade`` gives.

The student's files under ``submitted/`` are never changed (nbgrader works on a copy). Each
repair becomes a note for the student. The notebook *as submitted* is handed to
:class:`~grader.nbgrader_bridge.preprocessor.SandboxGrade` (in memory: nbgrader runs both steps
in one process, one notebook after the other), so the judge grades exactly what
``grader grade`` grades for the same file and both paths give the same scores.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from grader.extract import ExtractionError, check_file_status
from grader.nbgrader_bridge.student_ids import refusal as student_refusal
from grader.nbgrader_cells import grade_id

SCHEMA_VERSION = 3


@dataclass
class Submitted:
    """A notebook as the student submitted it, the notes on what sanitizing repaired, and why it
    must not be graded at all (``refused``: a link, too large, an unsafe student id), if it must not."""

    notebook: Any
    notes: list[str] = field(default_factory=list)
    refused: str = ""


#: (assignment, student, notebook) -> what RestoreGradeCells saw, until SandboxGrade takes it.
_SUBMITTED: dict[tuple[str, str, str], Submitted] = {}


def _key(resources: dict) -> tuple[str, str, str]:
    info = resources.get("nbgrader", {})
    return (str(info.get("assignment")), str(info.get("student")), str(info.get("notebook")))


def remember(resources: dict, submitted: Submitted) -> None:
    """Keep ``submitted`` for the grading step of the same notebook (which nbgrader runs next:
    anything still kept from an earlier notebook, whose grading failed or was not ours, goes)."""
    _SUBMITTED.clear()
    _SUBMITTED[_key(resources)] = submitted


def take(resources: dict) -> Submitted | None:
    """What :func:`remember` kept for this notebook (once), or ``None``."""
    return _SUBMITTED.pop(_key(resources), None)


@dataclass(frozen=True)
class TrustedCell:
    """One nbgrader cell of the source notebook as the gradebook records it."""

    grade_id: str
    cell_type: str
    source: str
    checksum: str
    locked: bool
    grade: bool = False
    solution: bool = False
    task: bool = False
    points: float = 0.0

    @property
    def autograded(self) -> bool:
        """A test cell nbgrader scores automatically (graded, not a student answer)."""
        return self.grade and not self.solution

    def metadata(self) -> dict[str, Any]:
        """The nbgrader metadata the cell had in the source notebook (schema version 3)."""
        meta: dict[str, Any] = {
            "grade": self.grade,
            "grade_id": self.grade_id,
            "locked": self.locked,
            "schema_version": SCHEMA_VERSION,
            "solution": self.solution,
        }
        if self.checksum:
            meta["checksum"] = self.checksum
        if self.grade or self.task:
            meta["points"] = self.points
        if self.task:
            meta["task"] = True
        return meta

    def new_cell(self, nbformat_minor: int) -> Any:
        """A fresh copy of the cell (no outputs), locked as in the release."""
        make = nbformat.v4.new_code_cell if self.cell_type == "code" else nbformat.v4.new_markdown_cell
        cell = make(self.source)
        if nbformat_minor < 5:  # cell ids exist from nbformat 4.5 on
            cell.pop("id", None)
        cell.metadata["deletable"] = False
        cell.metadata["editable"] = False
        cell.metadata["nbgrader"] = self.metadata()
        return cell


def trusted_cells(db_url: str, notebook_id: str, assignment_id: str) -> dict[str, TrustedCell]:
    """Every nbgrader cell of a notebook as recorded in the gradebook, by ``grade_id``."""
    with Gradebook(db_url) as gb:
        record = gb.find_notebook(notebook_id, assignment_id)
        grades = {c.name: float(c.max_score) for c in record.grade_cells}
        tasks = {c.name: float(c.max_score) for c in record.task_cells}
        solutions = {c.name for c in record.solution_cells}
        return {
            c.name: TrustedCell(
                grade_id=c.name, cell_type=c.cell_type, source=c.source or "", checksum=c.checksum or "",
                locked=bool(c.locked), grade=c.name in grades, solution=c.name in solutions,
                task=c.name in tasks, points=grades.get(c.name, tasks.get(c.name, 0.0)),
            )
            for c in record.source_cells
        }


def source_order(path: Path, known: dict[str, TrustedCell]) -> list[str]:
    """The ``grade_id`` s in the order of the source notebook (the gradebook keeps no order);
    ids the file lacks (or all of them, if it cannot be read) follow in the gradebook's order."""
    order: list[str] = []
    try:
        for cell in nbformat.read(str(path), as_version=4).cells:
            gid = grade_id(cell)
            if gid in known and gid not in order:
                order.append(gid)
    except Exception:  # no source file: the order only decides where a restored cell goes
        pass
    return order + [gid for gid in known if gid not in order]


#: nbgrader's hidden-test markers (its default delimiters): in a cell that is not a grade cell, a
#: student's copy of one made ``ClearHiddenTests`` stop ``generate_feedback`` for the class. (No
#: step of autograde or feedback reads the SOLUTION or MARK SCHEME markers.)
_MARKER = re.compile(r"\b(BEGIN|END) (HIDDEN TESTS)\b")


def defuse_markers(cell: Any) -> bool:
    """Turn hidden-test markers in ``cell``'s source into plain text (``BEGIN_HIDDEN TESTS``);
    True if there were any."""
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    defused = _MARKER.sub(r"\1_\2", text)
    cell["source"] = defused
    return defused != text


def repair(nb: Any, known: dict[str, TrustedCell], order: list[str]) -> list[str]:
    """Make ``nb``'s nbgrader cells match ``known`` (see the module docstring); returns notes."""
    kept: list[Any] = []
    copies: dict[str, int] = {}
    for cell in nb.cells:
        if "nbgrader" not in cell.get("metadata", {}):
            kept.append(cell)
            continue
        gid = grade_id(cell)
        if gid is None or gid not in known or cell.get("cell_type") != known[gid].cell_type:
            del cell.metadata["nbgrader"]  # not a cell of the course (or a code cell posing as text): an ordinary cell
            kept.append(cell)
            continue
        copies[gid] = copies.get(gid, 0) + 1
        if copies[gid] == 1:
            cell.metadata["nbgrader"] = known[gid].metadata()
            kept.append(cell)
        elif not known[gid].locked:  # a second answer cell: the student's code stays, unmarked
            del cell.metadata["nbgrader"]
            kept.append(cell)
    notes = []
    for gid, count in copies.items():
        if count > 1 and known[gid].locked:
            kind = "autograder cell" if known[gid].autograded else "course cell"
            notes.append(f"{kind} {gid!r} appears {count} times in the notebook; it counts once "
                         "(the extra copies of the course's own cell were removed)")
    for gid in order:
        if known[gid].autograded and gid not in copies:
            _insert(kept, known[gid].new_cell(int(nb.get("nbformat_minor", 5))), gid, order)
            notes.append(f"autograder cell {gid!r} was missing from the notebook (deleted?); the course's "
                         "copy was put back and graded")
    defused = [i for i, c in enumerate(kept, start=1) if not _course_locked(c, known) and defuse_markers(c)]
    if defused:
        notes.append(f"cell(s) {', '.join(map(str, defused))} hold nbgrader's hidden-test markers (BEGIN/END "
                     "HIDDEN TESTS), which only the course's own test cells may use; they are shown as plain "
                     "text (BEGIN_HIDDEN TESTS) in the feedback and have no effect")
    nb.cells = kept
    return notes


def _course_locked(cell: Any, known: dict[str, TrustedCell]) -> bool:
    """A locked course cell: nbgrader overwrites its source with the gradebook's."""
    gid = grade_id(cell)
    return gid is not None and gid in known and known[gid].locked


def _insert(cells: list[Any], new: Any, gid: str, order: list[str]) -> None:
    """Put ``new`` after the closest cell that precedes ``gid`` in the source, else before the
    closest one that follows it, else at the end."""
    where = {grade_id(c): i for i, c in enumerate(cells) if "nbgrader" in c.get("metadata", {})}
    at = order.index(gid)
    for before in reversed(order[:at]):
        if before in where:
            cells.insert(where[before] + 1, new)
            return
    for after in order[at + 1:]:
        if after in where:
            cells.insert(where[after], new)
            return
    cells.append(new)


def _source_notebook(preprocessor: NbGraderPreprocessor, assignment: str, notebook: str) -> Path | None:
    """``source/<assignment>/<notebook>.ipynb`` of the course nbgrader runs in, if it can tell."""
    try:
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=preprocessor.config)
        return Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"
    except Exception:
        return None


def refusal(resources: dict) -> str:
    """Why the submission nbgrader is converting must not be graded (as ``grader autograde`` would
    have refused it before nbgrader saw it), or ``""``: for runs of nbgrader without the grader."""
    info = resources.get("nbgrader", {})
    message = student_refusal(str(info.get("student", "")))
    if message:
        return message
    folder = resources.get("metadata", {}).get("path")
    if not folder:
        return ""
    path = Path(folder) / f"{info.get('notebook')}.ipynb"
    try:
        check_file_status(path, os.lstat(path))
    except ExtractionError as exc:
        return str(exc)
    except OSError:
        return ""
    return ""


class RestoreGradeCells(NbGraderPreprocessor):
    """nbgrader sanitizing preprocessor: restore a submission's nbgrader cells by ``grade_id``
    (duplicates dropped, deleted autograder cells put back) before nbgrader checks them."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        info = resources["nbgrader"]
        submitted = Submitted(copy.deepcopy(nb), refused=refusal(resources))
        known = trusted_cells(info["db_url"], info["notebook"], info["assignment"])
        path = _source_notebook(self, info["assignment"], info["notebook"])
        order = source_order(path, known) if path is not None else list(known)
        submitted.notes = repair(nb, known, order)
        for note in submitted.notes:
            self.log.warning("%s/%s: %s", info.get("student"), info["assignment"], note)
        remember(resources, submitted)
        return nb, resources

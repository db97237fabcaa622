"""What nbgrader is shown of ``submitted/``: a checked copy, without the submissions it must not see.

nbgrader follows links (a notebook linked to the course's source notebook got full marks; a linked
data file would be copied into ``autograded/``), reads any size of notebook, and takes a student
folder's name as a glob pattern and a CSV cell. Before ``nbgrader autograde`` runs, each
``submitted/<student>/<assignment>/`` is checked as ``grader grade`` checks a file
(:func:`grader.extract.read_submission`: no links, only regular files, notebooks within the size
limit, every file; :mod:`~grader.nbgrader_bridge.student_ids`: a safe folder name) and copied, read through
descriptors that never follow a link, into a staging folder that nbgrader then grades from
(``--CourseDirectory.submitted_directory``). Refused submissions get one sentence each; nbgrader
never sees them, and grades what it was shown exactly as it would have graded ``submitted/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from grader.extract import MAX_SUBMISSION_BYTES, ExtractionError, check_file_status, read_submission, shown
from grader.nbgrader_bridge.student_ids import SUBMITTED, refusal

STAGING = ".grader-submitted"
#: Bounds on one submission folder besides each file's size limit: folders nested deeper made the
#: (recursive) copy and clean-up raise RecursionError and stop the class's run; many files or
#: many large ones would fill the disk through the copies (staging, then ``autograded/``).
MAX_DEPTH = 16
MAX_ENTRIES = 1000
MAX_FOLDER_BYTES = 4 * MAX_SUBMISSION_BYTES


@dataclass
class Staged:
    """The staging folder, the submissions copied into it, and the refusals (one sentence each)."""

    folder: Path
    accepted: dict[str, list[str]] = field(default_factory=dict)  # assignment -> student ids
    refused: list[str] = field(default_factory=list)


def stage_submission(src: Path, dest: Path) -> None:
    """Copy the submission folder ``src`` to ``dest`` after checking every entry in it.

    Raises :class:`~grader.extract.ExtractionError` (nothing is left at ``dest``) at a link,
    anything that is not a regular file or folder, a file over the submission size limit, or a
    folder beyond :data:`MAX_DEPTH`, :data:`MAX_ENTRIES` or :data:`MAX_FOLDER_BYTES`."""
    entries = total = 0
    try:
        check_folder(src)
        for folder, dirs, files in os.walk(src, onerror=_raise):  # never enters linked folders
            here = Path(folder)
            target = dest / here.relative_to(src)
            if len(target.relative_to(dest).parts) >= MAX_DEPTH and dirs:
                raise ExtractionError(f"{src.name} holds folders nested more than {MAX_DEPTH} deep")
            entries += len(dirs) + len(files)
            if entries > MAX_ENTRIES:
                raise ExtractionError(f"{src.name} holds more than {MAX_ENTRIES} files and folders")
            target.mkdir(parents=True, exist_ok=True)
            for name in dirs:
                check_folder(here / name)
            for name in sorted(files):
                data = read_submission(here / name)
                total += len(data)
                if total > MAX_FOLDER_BYTES:
                    raise ExtractionError(f"{src.name} holds more than {MAX_FOLDER_BYTES / 1e6:g} MB of files "
                                          "in all: submit the notebook and the files it needs only")
                (target / name).write_bytes(data)
    except (OSError, ExtractionError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        with contextlib.suppress(OSError):
            dest.parent.rmdir()  # the student's folder, unless another assignment of theirs is in it
        if isinstance(exc, OSError):
            raise ExtractionError(f"{src.name} could not be read ({exc.strerror or exc})") from None
        raise


def _raise(error: OSError) -> None:
    raise error  # os.walk would skip an unreadable folder in silence


def check_folder(path: Path) -> None:
    """Refuse what should be a folder but is a link (to a folder or anything else) or a file."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        check_file_status(path, st)  # raises for a link or a special file
        raise ExtractionError(f"{shown(path)} is a file where a folder was expected")


@contextmanager
def staged(course_dir: Path, found: dict[str, list[str]]) -> Iterator[Staged]:
    """Stage ``found`` (assignment -> student ids under ``submitted/``); the folder goes afterwards."""
    course_dir = Path(course_dir)
    result = Staged(course_dir / STAGING)
    shutil.rmtree(result.folder, ignore_errors=True)  # a killed run's leftovers
    result.folder.mkdir()
    try:
        for assignment, students in sorted(found.items()):
            for student in sorted(students):
                message = refusal(student)
                if message is None:
                    src = course_dir / SUBMITTED / student / assignment
                    try:
                        check_folder(src.parent)
                        stage_submission(src, result.folder / student / assignment)
                    except ExtractionError as exc:
                        message = f"{SUBMITTED}/{student}/{assignment} was not graded: {exc}"
                if message is None:
                    result.accepted.setdefault(assignment, []).append(student)
                elif message not in result.refused:  # a bad folder name is refused once
                    result.refused.append(message)
        yield result
    finally:
        shutil.rmtree(result.folder, ignore_errors=True)

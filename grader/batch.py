"""Grading many submissions: collecting paths, parallel grading, and a resumable results file.

The results file is JSON Lines. Each record is written whole and flushed as soon as it is known,
so a killed batch loses at most the submissions in flight; a re-run grades only submissions that
are missing from the file or whose content or grader version changed, and replaces their stale
records, so every submission ends up exactly once in the file.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

from grader import grading_version
from grader.extract import ExtractionError, read_submission
from grader.grading import content_hash, fault_result, grade_submission
from grader.outputs import OutputError, append_text, check_file, open_output
from grader.results import SubmissionResult, read_records

SUFFIXES = (".ipynb", ".py")
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}
#: Folders nested deeper than this below a folder given to ``grader grade`` are not searched
#: (``rglob`` recursed once per level: 1,000 nested folders in one student's submission raised
#: RecursionError and stopped the class's batch).
MAX_DEPTH = 32


@dataclass(frozen=True)
class Item:
    """One submission to grade: its label (the path as given) and where it is."""

    label: str
    path: Path


def belongs_elsewhere(relative: Path, assignment: str | None) -> bool:
    """True if a file found in a folder is named for another assignment and not for this one.

    In an nbgrader tree (``submitted/<student>/<assignment>/<assignment>.ipynb``) or a folder
    of ``maxpool.py``/``quiz.ipynb`` files, grading one assignment must not pick up the others.
    """
    if assignment is None:
        return False
    from grader.assignments import ASSIGNMENTS

    names = set(relative.parent.parts) | {relative.stem}
    return assignment not in names and bool(names & (set(ASSIGNMENTS) - {assignment}))


def _is_candidate(entry: Path) -> bool:
    """A folder entry to grade: a submission file, or anything with a submission's name (or a link
    to a folder) that is not a regular file, so grading refuses it with a record instead of
    passing it by in silence (a link to the course's notebook must not vanish unremarked)."""
    if entry.is_symlink():
        return entry.suffix in SUFFIXES or entry.is_dir()
    return entry.suffix in SUFFIXES and not entry.is_dir()


def walk(top: Path) -> Iterator[Path]:
    """Every entry below ``top`` (as ``rglob("*")``, never entering linked folders), without
    recursion, and no deeper than :data:`MAX_DEPTH` folders."""
    stack = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # as rglob: an unreadable folder holds nothing to grade
        for entry in entries:
            yield Path(entry.path)
            if depth + 1 < MAX_DEPTH and entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), depth + 1))


def collect(paths: Iterable[str], assignment: str | None = None) -> list[Item]:
    """Expand files and folders (recursively) into submissions, in a stable order.

    A missing path is still returned as given (grading it gives an ``error`` record); the
    ``grader grade`` command refuses missing paths before it gets here. Files
    found inside a folder that are named for another assignment are left out (see
    :func:`belongs_elsewhere`); files given by name are graded if they are notebooks or ``.py``
    files, and skipped otherwise (the command says so). Links inside a folder are
    never followed (``rglob`` does not enter linked folders): a link with a submission's name and
    a link to a folder are returned themselves, and grading refuses them.
    """
    items: list[Item] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in walk(path)
                if _is_candidate(p)
                and not (set(p.relative_to(path).parts) & SKIP_DIRS)
                and not belongs_elsewhere(p.relative_to(path), assignment)
            )
            items += [Item(str(Path(given) / p.relative_to(path)), p) for p in found]
        elif not (path.is_file() and path.suffix not in SUFFIXES):  # notes.txt is not a submission
            items.append(Item(given, path))
    return items


def _digest(path: Path) -> str:
    try:
        return content_hash(read_submission(path))  # never follows a link nor blocks on a pipe
    except ExtractionError:
        return ""


class ResultsFile:
    """A JSON Lines results file that can be resumed.

    ``path`` must be a regular file or a new one (see :mod:`grader.outputs`; a device such as
    ``/dev/null`` is not resumable: write records to it as a stream instead).
    """

    def __init__(self, path: Path):
        self.path = check_file(path, "results file")
        self.records: dict[tuple[str, str], dict] = {}
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        # a torn tail of a killed run is passed over: that submission is graded again
        records, others = read_records(self.path, whole_lines_only=True)
        self.records = {(r["submission"], r["assignment"]): r for r in records}
        if others and not self.records:  # someone's other file given as --json: never rewrite it
            raise OutputError(f"{self.path} exists and holds no result records, so it is not a results file; "
                              "give a new file name, or the file an earlier grader grade --json wrote")
        if others:
            print(f"grader: {self.path}: dropping {others} line(s) that are not result records "
                  "(e.g. a torn line of a killed run); their submissions are graded again", file=sys.stderr)
        self._rewrite(list(self.records.values()))

    def _rewrite(self, records: list[dict]) -> None:
        with open_output(self.path) as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def is_current(self, item: Item, assignment: str) -> bool:
        """True when the file already holds a record for this exact content and grader version."""
        record = self.records.get((item.label, assignment))
        return (
            record is not None
            and record.get("grader_version") == grading_version()
            and bool(record.get("content_hash"))
            and record.get("content_hash") == _digest(item.path)
        )

    def drop_stale(self, keys: set[tuple[str, str]]) -> None:
        """Remove records that are about to be regraded, so none appears twice."""
        if keys & self.records.keys():
            for key in keys:
                self.records.pop(key, None)
            self._rewrite(list(self.records.values()))

    def append(self, result: SubmissionResult) -> None:
        """Write one whole record and flush it to disk."""
        line = result.to_json() + "\n"
        with self._lock:
            append_text(self.path, line)
            self.records[(result.submission, result.assignment)] = result.to_dict()


def grade_batch(
    items: list[Item],
    assignment: str,
    jobs: int = 1,
    on_result: Callable[[SubmissionResult], None] | None = None,
    limits=None,
) -> Iterator[SubmissionResult]:
    """Grade ``items`` with ``jobs`` submissions in flight, yielding results as they finish."""

    def one(item: Item) -> SubmissionResult:
        try:
            return grade_submission(item.path, assignment, label=item.label, limits=limits)
        except Exception as exc:  # a grader fault on one submission must not end the batch
            print(f"grader: internal error while grading {item.label}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return fault_result(item.label, assignment, f"the grader failed ({type(exc).__name__})")

    if jobs <= 1:
        for item in items:
            result = one(item)
            if on_result:
                on_result(result)
            yield result
        return
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(one, item) for item in items]
        for future in as_completed(futures):
            result = future.result()
            if on_result:
                on_result(result)
            yield result
    finally:
        # On Ctrl-C (or the caller closing us) drop what has not started instead of grading the
        # rest of the batch first; the few submissions in flight finish within their limits.
        pool.shutdown(wait=False, cancel_futures=True)


def progress(total: int, stream: TextIO | None = None):
    """A progress bar on ``stream`` (default: the current ``sys.stderr``) if it is a terminal,
    nothing otherwise."""
    from tqdm import tqdm

    stream = sys.stderr if stream is None else stream  # read when called: stderr may be replaced

    return tqdm(total=total, unit="sub", file=stream, disable=not stream.isatty(), leave=False)

"""Taking the student's code (or quiz answers) out of a submission, without running any of it.

Notebooks: only solution cells (by nbgrader metadata) are the student's code; the setup cells
(``grade_id`` starting with ``setup``) are taken from the trusted source notebook, so an edited
import cell cannot change what is graded. Cells the student added are reported, not graded.
``.py`` files: the whole module is the student's code.
"""

from __future__ import annotations

import ast
import errno
import functools
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import nbgrader_cells


def _import_nbformat():
    """Import nbformat without letting jsonschema load ``rfc3987_syntax`` (when installed).

    jsonschema imports that package, if present, to check the "iri" string format, and building
    its grammars takes ~2 s: more than grading 40 submissions. nbformat validates notebooks
    without format checks, so nothing it does changes; only "iri" format checks elsewhere in
    this process are skipped. Done only when neither package is loaded yet.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import nbformat
    else:
        sys.modules["rfc3987_syntax"] = None  # makes "import rfc3987_syntax" raise ImportError
        try:
            import nbformat
        finally:
            del sys.modules["rfc3987_syntax"]
    return nbformat


# Every grading path reads notebooks through this module, so nbformat is imported here first.
nbformat = _import_nbformat()

MAX_SUBMISSION_BYTES = 5_000_000


class ExtractionError(ValueError):
    """The submission cannot be read at all. ``str(err)`` is shown to the student."""


@dataclass
class Extracted:
    """Student code (code assignments) or answers (quiz) plus notes for the student."""

    blocks: list[tuple[str, str]] = field(default_factory=list)  # (label, code), run in order
    answers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def shown(path: Path) -> str:
    """A submission file's name as messages show it: quoted with escapes if it holds a line break
    or another unprintable character (a file named ``x\ngrader: submitted/ada/... was not
    graded`` wrote a forged line into the instructor's log)."""
    name = Path(path).name
    return name if name.isprintable() else repr(name)


def _refusal(path: Path, reason: str) -> ExtractionError:
    return ExtractionError(f"{shown(path)} {reason}")


def too_large(path: Path, size: int) -> ExtractionError:
    """The error for a submission over :data:`MAX_SUBMISSION_BYTES` (shared with the nbgrader path)."""
    return _refusal(
        path,
        f"is too large ({size / 1e6:.1f} MB; submissions are limited to {MAX_SUBMISSION_BYTES / 1e6:g} MB): "
        "clear the cell outputs (Kernel > Restart & Clear Output) and resubmit",
    )


def check_file_status(path: Path, st: os.stat_result) -> None:
    """Refuse what a submission file must not be: a link, anything but a regular file, too large.

    ``st`` is the ``lstat`` (or the ``fstat`` of a descriptor opened without following links)."""
    if stat.S_ISLNK(st.st_mode):
        raise _refusal(path, "is a symbolic link, not a file: submissions must be files, not links")
    if stat.S_ISDIR(st.st_mode):
        raise _refusal(path, "is a folder, not a submission file")
    if not stat.S_ISREG(st.st_mode):
        raise _refusal(path, "is not a regular file (a pipe, socket or device?): submissions must be files")
    if st.st_size > MAX_SUBMISSION_BYTES:
        raise too_large(path, st.st_size)


def read_submission(path: Path) -> bytes:
    """The bytes of a submission file, never following a link (a submission that is a symbolic link
    to the course's own notebook would otherwise be graded as that notebook), never blocking on a
    pipe and never reading more than the size limit. Raises :class:`ExtractionError`."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link (to a file or a folder)
            check_file_status(path, os.lstat(path))
        raise ExtractionError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    try:
        check_file_status(path, os.fstat(fd))
    except ExtractionError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_SUBMISSION_BYTES + 1)
    if len(data) > MAX_SUBMISSION_BYTES:  # grew since fstat
        raise too_large(path, len(data))
    return data


def read_text(path: Path) -> str:
    """Read a submission file as UTF-8 text with link, size and encoding errors made clear."""
    data = read_submission(path)
    if not data.strip():
        raise ExtractionError(f"{shown(path)} is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"{shown(path)} is not valid UTF-8 text (byte {exc.start})") from None


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse a notebook file, turning every way it can be malformed into one clear error."""
    text = read_text(path)
    try:
        nb = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError):
        raise ExtractionError(f"{shown(path)} is not a valid notebook: it is not JSON") from None
    except Exception as exc:  # nbformat raises several types for bad structure
        raise ExtractionError(f"{shown(path)} is not a valid notebook ({type(exc).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise ExtractionError(f"{shown(path)} is not a valid notebook: it has no list of cells")
    return nb


def _cell_source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def source_cells(source_nb: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """(setup code blocks, solution grade_ids) of a trusted source notebook."""
    setup, solutions = [], []
    for cell in source_nb.cells:
        meta = nbgrader_cells.metadata(cell)
        if cell.cell_type != "code" or not meta:
            continue
        gid = str(meta.get("grade_id", ""))
        if nbgrader_cells.is_solution(cell):
            solutions.append(gid)
        elif gid.startswith("setup"):
            setup.append(_cell_source(cell))
    return setup, solutions


def solution_blocks(
    nb: nbformat.NotebookNode, expected_ids: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """((label, code) of the student's solution cells in order, notes) of a submitted notebook."""
    blocks, notes, seen = [], [], []
    for index, cell in enumerate(nb.cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = nbgrader_cells.metadata(cell)
        code = _cell_source(cell)
        if nbgrader_cells.is_solution(cell):
            gid = str(meta.get("grade_id", ""))
            if gid in seen:
                notes.append(f"solution cell {gid!r} appears more than once; all copies were graded in order")
            seen.append(gid)
            blocks.append((f"cell {gid!r}", code))
        elif not meta and code.strip():
            notes.append(
                f"cell {index} was added to the notebook and was not graded: only solution cells "
                "are; move any helper code into a solution cell"
            )
    for gid in expected_ids:
        if gid not in seen:
            notes.append(f"solution cell {gid!r} is missing from the notebook (deleted?)")
    return blocks, notes


def _trusted_cells(source_notebook: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`source_cells` of the source notebook, read once per version of the file (it is the
    same for every submission; parsing and validating it again cost ~2 ms each)."""
    stat = source_notebook.stat()
    return _trusted_cells_of(str(source_notebook), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _trusted_cells_of(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    setup, solutions = source_cells(nbformat.read(path, as_version=4))
    return tuple(setup), tuple(solutions)


def code_from_notebook(nb: nbformat.NotebookNode, source_notebook: Path | None) -> Extracted:
    """Trusted setup cells plus the student's solution cells of a parsed notebook."""
    setup, expected = _trusted_cells(source_notebook) if source_notebook is not None else ((), ())
    blocks, notes = solution_blocks(nb, list(expected))
    if not blocks:
        raise ExtractionError("the notebook has no solution cells (was its nbgrader metadata removed?)")
    setup_blocks = [(f"setup cell {i}", code) for i, code in enumerate(setup, start=1)]
    return Extracted(blocks=setup_blocks + blocks, notes=notes)


def extract_code(path: Path, source_notebook: Path | None) -> Extracted:
    """Student code of a code assignment from a notebook or ``.py`` file."""
    if path.suffix != ".ipynb":
        return Extracted(blocks=[(shown(path), read_text(path))])
    return code_from_notebook(read_notebook(path), source_notebook)


def _assigned(node: ast.AST) -> list[tuple[str, ast.expr | None]]:
    """(name, value) pairs a statement assigns: ``a = v``, ``a: str = v``, ``a, b = v, w``."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [(node.target.id, node.value)]
    if not isinstance(node, ast.Assign):
        return []
    pairs: list[tuple[str, ast.expr | None]] = []
    for target in node.targets:
        if isinstance(target, ast.Name):
            pairs.append((target.id, node.value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = node.value.elts if isinstance(node.value, (ast.Tuple, ast.List)) else []
            same_length = len(values) == len(target.elts)
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    pairs.append((element.id, values[index] if same_length else node.value))
    return pairs


def _squashed(name: str) -> str:
    return name.lower().replace("_", "")


def string_assignments(code: str, names: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Answers assigned as string literals, found without executing: ``forward = r"H = D*Y"``,
    ``forward: str = "..."`` and ``forward, backward = "...", "..."``.

    Returns (answers, notes). The last assignment to a name wins, as it would when run. Whatever
    else looks like an attempt at an answer gets a note saying why it was not graded: a value
    that is not a plain string, a name that differs from an answer name only in case or
    underscores, a string assigned to another name or standing on its own.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return {}, [f"the answers could not be read: syntax error on line {exc.lineno}: {exc.msg}"]
    answers: dict[str, str] = {}
    notes: list[str] = []
    near = {_squashed(n): n for n in names}
    statements = sorted((n for n in ast.walk(tree) if isinstance(n, ast.stmt)), key=lambda n: (n.lineno, n.col_offset))
    for node in statements:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            notes.append(f"line {node.lineno}: a string on its own was not graded; assign it to an answer name, "
                         'e.g. name = r"..."')
            continue
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id in names:
            notes.append(f"{node.target.id} is changed with {type(node.op).__name__}-assignment; only a plain "
                         'string assigned with = is graded')
            continue
        for name, value in _assigned(node):
            if name not in names:
                if _squashed(name) in near:
                    notes.append(f"{name} is not an answer name (did you mean {near[_squashed(name)]}?); "
                                 "it was not graded")
                elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                    notes.append(f"{name} is not one of the answer names; the string assigned to it was not graded")
                continue
            if value is None:
                notes.append(f"{name} is declared without a value; it was not graded")
                continue
            try:
                literal = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                literal = None
            if isinstance(literal, str):
                answers[name] = literal
                if isinstance(node, ast.AnnAssign):
                    notes.append(f"{name} was read from the annotated assignment {name}: ... = \"...\"")
            else:
                notes.append(f"{name} must be a plain string such as r\"...\"; it was not graded")
    return answers, notes


def answers_from_blocks(blocks: list[tuple[str, str]], notes: list[str], names: tuple[str, ...]) -> Extracted:
    """Quiz answers from code blocks; one broken cell must not hide the answers in the others."""
    answers: dict[str, str] = {}
    notes = list(notes)
    for label, code in blocks:
        found, block_notes = string_assignments(code, names)
        answers.update(found)
        notes += [f"{label}: {n}" for n in block_notes]
    return Extracted(blocks=blocks, answers=answers, notes=notes)


def answers_from_notebook(nb: nbformat.NotebookNode, names: tuple[str, ...]) -> Extracted:
    """Quiz answers from a parsed notebook's solution cells."""
    blocks, notes = solution_blocks(nb, [])
    return answers_from_blocks(blocks, notes, names)


def extract_answers(path: Path, names: tuple[str, ...]) -> Extracted:
    """Quiz answers from a notebook's solution cells or a ``.py`` module."""
    if path.suffix == ".ipynb":
        return answers_from_notebook(read_notebook(path), names)
    return answers_from_blocks([(shown(path), read_text(path))], [], names)

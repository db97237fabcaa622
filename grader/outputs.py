"""Every file the grader writes goes through here: checked before any work, written safely.

One behaviour for every output path of every command:

* The folder an output goes into must exist already; only the last component of the path (the
  file, or an output folder such as ``--feedback DIR``) is created. A mistyped folder is refused
  before anything is graded, rather than filled silently.
* A regular file is written whole to a new temporary file beside it and renamed over the old
  one, so a reader never sees half a file and an interrupted run leaves the old one intact.
* A character device (``/dev/null``, a terminal) is written in place: never truncated, never
  renamed over. ``/dev/stdout`` and ``/dev/stderr`` name this process's own streams.
* Anything else is refused with one sentence: a folder where a file is needed (and a file where
  a folder is needed), a FIFO, a socket, a block device, and a symbolic link as the last component
  (an output is never written through a link to somewhere else; folders above it may be links,
  since the instructor named them).
* Every CSV is written by :func:`write_csv`, which keeps spreadsheet formulas out of its cells.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

#: Paths that mean this process's own streams (file descriptors), not files to open.
STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFBLK: "a block device",
}


class OutputError(Exception):
    """An output path the grader will not write to; the message is one sentence."""


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputError(f"cannot write {path}: a part of that path above it is a file, not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror.lower()}") from None


def _check_parent(path: Path) -> None:
    parent = path.parent
    try:
        st = os.stat(parent)
    except FileNotFoundError:
        raise OutputError(f"cannot write {path}: the folder {parent} does not exist (create it first)") from None
    except NotADirectoryError:
        raise OutputError(f"cannot write {path}: {parent} is not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror.lower()}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: the folder {parent} is not writable")


def is_stream(path: Path | str) -> bool:
    """True if writing ``path`` writes in place: one of :data:`STREAMS` or a character device."""
    if str(path) in STREAMS:
        return True
    st = _lstat(Path(path))
    return st is not None and stat.S_ISCHR(st.st_mode)


def check_file(path: Path | str, what: str = "output file") -> Path:
    """Refuse ``path`` as an output file now, before any work, unless it can be written safely.

    Returns it as a :class:`~pathlib.Path`. Raises :class:`OutputError` (one sentence).
    """
    path = Path(path)
    if str(path) in STREAMS:
        return path
    if not path.name or path.name in (".", ".."):
        raise OutputError(f"{path} names a folder; give a file name for the {what}")
    st = _lstat(path)
    if st is not None:
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            raise OutputError(f"{path} is a symbolic link; give the path of a regular file (outputs are never written through links)")
        if stat.S_ISDIR(mode):
            raise OutputError(f"{path} is a folder; give a file name for the {what}")
        if stat.S_ISCHR(mode):
            if not os.access(path, os.W_OK):
                raise OutputError(f"cannot write {path}: the device is not writable")
            return path
        if not stat.S_ISREG(mode):
            raise OutputError(f"{path} is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}; give the path of a regular file")
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {path}: the file is not writable")
    _check_parent(path)
    return path


def check_dir(path: Path | str, what: str = "output folder") -> Path:
    """Refuse ``path`` as an output folder now unless it is a folder or can be created as one."""
    path = Path(path)
    st = _lstat(path)
    if st is None:
        _check_parent(path)
    elif stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{path} is a symbolic link; give the path of a real folder for the {what}")
    elif not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path} is a file, not a folder; give a folder for the {what}")
    elif not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write in {path}: the folder is not writable")
    return path


def make_dir(path: Path | str, what: str = "output folder") -> Path:
    """:func:`check_dir`, then create the folder if it is missing (its parent must exist)."""
    path = check_dir(path, what)
    try:
        os.mkdir(path)
    except FileExistsError:
        check_dir(path, what)  # raced with something else: it must still be a real folder
    except OSError as exc:
        raise OutputError(f"cannot create the folder {path}: {exc.strerror.lower()}") from None
    return path


def _open_in_place(path: Path, append: bool) -> int:
    if str(path) in STREAMS:
        return os.dup(STREAMS[str(path)])
    # No O_TRUNC, no O_CREAT: a device is written as it is. O_NONBLOCK so that a FIFO swapped in
    # since the check fails (ENXIO) instead of waiting forever for a reader.
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK | (os.O_APPEND if append else 0))
    if not stat.S_ISCHR(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"{path} changed while the grader ran and is no longer a device; nothing was written to it")
    os.set_blocking(fd, True)
    return fd


def open_stream(path: Path | str) -> IO[str]:
    """Open a stream path (see :func:`is_stream`) to write text in place, line-buffered."""
    path = check_file(path)
    return os.fdopen(_open_in_place(path, append=True), "w", encoding="utf-8", buffering=1)


@contextmanager
def open_output(path: Path | str, binary: bool = False, newline: str | None = None) -> Iterator[IO[Any]]:
    """Open ``path`` to write it whole (see the module docstring for what is allowed).

    A regular file is written to a temporary file in the same folder and renamed over ``path``
    only when the block ends without an exception; a device or stream is written in place.
    """
    path = check_file(path)
    if is_stream(path):
        fh = os.fdopen(_open_in_place(path, append=False), "wb" if binary else "w",
                       **({} if binary else {"encoding": "utf-8", "newline": newline}))
        with fh:
            yield fh
        return
    tmp = path.with_name(f".{path.name[:100]}.{secrets.token_hex(6)}.tmp")  # within the 255-byte name limit
    # O_EXCL|O_NOFOLLOW: never write through anything planted under the temporary name; 0o666
    # lets the umask decide the mode, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        st = _lstat(path)
        if st is not None and not stat.S_ISREG(st.st_mode):  # swapped since the check
            raise OutputError(f"{path} changed while the grader ran and is no longer a regular file; nothing was written to it")
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # keep the permissions the instructor gave it
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole (see :func:`open_output`); returns the path."""
    with open_output(path, binary=True) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole (see :func:`open_output`); returns the path."""
    return write_bytes(path, text.encode("utf-8"))


def append_text(path: Path | str, text: str) -> None:
    """Append ``text`` to ``path`` (created if missing) and flush it to disk.

    Never follows a symbolic link and never writes to anything but a regular file it created or
    one already there, or a device in place.
    """
    path = Path(path)
    if is_stream(path):
        fd = _open_in_place(path, append=True)
    else:
        check_file(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OutputError(f"{path} changed while the grader ran and is no longer a regular file; nothing was written to it")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        if not is_stream(path):
            os.fsync(fh.fileno())


# --- CSV -----------------------------------------------------------------------------------------

#: A spreadsheet runs a cell starting with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet: text that would start a formula gets a leading ``'``.

    Numbers, and text that is just a number (``-0.5``), are left as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """The CSV text of ``rows`` (``\\n`` line ends) with every cell passed through :func:`safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # as nbgrader's grades.csv; every reader takes it
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def write_csv(path: Path | str, rows: Iterable[Sequence[Any]]) -> Path:
    """Write ``rows`` as a CSV file at ``path`` (every cell through :func:`safe_cell`)."""
    return write_text(path, csv_text(rows))

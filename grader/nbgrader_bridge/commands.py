"""Running the real ``nbgrader`` command line in a course folder, as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: nbgrader commands start in 2-3 s; grading a whole class in one call takes longer.
DEFAULT_TIMEOUT = 1800.0
_TAIL = 4000


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error; the message ends with its log tail."""


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: this interpreter's ``bin`` first on PATH.

    nbgrader 0.9.6 runs the ``alembic`` executable from PATH when it creates a gradebook, and
    the kernel/tools it starts must be the ones installed next to this interpreter.
    """
    env = dict(os.environ)
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(
    args: list[str], course_dir: Path, *, check: bool = True, timeout: float = DEFAULT_TIMEOUT
) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` with the course folder as working directory.

    nbgrader reads ``nbgrader_config.py`` from the working directory, so every command of a
    course runs there. Raises :class:`NbgraderFailed` on a non-zero exit when ``check``.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=str(course_dir),
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        log = (proc.stderr or "") + (proc.stdout or "")
        raise NbgraderFailed(
            f"nbgrader {' '.join(args)} failed (exit {proc.returncode}) in {course_dir}:\n{log[-_TAIL:]}"
        )
    return proc

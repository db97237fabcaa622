"""Progress of the long nbgrader steps (release, autograde, feedback).

Each step is one ``nbgrader`` subprocess whose log only arrives at the end, so progress is read
from the files it writes as it goes (one notebook or page per finished item): a bar on a
terminal, and otherwise a plain line on stderr every :data:`PLAIN_EVERY` seconds (for logs and
CI, where a bar would be noise).
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TextIO

#: Seconds between two plain progress lines when stderr is not a terminal.
PLAIN_EVERY = 10.0
_POLL = 0.5  # seconds between two looks at the files on a terminal


def fresh_files(root: Path, pattern: str, since: float) -> Callable[[], int]:
    """A counter of the files under ``root`` matching ``pattern`` (e.g. ``*/*/*.ipynb``) written
    at or after ``since`` (a ``time.time()``), hidden folders (``.ipynb_checkpoints``) left out."""

    def count() -> int:
        n = 0
        for path in root.glob(pattern):
            try:
                fresh = path.stat().st_mtime >= since
            except OSError:  # removed while we looked (nbgrader replaces folders)
                continue
            n += fresh and not any(part.startswith(".") for part in path.relative_to(root).parts)
        return n

    return count


@contextmanager
def watch(what: str, unit: str, total: int, count: Callable[[], int], stream: TextIO | None = None,
          every: float | None = None) -> Iterator[None]:
    """Show the progress of the ``with`` body: ``count()`` says how many of ``total`` ``unit``\\ s
    are done. A tqdm bar if ``stream`` (default stderr) is a terminal; otherwise the line
    ``grader: WHAT: N/TOTAL UNITs done (S s)`` every ``every`` seconds (default :data:`PLAIN_EVERY`)."""
    stream = stream if stream is not None else sys.stderr
    if total <= 0:
        yield
        return
    terminal = stream.isatty()
    every = PLAIN_EVERY if every is None else every
    started, stop = time.monotonic(), threading.Event()
    bar = None
    if terminal:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=what, unit=f" {unit}", file=stream, leave=False)

    def done() -> int:
        return max(0, min(count(), total))

    def run() -> None:
        while not stop.wait(_POLL if terminal else every):
            n = done()
            if bar is not None:
                bar.update(n - bar.n)
                bar.refresh()  # the elapsed time keeps moving while nbgrader starts up
            else:
                print(f"grader: {what}: {n}/{total} {unit}(s) done ({time.monotonic() - started:.0f} s)",
                      file=stream, flush=True)

    watcher = threading.Thread(target=run, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        if bar is not None:
            bar.close()

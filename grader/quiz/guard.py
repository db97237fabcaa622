"""A wall-clock backstop for checking one answer (the parser's bounds are the first defence)."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator


class AnswerTimeout(Exception):
    """Checking an answer took longer than its time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`AnswerTimeout` in the block after ``seconds`` (SIGALRM).

    Only on the main thread of a platform with ``setitimer``; elsewhere the block runs unguarded.
    An outer timer (another library's) is re-armed afterwards with its remaining time.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise AnswerTimeout(f"stopped after {seconds:g} s")

    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if outer_delay:
            remaining = max(outer_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, remaining, outer_interval)

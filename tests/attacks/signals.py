# Signal the grader's processes.
import os
import signal


def send(pid):
    try:
        os.kill(pid, signal.SIGUSR2)
        return "sent"
    except Exception as exc:
        return f"denied: {type(exc).__name__}"

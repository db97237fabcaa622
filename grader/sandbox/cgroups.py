"""The pids cgroup that bounds a worker's process count (Linux, where a writable one exists).

The judge finds a writable base once (``pids_cgroup_base``); the zygote makes one fresh group per
worker under it, the worker joins it before any student code runs, and whoever ends the worker
removes the group, killing whatever is still in it. Standard library only: the zygote imports this.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time

_base: str | None | bool = False  # False: not probed yet
_lock = threading.Lock()


def pids_cgroup_base() -> str | None:
    """A writable cgroup folder (v1 ``pids`` or v2 with pids enabled) under our own cgroup, or None."""
    global _base
    with _lock:
        if _base is False:
            _base = _probe()
        return _base


def _probe() -> str | None:
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            candidates.append(f"/sys/fs/cgroup/pids{path}")
        elif controllers == "":
            candidates += [f"/sys/fs/cgroup/unified{path}", f"/sys/fs/cgroup{path}"]
    for base in candidates:
        probe = os.path.join(base, f"grader-probe-{os.getpid()}")
        try:
            os.mkdir(probe)
        except OSError:
            continue
        try:
            if os.path.exists(os.path.join(probe, "pids.max")):
                return base
        finally:
            os.rmdir(probe)
    return None


def make(base: str | None, processes: int) -> str | None:
    """A fresh pids cgroup under ``base`` bounding its tasks to ``processes``; None without a base
    or if the limit cannot be set. OSError if the group cannot be made (no worker without it)."""
    if not base:
        return None
    path = tempfile.mkdtemp(prefix=f"grader-{os.getpid()}-", dir=base)  # cgroupfs: mkdir makes a group
    try:
        with open(os.path.join(path, "pids.max"), "w") as fh:
            fh.write(str(processes))
        return path
    except OSError:
        remove(path)
        return None


def join(path: str | None) -> list[str]:
    """Move the calling process into ``path``; the isolation parts this adds (for the record)."""
    if not path:
        return []
    try:
        with open(os.path.join(path, "cgroup.procs"), "w") as fh:
            fh.write("0")
        return ["pids cgroup"]
    except OSError:
        return []


def members(path: str) -> list[int]:
    """The PIDs (as the caller sees them) still in the group."""
    try:
        with open(os.path.join(path, "cgroup.procs")) as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def kill_members(path: str) -> None:
    """SIGKILL everything still in the group (stragglers, e.g. without a PID namespace)."""
    for pid in members(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def remove(path: str | None) -> None:
    """Remove the group, killing what is left in it; a group whose tasks are still exiting is
    retried for up to a second."""
    if not path:
        return
    for _ in range(200):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            kill_members(path)
            time.sleep(0.005)

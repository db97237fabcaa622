"""What confines a worker, as a set of named facts, and how the judge learns them.

The facts the kernel shows in ``/proc/<pid>`` (uid, capabilities, ``no_new_privs``, seccomp,
namespaces, session, cgroup) are read there by the judge itself, right after the zygote hands a
worker over and before it has run a single student line; only what ``/proc`` does not show
(Landlock, the keyring, the tmpfs folder, rlimits) is taken from the worker's ``ready`` message,
which it sends before any student code runs. Every one of these is permanent once in force, so
nothing the student does later can make the record claim more than was true.
"""

from __future__ import annotations

import os
import select
import sys
import threading
from typing import Iterable

#: Every fact, in the order the record lists them.
FACTS = ("uid", "no caps", "no_new_privs", "seccomp", "landlock", "userns", "pidns", "netns", "mntns",
         "utsns", "ipcns", "session", "keyring", "pids cgroup", "tmpfs folder", "own root", "rlimits")
#: What a full sandbox on Linux 5.13+ as root reports; anything missing is announced once.
#: (A user namespace adds nothing to a root judge's real unprivileged uid; the pids cgroup needs
#: a writable cgroup and the PID namespace bounds processes without it.)
EXPECTED = frozenset(FACTS) - {"userns", "pids cgroup"}
OBSERVED = frozenset(("uid", "no caps", "no_new_privs", "seccomp", "userns", "pidns", "netns", "mntns",
                      "utsns", "ipcns", "session", "pids cgroup"))
NAMESPACES = {"user": "userns", "pid": "pidns", "net": "netns", "mnt": "mntns", "uts": "utsns", "ipc": "ipcns"}
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")

_warned: set[frozenset[str]] = set()
_warned_lock = threading.Lock()


def observe(pid: int, pidfd: int, cgroup: str | None) -> frozenset[str] | None:
    """The facts ``/proc/<pid>`` shows for a worker, or None if they cannot be read (then the
    worker's own word is all there is). ``pidfd`` proves ``pid`` was still the worker throughout."""
    facts = set()
    try:
        with open(f"/proc/{pid}/status") as fh:
            status = dict(line.split(":", 1) for line in fh.read().splitlines() if ":" in line)
        if all(int(u) != 0 for u in status["Uid"].split() + status["Gid"].split()):
            facts.add("uid")
        if all(int(status[c], 16) == 0 for c in CAPS if c in status):
            facts.add("no caps")
        if status.get("NoNewPrivs", "").strip() == "1":
            facts.add("no_new_privs")
        if status.get("Seccomp", "").strip() == "2":
            facts.add("seccomp")
        for ns, fact in NAMESPACES.items():
            if os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"):
                facts.add(fact)
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        if int(fields[2]) == pid and int(fields[3]) == pid:  # process group, session
            facts.add("session")
        if cgroup:
            with open(f"/proc/{pid}/cgroup") as fh:
                if any(line.rstrip("/").endswith("/" + os.path.basename(cgroup)) for line in fh.read().splitlines()):
                    facts.add("pids cgroup")
    except (OSError, KeyError, ValueError, IndexError):
        return None
    if select.select([pidfd], [], [], 0)[0]:  # it died: the PID may name another process by now
        return None
    return frozenset(facts)


def combine(claimed: object, observed: frozenset[str] | None) -> frozenset[str]:
    """The record's facts: the judge's observations where it could make them, the worker's
    ``ready`` claims (a list of fact names) for the rest. ValueError if the claims are malformed."""
    if type(claimed) is not list or not all(type(c) is str and c in FACTS for c in claimed):
        raise ValueError("bad ready message")
    if observed is None:
        return frozenset(claimed)
    return observed | (frozenset(claimed) - OBSERVED)


def describe(facts: Iterable[str]) -> str:
    """The record's ``isolation`` text: the facts in force, then any expected one that is not."""
    have = set(facts)
    text = ", ".join(f for f in FACTS if f in have)
    missing = [f for f in FACTS if f in EXPECTED and f not in have]
    return text + (f"; without: {', '.join(missing)}" if missing else "")


def warn_if_weaker(facts: frozenset[str]) -> None:
    """One line on stderr per process and kind of isolation when an expected fact is missing
    (each result record still says what was in force)."""
    missing = [f for f in FACTS if f in EXPECTED and f not in facts]
    if not missing:
        return
    with _warned_lock:
        if facts in _warned:
            return
        _warned.add(facts)
    print(f"grader: warning: student code runs without {', '.join(missing)} on this machine "
          f"(in force: {', '.join(f for f in FACTS if f in facts)}); see README, 'How student code is isolated'",
          file=sys.stderr)

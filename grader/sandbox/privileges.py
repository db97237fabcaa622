"""Dropping a worker's privileges: its own uid, user namespace, session and keyring; no capabilities.

Each step is optional (what the kernel refuses is left out) and reports the isolation facts it
established; the judge re-reads most of them from ``/proc`` (:mod:`grader.sandbox.isolation`).
Order matters: the uid change as root comes first (it clears the capabilities root would need
for anything else, so the bounding set is dropped just before it), then a user namespace with
the new uid mapped to a non-zero one inside (which hands back a full capability set *inside*,
so everything is cleared once more at the end). Standard library only: the zygote imports this.
"""

from __future__ import annotations

import ctypes
import os
import stat
from typing import Iterable

CLONE_NEWUSER = 0x10000000
INSIDE_ID = 1000  # the worker's uid and gid inside its user namespace: anything but 0
#: Real uids/gids handed to workers when the grader runs as root: ``UID_BASE + zygote PID *
#: SLOTS + slot``. Above the ranges systemd and /etc/subuid hand out, below 2**31; a PID is
#: below 2**22, so no two zygotes (and no two live workers of one zygote) share an id.
UID_BASE, SLOTS = 1 << 30, 256
PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_CAPBSET_READ, PR_CAPBSET_DROP = 3, 4, 23, 24
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
KEYCTL_JOIN_SESSION_KEYRING = 1
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 0x2, 0x4, 0x1000, 0x4000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 63


LAST_CAP = _last_cap()  # read once in the zygote: the worker cannot read /proc under Landlock
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
MNT_DETACH = 2


def worker_id(slot: int) -> int:
    """The real uid (and gid) of the zygote's worker in ``slot`` when the grader runs as root."""
    if not 0 <= slot < SLOTS:
        raise OSError(f"no free worker uid (at most {SLOTS} workers per judge process)")
    return UID_BASE + os.getpid() * SLOTS + slot


def hidden_from_others(paths: Iterable[str]) -> dict[str, list[str]]:
    """Which of ``paths`` another uid cannot even reach (e.g. a Python installed under /root,
    mode 0700): the topmost ancestor it cannot traverse -> the paths below it."""
    plan: dict[str, list[str]] = {}
    for path in paths:
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            try:
                if os.stat(ancestor).st_mode & 0o001:
                    continue
            except OSError:
                break
            plan.setdefault(ancestor, []).append(path)
            break
    return plan


def expose(plan: dict[str, list[str]]) -> bool:
    """In a private mount namespace, as root: cover each hidden ancestor (from
    :func:`hidden_from_others`) with an empty tmpfs anyone may traverse and bind only the needed
    paths back at their own place (the rest of, say, /root stays out of sight). Whether every
    path is in place."""
    plan = {top: [p for p in paths if not any(p.startswith(q + "/") for q in paths)] for top, paths in plan.items()}
    try:
        fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for paths in plan.values() for path in paths}
    except OSError:
        return False
    umask = os.umask(0o022)  # the folders made below must be traversable by the worker's uid
    try:
        for top, paths in plan.items():
            if _libc.mount(b"tmpfs", top.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), b"mode=0755,size=64k") != 0:
                return False
            for path in paths:
                if not _bind(fds[path], path):
                    return False
    except OSError:
        return False
    finally:
        os.umask(umask)
        for fd in fds.values():
            os.close(fd)
    return True


def _bind(fd: int, target: str) -> bool:
    """Bind what the O_PATH ``fd`` holds at ``target`` (a folder, or a file bound onto an empty
    file, made with its parents where missing); whether the kernel did."""
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    return _libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None, ctypes.c_ulong(MS_BIND | MS_REC), None) == 0


def own_root(paths: Iterable[str], scratch: str) -> bool:
    """In a private mount namespace, with CAP_SYS_ADMIN over it: make a root holding only
    ``paths`` (each bound at its own place) on a tmpfs mounted at ``scratch`` (a folder the host
    keeps seeing as it was), pivot into it and detach the host's tree, so even what Landlock
    leaves open (``stat``, ``readlink``, ``access`` of any path) sees nothing else. Whether the
    new root is in place (else the mount namespace is as it was)."""
    paths = [p for p in paths if os.path.lexists(p)]
    paths = sorted(p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths))
    if scratch in ("", "/") or SYS_PIVOT_ROOT is None:
        return False
    try:
        fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in paths}
    except OSError:
        return False
    umask, cwd = os.umask(0o022), os.open(".", os.O_PATH | os.O_CLOEXEC)
    mounted = False
    try:
        if _libc.mount(b"tmpfs", scratch.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), b"mode=0755,size=64k") != 0:
            return False
        mounted = True
        for path, fd in fds.items():
            if not _bind(fd, scratch + path):
                return False
        os.chdir(scratch)
        if _libc.syscall(SYS_PIVOT_ROOT, b".", b".") != 0:  # the old root ends up stacked on the new one...
            return False
        mounted = False
        _libc.umount2(b".", MNT_DETACH)  # ...and is detached here
        os.chdir("/")
        return True
    except OSError:
        return False
    finally:
        if mounted:
            _libc.umount2(scratch.encode(), MNT_DETACH)
            os.fchdir(cwd)
        os.close(cwd)
        os.umask(umask)
        for fd in fds.values():
            os.close(fd)


def become(uid: int) -> list[str]:
    """As root: drop the capability bounding set, then become ``uid``/``uid`` with no
    supplementary groups (which clears every capability). Facts: "uid"."""
    _drop_bounding_set()
    try:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    except OSError:
        return []
    return ["uid"]


def enter_user_namespace() -> list[str]:
    """A new user namespace with our uid and gid mapped to :data:`INSIDE_ID` (non-zero), if the
    kernel allows an unprivileged one; facts: "userns" (and "uid" when the id inside is not 0)."""
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(ctypes.c_int(CLONE_NEWUSER)) != 0:
        return []
    dumpable = _libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # after a uid change /proc/self/* is root's until this
    try:
        for name, text in (("uid_map", f"{INSIDE_ID} {uid} 1"), ("setgroups", "deny"), ("gid_map", f"{INSIDE_ID} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)
    except OSError:
        return ["userns"]  # unmapped: we are the overflow uid (nobody) inside
    finally:
        _libc.prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0)
    return ["userns", "uid"]


def own_session_and_keyring() -> list[str]:
    """A new session and process group (so nothing signals the judge's group by accident), and a
    new empty session keyring (the judge's keys are not ours to read). Facts: "session", "keyring"."""
    facts = []
    try:
        os.setsid()
        facts.append("session")
    except OSError:
        pass  # already a session leader
    if SYS_KEYCTL is not None and _libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None) >= 0:
        facts.append("keyring")
    return facts


def _drop_bounding_set() -> None:
    for cap in range(LAST_CAP + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)


def drop_capabilities() -> list[str]:
    """Clear the bounding, ambient, permitted, effective and inheritable sets, forbid gaining
    privileges (``no_new_privs``), and check what the kernel now says. Facts: "no caps",
    "no_new_privs". (RLIMIT_RTPRIO and RLIMIT_NICE: see :func:`grader.sandbox.limits.apply_rlimits`.)"""
    _drop_bounding_set()
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _libc.capset(ctypes.byref(header), data)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    facts = []
    if not capabilities_left():
        facts.append("no caps")
    if _libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1:
        facts.append("no_new_privs")
    return facts


def capabilities_left() -> bool:
    """Whether the calling process still holds any capability (effective, permitted, bounding)."""
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        return True
    if any(d.effective or d.permitted or d.inheritable for d in data):
        return True
    return any(_libc.prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 for cap in range(LAST_CAP + 1))

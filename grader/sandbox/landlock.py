"""Landlock (Linux >= 5.13) through ctypes: confine a process's filesystem, TCP and IPC reach.

Only what the kernel's ABI version knows is requested, so the same code runs from ABI 1 (files
only) up: ABI 4 adds TCP bind/connect, ABI 6 scopes abstract UNIX sockets and signals.
"""

from __future__ import annotations

import ctypes
import os
from typing import Iterable

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same on x86_64 and arm64
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2
PR_SET_NO_NEW_PRIVS = 38

FS = {  # access right -> first ABI that knows it
    "EXECUTE": (1 << 0, 1), "WRITE_FILE": (1 << 1, 1), "READ_FILE": (1 << 2, 1),
    "READ_DIR": (1 << 3, 1), "REMOVE_DIR": (1 << 4, 1), "REMOVE_FILE": (1 << 5, 1),
    "MAKE_CHAR": (1 << 6, 1), "MAKE_DIR": (1 << 7, 1), "MAKE_REG": (1 << 8, 1),
    "MAKE_SOCK": (1 << 9, 1), "MAKE_FIFO": (1 << 10, 1), "MAKE_BLOCK": (1 << 11, 1),
    "MAKE_SYM": (1 << 12, 1), "REFER": (1 << 13, 2), "TRUNCATE": (1 << 14, 3),
    "IOCTL_DEV": (1 << 15, 5),
}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = ("EXECUTE", "READ_FILE", "READ_DIR")
READ_WRITE = READ + ("WRITE_FILE", "REMOVE_DIR", "REMOVE_FILE", "MAKE_DIR", "MAKE_REG", "MAKE_SYM", "TRUNCATE")


class LandlockUnavailable(OSError):
    """The kernel does not offer Landlock, or a step of setting it up failed."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # the kernel struct is packed
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _fail(step: str) -> LandlockUnavailable:
    err = ctypes.get_errno()
    return LandlockUnavailable(err, f"landlock {step}: {os.strerror(err)}")


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 if Landlock is unavailable."""
    version = _libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _mask(names: Iterable[str], abi: int) -> int:
    return sum(FS[n][0] for n in names if FS[n][1] <= abi)


def restrict(read: Iterable[str], read_write: Iterable[str]) -> str:
    """Confine the calling thread (and its future children) for good; return what is in force.

    ``read``: directories or files that may be read and executed; ``read_write``: also
    written. Missing paths are skipped. Everything else on the filesystem is denied, and so
    are TCP bind/connect (ABI >= 4) and abstract sockets/signals leaving the domain (ABI >= 6).
    Call from a single-threaded process: Landlock applies to the calling thread only.
    """
    abi = abi_version()
    if abi < 1:
        raise LandlockUnavailable(0, "landlock is not available on this kernel")
    attr = _RulesetAttr(fs=_mask(FS, abi))
    size = ctypes.sizeof(_RulesetAttr)
    parts = ["fs"]
    if abi >= 4:
        attr.net = NET_BIND_TCP | NET_CONNECT_TCP
        parts.append("net")
    else:
        size = 8  # ABI 1-3 reject a larger struct with unknown non-zero fields; keep only fs
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        parts.append("scope")
    elif abi >= 4:
        size = 16
    ruleset = _libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _fail("create_ruleset")
    try:
        for paths, names in ((read, READ), (read_write, READ_WRITE)):
            for path in paths:
                _allow(ruleset, path, _mask(names, abi))
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("no_new_privs")
        if _libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise _fail("restrict_self")
    finally:
        os.close(ruleset)
    return f"landlock(abi {abi}, {'+'.join(parts)})"


def _allow(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):  # files only take file rights
            access &= _mask(("EXECUTE", "READ_FILE", "WRITE_FILE", "TRUNCATE", "IOCTL_DEV"), 99)
        rule = _PathBeneath(allowed=access, parent_fd=fd)
        if _libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise _fail(f"add_rule {path}")
    finally:
        os.close(fd)

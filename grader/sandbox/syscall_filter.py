"""The worker's seccomp filter, written as a list of libseccomp rules (never BPF by hand).

Default allow, so numpy, threads, ``fork`` and file I/O in the worker's folder work as usual;
refused with EPERM: every system call that reaches the kernel's or other processes' state beyond
the worker's own (tracing, BPF, keyrings, the kernel log, namespaces and mounts, modules, clocks,
new sockets of any family: the channel to the judge is inherited, SysV IPC, io_uring, ...), and
priority changes of anything but the caller. ``clone3`` answers ENOSYS, so the C library falls
back to ``clone``, whose flags a filter can see: any CLONE_NEW* flag is refused. System calls
from another ABI (i386 ``int 0x80``, x32) kill the process (libseccomp's default for a foreign
architecture).

libseccomp builds the filter and compiles it to BPF once, in the zygote (under a millisecond);
each worker only hands that program to the kernel (:func:`load`, ~20 us instead of the ~1 ms
libseccomp takes to compile it again per load).
Binding: the official ``seccomp`` module (Debian's python3-seccomp) or ``pyseccomp`` (pip; same
API, needs libseccomp.so.2). Without either, workers run without a filter and say so.
"""

from __future__ import annotations

import ctypes
import errno
import os

try:
    import seccomp  # the official binding
except ImportError:  # pragma: no cover - depends on the machine
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError, AttributeError):  # pyseccomp without (a recent) libseccomp.so.2
        seccomp = None

REFUSED = (
    # other processes' memory, the kernel's programs, tracing
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "pidfd_getfd",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "fanotify_init", "lookup_dcookie",
    # watching host folders (Landlock does not cover it): names of files others create or open
    "inotify_init", "inotify_init1", "inotify_add_watch",
    # memory outside the address-space limit: memfd pages written, never mapped (up to a file-size
    # limit per open file); the folder is a size-capped tmpfs, /dev/shm out of reach
    "memfd_create", "memfd_secret",
    # keyrings and the kernel log
    "keyctl", "add_key", "request_key", "syslog",
    # scheduling classes and other processes' priorities (own nice/ioprio: see below)
    "sched_setscheduler", "sched_setparam", "sched_setattr",
    # namespaces, mounts, the root
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr", "open_tree_attr",
    "open_by_handle_at", "name_to_handle_at",
    # the machine itself
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "sethostname", "setdomainname", "acct", "swapon", "swapoff", "quotactl", "quotactl_fd",
    "clock_settime", "clock_adjtime", "settimeofday", "adjtimex", "iopl", "ioperm", "vhangup",
    # new channels out: sockets of every family, SysV IPC
    "socket", "socketpair", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
    "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
)
CLONE_NEW = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
PRIO_PROCESS, IOPRIO_WHO_PROCESS, PER_QUERY, PR_SET_DUMPABLE = 0, 1, 0xFFFFFFFF, 4


def build() -> tuple[bytes | None, str]:
    """The filter as a BPF program compiled by libseccomp (None if it cannot be had), and the
    binding or the reason."""
    if seccomp is None:
        return None, "no libseccomp binding (pip install pyseccomp; needs libseccomp2)"
    try:
        flt = seccomp.SyscallFilter(seccomp.ALLOW)
        refuse = seccomp.ERRNO(errno.EPERM)
        for name in REFUSED:
            _add(flt, refuse, name)
        _add(flt, seccomp.ERRNO(errno.ENOSYS), "clone3")
        for flag in CLONE_NEW:
            _add(flt, refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        # a worker stays non-dumpable (its uid change made it so): where the host's core_pattern
        # pipes to a helper, a crash would start that helper whatever the core-size limit says
        _add(flt, refuse, "prctl", seccomp.Arg(0, seccomp.EQ, PR_SET_DUMPABLE))
        # only the caller's own nice value and I/O priority: (which, who) must be (process, 0)
        for name, which in (("setpriority", PRIO_PROCESS), ("ioprio_set", IOPRIO_WHO_PROCESS)):
            _add(flt, refuse, name, seccomp.Arg(0, seccomp.NE, which))
            _add(flt, refuse, name, seccomp.Arg(1, seccomp.NE, 0))
        # personality: only the query (all 32 bits set) and plain Linux (0), not ADDR_NO_RANDOMIZE,
        # READ_IMPLIES_EXEC, ...: a rule compares an argument once, so "neither 0 nor all ones"
        # is spelled as "two adjacent bits differ, or more than 32 bits"
        _add(flt, refuse, "personality", seccomp.Arg(0, seccomp.GT, PER_QUERY))
        for bit in range(31):
            for low in (1 << bit, 2 << bit):
                _add(flt, refuse, "personality", seccomp.Arg(0, seccomp.MASKED_EQ, 3 << bit, low))
        read_end, write_end = os.pipe()  # 2-3 KB: fits in the pipe's buffer
        try:
            with os.fdopen(write_end, "wb") as out:
                flt.export_bpf(out)
            program = b""
            while chunk := os.read(read_end, 1 << 16):
                program += chunk
        finally:
            os.close(read_end)
    except OSError as exc:
        return None, f"libseccomp refused the filter: {exc}"
    if not program or len(program) % ctypes.sizeof(_SockFilter):
        return None, "libseccomp exported no filter"
    return program, seccomp.__name__


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.c_void_p)]


PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
_libc = ctypes.CDLL(None, use_errno=True)


def _add(flt, action: int, name: str, *args) -> None:
    try:
        flt.add_rule(action, name, *args)
    except (OSError, ValueError, RuntimeError) as exc:
        if _known(name):
            raise OSError(f"{name}: {exc}") from None
        # a system call this libseccomp (or architecture) does not know cannot be made either


def _known(name: str) -> bool:
    try:
        return seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0
    except (OSError, ValueError):
        return False


def load(program: bytes | None) -> list[str]:
    """Install ``program`` (from :func:`build`) on the calling process for good, as libseccomp's
    own load does (``no_new_privs``, then the filter); facts: "seccomp"."""
    if not program:
        return []
    code = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // ctypes.sizeof(_SockFilter), ctypes.cast(code, ctypes.c_void_p))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return []
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return []
    return ["seccomp"]

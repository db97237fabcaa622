"""A warm fork server: one per judge process, with numpy and the worker already imported.

The judge sends ``spawn`` requests over a UNIX socket, each carrying the worker's end of a
fresh channel (SCM_RIGHTS). The zygote forks a short-lived helper that, when allowed (root),
enters new PID, network and mount namespaces, mounts a size-capped tmpfs on the worker's
folder and joins the submission's pids cgroup, then forks the worker (PID 1 of its namespace,
so killing it kills every process the student started) and exits. The zygote, a child
subreaper, adopts the worker and returns a pidfd for it, so the judge can kill and wait for it
without PID-reuse races. The zygote itself never runs student code and holds no secrets.
"""

from __future__ import annotations

import os

# Before numpy loads: BLAS thread pools would make fork() unsafe and cost memory per worker.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import ctypes  # noqa: E402
import json  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

from grader.sandbox import worker  # noqa: E402  (imports numpy, grader.plain, grader.student)
from grader.sandbox.limits import Limits  # noqa: E402

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
MAX_REQUEST = 1 << 16

_libc = ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> bool:
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _enter_namespaces(workdir: str, folder_bytes: int, mode: str) -> list[str]:
    """Namespaces for the worker-to-be, each one optional; returns what worked.

    ``mode`` "auto": plain namespaces (root), else through a user namespace (unprivileged
    kernels that allow it); "user": the user-namespace route only; "none": skip.
    """
    parts = []
    if mode == "none":
        return parts
    if mode == "user" or not _unshare(CLONE_NEWPID):
        if not _unshare(CLONE_NEWUSER):
            return parts
        parts.append("userns")
        if not _unshare(CLONE_NEWPID):
            return parts
    parts.append("pidns")
    if _unshare(CLONE_NEWNET):
        parts.append("netns")
    if _unshare(CLONE_NEWNS):
        ok = _libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) == 0
        opts = f"size={folder_bytes},nr_inodes=4096,mode=0700".encode()
        if ok and _libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), opts) == 0:
            parts.append("tmpfs folder")
    return parts


def _join_cgroup(path: str | None) -> list[str]:
    if not path:
        return []
    try:
        with open(os.path.join(path, "cgroup.procs"), "w") as fh:
            fh.write("0")
        return ["pids cgroup"]
    except OSError:
        return []


def _helper(channel: int, request: dict, report: int) -> None:
    """The forked helper: set up namespaces, fork the worker, report its PID, exit."""
    limits = Limits.from_json(request["limits"])
    workdir = request["workdir"]
    parts = _join_cgroup(request.get("cgroup"))
    parts += _enter_namespaces(workdir, limits.folder_bytes, str(request.get("namespaces", "auto")))
    pid = os.fork()
    if pid == 0:
        os.close(report)
        if "pidns" not in parts:
            os.setsid()  # without a PID namespace, a process group is what the judge can kill
            parts.append("pgroup")
        worker.child_main(channel, limits, workdir, parts)
    os.write(report, str(pid).encode())


WORKERS: set[int] = set()  # live workers; any other child is an orphan a worker left behind


def _children() -> list[int]:
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _sweep(ctrl: socket.socket, pid: int) -> None:
    """Forget worker ``pid`` and kill every adopted orphan (escapees when there is no PID namespace)."""
    WORKERS.discard(pid)
    for _ in range(100):
        _reap()
        strays = [c for c in _children() if c not in WORKERS]
        if not strays:
            break
        for child in strays:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        select.select([], [], [], 0.002)  # let their own orphans be re-parented to us
    ctrl.sendall(b'{"ok": true}')


def _spawn(ctrl: socket.socket, request: dict, channel: int) -> None:
    read_end, write_end = os.pipe()
    helper = os.fork()
    if helper == 0:
        try:
            ctrl.close()
            os.close(read_end)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            _helper(channel, request, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    os.close(channel)
    try:
        text = b""
        while chunk := os.read(read_end, 32):
            text += chunk
        os.waitpid(helper, 0)  # reaped before the worker reads its start message: see child_main
        pid = int(text)
        pidfd = os.pidfd_open(pid)
        WORKERS.add(pid)
    except (OSError, ValueError) as exc:
        ctrl.sendall(json.dumps({"error": f"could not start a worker: {exc}"}).encode())
        return
    finally:
        os.close(read_end)
    try:
        socket.send_fds(ctrl, [json.dumps({"pid": pid}).encode()], [pidfd])
    finally:
        os.close(pidfd)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        WORKERS.discard(pid)


def main(ctrl_fd: int) -> None:
    """Serve spawn requests on ``ctrl_fd`` until the judge hangs up (or dies)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:
        return
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # workers are adopted here when helpers exit
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    ctrl = socket.socket(fileno=ctrl_fd)
    poller = select.poll()
    poller.register(ctrl, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    while True:
        try:
            ready = dict(poller.poll())
        except InterruptedError:
            continue
        if wake_r in ready:
            while True:
                try:
                    os.read(wake_r, 512)
                except BlockingIOError:
                    break
        _reap()
        if ctrl.fileno() not in ready:
            continue
        msg, fds, _, _ = socket.recv_fds(ctrl, MAX_REQUEST, 1)
        if not msg:
            return
        request = json.loads(msg)
        if request.get("op") == "sweep" and not fds:
            _sweep(ctrl, int(request["pid"]))
        elif len(fds) == 1:
            _spawn(ctrl, request, fds[0])
        else:
            for fd in fds:
                os.close(fd)
            ctrl.sendall(json.dumps({"error": "spawn request without a channel"}).encode())


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""A warm fork server: one per judge process, with numpy and the worker already imported.

Workers are made ahead of demand ("spares"), so the slow steps of making one never sit on a
submission's critical path: joining a fresh pids cgroup (a cgroup v1 migration waits for an RCU
grace period, typically 5-20 ms) and forking this 40 MB interpreter (~1.5 ms). For each spare
the zygote creates an empty folder, a pids cgroup and a channel (a socketpair), then forks the
worker: as root, straight into a new PID namespace (it unshares the PID namespace for its next
child only and returns to its own right after the fork), and the worker joins its cgroup,
enters new network and mount namespaces and mounts a size-capped tmpfs on its folder itself;
otherwise a short-lived helper does that through a user namespace, forks the worker and exits,
and the zygote, a child subreaper, adopts the worker. Either way the worker is PID 1 of its
namespace (killing it kills every process the student started), closes every file descriptor
but its channel, and waits for its start message: until then it has run no student code and
holds nothing but the empty folder. A spare is exactly as fresh as a worker forked on demand;
it is never reused, and one is handed out per ``spawn`` request.

The judge sends ``spawn`` requests over a UNIX socket with the configuration (limits, namespace
mode, cgroup base, temp folder); the reply carries the worker's PID, folder and cgroup, a pidfd
(so the judge can kill and wait for it without PID-reuse races) and the judge's end of the
channel. Spares made for another configuration are discarded. When the judge hangs up (or
dies), the zygote kills its spares and any worker the judge left open, removes their folders
and cgroups, and exits. The zygote itself never runs student code and holds no secrets.
"""

from __future__ import annotations

import os

# Before numpy loads: BLAS thread pools would make fork() unsafe and cost memory per worker.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import ctypes  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import select  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from grader.sandbox import cgroups, worker  # noqa: E402  (imports numpy, grader.plain, grader.student)
from grader.sandbox.limits import Limits  # noqa: E402
from grader.sandbox.protocol import tune_malloc  # noqa: E402

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_NAME, PR_SET_CHILD_SUBREAPER = 15, 36
MAX_REQUEST = 1 << 16
SPARES = 2  # workers kept ready; each takes ~20 ms (mostly waiting) to make
SPARE_NAME = b"grader-spare"  # process name of helpers and of workers not yet started (tests skip them)
ATTEMPTS = 3
CHANNEL_BUFFER = 4 << 20  # capped by net.core.wmem_max

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
    return parts + ["pidns"] + _enter_net_and_mount(workdir, folder_bytes)


def _enter_net_and_mount(workdir: str, folder_bytes: int) -> list[str]:
    """A new network namespace (no interfaces but a down loopback) and mount namespace with a
    size-capped tmpfs on the worker's folder, each if allowed; returns what worked."""
    parts = []
    if _unshare(CLONE_NEWNET):
        parts.append("netns")
    if _unshare(CLONE_NEWNS):
        ok = _libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) == 0
        opts = f"size={folder_bytes},nr_inodes=4096,mode=0700".encode()
        if ok and _libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), opts) == 0:
            parts.append("tmpfs folder")
    return parts


def _close_all_but(keep: tuple[int, ...]) -> None:
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _helper(channel: int, config: dict, workdir: str, cgroup: str | None, report: int) -> None:
    """The forked helper: join the cgroup, set up namespaces, fork the worker, report its PID, exit."""
    _libc.prctl(PR_SET_NAME, SPARE_NAME, 0, 0, 0)
    limits = Limits.from_json(config["limits"])
    parts = cgroups.join(cgroup)
    parts += _enter_namespaces(workdir, limits.folder_bytes, str(config.get("namespaces", "auto")))
    pid = os.fork()
    if pid == 0:
        os.close(report)
        if "pidns" not in parts:
            os.setsid()  # without a PID namespace, a process group is what the judge can kill
            parts.append("pgroup")
        worker.child_main(channel, limits, workdir, parts)
    os.write(report, f"{pid}\n".encode())


def _direct_child(channel: int, config: dict, workdir: str, cgroup: str | None, report: int, pidns: bool) -> None:
    """A spare forked straight from the zygote (PID 1 of a new PID namespace when ``pidns``):
    join the cgroup, enter the other namespaces, report, then become the worker."""
    _libc.prctl(PR_SET_NAME, SPARE_NAME, 0, 0, 0)
    limits = Limits.from_json(config["limits"])
    parts = cgroups.join(cgroup)
    if pidns:
        parts += ["pidns"] + _enter_net_and_mount(workdir, limits.folder_bytes)
    else:
        os.setsid()  # without a PID namespace, a process group is what the judge can kill
        parts.append("pgroup")
    os.write(report, b"ready\n")
    os.close(report)
    worker.child_main(channel, limits, workdir, parts)


_direct_pidns: bool | None = None  # can this zygote give its next child a new PID namespace itself?
_own_pidns = -1


def _fork_into_new_pidns() -> int | None:
    """fork() with the child as PID 1 of a new PID namespace, with no helper process: unshare
    the PID namespace for our next child only, fork, and go back to our own for later children.
    None where that is not allowed (not root): the helper's user-namespace route is used then."""
    global _direct_pidns, _own_pidns
    if _direct_pidns is False:
        return None
    if _own_pidns < 0:
        _own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    if not _unshare(CLONE_NEWPID):
        _direct_pidns = False
        return None
    _direct_pidns = True
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid != 0 and _libc.setns(_own_pidns, CLONE_NEWPID) != 0:
        # every later child would land in that namespace: never go on like this
        raise SystemExit("zygote: cannot return to its own PID namespace")
    if pid < 0:
        raise OSError("fork failed")
    return pid


# ---------------------------------------------------------------- spares


class _Spare:
    """A worker being made or ready to be handed out. Forked by the zygote itself (``helper``
    None, ``pid`` known at once) or by a helper (``pid`` None until the helper reports it)."""

    def __init__(self, key: str, channel: socket.socket, workdir: str, cgroup: str | None,
                 helper: int | None, pid: int | None, report: int):
        self.key, self.channel, self.workdir, self.cgroup = key, channel, workdir, cgroup
        self.helper, self.pid, self.report = helper, pid, report
        self.text = b""


WORKERS: dict[int, tuple[str | None, str]] = {}  # handed-out live workers -> (cgroup, folder)
# Handed-out workers already reaped whose folder the judge has not removed yet: if the judge dies
# (which also ends its idle workers), the zygote may reap them before it sees the hang-up.
EXITED: list[tuple[str | None, str]] = []
PENDING: dict[int, _Spare] = {}  # report fd -> spare still being set up
READY: list[_Spare] = []
SPARE_PIDS: dict[int, _Spare] = {}  # live (unreaped) spare workers we know the PID of
_poller = select.poll()


def _start_spare(key: str, config: dict) -> _Spare:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    for end in (ours, theirs):  # a frame of a few MB goes in one write, not in 200 KB steps
        try:
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHANNEL_BUFFER)
        except OSError:
            pass
    workdir = cgroup = None
    read_end = write_end = -1
    try:
        workdir = tempfile.mkdtemp(prefix="grader-worker-", dir=config.get("tmpdir") or None)
        cgroup = cgroups.make(config.get("cgroup_base"), Limits.from_json(config["limits"]).processes)
        read_end, write_end = os.pipe()
        mode = str(config.get("namespaces", "auto"))
        direct = None if mode == "user" else (os.fork() if mode == "none" else _fork_into_new_pidns())
        helper = os.fork() if direct is None else None
    except OSError:
        ours.close()
        theirs.close()
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        cgroups.remove(cgroup)
        raise
    if helper == 0 or direct == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            _close_all_but((theirs.fileno(), write_end))  # the control socket, other spares' channels
            if direct == 0:
                _direct_child(theirs.fileno(), config, workdir, cgroup, write_end, pidns=mode != "none")
            else:
                _helper(theirs.fileno(), config, workdir, cgroup, write_end)
        finally:
            os._exit(0)
    theirs.close()
    os.close(write_end)
    os.set_blocking(read_end, False)
    spare = _Spare(key, ours, workdir, cgroup, helper, direct, read_end)
    if direct is not None:
        SPARE_PIDS[direct] = spare
    PENDING[read_end] = spare
    _poller.register(read_end, select.POLLIN)
    return spare


def _progress(spare: _Spare, block: bool) -> None:
    """Read the spare's report; at its end the spare is ready (or discarded)."""
    os.set_blocking(spare.report, block)
    while True:
        try:
            chunk = os.read(spare.report, 64)
        except BlockingIOError:
            return
        except InterruptedError:
            continue
        if not chunk:
            break
        spare.text += chunk
    # EOF: the worker finished its set-up (or the helper exited after forking it), or it failed
    _poller.unregister(spare.report)
    os.close(spare.report)
    del PENDING[spare.report]
    if spare.helper is None:
        ok = spare.text == b"ready\n" and spare.pid is not None
    else:
        try:
            os.waitpid(spare.helper, 0)  # reaped before the worker can be handed out: see child_main
        except ChildProcessError:
            pass  # already reaped by _reap
        try:
            spare.pid, ok = int(spare.text), True
            SPARE_PIDS[spare.pid] = spare
        except ValueError:
            ok = False
    if ok:
        READY.append(spare)
    else:
        _discard(spare)


def _discard(spare: _Spare) -> None:
    """Kill a spare that is not needed (no student code ever ran in it) and clean up after it."""
    if PENDING.get(spare.report) is spare:
        if spare.pid is not None:
            os.kill(spare.pid, signal.SIGKILL)  # no need to wait for its set-up (still unreaped: no reuse)
        _progress(spare, block=True)
        if spare not in READY:
            return  # _progress discarded it
        READY.remove(spare)
    if spare in READY:
        READY.remove(spare)
    if spare.pid is not None:
        SPARE_PIDS.pop(spare.pid, None)
        try:
            os.kill(spare.pid, signal.SIGKILL)
            os.waitpid(spare.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        spare.pid = None
    spare.channel.close()
    cgroups.remove(spare.cgroup)
    shutil.rmtree(spare.workdir, ignore_errors=True)


def _discard_all() -> None:
    for spare in list(PENDING.values()) + list(READY):
        _discard(spare)


def _abandon_workers() -> None:
    """The judge is gone without closing these workers: kill them and clean up after them
    (and after those that already exited)."""
    for pid, (cgroup, workdir) in list(WORKERS.items()):
        for kill in (os.kill, os.killpg):  # the process group matters only without a PID namespace
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        EXITED.append((cgroup, workdir))
    WORKERS.clear()
    for cgroup, workdir in EXITED:
        cgroups.remove(cgroup)  # kills what is left in it
        shutil.rmtree(workdir, ignore_errors=True)
    EXITED.clear()


def _is_our_live_child(pid: int, pidfd: int) -> bool:
    if select.select([pidfd], [], [], 0)[0]:  # it has exited
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1]) == os.getpid()
    except (OSError, ValueError, IndexError):
        return False


def _take(key: str, config: dict) -> tuple[_Spare, int]:
    """A live spare for ``key`` and a pidfd for it, making one if none is ready."""
    for _ in range(ATTEMPTS):
        if not READY:
            pending = [s for s in PENDING.values() if s.key == key]
            spare = pending[0] if pending else _start_spare(key, config)
            _progress(spare, block=True)
            continue
        spare = READY.pop(0)
        try:
            pidfd = os.pidfd_open(spare.pid)
        except OSError:
            _discard(spare)
            continue
        if not _is_our_live_child(spare.pid, pidfd):  # never hand out a dead worker
            os.close(pidfd)
            _discard(spare)
            continue
        return spare, pidfd
    raise OSError("the worker did not start")


def _spawn(ctrl: socket.socket, config: dict, current: list[str]) -> None:
    EXITED[:] = [e for e in EXITED if os.path.lexists(e[1])]  # the judge removes the folder last
    key = json.dumps(config, sort_keys=True)
    if current[0] != key:  # limits or namespace mode changed: spares made for the old ones go
        _discard_all()
        current[0] = key
    try:
        spare, pidfd = _take(key, config)
    except OSError as exc:
        ctrl.sendall(json.dumps({"error": f"could not start a worker: {exc}"}).encode())
        return
    SPARE_PIDS.pop(spare.pid, None)
    WORKERS[spare.pid] = (spare.cgroup, spare.workdir)
    reply = {"pid": spare.pid, "workdir": spare.workdir, "cgroup": spare.cgroup}
    try:
        socket.send_fds(ctrl, [json.dumps(reply).encode()], [pidfd, spare.channel.fileno()])
    finally:
        os.close(pidfd)
        spare.channel.close()
    while len(READY) + len(PENDING) < SPARES:
        try:
            _start_spare(key, config)
        except OSError:
            break


def _children() -> list[int]:
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _sweep(ctrl: socket.socket, pid: int) -> None:
    """Forget worker ``pid`` and kill every adopted orphan (escapees when there is no PID namespace)."""
    WORKERS.pop(pid, None)
    for spare in list(PENDING.values()):
        _progress(spare, block=True)  # so every spare's worker is known before looking for strays
    for _ in range(100):
        _reap()
        known = set(WORKERS) | set(SPARE_PIDS)
        strays = [c for c in _children() if c not in known]
        if not strays:
            break
        for child in strays:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        select.select([], [], [], 0.002)  # let their own orphans be re-parented to us
    ctrl.sendall(b'{"ok": true}')


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        exited = WORKERS.pop(pid, None)
        if exited is not None:  # the judge that closed it cleans up after it, unless it is gone
            EXITED.append(exited)
        spare = SPARE_PIDS.pop(pid, None)
        if spare is not None:  # a spare died (killed from outside): never signal or hand out that PID
            spare.pid = None
            if spare in READY:
                _discard(spare)
            # a pending one is discarded when its report ends


def main(ctrl_fd: int) -> None:
    """Serve spawn requests on ``ctrl_fd`` until the judge hangs up (or dies).

    The judge's death is seen as the end of ``ctrl_fd`` (the kernel closes its end), so spares
    are still cleaned up then. (A parent-death signal would also fire when the judge *thread*
    that started the zygote ends, e.g. a grading pool's thread, killing it mid-batch.)
    """
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # workers are adopted here when helpers exit
    tune_malloc()  # inherited by every worker
    gc.collect()
    gc.freeze()  # workers never scan (and so never copy-on-write) the objects imported here
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    # Ctrl-C reaches the whole process group: it is the judge's to handle (the zygote ends when the
    # judge hangs up), and workers forked from here must not turn it into a student's error.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctrl = socket.socket(fileno=ctrl_fd)
    _poller.register(ctrl, select.POLLIN)
    _poller.register(wake_r, select.POLLIN)
    current = [""]
    try:
        while True:
            try:
                ready = dict(_poller.poll())
            except InterruptedError:
                continue
            if wake_r in ready:
                while True:
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        break
            _reap()
            for fd in ready:
                if fd in PENDING:
                    _progress(PENDING[fd], block=False)
            if ctrl.fileno() not in ready:
                continue
            try:
                msg, fds, _, _ = socket.recv_fds(ctrl, MAX_REQUEST, 1)
            except ConnectionResetError:  # the judge ended with a reply unread (e.g. Ctrl-C): gone all the same
                return
            if not msg:
                return
            for fd in fds:
                os.close(fd)
            request = json.loads(msg)
            if request.get("op") == "sweep":
                _sweep(ctrl, int(request["pid"]))
            elif request.get("op") == "spawn":
                _spawn(ctrl, request["config"], current)
            else:
                ctrl.sendall(json.dumps({"error": "unknown request"}).encode())
    finally:
        _discard_all()
        _abandon_workers()


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""A warm fork server: one per judge process, with numpy and the worker already imported.

Workers are made ahead of demand ("spares"), so the slow steps of making one never sit on a
submission's critical path: joining a fresh pids cgroup (a cgroup v1 migration waits for an RCU
grace period, typically 5-20 ms), forking this 40 MB interpreter (~1.5 ms) and the worker's
jail. For each spare the zygote creates an empty folder, a pids cgroup and a channel (a
socketpair), then forks the worker: as root, straight into a new PID namespace (it unshares the
PID namespace for its next child only and returns to its own right after the fork), and the
worker joins its cgroup, enters new network, UTS, IPC and mount namespaces, mounts a size-capped
tmpfs on its folder itself and drops root for a uid of its own (:mod:`grader.sandbox.privileges`);
otherwise a short-lived helper does that through a user namespace, forks the worker and exits,
and the zygote, a child subreaper, adopts the worker. Either way the worker is PID 1 of its
namespace (killing it kills every process the student started), confines itself (no
capabilities, Landlock, the seccomp filter compiled once here), closes every file descriptor
but its channel, reports ``ready`` to the zygote and waits for its start message: until then it
has run no student code and holds nothing but the empty folder. A spare is exactly as fresh as a
worker forked on demand; it is never reused, and one is handed out per ``spawn`` request.

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

from grader.sandbox import cgroups, privileges, syscall_filter, worker  # noqa: E402  (worker imports numpy, ...)
from grader.sandbox.limits import Limits  # noqa: E402
from grader.sandbox.protocol import tune_malloc  # noqa: E402

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x04000000, 0x08000000, 0x20000000, 0x40000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_NAME, PR_SET_CHILD_SUBREAPER = 15, 36
MAX_REQUEST = 1 << 16
SPARES = 2  # workers kept ready; each takes ~20 ms (mostly waiting) to make
SPARE_NAME = b"grader-spare"  # process name of helpers and of workers not yet started (tests skip them)
ATTEMPTS = 3
CHANNEL_BUFFER = 4 << 20  # capped by net.core.wmem_max
READY_LINE = worker.READY_LINE  # a worker's last word to the zygote: confined, waiting for its start message
#: Built and compiled once here; each worker only installs it. (None, reason) without libseccomp.
SECCOMP_PROGRAM, SECCOMP_BINDING = syscall_filter.build()
#: Parts of the Python installation that workers' own uids could not reach (as root, e.g. a
#: pyenv under /root): each worker's mount namespace makes them reachable.
HIDDEN_PYTHON = privileges.hidden_from_others(worker.python_read_paths())

_libc = ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> bool:
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _enter_user_and_pid_namespaces(mode: str) -> list[str]:
    """For the helper route: a user namespace (our uid mapped to a non-zero one inside), then a
    PID namespace for our next child; returns what worked. ``mode`` "none": skip."""
    if mode == "none":
        return []
    parts = privileges.enter_user_namespace()
    if "userns" not in parts:
        return parts
    if not _unshare(CLONE_NEWPID):
        return parts
    return parts + ["pidns"]


def _private_mounts() -> bool:
    """A mount namespace of our own whose mounts do not propagate back (each if allowed)."""
    return _unshare(CLONE_NEWNS) and _libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) == 0


def _enter_other_namespaces(workdir: str, folder_bytes: int, owner: int) -> list[str]:
    """New network (no interfaces but a down loopback), UTS, IPC and mount namespaces, with a
    size-capped tmpfs owned by ``owner`` on the worker's folder, each if allowed; returns what
    worked."""
    parts = [fact for flag, fact in ((CLONE_NEWNET, "netns"), (CLONE_NEWUTS, "utsns"), (CLONE_NEWIPC, "ipcns"))
             if _unshare(flag)]
    if _unshare(CLONE_NEWNS):
        parts.append("mntns")
        ok = _libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) == 0
        opts = f"size={folder_bytes},nr_inodes=4096,mode=0700,uid={owner},gid={owner}".encode()
        if ok and _libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), opts) == 0:
            parts.append("tmpfs folder")
        # everything else out of sight (/proc stays: a user namespace's maps are written there)
        if ok and privileges.own_root([*worker.python_read_paths(), workdir, os.devnull, "/proc"], os.path.dirname(workdir)):
            parts.append("own root")
    return parts


def _usable_uid(uid: int | None, workdir: str, mounts: bool) -> int | None:
    """As root (``mounts``: in the mount namespace the worker will inherit): ``uid`` if the
    Python installation and the worker's folder are (made) reachable for it, with the folder
    made its own; else None (a uid that cannot import the standard library is no use: the
    worker then stays root, with no capabilities, and the record says it ran without "uid")."""
    if uid is None:
        return None
    hidden = {top: list(paths) for top, paths in HIDDEN_PYTHON.items()}
    for top, paths in privileges.hidden_from_others([workdir]).items():
        hidden.setdefault(top, []).extend(paths)
    if hidden and not (mounts and privileges.expose(hidden)):
        return None
    try:
        os.chown(workdir, uid, uid)
    except OSError:
        return None
    return uid


def _close_all_but(keep: tuple[int, ...]) -> None:
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _helper(channel: int, config: dict, workdir: str, cgroup: str | None, report: int, uid: int | None) -> None:
    """The forked helper: join the cgroup, become ``uid`` (as root), enter a user and a PID
    namespace, fork the worker, report its PID, exit. The worker reports :data:`READY_LINE`
    on the same pipe once it is confined."""
    _libc.prctl(PR_SET_NAME, SPARE_NAME, 0, 0, 0)
    limits = Limits.from_json(config["limits"])
    mode = str(config.get("namespaces", "auto"))
    parts = cgroups.join(cgroup)
    if uid is not None:
        uid = _usable_uid(uid, workdir, _private_mounts())  # the worker's mount namespace copies this one
        if uid is not None:
            parts += privileges.become(uid)
    parts += _enter_user_and_pid_namespaces(mode)
    pid = os.fork()
    if pid == 0:
        if "pidns" in parts:
            owner = privileges.INSIDE_ID if "userns" in parts else os.geteuid()
            parts += _enter_other_namespaces(workdir, limits.folder_bytes, owner)
        worker.child_main(channel, limits, workdir, parts, report, _worker_confinement(None))
    os.write(report, f"{pid}\n".encode())


def _direct_child(channel: int, config: dict, workdir: str, cgroup: str | None, report: int, pidns: bool,
                  uid: int | None) -> None:
    """A spare forked straight from the zygote (PID 1 of a new PID namespace when ``pidns``):
    join the cgroup, enter the other namespaces, then become the worker, which drops root for
    ``uid`` once nothing left needs it."""
    _libc.prctl(PR_SET_NAME, SPARE_NAME, 0, 0, 0)
    limits = Limits.from_json(config["limits"])
    parts = cgroups.join(cgroup)
    if pidns:
        parts.append("pidns")
        uid = _usable_uid(uid, workdir, _private_mounts())
        parts += _enter_other_namespaces(workdir, limits.folder_bytes, uid if uid is not None else os.geteuid())
    else:
        uid = _usable_uid(uid, workdir, mounts=False)
    worker.child_main(channel, limits, workdir, parts, report, _worker_confinement(uid, userns=pidns))


def _worker_confinement(uid: int | None, userns: bool = False) -> worker.Confinement:
    return worker.Confinement(uid=uid, userns=userns, seccomp_program=SECCOMP_PROGRAM)


# ---------------------------------------------------------------- spares


class _Spare:
    """A worker being made or ready to be handed out. Forked by the zygote itself (``helper``
    None, ``pid`` known at once) or by a helper (``pid`` None until the helper reports it)."""

    def __init__(self, key: str, channel: socket.socket, workdir: str, cgroup: str | None,
                 helper: int | None, pid: int | None, report: int, slot: int | None):
        self.key, self.channel, self.workdir, self.cgroup = key, channel, workdir, cgroup
        self.helper, self.pid, self.report, self.slot = helper, pid, report, slot
        self.text = b""


class _Factory:
    """Everything the zygote keeps track of: spares being made and ready, workers handed out,
    the uid slots they hold, and how it makes PID namespaces."""

    def __init__(self) -> None:
        self.workers: dict[int, tuple[str | None, str, int | None]] = {}  # handed-out live workers -> (cgroup, folder, slot)
        # Handed-out workers already reaped whose folder the judge has not removed yet: if the judge
        # dies (which also ends its idle workers), the zygote may reap them before it sees the hang-up.
        self.exited: list[tuple[str | None, str]] = []
        self.pending: dict[int, _Spare] = {}  # report fd -> spare still being set up
        self.ready: list[_Spare] = []
        self.spare_pids: dict[int, _Spare] = {}  # live (unreaped) spare workers we know the PID of
        self.poller = select.poll()
        self.direct_pidns: bool | None = None  # can this zygote give its next child a new PID namespace itself?
        self.own_pidns = -1
        self.slots: set[int] = set()  # uid slots held by live workers (root only)
        self.next_slot = 0

    # -- uids (root only): round robin, so a slot is reused as late as possible

    def _take_slot(self) -> int | None:
        if os.geteuid() != 0:
            return None
        for i in range(privileges.SLOTS):
            slot = (self.next_slot + i) % privileges.SLOTS
            if slot not in self.slots:
                self.slots.add(slot)
                self.next_slot = slot + 1
                return slot
        raise OSError(f"no free worker uid (at most {privileges.SLOTS} live workers per judge process)")

    def _fork_into_new_pidns(self) -> int | None:
        """fork() with the child as PID 1 of a new PID namespace, with no helper process: unshare
        the PID namespace for our next child only, fork, and go back to our own for later children.
        None where that is not allowed (not root): the helper's user-namespace route is used then."""
        if self.direct_pidns is False:
            return None
        if self.own_pidns < 0:
            self.own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        if not _unshare(CLONE_NEWPID):
            self.direct_pidns = False
            return None
        self.direct_pidns = True
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid != 0 and _libc.setns(self.own_pidns, CLONE_NEWPID) != 0:
            # every later child would land in that namespace: never go on like this
            raise SystemExit("zygote: cannot return to its own PID namespace")
        if pid < 0:
            raise OSError("fork failed")
        return pid

    def start_spare(self, key: str, config: dict) -> _Spare:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        for end in (ours, theirs):  # a frame of a few MB goes in one write, not in 200 KB steps
            try:
                end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHANNEL_BUFFER)
            except OSError:
                pass
        workdir = cgroup = slot = None
        read_end = write_end = -1
        try:
            slot = self._take_slot()
            uid = None if slot is None else privileges.worker_id(slot)
            workdir = tempfile.mkdtemp(prefix="grader-worker-", dir=config.get("tmpdir") or None)
            cgroup = cgroups.make(config.get("cgroup_base"), Limits.from_json(config["limits"]).processes)
            read_end, write_end = os.pipe()
            mode = str(config.get("namespaces", "auto"))
            direct = None if mode == "user" else (os.fork() if mode == "none" else self._fork_into_new_pidns())
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
            self.slots.discard(slot)
            raise
        if helper == 0 or direct == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.set_wakeup_fd(-1)
                _close_all_but((theirs.fileno(), write_end))  # the control socket, other spares' channels
                if direct == 0:
                    _direct_child(theirs.fileno(), config, workdir, cgroup, write_end, mode != "none", uid)
                else:
                    _helper(theirs.fileno(), config, workdir, cgroup, write_end, uid)
            finally:
                os._exit(0)
        theirs.close()
        os.close(write_end)
        os.set_blocking(read_end, False)
        spare = _Spare(key, ours, workdir, cgroup, helper, direct, read_end, slot)
        if direct is not None:
            self.spare_pids[direct] = spare
        self.pending[read_end] = spare
        self.poller.register(read_end, select.POLLIN)
        return spare

    def progress(self, spare: _Spare, block: bool) -> None:
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
        # EOF: the worker finished its set-up and the helper (if any) exited, or one of them failed
        self.poller.unregister(spare.report)
        os.close(spare.report)
        del self.pending[spare.report]
        lines = spare.text.split(b"\n")  # a helper's line (the PID) and the worker's, in either order
        ok = READY_LINE.rstrip() in lines
        if spare.helper is not None:
            try:
                os.waitpid(spare.helper, 0)  # reaped before the worker can be handed out: see child_main
            except ChildProcessError:
                pass  # already reaped by reap()
            try:
                spare.pid = int(next(line for line in lines if line.isdigit()))
                self.spare_pids[spare.pid] = spare
            except StopIteration:
                ok = False
        if ok and spare.pid is not None:
            self.ready.append(spare)
        else:
            self.discard(spare)

    def discard(self, spare: _Spare) -> None:
        """Kill a spare that is not needed (no student code ever ran in it) and clean up after it."""
        if self.pending.get(spare.report) is spare:
            if spare.pid is not None:
                os.kill(spare.pid, signal.SIGKILL)  # no need to wait for its set-up (still unreaped: no reuse)
            self.progress(spare, block=True)
            if spare not in self.ready:
                return  # progress() discarded it
        if spare in self.ready:
            self.ready.remove(spare)
        if spare.pid is not None:
            self.spare_pids.pop(spare.pid, None)
            try:
                os.kill(spare.pid, signal.SIGKILL)
                os.waitpid(spare.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            spare.pid = None
        spare.channel.close()
        cgroups.remove(spare.cgroup)
        shutil.rmtree(spare.workdir, ignore_errors=True)
        self.slots.discard(spare.slot)

    def discard_all(self) -> None:
        for spare in list(self.pending.values()) + list(self.ready):
            self.discard(spare)

    def abandon_workers(self) -> None:
        """The judge is gone without closing these workers: kill them and clean up after them
        (and after those that already exited)."""
        for pid, (cgroup, workdir, slot) in list(self.workers.items()):
            for kill in (os.kill, os.killpg):  # the process group matters only without a PID namespace
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self.exited.append((cgroup, workdir))
            self.slots.discard(slot)
        self.workers.clear()
        for cgroup, workdir in self.exited:
            cgroups.remove(cgroup)  # kills what is left in it
            shutil.rmtree(workdir, ignore_errors=True)
        self.exited.clear()

    def take(self, key: str, config: dict) -> tuple[_Spare, int]:
        """A live spare for ``key`` and a pidfd for it, making one if none is ready."""
        for _ in range(ATTEMPTS):
            if not self.ready:
                pending = [s for s in self.pending.values() if s.key == key]
                spare = pending[0] if pending else self.start_spare(key, config)
                self.progress(spare, block=True)
                continue
            spare = self.ready.pop(0)
            try:
                pidfd = os.pidfd_open(spare.pid)
            except OSError:
                self.discard(spare)
                continue
            if not _is_our_live_child(spare.pid, pidfd):  # never hand out a dead worker
                os.close(pidfd)
                self.discard(spare)
                continue
            return spare, pidfd
        raise OSError("the worker did not start")

    def spawn(self, ctrl: socket.socket, config: dict, current: list[str]) -> None:
        self.exited[:] = [e for e in self.exited if os.path.lexists(e[1])]  # the judge removes the folder last
        key = json.dumps(config, sort_keys=True)
        if current[0] != key:  # limits or namespace mode changed: spares made for the old ones go
            self.discard_all()
            current[0] = key
        try:
            spare, pidfd = self.take(key, config)
        except OSError as exc:
            ctrl.sendall(json.dumps({"error": f"could not start a worker: {exc}"}).encode())
            return
        self.spare_pids.pop(spare.pid, None)
        self.workers[spare.pid] = (spare.cgroup, spare.workdir, spare.slot)
        reply = {"pid": spare.pid, "workdir": spare.workdir, "cgroup": spare.cgroup}
        try:
            socket.send_fds(ctrl, [json.dumps(reply).encode()], [pidfd, spare.channel.fileno()])
        finally:
            os.close(pidfd)
            spare.channel.close()
        while len(self.ready) + len(self.pending) < SPARES:
            try:
                self.start_spare(key, config)
            except OSError:
                break

    def sweep(self, ctrl: socket.socket, pid: int) -> None:
        """Forget worker ``pid`` and kill every adopted orphan (escapees when there is no PID namespace)."""
        gone = self.workers.pop(pid, None)
        if gone is not None:
            self.slots.discard(gone[2])
        for spare in list(self.pending.values()):
            self.progress(spare, block=True)  # so every spare's worker is known before looking for strays
        for _ in range(100):
            self.reap()
            known = set(self.workers) | set(self.spare_pids)
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

    def reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            exited = self.workers.pop(pid, None)
            if exited is not None:  # the judge that closed it cleans up after it, unless it is gone
                self.exited.append(exited[:2])
                self.slots.discard(exited[2])  # with a PID namespace, all its processes are gone too
            spare = self.spare_pids.pop(pid, None)
            if spare is not None:  # a spare died (killed from outside): never signal or hand out that PID
                spare.pid = None
                if spare in self.ready:
                    self.discard(spare)
                # a pending one is discarded when its report ends


def _is_our_live_child(pid: int, pidfd: int) -> bool:
    if select.select([pidfd], [], [], 0)[0]:  # it has exited
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1]) == os.getpid()
    except (OSError, ValueError, IndexError):
        return False


def _children() -> list[int]:
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


FACTORY = _Factory()


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
    FACTORY.poller.register(ctrl, select.POLLIN)
    FACTORY.poller.register(wake_r, select.POLLIN)
    current = [""]
    try:
        while True:
            try:
                ready = dict(FACTORY.poller.poll())
            except InterruptedError:
                continue
            if wake_r in ready:
                while True:
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        break
            FACTORY.reap()
            for fd in ready:
                if fd in FACTORY.pending:
                    FACTORY.progress(FACTORY.pending[fd], block=False)
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
                FACTORY.sweep(ctrl, int(request["pid"]))
            elif request.get("op") == "spawn":
                FACTORY.spawn(ctrl, request["config"], current)
            else:
                ctrl.sendall(json.dumps({"error": "unknown request"}).encode())
    finally:
        FACTORY.discard_all()
        FACTORY.abandon_workers()


if __name__ == "__main__":
    main(int(sys.argv[1]))

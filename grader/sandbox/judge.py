"""The judge's side: :class:`SandboxedStudent`, the ``Student`` that real grading uses.

Student code runs in a worker forked from the zygote (:mod:`grader.sandbox.zygote`); this
process only sends requests and validates replies (:mod:`grader.sandbox.protocol`). A call that
times out or kills its worker ends in ``StudentTimeout`` / ``StudentCrashed`` and the calls still
to make go to a fresh worker with the same code, until the submission's time budget is spent.
"""

from __future__ import annotations

import atexit
import collections
import itertools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from grader import masking
from grader.plain import to_plain
from grader.sandbox import cgroups, isolation
from grader.sandbox.limits import Limits
from grader.sandbox.protocol import (
    BadValue,
    Err,
    Key,
    Op,
    PeerGone,
    ProtocolError,
    Timeout,
    TooLarge,
    encode,
    encode_parts,
    recv_message,
    send_frame,
    tune_malloc,
)
from grader.student import (
    MISSING_FUNCTION,
    RNG_STATE,
    BadReply,
    Call,
    Handle,
    HandleLost,
    MissingFunction,
    Reply,
    Student,
    StudentCrashed,
    StudentError,
    StudentRaised,
    StudentTimeout,
)

#: A reply may take this many times the bytes of its call's arrays (a handle argument counts as
#: the arrays of the call that made it: a backward pass returns its forward inputs' gradients),
#: plus REPLY_SLACK for the structure and small values. A check expecting a larger output says
#: so in ``Call.reply_bytes``. ``Limits.reply_bytes`` bounds what one ``run`` reads in all.
REPLY_FACTOR = 4
REPLY_SLACK = 128 << 10  # also holds an exception text of masking.MAX_RAW characters, JSON-escaped
MAX_REPLY_JSON = 256 << 10  # the JSON part of a reply: structure, scalars, an error text; arrays travel as buffers
LOAD_REPORT_BYTES = 64 << 10  # per 8 blocks: a report per block, its text at most worker.MAX_NOTE_TEXT characters
_handle_ids = itertools.count(1)  # unique across students, so a handle cannot resolve in the wrong one


class SandboxUnavailable(RuntimeError):
    """No worker could be started (the zygote failed, fork failed, ...): a fault of the grading
    machine, not of the submission, which must not be scored from it."""


# ---------------------------------------------------------------- the zygote (one per judge process)


class _Zygote:
    """Starts the zygote lazily and serialises spawn requests from grading threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._ctrl: socket.socket | None = None
        self._owner = os.getpid()
        atexit.register(self.shutdown)

    def _start(self) -> None:
        tune_malloc()  # this process decodes the same few-hundred-KB frames call after call too
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": "/nonexistent",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        root = Path(__file__).resolve().parents[2]  # so `-m grader...` works without an install
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "grader.sandbox.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env=env, cwd=root,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # stderr: the zygote runs no student code
        )
        theirs.close()
        self._ctrl = ours

    def spawn(self, config: dict, timeout: float = 30.0) -> tuple[int, int, socket.socket, str, str | None]:
        """A fresh worker for ``config``: (pid, pidfd, channel, folder, cgroup or None)."""
        with self._lock:
            if self._owner != os.getpid():  # a forked judge must not share its parent's zygote
                self._proc = self._ctrl = None
                self._owner = os.getpid()
            for attempt in (1, 2):
                if self._proc is None or self._proc.poll() is not None:
                    self._start()
                try:
                    self._ctrl.settimeout(timeout)
                    self._ctrl.sendall(json.dumps({"op": "spawn", "config": config}).encode())
                    msg, fds, _, _ = socket.recv_fds(self._ctrl, 4096, 2)
                except OSError:
                    self._kill()
                    if attempt == 2:
                        raise
                    continue
                reply = json.loads(msg) if msg else {"error": "the worker factory stopped"}
                if "error" in reply or len(fds) != 2:
                    for fd in fds:
                        os.close(fd)
                    if not msg:
                        self._kill()
                    raise OSError(reply.get("error", "no pidfd"))
                channel = socket.socket(fileno=fds[1])
                return int(reply["pid"]), fds[0], channel, str(reply["workdir"]), reply.get("cgroup")
        raise AssertionError("unreachable")

    def sweep(self, pid: int, timeout: float = 10.0) -> None:
        """Tell the zygote worker ``pid`` is gone; it kills any orphans the worker left."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                return
            try:
                self._ctrl.settimeout(timeout)
                self._ctrl.sendall(json.dumps({"op": "sweep", "pid": pid}).encode())
                self._ctrl.recv(4096)
            except OSError:
                self._kill()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Hang up on the zygote and let it remove its spare workers' folders and cgroups."""
        if self._owner != os.getpid() or self._proc is None:
            return
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
        self._proc = None

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        if self._ctrl is not None:
            self._ctrl.close()
        self._proc = self._ctrl = None


ZYGOTE = _Zygote()


# ---------------------------------------------------------------- one worker process


@dataclass
class _Worker:
    pid: int
    pidfd: int
    sock: socket.socket
    workdir: str
    cgroup: str | None
    generation: int
    pidns: bool = False

    @property
    def fd(self) -> int:
        return self.sock.fileno()

    def kill(self) -> None:
        """Kill the worker and everything it started; wait until they are gone."""
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # only matters without a PID namespace
        except OSError:
            pass
        select.select([self.pidfd], [], [], 10.0)  # readable once the worker (and its namespace) is dead
        os.close(self.pidfd)
        self.sock.close()
        if self.cgroup:
            cgroups.remove(self.cgroup)
        if not self.pidns:  # escaped daemons were adopted by the zygote (a subreaper)
            ZYGOTE.sweep(self.pid)
        try:
            os.rmdir(self.workdir)  # usually empty here: the student's files were in its own tmpfs
        except OSError:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------- the student


def _window(sock: socket.socket) -> int:
    """Request bytes the judge may have in flight: a quarter of the channel's send buffer, so
    writing ahead never blocks (the worker may be blocked writing a reply the judge has not read
    yet, and must not wait for the judge while the judge waits for it)."""
    try:
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 4
    except OSError:
        return 0


def _array_bytes(value: Any, handle_bytes: dict[int, int]) -> int:
    """Bytes of the arrays in a call argument; a handle counts as :func:`reply_budget` says."""
    kind = type(value)
    if kind is np.ndarray:
        return value.nbytes
    if kind is Handle:
        return handle_bytes.get(value.id, 0)
    if kind in (list, tuple):
        return sum(_array_bytes(v, handle_bytes) for v in value)
    if kind is dict:
        return sum(_array_bytes(v, handle_bytes) for v in value.values())
    return 0


def reply_budget(call: Call, handle_bytes: dict[int, int] | None = None) -> int:
    """The most bytes the judge reads of the reply to ``call``: ``call.reply_bytes`` if the check
    set it, else ``REPLY_FACTOR`` times its arrays' bytes (``handle_bytes``: handle id -> the
    array bytes of the call that made it) plus ``REPLY_SLACK``."""
    if call.reply_bytes is not None:
        return int(call.reply_bytes)
    return REPLY_FACTOR * sum(_array_bytes(a, handle_bytes or {}) for a in call.args) + REPLY_SLACK


def _label(call: Call) -> str:
    """How messages name a call: its function, or what the random-state request is for."""
    return "the random-state check" if call.name == RNG_STATE else call.name


def _stopped(label: str) -> StudentCrashed:
    return StudentCrashed(
        f"the process running your code stopped during {label} (it called exit(), was killed, "
        "or ran out of memory or CPU time)")


class SandboxedStudent(Student):
    """A submission's code running in a confined worker process (implements ``Student``).

    ``blocks`` are (label, code) pairs run in order in one namespace, each on its own: an error
    in one is recorded in :attr:`load_notes` and the others still run. :attr:`isolation_facts`
    says what confinement was in force (:mod:`grader.sandbox.isolation`), :attr:`isolation` the
    same for the record. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, blocks: list[tuple[str, str]], limits: Limits | None = None) -> None:
        self.blocks = [(str(label), str(code)) for label, code in blocks]
        self.limits = limits or Limits()
        self.load_notes: list[str] = []
        self.isolation = ""
        self.isolation_facts: frozenset[str] = frozenset()
        self._spent = 0.0
        self._generation = 0
        self._worker: _Worker | None = None
        self._handles: dict[int, tuple[int, int]] = {}  # judge handle id -> (generation, worker id)
        self._handle_bytes: dict[int, int] = {}  # judge handle id -> array bytes of the call that made it
        self._round_left = 0  # bytes the judge still reads in this run (Limits.reply_bytes in all)
        self._dropped: list[int] = []  # judge handle ids whose Handle objects were garbage-collected
        self._fatal: StudentError | None = None  # loading failed: every call fails the same way
        self._next_id = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._start()

    #: "auto" (PID/net/mount namespaces, via a user namespace if not root), "user", "none".
    #: Class-level so tests can exercise the fallbacks.
    namespaces = "auto"

    # -- lifecycle

    def __enter__(self) -> "SandboxedStudent":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Kill the worker and every process it started; remove its folder."""
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.kill()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _remaining(self) -> float:
        return self.limits.submission_seconds - self._spent

    def _start(self) -> None:
        """Start a worker and load the code; on failure set :attr:`_fatal` or raise."""
        self._generation += 1
        config = {"limits": self.limits.to_json(), "namespaces": self.namespaces,
                  "cgroup_base": cgroups.pids_cgroup_base(), "tmpdir": tempfile.gettempdir()}
        try:
            pid, pidfd, ours, workdir, cgroup = ZYGOTE.spawn(config)
        except OSError as exc:
            raise SandboxUnavailable(f"could not start a sandbox worker: {exc}") from None
        ours.setblocking(False)
        self._worker = _Worker(pid, pidfd, ours, workdir, cgroup, self._generation)
        first = self._generation == 1
        started = time.monotonic()
        deadline = started + min(self.limits.load_seconds, max(self._remaining(), 0.0))
        observed = isolation.observe(pid, pidfd, cgroup)  # before any student line runs in it
        syntax: dict[int, str] = {}  # kept when loading then fails: it came before any student code ran
        try:
            cpu = max(1.0, min(self.limits.cpu_seconds, self._remaining()))
            send_frame(self._worker.fd, encode({Key.BLOCKS: [list(b) for b in self.blocks], Key.CPU_SECONDS: cpu}),
                       deadline, pidfd)
            ready = recv_message(self._worker.fd, 1 << 16, deadline, pidfd)  # sent before any student code runs
            try:
                facts = isolation.combine(ready.get(Key.READY), observed)
            except ValueError:
                raise ProtocolError("bad ready message") from None
            self._worker.pidns = "pidns" in facts
            if first:
                self.isolation_facts, self.isolation = facts, isolation.describe(facts)
                isolation.warn_if_weaker(facts)
            report_bytes = LOAD_REPORT_BYTES * (1 + len(self.blocks) // 8)
            compiled = recv_message(self._worker.fd, report_bytes, deadline, pidfd, max_json=report_bytes)
            syntax = self._syntax_notes(compiled.get(Key.SYNTAX))  # sent before any student code ran
            loaded = recv_message(self._worker.fd, report_bytes, deadline, pidfd, max_json=report_bytes)
            notes = self._load_notes(loaded.get(Key.FAILURES), syntax)
            if first:
                self.load_notes += notes
        except Timeout:
            self._fail_load(StudentTimeout(
                f"loading your code did not finish within {self.limits.load_seconds:g} s "
                "(code outside functions runs at load time: an endless loop there?)"), first, syntax)
        except (PeerGone, ProtocolError):
            self._fail_load(StudentCrashed(
                "the process running your code stopped while loading it (code outside functions "
                "called exit(), exhausted memory, or broke the grader's channel)"), first, syntax)
        finally:
            self._spent += time.monotonic() - started

    def _syntax_notes(self, reports: Any) -> dict[int, str]:
        """Notes on the blocks that do not compile, by block index, from the report the worker
        sends before it runs any student code (so the compiler's words, of the student's code)."""
        if type(reports) is not list:
            raise ProtocolError("bad compile report")
        notes: dict[int, str] = {}
        for report in reports:
            index = report.get(Key.BLOCK) if type(report) is dict else None
            if type(index) is not int or not 0 <= index < len(self.blocks) or index in notes:
                raise ProtocolError("bad compile report")
            label, line, text = self.blocks[index][0], report.get(Key.LINE), report.get(Key.MSG)
            if type(text) is not str:
                notes[index] = f"{label} could not run: it cannot be compiled (not text, or nested too deeply)"
                continue
            where = f" on line {line}" if type(line) is int else ""
            notes[index] = f"{label} could not run: SyntaxError{where}: {masking.clean(text)}"
        return notes

    def _load_notes(self, reports: Any, syntax: dict[int, str]) -> list[str]:
        """Notes on the blocks that did not run, in block order: those that do not compile
        (``syntax``), then at most one report per other block the judge sent, each field checked
        and the text masked; the judge words every note (this report is the student's word,
        since student code ran before it was sent)."""
        if type(reports) is not list:
            raise ProtocolError("bad load report")
        notes = dict(syntax)
        for report in reports:  # as many as fit in the report's bounded frame
            if type(report) is not dict:
                continue
            index = report.get(Key.BLOCK)
            if type(index) is not int or not 0 <= index < len(self.blocks) or index in notes:
                continue  # a block never sent, one that did not compile, or a second report
            label, code = self.blocks[index]
            line = report.get(Key.LINE)
            where = f" on line {line}" if type(line) is int and 1 <= line <= code.count("\n") + 1 else ""
            kind = masking.type_name(report.get(Key.TYPE))
            text = report.get(Key.MSG)
            text = masking.mask_text(text) if type(text) is str else ""
            notes[index] = f"{label} could not run: {kind}{where}" + (f": {text}" if text else "")
        return [notes[i] for i in sorted(notes)]

    def _fail_load(self, error: StudentError, first: bool, syntax: dict[int, str]) -> None:
        self.close()
        self._fatal = error
        if first:
            self.load_notes += [syntax[i] for i in sorted(syntax)] + [str(error)]

    def _ensure_worker(self) -> _Worker:
        if self._fatal is not None:
            raise type(self._fatal)(str(self._fatal))
        if self._remaining() <= 0:
            raise StudentTimeout(
                f"the submission used up its total time budget of {self.limits.submission_seconds:g} s")
        if self._worker is None:
            self._start()
            return self._ensure_worker()
        return self._worker

    # -- requests

    def _handle_out(self, value: Any) -> int | None:
        if not isinstance(value, Handle):
            return None
        if value.id not in self._handles:
            raise ValueError("a handle from another submission was passed to this one")
        generation, ident = self._handles[value.id]
        if generation != self._generation or self._worker is None:
            raise HandleLost(
                "a value your code kept from an earlier call (e.g. a cache) was lost when its process "
                "was restarted after a crash or timeout")
        return ident

    def _release_dropped(self, worker: _Worker) -> list[int]:
        """Worker ids of handles the checks hold no more (the worker may free their objects)."""
        release = []
        while self._dropped:
            dropped = self._dropped.pop()
            generation, ident = self._handles.pop(dropped)
            self._handle_bytes.pop(dropped, None)
            if generation == worker.generation:
                release.append(ident)
        return release

    def run(self, chains: Sequence[Sequence[Call]]) -> list[list[Reply]]:
        """Make the calls in the worker; see ``grader.student.Student.run``.

        The calls are pipelined: one request frame per call, written ahead while earlier calls
        run (up to :func:`_window` bytes in flight), one reply frame per call, each within the
        per-call time limit and its :func:`reply_budget`, all of them within
        ``Limits.reply_bytes``. So the worker never waits for the judge between calls and holds
        one call's inputs at a time. After a timeout or crash the worker is gone: the rest of
        that call's chain is skipped and the other chains' remaining calls go to a fresh
        worker (a handle from the dead one then fails as lost).
        """
        replies: list[list[Reply | None]] = [[None] * len(chain) for chain in chains]
        pending = [(g, i) for g, chain in enumerate(chains) for i in range(len(chain))]
        self._round_left = self.limits.reply_bytes
        while pending:
            pending = self._run_once(chains, pending, replies)
        for chain in replies:  # the rest of a chain after its error carries that error
            for i, reply in enumerate(chain):
                if reply is None:
                    chain[i] = chain[i - 1] if i else Reply(error=StudentCrashed("the call could not be made"))
        return replies  # type: ignore[return-value]

    def _run_once(self, chains: Sequence[Sequence[Call]], pending: list[tuple[int, int]],
                  replies: list[list[Reply | None]]) -> list[tuple[int, int]]:
        """Make the ``pending`` calls in one worker and fill in ``replies``; return the calls
        still to make (after the worker was lost) in a fresh one."""
        state = _Pipeline(chains, pending, replies)
        try:
            worker = self._ensure_worker()
        except StudentError as exc:  # loading failed or the budget is spent: every chain fails so
            for g, i in pending:
                if g not in state.errored:
                    state.fail(g, i, type(exc)(str(exc)))
            return []
        state.batch = next(self._batch_ids)
        state.window = _window(worker.sock)
        state.release = self._release_dropped(worker)
        last = time.monotonic()
        while state.to_send or state.in_flight:
            while state.to_send:  # write ahead while the window allows (one frame always, if none is out)
                g, i = state.to_send[0]
                if g in state.errored:
                    state.to_send.popleft()
                    state.ready = None
                    continue
                if state.ready is None:
                    try:
                        wire = self._wire_call(chains[g][i], g, state.batch)
                    except StudentError as exc:  # a handle lost with an earlier worker
                        state.to_send.popleft()
                        state.fail(g, i, exc)
                        continue
                    if state.release:
                        wire[Key.RELEASE], state.release = state.release, []
                    frame = encode_parts(wire, self._handle_out)
                    state.ready = (wire[Key.ID], frame, sum(memoryview(part).nbytes for part in frame))
                ident, frame, size = state.ready
                if state.in_flight and state.in_flight_bytes + size > state.window:
                    break
                state.to_send.popleft()
                state.ready = None
                try:
                    send_frame(worker.fd, frame, time.monotonic() + min(self.limits.call_seconds, self._remaining()),
                               worker.pidfd)
                except (Timeout, PeerGone, ProtocolError):
                    self._spent += time.monotonic() - last
                    self.close()
                    state.fail(g, i, _stopped(_label(chains[g][i])))
                    return state.still_to_make()
                state.in_flight.append((g, i, ident, size, time.monotonic()))
                state.in_flight_bytes += size
            if not state.in_flight:
                break
            g, i, ident, size, sent_at = state.in_flight.popleft()
            state.in_flight_bytes -= size
            if g in state.worker_skips:
                continue
            try:
                reply, worker_error = self._receive(worker, chains[g][i], ident, max(last, sent_at))
            except StudentError as exc:  # the worker is gone (closed): the rest go to a fresh one
                self._spent += time.monotonic() - last
                state.fail(g, i, exc)
                return state.still_to_make()
            now = time.monotonic()
            self._spent += now - last
            last = now
            if i < state.errored.get(g, i + 1):  # after an error the judge saw, the chain's replies are not used
                replies[g][i] = reply
            if reply.error is not None:
                state.errored.setdefault(g, i)
            if worker_error:
                state.worker_skips.add(g)
        return state.still_to_make()

    def _wire_call(self, call: Call, chain: int, batch: int) -> dict[str, Any]:
        """The message for one call (handles checked here: a stale one fails this call only)."""
        wire: dict[str, Any] = {Key.ID: next(self._next_id), Key.BATCH: batch, Key.CHAIN: chain}
        if call.name == RNG_STATE:
            wire[Key.OP] = Op.RNG
            return wire
        for arg in call.args:
            self._handle_out(arg)  # raises StudentCrashed for a handle of an earlier worker
        wire.update({Key.OP: Op.CALL, Key.NAME: str(call.name),
                     Key.ARGS: [a if isinstance(a, Handle) else to_plain(a, copy=False) for a in call.args],
                     Key.KEEP: [int(k) for k in call.keep], Key.ECHO: bool(call.echo)})
        if call.drop:
            wire[Key.DROP] = [int(k) for k in call.drop]
        return wire

    def _receive(self, worker: _Worker, call: Call, ident: int, since: float) -> tuple[Reply, bool]:
        """Read and check the reply to ``call``; returns it and whether the worker counts it as
        an error (then the worker skips the rest of its chain). Raises ``StudentError`` when
        the worker had to be closed (timeout, crash, out of step, a reply over its budget)."""
        label = _label(call)
        keep = tuple(int(k) for k in call.keep)
        made: list[Handle] = []
        arg_bytes = sum(_array_bytes(a, self._handle_bytes) for a in call.args)

        def make_handle(worker_id: int) -> Handle:
            if not keep or worker_id <= 0:
                raise ProtocolError("unexpected handle")
            handle = Handle(next(_handle_ids))
            self._handles[handle.id] = (worker.generation, worker_id)
            self._handle_bytes[handle.id] = arg_bytes
            weakref.finalize(handle, self._dropped.append, handle.id).atexit = False
            made.append(handle)
            return handle

        budget = min(reply_budget(call, self._handle_bytes), max(self._round_left, 0))
        limit = min(self.limits.call_seconds, self._remaining() - (time.monotonic() - since))
        try:
            reply = recv_message(worker.fd, budget, since + limit, worker.pidfd, make_handle, MAX_REPLY_JSON)
        except BadValue as exc:  # framing was intact, so a bad value is a bad reply and the worker can stay
            return Reply(error=BadReply(f"{label} returned a value the grader cannot use: {exc}")), False
        except Timeout:
            self.close()
            if limit < self.limits.call_seconds:
                raise StudentTimeout(
                    f"{label} was stopped when the submission's total time budget of "
                    f"{self.limits.submission_seconds:g} s ran out") from None
            raise StudentTimeout(
                f"{label} did not finish within {self.limits.call_seconds:g} s (an endless loop, or far too slow)") from None
        except PeerGone:
            self.close()
            raise _stopped(label) from None
        except TooLarge:  # not read at all: the worker is killed mid-frame, its memory never ours
            self.close()
            raise BadReply(f"{label} returned more data than the layer's output can be "
                           f"(at most {_size(budget)} for these inputs)") from None
        except ProtocolError:
            self.close()
            raise StudentCrashed(
                f"the process running your code sent something that is not a reply during {label} "
                "(did your code write to the grader's channel?)") from None
        self._round_left -= _array_bytes(reply.get(Key.OK), {}) + _array_bytes(reply.get(Key.AFTER), {})
        if reply.get(Key.ID) != ident:  # an earlier frame forged by the student: out of step
            self.close()
            raise StudentCrashed(f"the process running your code sent a reply out of turn during {label}")
        if Key.ERR in reply:
            return Reply(error=self._student_error(call, label, reply)), True
        if Key.OK not in reply:
            self.close()
            raise StudentCrashed(f"the process running your code sent an empty reply during {label}")
        value = reply[Key.OK]
        if call.name == RNG_STATE:
            if type(value) is not str or len(value) > 64:
                return Reply(error=BadReply("the worker's random-state digest is malformed")), False
            return Reply(value), False
        drop = tuple(int(k) for k in call.drop)
        if keep or drop:  # handles exactly in the keep positions, nowhere else; None where dropped
            size = max((*keep, *drop)) + 1
            if (type(value) is not tuple or len(value) < size or len(made) != len(set(keep))
                    or not all(isinstance(value[k], Handle) for k in keep)
                    or not all(value[k] is None for k in drop)):
                return Reply(error=BadReply(f"{label} should return a tuple of {size} items")), False
        after = None
        if call.echo:
            after = reply.get(Key.AFTER)
            if type(after) is not list or len(after) != len(call.args):
                self.close()
                raise StudentCrashed(f"the process running your code sent a malformed reply during {label}")
            after = tuple(orig if isinstance(orig, Handle) else a for a, orig in zip(after, call.args))
        return Reply(value, after), False

    @staticmethod
    def _student_error(call: Call, label: str, reply: dict) -> StudentError:
        """The error a worker reported for ``call``, worded by the judge: the kind is the
        worker's word, the text is the student's, masked (:mod:`grader.masking`)."""
        kind, text = reply.get(Key.ERR), reply.get(Key.MSG)
        if kind == Err.RAISED:
            public = masking.public_values(call.args)
            return StudentRaised(masking.raised_message(label, reply.get(Key.TYPE), text, public))
        if kind == Err.MISSING:
            return MissingFunction(f"{MISSING_FUNCTION} {label}")
        if kind == Err.BADREPLY:
            expected = (max((*call.keep, *call.drop)) + 1,) if call.keep or call.drop else ()
            reason = masking.mask_text(text, masking.public_values(call.args, expected)) if type(text) is str else ""
            if reason.startswith(f"{label} "):
                return BadReply(reason)
            return BadReply(f"{label} returned a value the grader cannot use" + (f" ({reason})" if reason else ""))
        if kind == Err.STALE:
            return StudentCrashed(f"{label} was passed a value kept from an earlier call that the process "
                                  "running your code no longer holds")
        return StudentCrashed(f"the process running your code could not answer the call to {label} "
                              "(did your code replace modules the grader uses?)")


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{max(1, n >> 10)} KiB"


class _Pipeline:
    """One worker's share of a ``run``: the calls still to send, those in flight, the chains that
    ended in an error (the judge makes no more of their calls) or that the worker skips."""

    def __init__(self, chains: Sequence[Sequence[Call]], pending: list[tuple[int, int]],
                 replies: list[list[Reply | None]]) -> None:
        self.chains, self.pending, self.replies = chains, pending, replies
        self.errored: dict[int, int] = {}  # chain -> index of its first error: later calls are not made
        self.to_send: collections.deque = collections.deque(pending)
        self.in_flight: collections.deque = collections.deque()  # (chain, index, message id, bytes, sent at)
        self.in_flight_bytes = 0
        self.worker_skips: set[int] = set()  # chains with an error reply: the worker makes no more of their calls
        self.ready: tuple | None = None  # (message id, frame, bytes) of to_send[0], encoded but not sent yet
        self.release: list[int] = []
        self.batch = 0
        self.window = 0

    def fail(self, g: int, i: int, error: StudentError) -> None:
        self.replies[g][i] = Reply(error=error)
        self.errored.setdefault(g, i)

    def still_to_make(self) -> list[tuple[int, int]]:
        return [(g, i) for g, i in self.pending
                if self.replies[g][i] is None and i < self.errored.get(g, len(self.chains[g]))]

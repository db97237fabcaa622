"""The worker: a forked process that confines itself, then runs ONLY the student's code.

Everything before the first block of student code runs is trusted code and may be relied on
(its own uid, no capabilities, Landlock, seccomp, limits, the ``ready`` message naming what is
in force, the report on which blocks do not compile). From the first student line on, the whole
process is the student's: the judge re-validates every frame and trusts nothing else it says.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import os
import signal
import site
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import numpy.random  # noqa: F401  (lazy in numpy; 11 ms if each worker imported it)

from grader.plain import NotPlain, to_plain
from grader.sandbox import landlock, privileges, syscall_filter
from grader.sandbox.limits import Limits, apply_rlimits
from grader.masking import exception_text
from grader.sandbox.protocol import Err, Key, Op, ProtocolError, encode, encode_parts, recv_message, send_frame
from grader.student import BadReply, global_rng_fingerprint, split_reply

CHANNEL_FD = 3
PR_SET_PDEATHSIG, PR_SET_NAME = 1, 15
WORKER_NAME = b"grader-worker"
READY_LINE = b"ready\n"  # to the zygote, once confined: the worker may be handed out
_libc = ctypes.CDLL(None)
MAX_REQUEST = 1 << 31
MAX_NOTE_TEXT = 600  # of a load failure's text (no array in it: no call has been made)


class _Kept:
    """A student object kept in the worker; travels as ``{"h": id}``."""

    __slots__ = ("id",)

    def __init__(self, ident: int) -> None:
        self.id = ident


@functools.lru_cache(maxsize=1)
def python_read_paths() -> tuple[str, ...]:
    """Folders the worker may read: the Python installation and its package folders only."""
    paths = {sys.base_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    paths.update(v for k, v in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib"))
    # system shared libraries, so stdlib extension modules that link them can still import
    paths.update(("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/dev/urandom"))
    return tuple(sorted(p for p in paths if p and os.path.exists(p)))


def _isolate_fds(channel: int) -> None:
    """Keep only the channel (as fd 3); stdin/stdout/stderr go to /dev/null."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if channel != CHANNEL_FD:
        os.dup2(channel, CHANNEL_FD)
    os.closerange(CHANNEL_FD + 1, 1 << 16)
    os.set_blocking(CHANNEL_FD, True)
    os.set_inheritable(CHANNEL_FD, False)


@dataclass(frozen=True)
class Confinement:
    """How the zygote wants a worker confined: ``uid`` the real uid (and gid) to become when the
    grader runs as root (None otherwise: a helper already entered a user namespace), ``userns``
    whether to enter a user namespace after that, ``seccomp_program`` the filter to load last
    (:func:`grader.sandbox.syscall_filter.build`)."""

    uid: int | None
    userns: bool
    seccomp_program: bytes | None


def _confine(workdir: str, how: Confinement) -> list[str]:
    """Everything but the rlimits, in an order where no step needs what an earlier one took
    away; returns the isolation facts it established. Student code never runs before this."""
    facts = []
    if how.uid is not None:
        facts += privileges.become(how.uid)
        if how.userns:
            facts += privileges.enter_user_namespace()
    facts += privileges.own_session_and_keyring()
    readable = python_read_paths()
    sys.path[:] = [p for p in sys.path if p and p.startswith(readable)]  # drops the repository
    try:
        landlock.restrict(readable, [workdir, os.devnull])
        facts.append("landlock")
    except OSError:
        pass
    facts += privileges.drop_capabilities()
    return facts + syscall_filter.load(how.seccomp_program)  # last: it refuses set-up steps (unshare, keyctl)


def _failure(index: int, label: str, exc: BaseException) -> dict:
    """The report on block ``index`` that failed to run: the exception's raw type name and text
    and the line in the block (the judge validates all of it and words the note)."""
    kind, text = exception_text(exc, MAX_NOTE_TEXT)
    line = None
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == f"<{label}>"]
        line = frames[-1].lineno if frames else getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    except Exception:  # a traceback the student's code tampered with: no line
        pass
    return {Key.BLOCK: index, Key.TYPE: kind, Key.LINE: line if type(line) is int else None, Key.MSG: text}


def _compile(blocks: list) -> list:
    """Each block's code object, or None where it does not compile; reports those to the judge.

    Runs before any student code (compiling runs none), so this report is trusted, unlike the
    one on blocks that fail to run; and the compiling, whose cost the student's code decides,
    is bounded by this process's limits, not the judge's."""
    codes, syntax = [], []
    for index, (label, code) in enumerate(blocks):
        try:
            codes.append(compile(code, f"<{label}>", "exec"))
        except SyntaxError as exc:  # IndentationError too
            codes.append(None)
            syntax.append({Key.BLOCK: index, Key.LINE: exc.lineno if type(exc.lineno) is int else None,
                           Key.MSG: str(exc.msg)[:MAX_NOTE_TEXT]})
        except (ValueError, RecursionError, MemoryError, OverflowError):  # null bytes, absurd nesting
            codes.append(None)
            syntax.append({Key.BLOCK: index, Key.LINE: None, Key.MSG: None})
    send_frame(CHANNEL_FD, encode({Key.SYNTAX: syntax}))
    return codes


def _load(blocks: list, namespace: dict) -> list[dict]:
    """Compile the (label, code) blocks (:func:`_compile`), then run each that compiled in
    ``namespace``; failures are reported (:func:`_failure`), later blocks still run."""
    try:
        codes = _compile(blocks)
    except BaseException:  # the channel is gone, or out of memory: nothing to report to
        os._exit(0)
    failures = []
    for index, ((label, _), code) in enumerate(zip(blocks, codes)):
        if code is None:
            continue
        try:
            exec(code, namespace)
        except BaseException as exc:  # student code may raise anything, including SystemExit
            failures.append(_failure(index, label, exc))
    return failures


class _Server:
    """Answers the judge's requests against the student's namespace."""

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace
        self.kept: dict[int, Any] = {}
        self._ids = itertools.count(1)

    def _store(self, obj: Any) -> _Kept:
        ident = next(self._ids)
        self.kept[ident] = obj
        return _Kept(ident)

    def release(self, idents: Any) -> None:
        """Forget objects the judge holds no handle to any more (e.g. caches of earlier calls),
        so their memory is reused instead of the heap growing call after call."""
        if type(idents) is list:
            for ident in idents:
                if type(ident) is int:
                    self.kept.pop(ident, None)

    def _resolve(self, ident: int) -> Any:
        if ident not in self.kept:
            raise ProtocolError(f"unknown handle {ident}")
        return self.kept[ident]

    def handle(self, msg: dict) -> dict:
        """The reply to one call of a batch (``op`` "call" or "rng"). Error texts here are the
        student's word once student code has run; the judge words what the student sees."""
        op = msg.get(Key.OP)
        if op == Op.RNG:
            return {Key.OK: global_rng_fingerprint()}
        if op != Op.CALL:
            return {Key.ERR: Err.PROTOCOL}
        name, args = msg[Key.NAME], list(msg[Key.ARGS])
        keep, drop = tuple(msg.get(Key.KEEP, ())), tuple(msg.get(Key.DROP, ()))
        is_handle = [isinstance(a, _HandleArg) for a in args]
        args = [self._resolve(a.id) if h else a for a, h in zip(args, is_handle)]
        fn = self.namespace.get(name)
        if not callable(fn):
            return {Key.ERR: Err.MISSING}
        try:
            reply = fn(*args)
        except BaseException as exc:  # SystemExit too: it must not end the worker
            kind, text = exception_text(exc)
            return {Key.ERR: Err.RAISED, Key.TYPE: kind, Key.MSG: text}
        try:
            value = split_reply(name, reply, keep, self._store, drop, copy=False)
            out = {Key.OK: value}
            if msg.get(Key.ECHO):
                out[Key.AFTER] = [None if h else to_plain(a) for a, h in zip(args, is_handle)]
        except BadReply as exc:
            return {Key.ERR: Err.BADREPLY, Key.MSG: str(exc)}
        except NotPlain as exc:
            return {Key.ERR: Err.BADREPLY, Key.MSG: f"{name} left an argument in a form the grader cannot use: {exc}"}
        return out


class _HandleArg:
    __slots__ = ("id",)

    def __init__(self, ident: int) -> None:
        self.id = ident


def _kept_id(value: Any) -> int | None:
    return value.id if isinstance(value, _Kept) else None


def _answer(server: _Server, call: Any) -> dict:
    try:
        out = server.handle(call)
    except ProtocolError:
        out = {Key.ERR: Err.STALE}
    except Exception:  # the student's code broke what answers it (e.g. replaced grader modules)
        out = {Key.ERR: Err.PROTOCOL}
    out[Key.ID] = call.get(Key.ID)
    return out


def _send(out: dict) -> None:
    try:
        frame = encode_parts(out, _kept_id)
    except Exception as exc:  # e.g. MemoryError under the address-space limit
        frame = encode({Key.ID: out.get(Key.ID), Key.ERR: Err.BADREPLY, Key.MSG: f"cannot be sent ({type(exc).__name__})"})
    send_frame(CHANNEL_FD, frame)


def serve(namespace: dict) -> NoReturn:
    """The request loop: one reply frame per call frame, until the judge hangs up. Calls come in
    batches (``b``) of chains (``c``); after a call of a chain ends in an error, the rest of
    the chain in that batch is skipped without a reply: a check stops at its first error, and
    the judge expects no reply for them."""
    server = _Server(namespace)
    batch, stopped = None, set()
    while True:
        try:
            call = recv_message(CHANNEL_FD, MAX_REQUEST, make_handle=_HandleArg)
        except Exception:
            os._exit(0)
        server.release(call.get(Key.RELEASE))
        if call.get(Key.BATCH) != batch:
            batch, stopped = call.get(Key.BATCH), set()
        chain = call.get(Key.CHAIN)
        if type(chain) is int and chain in stopped:
            continue
        out = _answer(server, call)
        if Key.ERR in out:
            stopped.add(chain)
        _send(out)


def child_main(channel: int, limits: Limits, workdir: str, facts: list[str], report: int, how: Confinement) -> NoReturn:
    """Entry point of the forked worker: confine itself, tell the zygote (on ``report``) it is
    ready to be handed out, then wait for its start message. Never returns."""
    try:
        facts += _confine(workdir, how)
        os.write(report, READY_LINE)
        os.close(report)
        _isolate_fds(channel)
        os.chdir(workdir)
        start = recv_message(CHANNEL_FD, MAX_REQUEST)  # the judge has our pidfd by now
        # after the uid change (which clears it) and once the helper, if any, has been reaped
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _libc.prctl(PR_SET_NAME, WORKER_NAME, 0, 0, 0)  # no longer a spare
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead of killing
        # forked from one zygote: give each worker its own global RNG state (seed() alone takes ~12 ms)
        np.random.seed(np.frombuffer(os.urandom(32), dtype=np.uint32))
        blocks = [(str(label), str(code)) for label, code in start[Key.BLOCKS]]
        apply_rlimits(limits, float(start[Key.CPU_SECONDS]))
        facts.append("rlimits")
        send_frame(CHANNEL_FD, encode({Key.READY: facts}))  # before any student code runs
        namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": __builtins__}
        del start
    except BaseException:
        os._exit(3)
    notes = _load(blocks, namespace)
    try:
        send_frame(CHANNEL_FD, encode({Key.FAILURES: notes}))
    except BaseException:
        os._exit(0)
    serve(namespace)


python_read_paths()  # computed once in the zygote, before any fork

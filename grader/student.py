"""The narrow interface checks use to talk to student code.

A check describes the calls it needs as :class:`Call` values (a function name and plain-data
arguments) and gets a :class:`Reply` per call. ``student.run`` makes many calls at once: in the
sandbox they are written to the worker ahead, while earlier ones run, so the worker never waits
for the judge between calls and a battery costs a few round trips instead of one per call. Two
implementations exist: :class:`InProcessStudent` (trusted code only: references, mutants, unit
tests) and ``grader.sandbox.judge.SandboxedStudent`` (real grading; student code in a jailed
worker process). Objects a check must hand back later without looking inside (a layer's
``cache``) stay with the student's code and travel as opaque :class:`Handle` references.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from grader.masking import exception_text, public_values, raised_message
from grader.plain import NotPlain, describe, to_plain


class StudentError(Exception):
    """Student code could not produce a usable reply. ``str(err)`` is student-facing."""

    status = "error"


#: How a missing function is reported (both students; grading recognises it in a check's output).
MISSING_FUNCTION = "the submission does not define a function named"


class MissingFunction(StudentError):
    """The submission does not define the requested function."""


class StudentRaised(StudentError):
    """The student's function raised an exception."""


class BadReply(StudentError):
    """The function returned something that is not of the expected plain form."""


class StudentTimeout(StudentError):
    """The call did not finish within its time limit (or the submission's budget ran out)."""

    status = "timeout"


class StudentCrashed(StudentError):
    """The process running the student's code died (memory limit, exit, signal)."""


class HandleLost(StudentCrashed):
    """A :class:`Handle` argument belonged to a process that was since replaced (after a crash or
    timeout, usually in another check's call); the check that passed it is run again."""


@dataclass(frozen=True)
class Handle:
    """An opaque reference to an object kept on the student's side (e.g. a layer cache)."""

    id: int
    obj: Any = field(default=None, repr=False, compare=False)  # only set in-process


#: ``Call.name`` of the request for a digest of numpy's global random state on the student's side
#: (not an identifier, so no student function can be named so).
RNG_STATE = "<random state>"


@dataclass(frozen=True)
class Call:
    """One request to the student's side: call function ``name`` with copies of plain ``args``.

    ``keep`` lists the positions of a tuple reply that stay on the student's side and come back
    as :class:`Handle` objects (they may be arguments of calls in a later batch); ``drop`` those
    that the student's side throws away at once and that come back as None (a layer's cache no
    later call needs: it is not kept alive, nor sent). ``echo`` also returns the arguments as
    the function left them (to see whether it changed its inputs). ``reply_bytes`` bounds the
    reply's size on the wire; None: a few times the size of the arguments (see
    ``grader.sandbox.judge.reply_budget``); a check that expects a reply much larger than its
    arguments says so here.
    """

    name: str
    args: tuple = ()
    keep: tuple[int, ...] = ()
    echo: bool = False
    drop: tuple[int, ...] = ()
    reply_bytes: int | None = None


#: The request for :func:`global_rng_fingerprint` on the student's side; its reply is a short str.
RNG_FINGERPRINT = Call(RNG_STATE)


@dataclass
class Reply:
    """What one :class:`Call` gave: its plain ``value`` (and ``after``, the arguments as the call
    left them, for ``echo``), or the :class:`StudentError` it ended in."""

    value: Any = None
    after: tuple | None = None
    error: "StudentError | None" = None

    def get(self) -> Any:
        """The value; raises the call's :class:`StudentError` if it had one."""
        if self.error is not None:
            raise self.error
        return self.value


@runtime_checkable
class Student(Protocol):
    """What checks may do with a submission."""

    def run(self, chains: Sequence[Sequence[Call]]) -> list[list[Reply]]:
        """Make the calls of every chain, chain after chain, each in order; one Reply per call.

        Chains are independent (one per check): once a call of a chain ends in an error, the
        rest of that chain is not made (their replies carry the same error), as a check stops
        at its first error; the other chains go on, after a crash or timeout in a fresh process.
        """
        ...

    def call(self, name: str, *args: Any, keep: Sequence[int] = ()) -> Any:
        """One call on its own: the reply's value, or its :class:`StudentError` raised."""
        return self.run([[Call(name, args, tuple(int(k) for k in keep))]])[0][0].get()


def split_reply(name: str, reply: Any, keep: Sequence[int], store, drop: Sequence[int] = (), copy: bool = True) -> Any:
    """Turn a raw reply into plain data, storing the ``keep`` positions with ``store(obj)`` and
    replacing the ``drop`` positions by None.

    ``store`` returns the handle id for an object. Shared by the in-process student and the
    sandbox worker so both reject the same replies with the same words. ``copy=False`` (the
    worker, which writes the reply out at once) leaves arrays uncopied where possible.
    """
    if keep or drop:
        size = max((*keep, *drop)) + 1
        if type(reply) is not tuple or len(reply) < size:
            raise BadReply(f"{name} should return a tuple of {size} items, got {describe(reply)}")
        items = []
        for i, item in enumerate(reply):
            items.append(store(item) if i in keep else None if i in drop else _plain(name, item, copy))
        return tuple(items)
    return _plain(name, reply, copy)


def _plain(name: str, value: Any, copy: bool = True) -> Any:
    try:
        return to_plain(value, copy=copy)
    except NotPlain as exc:
        raise BadReply(f"{name} returned a value the grader cannot use: {exc}") from None


def global_rng_fingerprint() -> str:
    """Digest of ``np.random``'s legacy global state in this process."""
    state = np.random.get_state()
    return hashlib.sha256(state[1].tobytes() + str(state[2:]).encode()).hexdigest()[:16]


class InProcessStudent(Student):
    """Runs trusted code in this interpreter. For references, mutants and unit tests only."""

    def __init__(self, namespace: dict[str, Any]):
        self.namespace = namespace
        self._handles: dict[int, Any] = {}

    @classmethod
    def from_source(cls, source: str, filename: str = "<submission>") -> "InProcessStudent":
        """Execute trusted ``source`` as a module and wrap its namespace."""
        namespace: dict[str, Any] = {"__name__": "submission"}
        exec(compile(source, filename, "exec"), namespace)
        return cls(namespace)

    def _store(self, obj: Any) -> Handle:
        handle = Handle(len(self._handles) + 1, obj)
        self._handles[handle.id] = obj
        return handle

    def _one(self, call: Call) -> Reply:
        if call.name == RNG_STATE:
            return Reply(global_rng_fingerprint())
        args = [self._handles[a.id] if isinstance(a, Handle) else to_plain(a) for a in call.args]
        fn = self.namespace.get(call.name)
        if not callable(fn):
            return Reply(error=MissingFunction(f"{MISSING_FUNCTION} {call.name}"))
        try:
            reply = fn(*args)
        except (Exception, SystemExit) as exc:  # student code may raise anything; exit() too, as in the sandbox
            return Reply(error=StudentRaised(raised_message(call.name, *exception_text(exc), public_values(args))))
        try:
            value = split_reply(call.name, reply, call.keep, self._store, call.drop)
            if not call.echo:
                return Reply(value)
            after = tuple(orig if isinstance(orig, Handle) else to_plain(a) for a, orig in zip(args, call.args))
        except BadReply as exc:
            return Reply(error=exc)
        except NotPlain as exc:  # the student's code put something odd into an argument
            return Reply(error=BadReply(f"{call.name} left an argument in a form the grader cannot use: {exc}"))
        return Reply(value, after)

    def run(self, chains: Sequence[Sequence[Call]]) -> list[list[Reply]]:
        """See :meth:`Student.run`."""
        out = []
        for chain in chains:
            replies: list[Reply] = []
            for call in chain:
                replies.append(replies[-1] if replies and replies[-1].error else self._one(call))
            out.append(replies)
        return out

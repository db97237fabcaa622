"""The narrow interface checks use to talk to student code.

Checks call ``student.call(name, *args)`` with plain data and get plain data back. Two
implementations exist: :class:`InProcessStudent` (trusted code only: references, mutants, unit
tests) and ``grader.sandbox.judge.SandboxedStudent`` (real grading; student code in a jailed
worker process). Objects a check must hand back later without looking inside (a layer's
``cache``) stay with the student's code and travel as opaque :class:`Handle` references.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from grader.plain import NotPlain, describe, to_plain


class StudentError(Exception):
    """Student code could not produce a usable reply. ``str(err)`` is student-facing."""

    status = "error"


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


@dataclass(frozen=True)
class Handle:
    """An opaque reference to an object kept on the student's side (e.g. a layer cache)."""

    id: int
    obj: Any = field(default=None, repr=False, compare=False)  # only set in-process


@runtime_checkable
class Student(Protocol):
    """What checks may do with a submission."""

    def call(self, name: str, *args: Any, keep: Sequence[int] = ()) -> Any:
        """Call the student's function ``name`` with copies of plain ``args``.

        ``keep`` lists the positions of a tuple reply that stay on the student's side and come
        back as :class:`Handle` objects (they may be passed as arguments to later calls).
        Returns the reply as plain data; raises :class:`StudentError` subclasses.
        """
        ...

    def call_echo(self, name: str, *args: Any, keep: Sequence[int] = ()) -> tuple[Any, tuple]:
        """Like :meth:`call`, and also return the arguments as they were after the call."""
        ...

    def rng_fingerprint(self) -> str:
        """A digest of numpy's global random state on the student's side."""
        ...


MAX_ERROR_TEXT = 300


# Array and list text and non-integer numbers in a student's exception message: the student's code
# could put the hidden inputs there. Integers stay (shapes, axes, indices explain most errors).
_ARRAY_TEXT = re.compile(r"array\((?:[^()]|\([^()]*\))*\)|\[[^\[\]]*\d[^\[\]]*\]")
_FLOAT_TEXT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b")


def mask_values(text: str) -> str:
    """``text`` with printed arrays, lists of numbers and non-integer numbers replaced by "..."."""
    for _ in range(8):  # nested lists: the innermost go first
        masked = _ARRAY_TEXT.sub("[...]", text)
        if masked == text:
            break
        text = masked
    return _FLOAT_TEXT.sub("...", text)


def raised_message(name: str, exc: BaseException) -> str:
    """Student-facing text for an exception raised by the student's function ``name``: its type
    and message, with values masked (:func:`mask_values`)."""
    text = mask_values(str(exc))
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + "..."
    if isinstance(exc, NotImplementedError):
        return f"{name} is not implemented yet (it raised NotImplementedError)"
    return f"{name} raised {type(exc).__name__}: {text}" if text else f"{name} raised {type(exc).__name__}"


def split_reply(name: str, reply: Any, keep: Sequence[int], store) -> Any:
    """Turn a raw reply into plain data, storing the ``keep`` positions with ``store(obj)``.

    ``store`` returns the handle id for an object. Shared by the in-process student and the
    sandbox worker so both reject the same replies with the same words.
    """
    if keep:
        if type(reply) is not tuple or len(reply) <= max(keep):
            raise BadReply(f"{name} should return a tuple of {max(keep) + 1} items, got {describe(reply)}")
        items = []
        for i, item in enumerate(reply):
            items.append(store(item) if i in keep else _plain(name, item))
        return tuple(items)
    return _plain(name, reply)


def _plain(name: str, value: Any) -> Any:
    try:
        return to_plain(value)
    except NotPlain as exc:
        raise BadReply(f"{name} returned a value the grader cannot use: {exc}") from None


def global_rng_fingerprint() -> str:
    """Digest of ``np.random``'s legacy global state in this process."""
    state = np.random.get_state()
    return hashlib.sha256(state[1].tobytes() + str(state[2:]).encode()).hexdigest()[:16]


class InProcessStudent:
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

    def _prepare(self, args: tuple) -> list:
        return [self._handles[a.id] if isinstance(a, Handle) else to_plain(a) for a in args]

    def _invoke(self, name: str, args: list, keep: Sequence[int]) -> Any:
        fn = self.namespace.get(name)
        if not callable(fn):
            raise MissingFunction(f"the submission does not define a function named {name}")
        try:
            reply = fn(*args)
        except (Exception, SystemExit) as exc:  # student code may raise anything; exit() too, as in the sandbox
            raise StudentRaised(raised_message(name, exc)) from None
        return split_reply(name, reply, keep, self._store)

    def call(self, name: str, *args: Any, keep: Sequence[int] = ()) -> Any:
        return self._invoke(name, self._prepare(args), keep)

    def call_echo(self, name: str, *args: Any, keep: Sequence[int] = ()) -> tuple[Any, tuple]:
        prepared = self._prepare(args)
        reply = self._invoke(name, prepared, keep)
        try:
            after = tuple(orig if isinstance(orig, Handle) else to_plain(a) for a, orig in zip(prepared, args))
        except NotPlain as exc:  # the student's code put something odd into an argument
            raise BadReply(f"{name} left an argument in a form the grader cannot use: {exc}") from None
        return reply, after

    def rng_fingerprint(self) -> str:
        return global_rng_fingerprint()

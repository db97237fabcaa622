"""Checks: named, weighted properties of a submission, and the runner that turns them into results.

A check is a generator function of the hidden-input ``rng``: it draws its inputs, yields the
calls it needs (a :class:`~grader.student.Call`, or a list of them) and receives their
:class:`~grader.student.Reply` objects (one, or a list), as often as it needs, then judges; it
fails by raising :class:`CheckFailed`, and a reply's ``get()`` raises the student's error. The
runner advances every check of a battery in step and sends the calls of all of them to the
student at once, so a battery costs as many round trips to the sandbox as its longest check has
yields (two or three), not one per call.
"""

from __future__ import annotations

import copy
import inspect
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable, Union

import numpy as np

from grader.results import TestResult
from grader.student import Call, HandleLost, MissingFunction, Reply, Student, StudentError


class CheckFailed(Exception):
    """The property a check tests does not hold. ``str(exc)`` is shown to the student:
    say what went wrong and the usual cause, never the hidden inputs."""


class CheckBug(Exception):
    """A check raised something other than :class:`CheckFailed` or a student's error: a fault of
    the check's own code (its course definition), not of the submission. ``str(exc)`` names the
    check and the line that raised."""


def _bug(check: "Check", exc: BaseException) -> CheckBug:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "site-packages" not in f.filename]
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return CheckBug(f"check {check.id} raised {type(exc).__name__}{where} ({exc}); a check must validate a "
                    "reply (e.g. its shape) before using it and raise CheckFailed for a wrong one")


def value_in_case(reply: Reply, case: str, hint: str = "") -> Any:
    """``reply.get()``, but a student error (raised, timed out, crashed, bad reply) ends with
    ``case``, the public parameters of the call that caused it (shapes and parameters), as a
    failed check's message does, then with ``hint`` if given (what is special about the case).
    A missing function is not about any case and stays as it is."""
    error = reply.error
    if error is None or isinstance(error, MissingFunction):
        return reply.get()
    named = copy.copy(error)  # same class, so the same status; the reply keeps its own error
    named.args = (f"{str(error).rstrip()} {case}" + (f". {hint}" if hint else ""),)
    raise named from None


#: What a check yields: one call (it is sent one Reply) or a list of them (a list of Replies).
Calls = Union[Call, list[Call]]
#: A check's generator, or a step shared by checks (used with ``yield from``; it may return a value).
Steps = Generator[Calls, Any, Any]
CheckFn = Callable[[np.random.Generator], Steps]


@dataclass(frozen=True)
class Check:
    """One hidden test.

    ``id`` is a stable slug (mutants name it), ``name`` the sentence students read, ``cell``
    the nbgrader autograder cell whose points it contributes to; a ``visible`` check's details
    are shown to students at once on Gradescope (the others after grades are published).
    """

    id: str
    name: str
    points: float
    cell: str
    fn: CheckFn
    visible: bool = False


class Battery:
    """An ordered list of checks, filled with the :meth:`check` decorator."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def check(self, name: str, points: float, cell: str, visible: bool = False) -> Callable[[CheckFn], CheckFn]:
        """Register the decorated function as a check; its ``__name__`` becomes the check id."""

        def register(fn: CheckFn) -> CheckFn:
            self.add(Check(fn.__name__, name, float(points), cell, fn, visible))
            return fn

        return register

    def add(self, check: Check) -> Check:
        """Append a check built elsewhere (e.g. by :mod:`grader.layercheck`); ids must be unique."""
        if any(c.id == check.id for c in self.checks):
            raise ValueError(f"duplicate check id {check.id}")
        self.checks.append(check)
        return check

    def by_id(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def cells(self) -> dict[str, float]:
        """Points per nbgrader grade cell, in battery order."""
        out: dict[str, float] = {}
        for c in self.checks:
            out[c.cell] = out.get(c.cell, 0.0) + c.points
        return out


def _result(check: Check, status: str = "passed", output: str = "") -> TestResult:
    score = check.points if status == "passed" else 0.0
    return TestResult(check.name, score, check.points, status, output, check.cell)


#: How often a check is started again because its handles were lost with a crashed process.
MAX_RESTARTS = 3


class _Running:
    """One check in progress: its generator and the calls it waits for."""

    def __init__(self, check: Check, rng: np.random.Generator) -> None:
        self.check = check
        self.rng = rng
        self.restarts = 0
        self.calls: list[Call] = []
        self.single = False
        self.result: TestResult | None = None
        self._start()

    def _start(self) -> None:
        try:
            self.steps = self.check.fn(self.rng)
        except CheckFailed as exc:  # a check that makes no call and fails at once
            self.result = _result(self.check, "failed", str(exc))
            return
        except Exception as exc:  # a plain function (no yield) failing: the check's bug, as below
            raise _bug(self.check, exc) from exc
        if not inspect.isgenerator(self.steps):  # a check that needs no call at all
            self.result = _result(self.check)
        else:
            self._advance(None)

    def _advance(self, replies: list[Reply] | None) -> None:
        try:
            if replies is None:
                wanted = next(self.steps)
            else:
                wanted = self.steps.send(replies[0] if self.single else replies)
        except StopIteration:
            self.result = _result(self.check)
        except CheckFailed as exc:
            self.result = _result(self.check, "failed", str(exc))
        except StudentError as exc:
            self.result = _result(self.check, exc.status, str(exc))
        except Exception as exc:  # the check's own code failed: say which check and where
            raise _bug(self.check, exc) from exc
        else:
            self.single = isinstance(wanted, Call)
            self.calls = [wanted] if self.single else list(wanted)
            if not all(isinstance(c, Call) for c in self.calls):
                raise CheckBug(f"check {self.check.id} yielded something other than Call objects")

    def deliver(self, replies: list[Reply]) -> None:
        """Hand the check its replies. A check whose cache handles were lost when another check's
        call crashed or hung (the process is replaced) starts over in the fresh process, as it
        would have if it had run alone, so it reports its own problem, not that one's."""
        if self.restarts < MAX_RESTARTS and any(isinstance(r.error, HandleLost) for r in replies):
            self.restarts += 1
            self.steps.close()
            self._start()
            return
        self._advance(replies)


def run_battery(
    checks: Iterable[Check], student: Student, rng: np.random.Generator | None = None
) -> list[TestResult]:
    """Run every check against ``student``; one result per check, in order.

    The checks advance in step: each round sends the pending calls of every unfinished check
    (in battery order, one chain per check) to ``student.run``.
    """
    rng = rng if rng is not None else np.random.default_rng()
    running = [_Running(c, rng) for c in checks]
    while True:
        waiting = [r for r in running if r.result is None]
        if not waiting:
            return [r.result for r in running]
        for r, replies in zip(waiting, student.run([r.calls for r in waiting])):
            r.deliver(replies)


def run_check(check: Check, student: Student, rng: np.random.Generator) -> TestResult:
    """Run one check on its own."""
    return run_battery([check], student, rng)[0]

"""Checks: named, weighted properties of a submission, and the runner that turns them into results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from grader.results import TestResult
from grader.student import Student, StudentError


class CheckFailed(Exception):
    """The property a check tests does not hold. ``str(exc)`` is shown to the student:
    say what went wrong and the usual cause, never the hidden inputs."""


CheckFn = Callable[[Student, np.random.Generator], None]


@dataclass(frozen=True)
class Check:
    """One hidden test.

    ``id`` is a stable slug (mutants name it), ``name`` the sentence students read, ``group``
    the nbgrader autograder cell whose points it contributes to.
    """

    id: str
    name: str
    points: float
    group: str
    fn: CheckFn


class Battery:
    """An ordered list of checks, filled with the :meth:`check` decorator."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def check(self, name: str, points: float, group: str) -> Callable[[CheckFn], CheckFn]:
        """Register the decorated function as a check; its ``__name__`` becomes the check id."""

        def register(fn: CheckFn) -> CheckFn:
            if any(c.id == fn.__name__ for c in self.checks):
                raise ValueError(f"duplicate check id {fn.__name__}")
            self.checks.append(Check(fn.__name__, name, float(points), group, fn))
            return fn

        return register

    def by_id(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def groups(self) -> dict[str, float]:
        """Points per nbgrader grade cell, in battery order."""
        out: dict[str, float] = {}
        for c in self.checks:
            out[c.group] = out.get(c.group, 0.0) + c.points
        return out


def run_check(check: Check, student: Student, rng: np.random.Generator) -> TestResult:
    """Run one check; every outcome, including student errors, becomes a result."""
    status, output = "passed", ""
    try:
        check.fn(student, rng)
    except CheckFailed as exc:
        status, output = "failed", str(exc)
    except StudentError as exc:
        status, output = exc.status, str(exc)
    score = check.points if status == "passed" else 0.0
    return TestResult(check.name, score, check.points, status, output, check.group)


def run_battery(
    checks: Iterable[Check], student: Student, rng: np.random.Generator | None = None
) -> list[TestResult]:
    """Run every check against ``student`` in order."""
    rng = rng if rng is not None else np.random.default_rng()
    return [run_check(c, student, rng) for c in checks]

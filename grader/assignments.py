"""The one place assignments are registered.

A new assignment needs its notebook folder under ``assignments/``, a reference module under
``solutions/``, a checks module exposing ``BATTERY`` and a mutants module exposing ``MUTANTS``
and ``ALTERNATIVES``, plus one entry in :data:`ASSIGNMENTS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from grader.paths import ASSIGNMENTS_DIR


@dataclass(frozen=True)
class Assignment:
    """Static description of one assignment."""

    name: str  # nbgrader assignment id, folder name and --assignment value
    title: str
    kind: str  # "code" (functions checked by a battery) or "quiz" (answers checked by SymPy)
    functions: tuple[str, ...] = ()
    checks_module: str = ""
    reference_module: str = ""
    mutants_module: str = ""

    @property
    def notebook(self) -> Path:
        """The nbgrader source notebook."""
        return ASSIGNMENTS_DIR / self.name / f"{self.name}.ipynb"

    def battery(self):
        """The :class:`grader.checks.base.Battery` of a code assignment."""
        return importlib.import_module(self.checks_module).BATTERY

    def reference(self) -> ModuleType:
        return importlib.import_module(self.reference_module)

    def mutants(self) -> ModuleType:
        return importlib.import_module(self.mutants_module)


ASSIGNMENTS: dict[str, Assignment] = {
    a.name: a
    for a in (
        Assignment(
            name="dropout",
            title="Inverted dropout",
            kind="code",
            functions=("dropout_forward", "dropout_backward"),
            checks_module="grader.checks.dropout",
            reference_module="solutions.dropout",
            mutants_module="solutions.mutants.dropout",
        ),
        Assignment(
            name="conv",
            title="Naive convolution",
            kind="code",
            functions=("conv_forward_naive", "conv_backward_naive"),
            checks_module="grader.checks.conv",
            reference_module="solutions.conv",
            mutants_module="solutions.mutants.conv",
        ),
        Assignment(name="quiz", title="Quiz 8: dropout and convolution derivations", kind="quiz"),
    )
}


class UnknownAssignment(ValueError):
    pass


def get(name: str) -> Assignment:
    """Look an assignment up by name, with a clear error for unknown names."""
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise UnknownAssignment(
            f"unknown assignment {name!r}; choose one of: {', '.join(ASSIGNMENTS)}"
        ) from None

"""The assignments of the course definition in use (see :mod:`grader.definition`).

By default that is the built-in unit (``assignments/course.toml``); ``use(definition)`` selects
another for the rest of the process, or for a ``with`` block. :data:`ASSIGNMENTS` is one dict
updated in place, so modules that imported it see the definition in use.
"""

from __future__ import annotations

from pathlib import Path

from grader.definition import Assignment, Definition, DefinitionError, builtin, load

__all__ = ["ASSIGNMENTS", "Assignment", "DefinitionError", "UnknownAssignment", "builtin", "current", "get", "use"]

ASSIGNMENTS: dict[str, Assignment] = {}
_active: list[Definition] = []


class UnknownAssignment(ValueError):
    pass


def current() -> Definition:
    """The definition in use."""
    return _active[-1]


class use:
    """Grade with ``definition`` (a :class:`Definition` or its folder) from now on; as a context
    manager, only inside the ``with`` block."""

    def __init__(self, definition: Definition | str | Path) -> None:
        self.previous = _active[-1] if _active else None
        new = definition if isinstance(definition, Definition) else load(definition)
        _set(new)

    def __enter__(self) -> Definition:
        return current()

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            _set(self.previous)


def _set(definition: Definition) -> None:
    _active[:] = [definition]
    ASSIGNMENTS.clear()
    ASSIGNMENTS.update(definition.assignments)


def get(name: str) -> Assignment:
    """Look an assignment up by name, with a clear error for unknown names."""
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise UnknownAssignment(
            f"unknown assignment {name!r}; choose one of: {', '.join(ASSIGNMENTS)}"
        ) from None


_set(builtin())

"""Plain data: the only values that cross between the judge and student code.

Both the in-process student (unit tests) and the sandbox wire format go through
:func:`to_plain`, so a check sees exactly the same kinds of values either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Array dtype kinds a reply may carry: bool, signed/unsigned int, float.
ARRAY_KINDS = frozenset("biuf")
MAX_ARRAY_ELEMENTS = 20_000_000
MAX_STR = 10_000
MAX_ITEMS = 1_000
MAX_DEPTH = 8


class NotPlain(ValueError):
    """A value is not plain data (array, number, string, None, or list/tuple/dict of those)."""


def describe(value: Any) -> str:
    """A short, student-facing name for the type of ``value``."""
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype}"
    return type(value).__name__


def to_plain(value: Any, depth: int = 0, copy: bool = True) -> Any:
    """Return a copy of ``value`` made only of plain, judge-owned objects.

    Arrays become base-class ``np.ndarray`` copies (subclasses and objects that merely look
    like arrays are rejected), numpy scalars become Python scalars, tuples stay tuples.
    Raises :class:`NotPlain` with a student-facing reason otherwise. With ``copy=False``
    arrays are base-class C-order views where possible: for a value about to be written to the
    channel at once, where a copy would only cost time.
    """
    if depth > MAX_DEPTH:
        raise NotPlain("the value is nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, int, float):
        return value
    if kind is str:
        if len(value) > MAX_STR:
            raise NotPlain("a string in the value is too long")
        return value
    if isinstance(value, np.ndarray):  # subclasses lose their class (and any overridden operators)
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise NotPlain(f"arrays must hold numbers, got dtype {value.dtype}")
        if value.size > MAX_ARRAY_ELEMENTS:
            raise NotPlain("an array in the value is too large")
        if copy:
            return np.array(np.ndarray.view(value, np.ndarray), copy=True, order="C")
        base = value if type(value) is np.ndarray else np.ndarray.view(value, np.ndarray)
        return base if base.flags.c_contiguous else np.array(base, order="C")  # (ascontiguousarray makes 0-d 1-d)
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        if value.dtype.kind not in ARRAY_KINDS:
            raise NotPlain(f"numbers must be real, got {kind.__name__}")
        return value.item()
    if kind in (list, tuple):
        if len(value) > MAX_ITEMS:
            raise NotPlain("a list in the value is too long")
        items = [to_plain(v, depth + 1, copy) for v in value]
        return tuple(items) if kind is tuple else items
    if kind is dict:
        if len(value) > MAX_ITEMS:
            raise NotPlain("a dict in the value is too large")
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise NotPlain("dict keys must be strings")
            out[k] = to_plain(v, depth + 1, copy)
        return out
    raise NotPlain(f"values of type {kind.__name__} cannot be graded")

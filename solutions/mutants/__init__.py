"""Catalogues of realistic wrong (and alternative correct) implementations.

Each mutant is a set of exact text edits applied to a reference module's source, so the
catalogue reads as a list of student mistakes and can never drift from the reference silently:
every edit must match the reference exactly once.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Mutant:
    """A variant of a reference solution.

    - name: short slug, e.g. ``randn_mask``.
    - why: the student mistake it models (or, for alternatives, the correct technique).
    - edits: ``(old, new)`` replacements applied in order to the reference source.
    - caught_by: id of the check that must fail for it (``None`` for correct alternatives,
      which must score full marks).
    - source_text: a whole replacement source instead of edits, for rewrites too large to patch.
    """

    name: str
    why: str
    edits: tuple[tuple[str, str], ...] = ()
    caught_by: str | None = None
    source_text: str | None = None

    def source(self, reference: ModuleType) -> str:
        """The mutant's full module source."""
        if self.source_text is not None:
            return self.source_text
        text = inspect.getsource(reference)
        for old, new in self.edits:
            count = text.count(old)
            if count != 1:
                raise ValueError(f"mutant {self.name}: edit {old!r} matches {count} times, expected once")
            text = text.replace(old, new)
        return text

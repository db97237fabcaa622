"""Mutant tables: realistic wrong (and alternative correct) versions of a reference solution.

One line per variant (format in docs/authoring.md, "Mutants")::

    # name                 | edit of the reference                      | check it must fail
    lout_missing_plus_one  | Lout = 1 + (L - k) // stride -> Lout = (L - k) // stride | output_shape_matches_formula
    two_edits              | a = 1 -> a = 2 ;; b = 1 -> b = 2           | some_check
    average_pooling_loops  | file:mutants/average.py                    | output_is_the_window_maximum
    last_tied_maximum      | file:mutants/last_max.py                   | correct

An edit ``old -> new`` replaces text that must occur exactly once in the reference; ``;;``
separates several edits; ``\\n`` in an edit is a line break; ``file:PATH`` (relative to the table) is a whole module,
which edits after it (``file:PATH ;; old -> new``) change like the reference; the check
``correct`` marks an alternative that must score full marks. An edit that no longer applies
(the reference changed) is a :class:`MutantError` naming the mutant, raised when its source is
asked for, so a validation run reports it and goes on.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

CORRECT = "correct"
EDIT_ARROW = " -> "
EDIT_SEPARATOR = " ;; "
NEWLINE = "\\n"  # the two characters backslash-n in an edit stand for a line break


class MutantError(ValueError):
    """A mutant that cannot be built; ``str(exc)`` names it and says what to update."""


@dataclass(frozen=True)
class Mutant:
    """A variant of a reference solution: ``edits`` applied to its source, or to ``source_text``
    (a module of its own) when it has one.

    ``caught_by`` is the id of the check that must fail for it (``None`` for an alternative).
    """

    name: str
    why: str = ""
    edits: tuple[tuple[str, str], ...] = ()
    caught_by: str | None = None
    source_text: str | None = None
    where: str = field(default="", compare=False)  # "mutants.txt line 3", for messages

    def source(self, reference: ModuleType | str) -> str:
        """The variant's full module source: its edits applied to ``source_text`` if it has one,
        else to the reference; raises :class:`MutantError` if an edit does not apply."""
        if self.source_text is not None:
            text, edited = self.source_text, "its module"
        else:
            text, edited = (reference if isinstance(reference, str) else inspect.getsource(reference)), "the reference"
        for old, new in self.edits:
            count = text.count(old)
            if count != 1:
                found = "no longer occurs" if count == 0 else f"occurs {count} times"
                raise MutantError(
                    f"mutant {self.name} ({self.where or 'catalogue'}): its edit's old text {old!r} {found} in "
                    f"{edited}; update the edit to {edited}'s current text"
                )
            text = text.replace(old, new)
        return text


@dataclass
class Catalogue:
    """The variants of one reference: ``problems`` are one-line errors of lines that were skipped."""

    MUTANTS: list[Mutant]
    ALTERNATIVES: list[Mutant]
    problems: list[str]


def parse_line(line: str, where: str, folder: Path) -> Mutant:
    """One table line as a :class:`Mutant`; raises :class:`MutantError` for a malformed line."""
    fields = [f.strip() for f in line.split(" | ")]
    if len(fields) < 3:
        raise MutantError(f"{where}: expected 'name | old -> new | check' (fields separated by ' | '), got {line.strip()!r}")
    name, edit, check = fields[0], " | ".join(fields[1:-1]), fields[-1]
    if not name.isidentifier():
        raise MutantError(f"{where}: the mutant name {name!r} must be an identifier")
    caught_by = None if check == CORRECT else check
    parts = edit.split(EDIT_SEPARATOR)
    text = None
    if parts[0].startswith("file:"):  # a whole module, maybe edited further like the reference
        path = folder / parts.pop(0)[len("file:"):].strip()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise MutantError(f"mutant {name} ({where}): {path} cannot be read; fix its file: path") from None
    edits = []
    for part in parts:
        if part.count(EDIT_ARROW) != 1:
            raise MutantError(f"mutant {name} ({where}): each edit must be 'old -> new' with one ' -> ', got {part!r}")
        old, new = (side.strip().replace(NEWLINE, "\n") for side in part.split(EDIT_ARROW))
        edits.append((old, new))
    return Mutant(name, edit, tuple(edits), caught_by, text, where=where)


def parse_table(text: str, source: str = "mutants", folder: Path = Path(".")) -> Catalogue:
    """All lines of a table (blank lines and ``#`` comments skipped); bad lines become problems."""
    catalogue = Catalogue([], [], [])
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            mutant = parse_line(line, f"{source} line {number}", folder)
        except MutantError as exc:
            catalogue.problems.append(str(exc))
            continue
        if mutant.name in seen:
            catalogue.problems.append(f"{source} line {number}: mutant {mutant.name} is listed twice")
            continue
        seen.add(mutant.name)
        (catalogue.ALTERNATIVES if mutant.caught_by is None else catalogue.MUTANTS).append(mutant)
    return catalogue


def read_table(path: Path) -> Catalogue:
    """Parse the mutant table at ``path`` (``file:`` paths are relative to its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return Catalogue([], [], [f"cannot read the mutant table {path}: {exc.strerror or exc}"])
    return parse_table(text, path.name, path.parent)

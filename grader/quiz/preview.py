"""Preview for students: how an answer was understood, never whether it is right (STACK's
validation step), so nobody loses points to a typo in notation.

This module, :mod:`.parse`, :mod:`.guard` and the quiz's notation and symbols are all the
released quiz notebook embeds (:mod:`.student_cell`): it must not import keys, misconceptions or
references.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.quiz.guard import AnswerTimeout, time_limit
from grader.quiz.parse import AnswerError, Notation, parse_answer


@dataclass(frozen=True, eq=False)
class Previewer:
    """The preview of one quiz: its ``notation`` and each question's symbols (``symbols_of``)."""

    notation: Notation
    symbols_of: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def _parse(self, answer: object):
        with time_limit(2.0):
            return parse_answer(answer, self.notation)

    def understood(self, answer: object, name: str | None = None) -> str:
        """Plain-text description of how ``answer`` is read: expression, LaTeX and symbols found.

        ``name`` (an answer name) adds a note when a symbol is not one of that question's symbols.
        """
        prefix = f"{name}: " if name else ""
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            return f"{prefix}no answer yet"
        try:
            parsed = self._parse(answer)
        except AnswerError as exc:
            return f"{prefix}not understood: {exc}"
        except AnswerTimeout:
            return f"{prefix}not understood: reading it took too long; write it in a simpler form"
        lines = [
            f"{prefix}understood as {parsed.text}",
            f"  LaTeX: {parsed.latex}",
            f"  symbols found: {', '.join(sorted(parsed.names)) or 'none'}",
        ]
        lines += [f"  note: {note}" for note in parsed.notes]
        symbols = self.symbols_of.get(name or "")
        if symbols is not None:
            foreign = sorted(parsed.names - set(symbols))
            if foreign:
                lines.append(f"  note: {', '.join(foreign)} is not among this question's symbols "
                             f"({', '.join(symbols)})")
        return "\n".join(lines)

    def preview(self, answer: object, name: str | None = None) -> None:
        """Show how ``answer`` is understood: rendered LaTeX in Jupyter, plain text elsewhere."""
        text = self.understood(answer, name)
        try:
            from IPython import get_ipython
            from IPython.display import Math, display
        except ImportError:
            print(text)
            return
        if get_ipython() is None or "understood as" not in text:
            print(text)
            return
        parsed = self._parse(answer)
        label = latex_label(name) + r":\quad " if name else ""
        display(Math(label + parsed.latex))
        print("\n".join(text.splitlines()[2:]))


def latex_label(name: str) -> str:
    r"""An answer name as LaTeX for MathJax: ``\mathtt{an\_answer}`` (a bare ``_`` would start a
    subscript, and ``\texttt`` is text mode, where MathJax rejects it)."""
    return r"\mathtt{" + name.replace("\\", "").replace("_", r"\_") + "}"

"""Preview for students: how an answer was understood, never whether it is right (STACK's
validation step), so nobody loses points to a typo in notation."""

from __future__ import annotations

from grader.quiz.guard import AnswerTimeout, time_limit
from grader.quiz.parse import AnswerError, parse_answer
from grader.quiz.questions import QUESTIONS


def _parse(answer: object):
    with time_limit(2.0):
        return parse_answer(answer)


def understood(answer: object, name: str | None = None) -> str:
    """Plain-text description of how ``answer`` is read: expression, LaTeX and symbols found.

    ``name`` (an answer name) adds a note when a symbol is not one of that question's symbols.
    """
    prefix = f"{name}: " if name else ""
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return f"{prefix}no answer yet"
    try:
        parsed = _parse(answer)
    except AnswerError as exc:
        return f"{prefix}not understood: {exc}"
    except AnswerTimeout:
        return f"{prefix}not understood: reading it took too long; write it in a simpler form"
    lines = [
        f"{prefix}understood as {parsed.text}",
        f"  LaTeX: {parsed.latex}",
        f"  symbols found: {', '.join(sorted(parsed.names)) or 'none'}",
    ]
    question = QUESTIONS.get(name or "")
    if question is not None:
        foreign = sorted(parsed.names - set(question.symbols))
        if foreign:
            lines.append(f"  note: {', '.join(foreign)} is not among this question's symbols "
                         f"({', '.join(question.symbols)})")
    return "\n".join(lines)


def preview(answer: object, name: str | None = None) -> None:
    """Show how ``answer`` is understood: rendered LaTeX in Jupyter, plain text elsewhere."""
    text = understood(answer, name)
    try:
        from IPython import get_ipython
        from IPython.display import Math, display
    except ImportError:
        print(text)
        return
    if get_ipython() is None or "understood as" not in text:
        print(text)
        return
    parsed = _parse(answer)
    label = rf"\texttt{{{name}}}:\quad " if name else ""
    display(Math(label + parsed.latex))
    print("\n".join(text.splitlines()[2:]))

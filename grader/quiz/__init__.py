"""The Quiz 8 grader: untrusted text or LaTeX answers, checked symbolically with SymPy.

Answers are never executed: :mod:`grader.quiz.parse` reads them with its own tokenizer and an
``ast`` whitelist and builds the SymPy expression itself. Keys are derived (:mod:`.keys`), not
typed; :mod:`.grade` compares against them and names the usual misconceptions.
"""

from __future__ import annotations

from typing import Any

#: The answer names, in grading order (contract: docs/architecture.md).
ANSWER_NAMES: tuple[str, ...] = (
    "forward",
    "backward",
    "forward_inverted",
    "backward_inverted",
    "O11",
    "O12",
    "O21",
    "O22",
    "Hout",
    "Wout",
    "expectation",
    "variance",
)

#: The output of an answer left blank (the class report counts these apart from mistakes).
NO_ANSWER = "no answer given"


def understood_expr(latex: str) -> Any:
    """The SymPy expression of an answer's "as understood" LaTeX, or ``None`` if it can't be read.

    Used by the feedback pages to render MathML; it accepts any of the quiz's symbols.
    """
    from grader.quiz.parse import AnswerError, parse_answer

    try:
        return parse_answer(latex).expr
    except AnswerError:
        return None

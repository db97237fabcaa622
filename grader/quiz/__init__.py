"""The quiz engine: untrusted text or LaTeX answers, checked symbolically with SymPy.

A quiz is data in its course definition (:mod:`.questions`, docs/authoring.md "A quiz as
data"): questions, symbols and notation, domains, keys given or derived from reference code,
named misconceptions. Answers are never executed: :mod:`.parse` reads them with its own
tokenizer and an ``ast`` whitelist and builds the SymPy expression itself; :mod:`.grade`
compares them with the keys (:mod:`.keys`) on each question's domain (:mod:`.equivalence`).
"""

from __future__ import annotations

from typing import Any

#: The output of an answer left blank (the class report counts these apart from mistakes).
NO_ANSWER = "no answer given"


def quiz_of(assignment):
    """The :class:`~grader.quiz.questions.Quiz` of a quiz assignment (see :mod:`.questions`)."""
    from grader.quiz.questions import quiz_of as load

    return load(assignment)


def understood_expr(latex: str) -> Any:
    """The SymPy expression of an answer's "as understood" LaTeX, or ``None`` if it can't be read.

    Used by the feedback pages to render MathML; it accepts the symbols of any quiz of the
    course definition in use.
    """
    from grader import assignments
    from grader.definition import DefinitionError
    from grader.quiz.parse import AnswerError, parse_answer

    for assignment in list(assignments.ASSIGNMENTS.values()):
        if assignment.kind != "quiz":
            continue
        try:
            return parse_answer(latex, quiz_of(assignment).notation).expr
        except (AnswerError, DefinitionError):
            continue
    return None

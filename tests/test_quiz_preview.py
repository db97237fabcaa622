"""The quiz preview says how an answer was understood, never whether it is right."""

from __future__ import annotations

import pytest

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz import understood_expr
from grader.quiz.parse import parse_answer
from grader.quiz.preview import Previewer

QUIZ = quiz_of(builtin().assignments["quiz"])
NOTATION = QUIZ.notation
_PREVIEWER = Previewer(NOTATION, {q.name: q.symbols for q in QUIZ.questions.values()})
preview, understood = _PREVIEWER.preview, _PREVIEWER.understood

VERDICT_WORDS = ("right", "correct", "wrong", "incorrect", "point", "misconception", "expected")


@pytest.mark.parametrize("answer", ["D*Y/p", "D*Y", "p*D*Y", "Y/(1-p)"])
def test_preview_gives_no_verdict(answer):
    text = understood(answer, "forward_inverted")
    assert text.startswith("forward_inverted: understood as ")
    assert "LaTeX: " in text and "symbols found: " in text
    assert not any(word in text.lower() for word in VERDICT_WORDS)


def test_preview_reads_notation():
    text = understood(r"\frac{\partial L}{\partial H} \odot \frac{D}{p}", "backward_inverted")
    assert "understood as D*dLdH/p" in text and "symbols found: D, dLdH, p" in text
    assert r"\frac{\partial L}{\partial H}" in text


def test_preview_reports_what_was_not_understood():
    assert understood("D*y", "forward") == (
        "forward: not understood: 'y' is not a symbol of this quiz (its symbols: "
        + understood("D*y").split("(its symbols: ", 1)[1]
    )
    assert understood("", "forward") == "forward: no answer yet"


def test_preview_notes_symbols_from_another_question():
    assert "note: stride is not among this question's symbols" in understood("D*Y/stride", "forward")


def test_preview_prints_outside_jupyter(capsys):
    preview("X₁₁W₁₁ + X₁₂W₁₂", "O11")
    out = capsys.readouterr().out
    assert "understood as W11*X11 + W12*X12" in out


@pytest.mark.parametrize("answer", [
    "D*Y/p", "dLdH*D/p", "X11*W11 + X12*W12", "1 + (H + 2*pad - HH)//stride", "ceil((W - WW)/stride)",
    "Y^2 (1 - p)/p", "Y^2/p - Y^2", "-Y/(2 p^3)", "sqrt(Y^2)/p", "(D*Y)^(1/3)", "D*Y/sqrt(p)",
    "floor(H/stride) + 1",
])
def test_understood_latex_reads_back_as_the_same_expression(answer):
    parsed = parse_answer(answer, NOTATION)
    assert understood_expr(parsed.latex) == parsed.expr


def test_understood_expr_returns_none_for_unreadable_latex():
    assert understood_expr(r"\unknown{x}") is None


def test_answer_labels_are_mathjax_safe_for_every_answer_name():
    import re

    from grader.quiz.preview import latex_label

    for name in QUIZ.names:
        label = latex_label(name)
        assert label.startswith(r"\mathtt{") and label.endswith("}")
        assert not re.search(r"(?<!\\)_", label), label  # a bare _ would be a subscript
        assert label.replace(r"\_", "_")[len(r"\mathtt{"):-1] == name


def test_preview_shows_how_it_read_the_answer():
    text = understood("D*Y = H.", "forward")
    assert "understood as D*Y" in text
    assert "note: the punctuation at the end was ignored" in text
    assert "note: the right-hand side 'H' names what is asked" in text

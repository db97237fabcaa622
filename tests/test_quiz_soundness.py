"""Every verdict is sound and the same on every run, rational answers or not (bounds and the
decision procedure in grader/quiz/equivalence.py's docstring)."""

from __future__ import annotations

import random

import pytest
import sympy

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.equivalence import Comparison, is_rational, proved_equal, seed_for
from grader.quiz.grade import grade_answer
from grader.quiz.parse import AnswerError, parse_answer

QUIZ = quiz_of(builtin().assignments["quiz"])
NOTATION = QUIZ.notation
S = NOTATION.symbols
REAL, SIZES = QUIZ.questions["forward"].domain, QUIZ.questions["Hout"].domain

# (answer name, answer, verdict: True right, False wrong, None undecided and refused)
ABS_FAMILY = [  # |D·Y|/p: equal to the key wherever Y >= 0, so sampling alone accepted it 1 run in 14
    ("forward_inverted", "((D*Y)^2)^(1/2)/p", False),
    ("forward_inverted", r"\sqrt{(D Y)^2}/p", False),
    ("forward_inverted", "D*sqrt(Y^2)/p", False),
    ("backward_inverted", "sqrt(dLdH^2 D^2)/p", False),
]
NON_RATIONAL = [
    ("forward_inverted", "D*Y/sqrt(p^2)", True),  # p > 0: |p| = p
    ("forward_inverted", "D*Y*sqrt(p^2)/p^2", True),  # Abs(p)/p = 1
    ("forward_inverted", "D*Y/p^(2/2)", True),  # x^(2/2) is x
    ("forward_inverted", "D*Y/(p^(1/2))^2", True),
    ("forward_inverted", "D*Y/sqrt(p)", False),
    ("forward_inverted", "((D*Y/p)^3)^(1/3)", None),  # principal cube root of a negative: not decided
    ("forward_inverted", "D*Y*floor(p)/p", False),  # floor(p) = 0 for p < 1; at integer p it is p
    ("forward_inverted", "ceil(p)*D*Y/p", None),  # right on 0 < p <= 1, but not provable: refused
    ("backward_inverted", "sqrt(dLdH^2) D/p", False),
    ("expectation", "sqrt(Y^2)", False),
    ("expectation", "(Y^4)^(1/4)", False),
    ("expectation", "(Y^3)^(1/3)", None),
    ("variance", "sqrt(Y^2)^2 (1 - p)/p", True),
    ("variance", "(Y^2)^(1/2) (Y^2)^(1/2) (1-p)/p", True),
    ("variance", "sqrt(Y^4) (1-p)/p", True),
    ("Hout", "1 + (H + 2*pad - HH)//stride", True),
    ("Hout", "floor((H + 2*pad - HH + stride - 1)/stride) + 1", True),
    ("Hout", "2*floor((H + 2*pad - HH)/(2*stride)) + 1", False),  # right for an even number of steps
    ("Hout", "1 + (H + 2*pad - HH)//stride + floor(1/(pad + 1))", False),  # wrong only when pad = 0
    ("Hout", "sqrt(stride^2) (H + 2 pad - HH)/stride^2 + 1", True),
    ("Wout", "1 + sqrt((W + 2*pad - WW)^2)/stride", True),  # W + 2 pad - WW = k stride >= 0
]
MANY_VARIABLES = [("O11", "sqrt((X11 W11)^2) + X12 W12 + X21 W21 + X22 W22", False)]


def _verdicts(name: str, answer: str, runs: int) -> set:
    question, key = QUIZ.questions[name], QUIZ.keys.values[name]
    parsed = parse_answer(answer, NOTATION)
    return {Comparison(parsed, question.domain, question.symbols, random.Random()).matches(key, symbolic=True)
            for _ in range(runs)}


@pytest.mark.parametrize("name,answer,verdict", ABS_FAMILY)
def test_abs_in_disguise_is_rejected_on_every_unseeded_run(name, answer, verdict):
    assert _verdicts(name, answer, 200) == {verdict}


@pytest.mark.parametrize("name,answer,verdict", NON_RATIONAL + MANY_VARIABLES)
def test_non_rational_answers_get_one_verdict_on_every_unseeded_run(name, answer, verdict):
    assert _verdicts(name, answer, 50 if (name, answer, verdict) not in MANY_VARIABLES else 10) == {verdict}


@pytest.mark.parametrize("name,answer,verdict", ABS_FAMILY + NON_RATIONAL)
def test_graded_verdicts_are_the_same_every_time_and_undecided_ones_say_so(name, answer, verdict):
    results = [grade_answer(QUIZ, name, answer) for _ in range(3)]
    assert len({(r.score, r.status, r.output) for r in results}) == 1
    result = results[0]
    if verdict is True:
        assert (result.status, result.score) == ("passed", 1.0)
    elif verdict is False:
        assert result.status == "failed" and result.score < 1
    else:
        assert (result.status, result.score) == ("error", 0.0) and "cannot decide" in result.output


@pytest.mark.parametrize("answer", ["Abs(p)/p * D*Y/p", "Max(D*Y, 0)/p", "Min(D, 1) Y/p", "exp(log(D*Y/p))",
                                    "D*Y/p^p", "D*Y/p^(1/p)", "sign(Y) D Y/p"])
def test_functions_outside_the_whitelist_are_refused_on_every_run(answer):
    outputs = {grade_answer(QUIZ, "forward_inverted", answer).output for _ in range(3)}
    assert len(outputs) == 1 and next(iter(outputs)).startswith("Not understood: ")
    with pytest.raises(AnswerError, match="is not a function this quiz knows|exponents must be plain numbers"):
        parse_answer(answer, NOTATION)


def test_rational_answers_are_seeded_by_their_text():
    """A rational near miss is rejected by sampling; seeded by the answer, the verdict is fixed."""
    assert seed_for("forward", "D*Y") == seed_for("forward", "D*Y") != seed_for("forward", "D*Y ")
    near_miss = "D*Y/p + D*(Y - 1)*(Y - 2)*(Y - 3)/10^6"
    assert {grade_answer(QUIZ, "forward_inverted", near_miss).output for _ in range(5)} == {
        grade_answer(QUIZ, "forward_inverted", near_miss).output}


@pytest.mark.parametrize("expr,rational", [
    (S["D"] * S["Y"] / S["p"], True),
    (S["Y"] ** -2 + 1 / (S["p"] - 1), True),
    (sympy.sqrt(S["Y"] ** 2), False),
    (S["Y"] ** sympy.Rational(1, 3), False),
    (sympy.sqrt(2) * S["Y"], False),  # an irrational constant: exact sampling does not apply
    (sympy.floor(S["H"] / S["stride"]), False),
    (sympy.ceiling(S["p"]), False),
])
def test_rational_functions_are_told_apart(expr, rational):
    assert is_rational(expr) is rational


def test_proofs_use_the_domain():
    assert proved_equal(sympy.sqrt(S["p"] ** 2), S["p"], REAL)  # p > 0
    assert not proved_equal(sympy.sqrt(S["Y"] ** 2), S["Y"], REAL)  # Y real, maybe negative
    assert proved_equal(S["D"] ** 2 * S["Y"], S["D"] * S["Y"], REAL)  # D is 0 or 1
    size = sympy.floor((S["H"] + 2 * S["pad"] - S["HH"]) / S["stride"]) + 1
    assert proved_equal(size, 1 + (S["H"] + 2 * S["pad"] - S["HH"]) / S["stride"], SIZES)  # the stride divides
    assert not proved_equal(size, 1 + (S["H"] + 2 * S["pad"] - S["HH"]) / S["stride"], REAL)
    assert not proved_equal(sympy.floor(S["p"]), 0, REAL)  # 0 < p <= 1 is not an assumption: no proof
    # a size symbol in a real question is just a foreign real variable, not an integer
    assert not proved_equal(sympy.floor(S["H"]) / S["H"], 1, REAL)


def test_an_answer_leaning_on_a_foreign_integer_symbol_is_not_accepted():
    result = grade_answer(QUIZ, "forward_inverted", "D*Y/p * floor(H)/H")
    assert (result.score, result.status) == (0, "failed")  # refuted at a fractional H

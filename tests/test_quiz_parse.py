"""Reading quiz answers: notation is normalised, then only known symbols and arithmetic pass."""

from __future__ import annotations

import re

import pytest
import sympy

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.parse import AnswerError, normalise, parse_answer, tokenize

QUIZ = quiz_of(builtin().assignments["quiz"])
NOTATION = QUIZ.notation
S = NOTATION.symbols
SYMBOL_SUMMARY, ALL_SYMBOLS = NOTATION.summary, NOTATION.names


@pytest.mark.parametrize("text,expected", [
    ("H = D*Y", S["D"] * S["Y"]),
    (r"\frac{\partial L}{\partial Y} = \frac{\partial L}{\partial H} \odot D", S["dLdH"] * S["D"]),
    ("dL/dH", S["dLdH"]),
    ("∂L / ∂H", S["dLdH"]),
    (r"\frac{dL}{dH}", S["dLdH"]),
    (r"\frac{\mathrm{d}L}{\mathrm{d}H}", S["dLdH"]),
    ("2dL/dH", 2 * S["dLdH"]),
    ("X₁₁W₁₁", S["X11"] * S["W11"]),
    (r"X_{11}W_{11}", S["X11"] * S["W11"]),
    ("X_11 W_11", S["X11"] * S["W11"]),
    (r"2X_{1,2}", 2 * S["X12"]),
    ("2pad", 2 * S["pad"]),
    ("HH - H", S["HH"] - S["H"]),
    ("(1-p)(1+p)", (1 - S["p"]) * (1 + S["p"])),
    ("Y²", S["Y"] ** 2),
    ("Y^{2}/p", S["Y"] ** 2 / S["p"]),
    (r"\frac12", sympy.Rational(1, 2)),
    (r"\frac{1}{2}Y", S["Y"] / 2),
    ("0.25 Y", S["Y"] / 4),
    (".5Y", S["Y"] / 2),
    ("$Y$", S["Y"]),
    (r"\left( Y \right)", S["Y"]),
    (r"Y \, p", S["Y"] * S["p"]),
    ("Y − p", S["Y"] - S["p"]),
    ("7//2", 3),
])
def test_notation_is_understood(text, expected):
    assert parse_answer(text, NOTATION).expr == expected


def test_implicit_multiplication_is_made_explicit():
    ops = [tok for _, tok in tokenize("W11 X12 + 2(p)Y", NOTATION)]
    assert ops == ["W11", "*", "X12", "+", "2", "*", "(", "p", ")", "*", "Y"]


def test_left_hand_side_is_dropped_before_anything_else():
    assert normalise("E[H] = Y", NOTATION).strip() == "Y"
    assert parse_answer("Var[H] = Y", NOTATION).expr == S["Y"]
    with pytest.raises(AnswerError, match="nothing after"):
        parse_answer("H = ", NOTATION)


def test_numbers_are_exact():
    assert parse_answer("0.1 + 0.2", NOTATION).expr == sympy.Rational(3, 10)


def test_parsed_answer_reports_symbols_and_estimates():
    parsed = parse_answer("(X11 + W11)^3 / p", NOTATION)
    assert parsed.names == {"X11", "W11", "p"}
    assert parsed.degree == 4 and parsed.terms == 8 and not parsed.has_floor
    assert parse_answer("floor(H/stride)", NOTATION).has_floor


def test_symbol_summary_names_every_symbol():
    listed = set(re.findall(r"[A-Za-z]+\d*", SYMBOL_SUMMARY))
    expanded = listed | {f"X{i}{j}" for i in (1, 2, 3) for j in (1, 2, 3)} | {f"W{i}{j}" for i in (1, 2) for j in (1, 2)}
    assert set(ALL_SYMBOLS) <= expanded


@pytest.mark.parametrize("text,message", [
    ("Y[0]", "square brackets"),
    ("x", "'x' is not a symbol"),
    ("W13", "'W13' is not a symbol"),
    ("Y.real", "character '.'"),
    ("Y @ D", "'@' is the matrix product"),
    ("floor Y", "must be followed by brackets"),
    ("floor(Y, 2)", "something other than"),
    (r"\sqrt{Y", "never closed"),
    (r"\unknown{Y}", r"\\unknown"),
    (r"\frac{Y", "never closed"),
    ("Y^p", "exponents"),
    ("Y^11", "exponents"),
    ("Y/0", "divides by zero"),
    ("1" * 31, "30 digits"),
    ("D*Y +", "could not be read"),
])
def test_rejections_say_what_was_not_understood(text, message):
    with pytest.raises(AnswerError, match=message):
        parse_answer(text, NOTATION)

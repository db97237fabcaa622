"""Equivalence by exact sampling, run many times unseeded: near misses are never accepted and
right answers never rejected (bounds in grader/quiz/equivalence.py's docstring)."""

from __future__ import annotations

import random

import pytest

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.equivalence import Comparison
from grader.quiz.parse import parse_answer

QUIZ = quiz_of(builtin().assignments["quiz"])
NOTATION = QUIZ.notation

RUNS = 40


def _matches(name: str, answer: str, symbolic: bool = False) -> bool:
    question = QUIZ.questions[name]
    comparison = Comparison(parse_answer(answer, NOTATION), question.domain, question.symbols, random.Random())
    return comparison.matches(QUIZ.keys.values[name], symbolic=symbolic)


NEAR_MISSES = [
    ("forward_inverted", "D*Y/p + D*(Y - 1)*(Y - 2)*(Y - 3)/10^6"),  # wrong only off {1, 2, 3}
    ("forward_inverted", "D*Y/p + (1 - D)*Y"),  # right when kept, wrong when dropped
    ("variance", "Y^2 (1 - p)/p + (p - 1/2)^2 (p - 1/3)^2 / 10^9"),
    ("Hout", "2*floor((H + 2*pad - HH)/(2*stride)) + 1"),  # right for an even number of steps
    ("Hout", "1 + (H + 2*pad - HH)/stride + floor(1/(pad + 1))"),  # wrong only when pad = 0
    ("Hout", "1 + (H + 2*pad - HH)//stride + floor(1/stride) - 1"),  # right only when stride = 1
    ("Wout", "1 + (W + 2*pad - WW)/stride + (stride - 1)*(stride - 2)"),  # right for stride 1, 2
]


@pytest.mark.parametrize("name,answer", NEAR_MISSES)
def test_near_misses_are_never_accepted(name, answer):
    assert not any(_matches(name, answer) for _ in range(RUNS))


RIGHT_BUT_UNUSUAL = [
    ("forward_inverted", "D*Y*(1 - p)/(p - p^2)"),  # undefined at p = 1: points are redrawn
    ("forward_inverted", "D*(2 - D)*Y/p"),  # D(2 - D) = D for a 0/1 mask
    ("variance", "(Y/p)^2 p - Y^2"),
    ("Hout", "ceil((H + 2*pad - HH)/stride) + 1"),
    ("Wout", "floor((W + 2*pad - WW + stride)/stride)"),
]


@pytest.mark.parametrize("name,answer", RIGHT_BUT_UNUSUAL)
def test_right_answers_are_never_rejected(name, answer):
    assert all(_matches(name, answer) for _ in range(RUNS))


def test_symbolic_shortcut_agrees_with_sampling():
    for name, answer in [("variance", "Y^2/p - Y^2"), ("O11", "X11*W11 + X12*W12 + X21*W21 + X22*W22")]:
        assert _matches(name, answer, symbolic=True) and _matches(name, answer, symbolic=False)


def test_grading_all_answers_is_fast():
    import time

    from grader.extract import extract_answers
    from grader.paths import REPO_ROOT
    from grader.quiz.grade import grade_answers

    answers = extract_answers(REPO_ROOT / "solutions" / "quiz.py", QUIZ.names).answers
    grade_answers(QUIZ, answers)  # one-time key derivation
    wrong = {n: "p" for n in QUIZ.names}
    start = time.process_time()
    for _ in range(3):
        grade_answers(QUIZ, answers)
        grade_answers(QUIZ, wrong)
    assert (time.process_time() - start) / 6 < 0.5

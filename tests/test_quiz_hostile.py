"""Hostile quiz answers are refused quickly, with a clear message and no side effect."""

from __future__ import annotations

import builtins
import random
import time

import pytest

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.grade import grade_answer, grade_answers
from grader.quiz.guard import AnswerTimeout, time_limit
from grader.quiz.parse import AnswerError, parse_answer

QUIZ = quiz_of(builtin().assignments["quiz"])
NOTATION = QUIZ.notation

HOSTILE = [
    ("code injection", "__import__('pathlib').Path('{tmp}/pwned').touch()"),
    ("import statement", "import os; os.system('touch {tmp}/pwned')"),
    ("attribute walk", "().__class__.__bases__[0].__subclasses__()"),
    ("attribute on a symbol", "Y.__class__"),
    ("method call", "D.subs(D, 1)"),
    ("lambda", "lambda: Y"),
    ("subscript", "Y[0]"),
    ("builtins", "eval('1')"),
    ("sympy names", "Symbol('Y') + sympify('2')"),
    ("string literal", "'Y'"),
    ("walrus", "(x := Y)"),
    ("comprehension", "[Y for Y in (1, 2)]"),
    ("huge power", "9**9**9**9"),
    ("huge power, LaTeX", "9^{9^{9^{9}}}"),
    ("symbolic exponent", "Y**p"),
    ("tower of numbers", "((((9**10)**10)**10)**10)**10"),
    ("high degree", "((D*Y)**10)**10"),
    ("deep nesting", "(" * 200 + "Y" + ")" * 200),
    ("deep braces", "{" * 200 + "Y" + "}" * 200),
    ("deep fracs", r"\frac{" * 60 + "Y" + "}{p}" * 60),
    ("unary chain", "-" * 900 + "Y"),
    ("megabyte", "Y+" * 500_000 + "Y"),
    ("long number", "9" * 200),
    ("null byte", "Y\x00"),
    ("NFKC expansion", "\ufdfa" * 900),
    ("LaTeX input", r"\input{/etc/passwd}"),
    ("division by zero", "Y/(p - p)"),
    ("nested roots", "√(" * 25 + "Y" + ")" * 25),
    ("nested numpy roots", "np.sqrt(" * 29 + "p" + ")" * 29),
    ("numpy module walk", "np.random.rand(3)"),
    ("numpy call chain", "np." * 300),
    ("matrix product", "D @ Y"),
    ("unknown function", "exp(log(D*Y/p))"),
]


@pytest.mark.parametrize("label,answer", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_answers_are_refused_quickly_without_side_effects(label, answer, tmp_path):
    answer = answer.replace("{tmp}", str(tmp_path))
    start = time.process_time()
    result = grade_answer(QUIZ, "forward_inverted", answer)
    assert time.process_time() - start < 0.5
    assert result.status == "error" and result.score == 0, result.output
    assert result.output.startswith("Not understood: ")
    assert len(result.output) < 400  # never echoes the whole answer
    assert not (tmp_path / "pwned").exists()


def test_answers_are_never_executed(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("answer text reached eval/exec")

    answers = {"forward": "D*Y", "forward_inverted": r"\frac{D \odot Y}{p}", "Hout": "1 + (H + 2pad - HH)//stride",
               "O11": "X₁₁W₁₁ + X₁₂W₁₂ + X₂₁W₂₁ + X₂₂W₂₂", "variance": "Y^2 (1-p)/p"}
    grade_answers(QUIZ, answers)  # warm caches (key derivation may legitimately use SymPy internals)
    for name in ("eval", "exec"):  # (ast.parse uses compile() to parse only)
        monkeypatch.setattr(builtins, name, refuse)
    results = grade_answers(QUIZ, answers)
    assert sum(r.score for r in results) == len(answers)


def test_random_garbage_never_raises():
    rng = random.Random()
    alphabet = list("DYpHWX123()[]{}+-*/^_=., \\$'\"⊙∂₁²") + [r"\frac", r"\odot", "dL/dH", "pad", "**", "//", "lambda"]
    for _ in range(400):
        answer = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        result = grade_answer(QUIZ, rng.choice(["forward", "O11", "Hout", "variance"]), answer)
        assert result.status in ("passed", "failed", "error")
        assert 0 <= result.score <= result.max_score


@pytest.mark.parametrize("value", [None, 12, b"D*Y", ["D*Y"], {"a": 1}])
def test_non_string_answers(value):
    result = grade_answer(QUIZ, "forward", value)
    assert result.score == 0 and result.status in ("failed", "error")


def test_time_limit_stops_a_runaway_check():
    with pytest.raises(AnswerTimeout):  # the loop never ends by itself: raising is the proof
        with time_limit(0.05):
            while True:
                pass


def test_time_limit_turns_into_an_error_result(monkeypatch):
    import grader.quiz.grade as grade

    def slow(*args):
        while True:
            pass

    monkeypatch.setattr(grade, "TIME_LIMIT", 0.05)
    monkeypatch.setattr(grade, "_judge", slow)
    result = grade.grade_answer(QUIZ, "forward", "D*Y")
    assert result.status == "error" and "took more than" in result.output


def test_parse_errors_say_what_was_not_understood():
    with pytest.raises(AnswerError, match="'q' is not a symbol"):
        parse_answer("q*Y", NOTATION)
    with pytest.raises(AnswerError, match="brackets"):
        parse_answer("(D*Y", NOTATION)
    with pytest.raises(AnswerError, match=r"\\vec"):
        parse_answer(r"\vec{Y}", NOTATION)

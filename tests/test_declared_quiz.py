"""Quiz questions declared as data: loading, equivalence on the declared domain, validation."""

from __future__ import annotations

import pytest

from grader.declared_quiz import check_declared_quiz, grade_question, load_questions
from grader.definition import DefinitionError, load

QUESTIONS = '''
[[question]]
name = "out_size"
title = "output size"
symbols = ["H", "K", "S"]
domain = "sizes"
divides = ["S", "H - K"]
key = "(H - K) / S + 1"
misconceptions = [{ answer = "H / S", message = "the kernel size matters", credit = 0.25 }]

[[question]]
name = "scaled"
symbols = ["x", "p"]
key = "x / p"
points = 2
'''


def _definition(tmp_path, questions=QUESTIONS, answers='out_size = "1 + (H-K)/S"\nscaled = "x/p"\n'):
    (tmp_path / "questions.toml").write_text(questions)
    (tmp_path / "answers.py").write_text(answers)
    (tmp_path / "course.toml").write_text(
        '[[assignment]]\nname = "q"\nkind = "quiz"\nreference = "answers.py"\nquestions = "questions.toml"\n')
    return load(tmp_path).assignments["q"]


def test_questions_load_with_their_defaults(tmp_path):
    first, second = load_questions(_definition(tmp_path).questions_path)
    assert (first.cell, first.points, first.divides) == ("test_out_size", 1.0, ("S", "H - K"))
    assert (second.title, second.domain, second.points) == ("scaled", "real", 2.0)


@pytest.mark.parametrize("text, words", [
    ("[[question]]\nname = 'a'\n", "incomplete or malformed"),
    ("[[question]]\nname = 'a b'\nsymbols = ['x']\nkey = 'x'\n", "must be identifiers"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nkey = 'x'\ndomain = 'complex'\n", "domain must be real or sizes"),
    ("", "declares no [[question]]"),
])
def test_bad_questions_are_one_sentence(tmp_path, text, words):
    (tmp_path / "questions.toml").write_text(text)
    with pytest.raises(DefinitionError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_questions(tmp_path / "questions.toml")


@pytest.mark.parametrize("answer, score", [
    ("(H - K)//S + 1", 1.0), ("(H - K + S)/S", 1.0), ("H/S", 0.25), ("(H - K)/S", 0.0), ("H - K + 1", 0.0),
])
def test_size_answers_are_compared_where_the_stride_divides(tmp_path, answer, score):
    question = load_questions(_definition(tmp_path).questions_path)[0]
    for _ in range(5):  # the sampled points are fresh each time: the verdict must not change
        assert grade_question(question, answer).score == score


def test_real_answers_and_unknown_symbols(tmp_path):
    question = load_questions(_definition(tmp_path).questions_path)[1]
    assert grade_question(question, r"\frac{x}{p}").score == 2.0
    assert grade_question(question, "x*p").score == 0.0
    result = grade_question(question, "x/q")
    assert result.status == "error" and "its symbols: x, p" in result.output


def test_validation_names_what_to_update(tmp_path):
    questions = QUESTIONS.replace('answer = "H / S"', 'answer = "(H - K + S) / S"')
    assignment = _definition(tmp_path, questions, answers='out_size = "H/S"\n')
    lines: list[str] = []
    assert check_declared_quiz(assignment, lines.append) == 3
    assert any("misconception '(H - K + S) / S' is equivalent to the key" in line for line in lines)
    assert any("reference answer out_size: output size scored 0/1" in line and "update answers.py" in line for line in lines)
    assert any("reference answer scaled: scaled scored 0/2" in line and "no answer given" in line for line in lines)
    lines.clear()
    assert check_declared_quiz(_definition(tmp_path), lines.append) == 0 and lines[0].startswith("ok")

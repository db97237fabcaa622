"""Quiz answer keys are derived from the references and SymPy and agree with the typed keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from grader.extract import answers_from_notebook, extract_answers, read_notebook
from grader.paths import REPO_ROOT
from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.grade import grade_answers
from grader.quiz.keys import check_typed_keys

QUIZ = quiz_of(builtin().assignments["quiz"])
SYMBOLS = QUIZ.notation.symbols

NOTEBOOK = REPO_ROOT / "assignments" / "quiz" / "quiz.ipynb"


def typed_reference() -> dict[str, str]:
    return extract_answers(REPO_ROOT / "solutions" / "quiz.py", QUIZ.names).answers


def test_every_answer_has_a_derived_key():
    keys = QUIZ.keys.values
    assert list(keys) == list(QUIZ.names) and len(keys) == 12
    assert QUIZ.keys.derived == set(QUIZ.names)  # none is typed in questions.toml
    assert QUIZ.keys.problems == []
    assert all(isinstance(k, sympy.Expr) for k in keys.values())


def test_solutions_quiz_agrees_with_derived_keys_and_scores_full_marks():
    typed = typed_reference()
    assert set(typed) == set(QUIZ.names)
    assert check_typed_keys(QUIZ, typed) == []
    assert all(r.score == r.max_score for r in grade_answers(QUIZ, typed))


def test_notebook_solution_cells_are_solutions_quiz():
    from_notebook = answers_from_notebook(read_notebook(NOTEBOOK), QUIZ.names).answers
    assert from_notebook == typed_reference()
    assert check_typed_keys(QUIZ, from_notebook) == []


def test_a_wrong_typed_key_is_reported():
    typed = {**typed_reference(), "variance": "Y^2 p (1 - p)", "O12": "X12*W11"}
    problems = check_typed_keys(QUIZ, typed)
    assert [p.split(":")[0] for p in problems] == ["O12", "variance"]
    assert check_typed_keys(QUIZ, {"Hout": "1 + (H + pad - HH)/stride"})
    assert "not understood" in check_typed_keys(QUIZ, {"forward": "D*Y["})[0]


def test_conv_keys_come_from_running_the_reference_on_symbols():
    keys = QUIZ.keys.values
    # cross-correlation: O_ij pairs X_(i+a)(j+b) with W_(1+a)(1+b)
    for i in (1, 2):
        for j in (1, 2):
            terms = sympy.Add.make_args(keys[f"O{i}{j}"])
            assert len(terms) == 4
            for a in (0, 1):
                for b in (0, 1):
                    assert SYMBOLS[f"X{i + a}{j + b}"] * SYMBOLS[f"W{1 + a}{1 + b}"] in terms
    flipped = QUIZ.keys.named["O11_flipped"]  # the misconception's formula, from the reference on the flipped filter
    assert flipped != keys["O11"] and SYMBOLS["X11"] * SYMBOLS["W22"] in sympy.Add.make_args(flipped)


def test_size_key_matches_the_reference_on_fresh_tuples():
    import numpy as np

    from solutions.conv import conv_forward_naive

    keys = QUIZ.keys.values
    H, HH, W, WW, pad, stride = (SYMBOLS[n] for n in ("H", "HH", "W", "WW", "pad", "stride"))
    for h, hh, w, ww, pd, s in [(7, 3, 9, 5, 1, 2), (11, 3, 6, 2, 0, 4), (5, 5, 5, 1, 2, 1)]:
        out, _ = conv_forward_naive(np.zeros((1, 1, h, w)), np.zeros((1, 1, hh, ww)), np.zeros(1), {"stride": s, "pad": pd})
        values = {H: h, HH: hh, W: w, WW: ww, pad: pd, stride: s}
        assert (keys["Hout"].subs(values), keys["Wout"].subs(values)) == out.shape[2:]


def test_dropout_keys_follow_from_the_definitions():
    keys = QUIZ.keys.values
    D, Y, p, dLdH = (SYMBOLS[n] for n in ("D", "Y", "p", "dLdH"))
    assert sympy.simplify(keys["backward_inverted"] - dLdH * sympy.diff(keys["forward_inverted"], Y)) == 0
    assert sympy.simplify(keys["expectation"] - Y) == 0  # inverted dropout preserves the mean
    # Var = E[H^2] - E[H]^2 computed by hand over D in {0, 1}
    second = p * keys["forward_inverted"].subs(D, 1) ** 2
    assert sympy.simplify(keys["variance"] - (second - keys["expectation"] ** 2)) == 0


def test_derivation_leaves_numpy_global_state_alone():
    import numpy as np

    from types import SimpleNamespace

    from grader.definition import load_module

    hook = load_module(REPO_ROOT / "assignments" / "quiz" / "keys.py")
    before = np.random.get_state()[1].copy()
    hook.dropout(SimpleNamespace(dropout=load_module(REPO_ROOT / "solutions" / "dropout.py")), SYMBOLS)
    assert (np.random.get_state()[1] == before).all()


def test_check_solutions_quiz_section_passes():
    from grader.quiz.check import check_quiz

    lines: list[str] = []
    assert check_quiz(builtin().assignments["quiz"], lines.append) == 0, lines


# --- check-solutions must be loud when a typed key is wrong ----------------------------------------

# (its line with the right key, the same line with a wrong key, the answer name). The quiz notebook
# is generated from the typed reference answers (assignments/quiz/quiz.md), so they are the one copy.
WRONG_TYPED_KEYS = [
    ('variance = "Y^2 (1 - p) / p"', 'variance = "Y^2 p (1 - p)"', "variance"),
    ('O12 = "X12*W11 + X13*W12 + X22*W21 + X23*W22"', 'O12 = "X12*W11 + X13*W21 + X22*W12 + X23*W22"', "O12"),
    ('Hout = "1 + (H + 2*pad - HH) / stride"', 'Hout = "1 + (H + pad - HH) / stride"', "Hout"),
]


@pytest.mark.parametrize("right,wrong,answer", WRONG_TYPED_KEYS, ids=[a for _, _, a in WRONG_TYPED_KEYS])
def test_check_solutions_quiz_reports_a_wrong_typed_key(right, wrong, answer, tmp_path):
    """check_quiz reads the quiz's typed reference answers where its definition says: point it at
    a temporary copy with one key changed."""
    import dataclasses

    from grader.assignments import ASSIGNMENTS
    from grader.quiz.check import check_quiz

    original = (REPO_ROOT / "solutions/quiz.py").read_text(encoding="utf-8")
    assert original.count(right) == 1
    (tmp_path / "quiz.py").write_text(original.replace(right, wrong), encoding="utf-8")
    copy = dataclasses.replace(ASSIGNMENTS["quiz"], reference_path=tmp_path / "quiz.py")

    lines: list[str] = []
    assert check_quiz(copy, lines.append) == 1, lines
    surprises = [line for line in lines if line.startswith("SURPRISE")]
    assert len(surprises) == 1 and "quiz keys in quiz.py:" in surprises[0], lines
    problems = surprises[0].split("quiz keys in quiz.py: ", 1)[1].split("; ")
    assert all(problem.startswith(f"{answer}: ") for problem in problems), problems  # the changed answer, only
    assert any("disagrees with the derived key" in problem for problem in problems), problems
    assert (REPO_ROOT / "solutions/quiz.py").read_text(encoding="utf-8").count(right) == 1  # the real file is untouched


# --- a changed reference: one line per question it no longer yields a key for, and the run goes on -----

def _quiz_definition(tmp_path, dropout_source: str):
    """Quiz 8 alone in a definition of its own, with ``solutions/dropout.py`` replaced."""
    import shutil

    from grader.definition import load

    shutil.copytree(REPO_ROOT / "assignments" / "quiz", tmp_path / "assignments" / "quiz")
    (tmp_path / "solutions").mkdir()
    for name in ("quiz.py", "conv.py"):
        shutil.copy(REPO_ROOT / "solutions" / name, tmp_path / "solutions" / name)
    (tmp_path / "solutions" / "dropout.py").write_text(dropout_source, encoding="utf-8")
    course = (REPO_ROOT / "assignments" / "course.toml").read_text(encoding="utf-8")
    (tmp_path / "assignments" / "course.toml").write_text("[[assignment]]" + course.split("[[assignment]]")[-1], encoding="utf-8")
    return load(tmp_path / "assignments").assignments["quiz"]


def test_a_reference_scaling_by_1_01_over_p_is_a_surprise_per_question_without_a_traceback(tmp_path):
    from grader.quiz.check import check_quiz

    original = (REPO_ROOT / "solutions" / "dropout.py").read_text(encoding="utf-8")
    assert original.count("< p) / p") == 1
    assignment = _quiz_definition(tmp_path, original.replace("< p) / p", "< p) * 1.01 / p"))
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) == 6, lines
    surprises = [line for line in lines if line.startswith("SURPRISE")]
    dropout_questions = ["forward", "backward", "forward_inverted", "backward_inverted", "expectation", "variance"]
    assert [line.split(":")[0] for line in surprises] == [f"SURPRISE quiz question {n}" for n in dropout_questions]
    assert all("no key: keys.py:dropout failed (KeyDerivationError: the reference dropout_forward does not scale kept "
               "units by 1/p at p=0.25); update the reference" in line for line in surprises), surprises
    assert sum(line.startswith("ok ") for line in lines) == 1  # the conv keys still agree in the typed answers
    results = grade_answers(quiz_of(assignment), typed_reference())
    assert [r.name.split(":")[0] for r in results if r.status == "error"] == dropout_questions
    assert all("no answer key" in r.output for r in results if r.status == "error")
    assert all(r.score == r.max_score for r in results if r.status != "error")


def test_check_solutions_on_a_changed_reference_prints_surprises_not_a_traceback(tmp_path):
    import subprocess
    import sys

    original = (REPO_ROOT / "solutions" / "dropout.py").read_text(encoding="utf-8")
    _quiz_definition(tmp_path, original.replace("< p) / p", "< p) * 1.01 / p"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "check-solutions", "--definition", str(tmp_path / "assignments")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.stdout.count("SURPRISE quiz question") == 6 and "6 surprise(s)" in proc.stdout, proc.stdout

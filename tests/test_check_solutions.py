"""``grader check-solutions``: quiet on the real catalogue, loud on a planted surprise."""

import dataclasses
import inspect

import pytest

import solutions.dropout as reference
from grader.assignments import ASSIGNMENTS
from grader.check_solutions import check_code_assignment, check_solutions

pytestmark = pytest.mark.e2e  # every mutant through the real sandbox


def test_the_catalogue_behaves_as_named():
    lines: list[str] = []
    assert check_solutions(repeats=1, say=lines.append) == 0, "\n".join(l for l in lines if "SURPRISE" in l)
    for name in ("dropout", "conv"):
        mutants = ASSIGNMENTS[name].mutants()
        caught = [l for l in lines if l.startswith(f"ok       {name} mutant ")]
        assert len(caught) == len(mutants.MUTANTS)
        correct = [l for l in lines if l.startswith(f"ok       {name} ") and "mutant" not in l]
        assert len(correct) == 1 + len(mutants.ALTERNATIVES)


def test_a_planted_surprise_makes_it_fail(tmp_path):
    right = inspect.getsource(reference)
    wrong = right.replace("rand(*x.shape) < p", "rand(*x.shape) > p")
    assert wrong != right
    (tmp_path / "right.py").write_text(right)
    (tmp_path / "wrong.py").write_text(wrong)
    (tmp_path / "mutants.txt").write_text("correct_but_catalogued_as_wrong | file:right.py | keep_rate_matches_p\n"
                                          "wrong_but_catalogued_as_correct | file:wrong.py | correct\n")
    planted = dataclasses.replace(ASSIGNMENTS["dropout"], mutants_path=tmp_path / "mutants.txt")
    lines: list[str] = []
    # one mutant left: the checks it does not fail would be surprises too (tested in test_validation)
    assert check_code_assignment(planted, 1, lines.append, every_check_caught=False) == 2
    surprises = [l for l in lines if l.startswith("SURPRISE")]
    assert len(surprises) == 2
    assert any("correct_but_catalogued_as_wrong passed keep_rate_matches_p" in l for l in surprises)
    assert any("wrong_but_catalogued_as_correct lost points" in l for l in surprises)

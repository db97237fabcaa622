"""``grader check-solutions``: quiet on the real catalogue, loud on a planted surprise."""

import inspect

import pytest

import solutions.dropout as reference
from grader.assignments import ASSIGNMENTS
from grader.check_solutions import check_code_assignment, check_solutions
from solutions.mutants import Mutant
from solutions.mutants import dropout as dropout_mutants

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


def test_a_planted_surprise_makes_it_fail(monkeypatch):
    right = inspect.getsource(reference)
    wrong = right.replace("rand(*x.shape) < p", "rand(*x.shape) > p")
    assert wrong != right
    monkeypatch.setattr(dropout_mutants, "MUTANTS", [
        Mutant("correct_but_catalogued_as_wrong", "", caught_by="keep_rate_matches_p", source_text=right),
    ])
    monkeypatch.setattr(dropout_mutants, "ALTERNATIVES", [Mutant("wrong_but_catalogued_as_correct", "", source_text=wrong)])
    lines: list[str] = []
    # one mutant left: the checks it does not fail would be surprises too (tested in test_validation)
    assert check_code_assignment(ASSIGNMENTS["dropout"], 1, lines.append, every_check_caught=False) == 2
    surprises = [l for l in lines if l.startswith("SURPRISE")]
    assert len(surprises) == 2
    assert any("correct_but_catalogued_as_wrong passed keep_rate_matches_p" in l for l in surprises)
    assert any("wrong_but_catalogued_as_correct lost points" in l for l in surprises)

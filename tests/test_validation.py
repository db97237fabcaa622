"""One validation for every assignment of every course definition in the repository (the built-in
unit, examples/* and tests/definitions/*): references and alternatives score full marks on every run, every mutant
loses points on its named check and scores the same on every run, every check is failed by some
mutant, quiz keys are re-derived. The same code runs in `grader check-solutions --definition`."""

from __future__ import annotations

import pytest

from grader import assignments
from grader.check_solutions import check_assignment
from grader.definition import builtin, load
from grader.paths import REPO_ROOT

pytestmark = pytest.mark.e2e  # every variant also runs once through the real sandbox

DEFINITIONS = [builtin()] + [load(p.parent) for folder in ("examples", "tests/definitions")
                              for p in sorted((REPO_ROOT / folder).glob("*/course.toml"))]
EVERY_ASSIGNMENT = [(d, a) for d in DEFINITIONS for a in d.assignments.values()]


@pytest.mark.parametrize("definition, assignment", EVERY_ASSIGNMENT,
                         ids=[f"{d.root.name}/{a.name}" for d, a in EVERY_ASSIGNMENT])
def test_assignment_validates(definition, assignment):
    lines: list[str] = []
    with assignments.use(definition):
        surprises = check_assignment(assignment, 3, lines.append, mutant_repeats=3)
    assert surprises == 0, "\n".join(line for line in lines if line.startswith("SURPRISE"))
    assert lines and all(line.startswith("ok") for line in lines)


def test_examples_are_found():
    assert {d.root.name for d in DEFINITIONS} >= {"assignments", "maxpool", "noise"}


def test_check_solutions_command_takes_a_definition(capsys):
    from grader.cli import main

    assert main(["check-solutions", "--definition", str(REPO_ROOT / "examples" / "maxpool"), "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "ok       maxpool mutant dout_to_every_tied_maximum: caught by tied_maxima_share_dout" in out
    assert "dropout" not in out

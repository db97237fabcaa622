"""The dropout battery's statistical checks, run many times unseeded.

Each statistical check documents a false-failure bound below 1e-9 for correct code; these runs
would expose a wrong bound or an off-by-a-lot threshold. They also show the thresholds keep a
wide margin on the mutants those checks exist for: every run catches them.
"""

import inspect

import numpy as np
import pytest

import solutions.dropout as reference
from grader.checks import dropout as checks
from grader.checks.base import run_battery, run_check
from grader.student import InProcessStudent
from solutions.mutants.dropout import ALTERNATIVES, MUTANTS

REFERENCE_RUNS = 200
ALTERNATIVE_RUNS = 30  # per alternative; 8 alternatives, so 240 more runs in all
MUTANT_RUNS = 100  # of the one check that must catch the mutant
STATISTICAL = {
    "keep_rate_matches_p",
    "expectation_is_preserved",
    "units_dropped_independently",
    "different_seeds_differ",
    "unseeded_calls_differ",
}
# Deterministic for correct code, but they catch their mutants only with high probability.
CATCH_BY_CHANCE = STATISTICAL | {"backward_reuses_forward_mask"}


def _failures(source: str, runs: int) -> list[str]:
    rng = np.random.default_rng()  # unseeded: fresh hidden data on every run
    failures = []
    for _ in range(runs):
        results = run_battery(checks.BATTERY.checks, InProcessStudent.from_source(source), rng)
        failures += [f"{r.name}: {r.output}" for r in results if r.status != "passed"]
    return failures


def test_reference_never_loses_points():
    assert _failures(inspect.getsource(reference), REFERENCE_RUNS) == []


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda m: m.name)
def test_alternative_never_loses_points(alternative):
    assert _failures(alternative.source(reference), ALTERNATIVE_RUNS) == []


def test_statistical_checks_are_the_ones_listed():
    ids = {c.id for c in checks.BATTERY.checks}
    assert STATISTICAL <= ids
    for check_id in STATISTICAL:  # each must state its bound where a reviewer reads it
        assert "False failure" in checks.BATTERY.by_id(check_id).fn.__doc__


@pytest.mark.parametrize(
    "mutant", [m for m in MUTANTS if m.caught_by in CATCH_BY_CHANCE], ids=lambda m: m.name
)
def test_statistical_mutant_is_caught_every_time(mutant):
    check = checks.BATTERY.by_id(mutant.caught_by)
    student = InProcessStudent.from_source(mutant.source(reference))
    rng = np.random.default_rng()
    with np.errstate(all="ignore"):
        statuses = [run_check(check, student, rng).status for _ in range(MUTANT_RUNS)]
    assert "passed" not in statuses

"""The dropout battery's statistical checks, run many times unseeded.

Each statistical check documents a false-failure bound below 1e-9 for correct code; these runs
would expose a wrong bound or an off-by-a-lot threshold. They also show the thresholds keep a
wide margin on the mutants those checks exist for: every run catches them. And a wrong submission
loses the same points on every run: each catalogued mutant (and a mask drawn over any subset of
the axes) gets exactly one outcome, and the bounds behind that are recomputed from the battery's
own sizes and tolerances.
"""

import inspect
import math

import numpy as np
import pytest

import solutions.dropout as reference
from grader import assignments
from grader.checks.base import run_battery, run_check
from grader.student import InProcessStudent
from grader.definition import load_module
from grader.layercheck.stochastic import discordance_bound, hoeffding, line_shapes, permutation_bound

checks = load_module(assignments.get("dropout").checks_path)
MUTANTS, ALTERNATIVES = assignments.get("dropout").mutants().MUTANTS, assignments.get("dropout").mutants().ALTERNATIVES

REFERENCE_RUNS = 200
ALTERNATIVE_RUNS = 30  # per alternative; 8 alternatives, so 240 more runs in all
MUTANT_RUNS = 100  # of the one check that must catch the mutant
STATISTICAL = {
    "keep_rate_matches_p",
    "expectation_is_preserved",
    "units_dropped_independently",
    "different_seeds_differ",
    "unseeded_calls_differ",
    # Need a dropped unit (an identity layer has these properties vacuously): see _require_drops.
    "same_seed_same_output",
    "backward_reuses_forward_mask",
    "backward_scales_by_inverse_p",
    "numeric_gradient_matches",
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


# ----------------------------------------------------------------------------------------------
# Same code, same score: every catalogued mutant gets one outcome on every unseeded run.
# ----------------------------------------------------------------------------------------------

#: The mutants whose score used to vary from run to run (row_mask and shared_sample_mask on the
#: rate and expectation checks, randn_mask on the independence check), run the most.
USED_TO_VARY = {"randn_mask", "row_mask", "shared_sample_mask"}
#: Other close calls: masks correlated along some axes, wrong keep rates, and drop_probability,
#: whose mean at p = 0.85 (keep rate 0.15) is the noisiest statistic a mutant must pass.
CLOSE_CALLS = {"column_mask", "channel_mask", "drop_probability", "greater_than_p"}
RUNS = {"used to vary": 200, "close call": 100, "other": 15}


def _outcomes(source: str, runs: int) -> set[tuple[float, frozenset[str]]]:
    rng = np.random.default_rng()  # unseeded
    ids = {c.name: c.id for c in checks.BATTERY.checks}
    seen = set()
    with np.errstate(all="ignore"):
        for _ in range(runs):  # a fresh student per run, as in grading (it keeps every cache it returns)
            results = run_battery(checks.BATTERY.checks, InProcessStudent.from_source(source), rng)
            seen.add((sum(r.score for r in results), frozenset(ids[r.name] for r in results if r.status != "passed")))
    return seen


def test_close_calls_are_catalogued():
    assert USED_TO_VARY | CLOSE_CALLS <= {m.name for m in MUTANTS}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_gets_the_same_score_on_every_run(mutant):
    """One (score, failed checks) on every unseeded run. The "other" mutants draw their masks per
    unit at the right rate, so the correct code's bounds already make their verdicts certain."""
    if mutant.name in USED_TO_VARY:
        runs = RUNS["used to vary"]
    else:
        runs = RUNS["close call" if mutant.name in CLOSE_CALLS else "other"]
    outcomes = _outcomes(mutant.source(reference), runs)
    assert len(outcomes) == 1, sorted((score, sorted(failed)) for score, failed in outcomes)


# Masks drawn over only some axes of the input and broadcast over the rest, beyond the catalogue:
# the three train-mode statistical checks must give each one the same verdict on every run.
AXES_MASKS = {
    "all axes (correct)": "np.random.rand(*x.shape)",
    "one draw in all": "np.random.rand()",
    "first axis": "np.random.rand(x.shape[0], *[1] * (x.ndim - 1))",
    "last axis": "np.random.rand(x.shape[-1])",
    "all but the first": "np.random.rand(*x.shape[1:])",
    "all but the last": "np.random.rand(*x.shape[:-1], 1)",
    "first two": "np.random.rand(*x.shape[:2], *[1] * (x.ndim - 2))",
    "last two": "np.random.rand(*x.shape[-2:])",
}
TRAIN_STATISTICAL = ("keep_rate_matches_p", "expectation_is_preserved", "units_dropped_independently")
AXES_MASK_RUNS = 40


@pytest.mark.parametrize("draw", AXES_MASKS.values(), ids=list(AXES_MASKS))
def test_masks_drawn_over_some_axes_get_one_verdict(draw):
    source = inspect.getsource(reference).replace("np.random.rand(*x.shape)", draw)
    rng = np.random.default_rng()
    verdicts = set()
    for _ in range(AXES_MASK_RUNS):
        student = InProcessStudent.from_source(source)
        verdicts.add(tuple(run_check(checks.BATTERY.by_id(i), student, rng).status for i in TRAIN_STATISTICAL))
    assert len(verdicts) == 1, verdicts
    (verdict,) = verdicts
    correct = draw == AXES_MASKS["all axes (correct)"]
    assert verdict[2] == ("passed" if correct else "failed")  # independence: decided by the mask's axes
    if correct or draw in (AXES_MASKS["first two"], AXES_MASKS["last two"]):  # per unit in 2-D
        assert verdict[:2] == ("passed", "passed")
    else:  # one draw for a whole one-row or one-column input: all or nothing
        assert verdict[:2] == ("failed", "failed")


# ----------------------------------------------------------------------------------------------
# The documented bounds, recomputed from the battery's own sizes and tolerances
# ----------------------------------------------------------------------------------------------

BOUND = 1e-9


def _kl(a: float, q: float) -> float:
    """Relative entropy of Bernoulli(a) from Bernoulli(q)."""
    return a * math.log(a / q) + (1 - a) * math.log((1 - a) / (1 - q))


def test_keep_rate_and_expectation_bounds():
    n, tol = checks.RATE_UNITS, checks.RATE_TOL
    assert len(checks.UNEVEN_P) * 2 * math.exp(-2 * n * tol**2) < BOUND
    assert len(checks.UNEVEN_P) * hoeffding(n, tol) == pytest.approx(len(checks.UNEVEN_P) * 2 * math.exp(-2 * n * tol**2))
    assert min(min(p, 1 - p) for p in checks.UNEVEN_P) > tol  # all-or-nothing is always caught
    n, tol = checks.MEAN_UNITS, checks.EXPECTATION_TOL
    assert sum(2 * math.exp(-2 * n * (tol * p) ** 2) for p in checks.UNEVEN_P) < BOUND
    assert sum(hoeffding(n, tol, 1 / p) for p in checks.UNEVEN_P) < BOUND  # what the block computes
    assert min(1 / p - 1 for p in checks.UNEVEN_P) > tol  # a whole-input keep is >= 1/p - 1 off
    # "p read as the drop probability" keeps q = 1 - p and scales by 1/q: right on average, and it
    # must stay inside the tolerance on every run, also at the smallest q.
    for q in (1 - p for p in checks.UNEVEN_P):
        assert math.exp(-n * _kl(q * (1 + tol), q)) + math.exp(-n * _kl(q * (1 - tol), q)) < BOUND
    for shape, _ in line_shapes(n, 3):  # inputs alternate one row / one column, so both kinds of whole-input masks show
        assert sorted(shape) == [1, n]
    assert {shape for shape, _ in line_shapes(n, len(checks.UNEVEN_P))} == {(1, n), (n, 1)}


def test_independence_bounds():
    shapes, ratio = checks.INDEPENDENCE_SHAPES, checks.INDEPENDENCE_RATIO
    units = math.prod(shapes[0])
    assert {math.prod(s) for s in shapes} == {units}
    assert all(length % 2 == 0 for s in shapes for length in s)  # disjoint pairs cover every unit
    pairs, axes = units // 2, sum(len(s) for s in shapes)
    # Correct mask: 2r(1-r) <= 1/2, so failing needs the fraction differing <= ratio / 2.
    assert axes * math.exp(-2 * pairs * (0.5 - ratio / 2) ** 2) < BOUND
    assert axes * discordance_bound(pairs, 0.5, ratio) == pytest.approx(axes * math.exp(-2 * pairs * (0.5 - ratio / 2) ** 2))
    # Any per-unit mask with keep rate in [0.2, 0.8] passes every time (randn keeps 69% at p = 0.5).
    q_min, a, b = 2 * 0.2 * 0.8, 0.032, 0.02
    assert ratio * (q_min + 2 * b) <= q_min - a
    assert axes * math.exp(-2 * pairs * a**2) + len(shapes) * 2 * math.exp(-2 * 2 * pairs * b**2) < BOUND


def test_mask_following_bounds():
    """_own_masks: a backward pass ignoring its cache guesses the hidden order of M >= 13 distinct
    masks (1/M!); masks drawn over only some axes still get 26 of their own on every run."""
    own = checks.MASK_CALLS // 2
    assert 1 / math.factorial(own) < BOUND
    assert permutation_bound(checks.MASK_CALLS) == 1 / math.factorial(own)
    assert min(checks.MASK_SHAPE) >= 50  # every axis, so every subset of axes, has >= 50 draws
    pairs = math.comb(checks.MASK_CALLS, 2)
    agree = checks.MASK_P**2 + (1 - checks.MASK_P) ** 2  # two independent draws agree
    assert pairs * agree**50 < BOUND
    assert pairs * agree ** math.prod(checks.MASK_SHAPE) < BOUND  # a correct mask


# ----------------------------------------------------------------------------------------------
# Inputs of exactly 0 in the backward scale check: where out is 0 whether the unit was kept or
# not, so a mask rebuilt from out != 0 loses the kept ones' gradient.
# ----------------------------------------------------------------------------------------------

ZERO_RUNS = 300
SHORTCUT = next(m for m in MUTANTS if m.name == "mask_from_output")


def test_zero_inputs_never_fail_the_reference_and_always_catch_the_mask_rebuilt_from_out():
    check = checks.BATTERY.by_id("backward_scales_by_inverse_p")
    rng = np.random.default_rng()  # unseeded: fresh zero places and masks on every run
    right = [run_check(check, InProcessStudent.from_source(inspect.getsource(reference)), rng) for _ in range(ZERO_RUNS)]
    assert [r.output for r in right if r.status != "passed"] == []
    student = InProcessStudent.from_source(SHORTCUT.source(reference))
    wrong = [run_check(check, student, rng) for _ in range(ZERO_RUNS)]
    assert {r.status for r in wrong} == {"failed"}
    assert all("rebuilding the mask from out != 0" in r.output for r in wrong), wrong[0].output


def test_zero_input_bound():
    """A correct layer drops every zero-input unit with
    probability (1 - p)^ZERO_UNITS at the check's p = 0.25, the bound its docstring states."""
    from grader.layercheck.stochastic import miss_bound

    bound = (1 - 0.25) ** checks.ZERO_UNITS
    assert bound < BOUND and miss_bound(checks.ZERO_UNITS, 0.25) == pytest.approx(bound)
    doc = checks.BATTERY.by_id("backward_scales_by_inverse_p").fn.__doc__
    assert f"Computed false-failure bound of this check: {bound:.3g}." in doc
    assert checks.ZERO_UNITS < 100 * 100 // 10  # the nonzero inputs still decide the scale

"""The convolution battery: its trusted reference, the reference solution, alternatives and mutants."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from grader import assignments
from grader.checks.base import run_battery, run_check
from grader.checks.gradients import numeric_gradient, rel_error
from grader.definition import load_module
from grader.student import InProcessStudent, Reply, StudentTimeout
from support import RecordingStudent

ASSIGNMENT = assignments.get("conv")
conv = load_module(ASSIGNMENT.checks_path)  # assignments/conv/checks.py
LAYER = conv.LAYER
reference = ASSIGNMENT.reference()
catalogue = ASSIGNMENT.mutants()
CHECKS = conv.BATTERY.checks
IDS = [c.id for c in CHECKS]
#: Nothing in the battery is statistical (see assignments/conv/checks.py), so repeats only probe fresh draws.
UNSEEDED_RUNS = {"reference": 200}
ALTERNATIVE_RUNS = 20
ALL_CASES = (
    conv.SQUARE + conv.NON_SQUARE + conv.PLAIN + (conv.UNCHANGED,)
    + conv.PADDED + conv.STRIDED + conv.BACKWARD_SHAPES + conv.GRADIENT + conv.ROUNDING
)
#: The mutants that are correct wherever the stride divides evenly (every case but the rounding check's).
EVEN_DIVISION_ONLY = ("assert_even_division", "float_division_checked", "output_size_rounded_up", "im2col_even_division_only")
CROP = "dx = dxp[:, :, pad:pad + H, pad:pad + W]"  # the reference's line that crops dx


def divides(case) -> bool:
    """Whether the stride divides ``H + 2*pad - HH`` and ``W + 2*pad - WW`` evenly."""
    return (case.H + 2 * case.pad - case.HH) % case.stride == 0 == (case.W + 2 * case.pad - case.WW) % case.stride
ARRAY_REPR = (re.compile(r"array\("), re.compile(r"\[\[?\s*-?\d+\.\d+(e[+-]?\d+)?\s+-?\d+\.\d+"))


def _run(source: str, rng: np.random.Generator | None = None):
    return run_battery(CHECKS, InProcessStudent.from_source(source), rng)


def _lost(results) -> set[str]:
    return {check_id for check_id, r in zip(IDS, results) if r.status != "passed"}


def _lost_cells(results) -> set[str]:
    return {r.cell for r in results if r.status != "passed"}


# --- the judge's own reference --------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_vectorised_reference_agrees_with_the_solution(case):
    rng = np.random.default_rng()
    x, w, b, param = LAYER.draw(rng, case)
    out, cache = reference.conv_forward_naive(x, w, b, param)
    assert out.shape == LAYER.out_shape(case)
    assert rel_error(conv.conv(x, w, b, param), out) < 1e-12
    dout = rng.standard_normal(out.shape)
    for mine, theirs in zip(conv.conv_gradient(dout, x, w, b, param), reference.conv_backward_naive(dout, cache)):
        assert mine.shape == theirs.shape and rel_error(mine, theirs) < 1e-12


@pytest.mark.parametrize("case", conv.GRADIENT, ids=str)
def test_vectorised_backward_is_the_numeric_gradient_of_the_forward(case):
    """Independent of solutions.conv: the layer's trusted gradient differentiates its reference."""
    rng = np.random.default_rng()
    x, w, b, param = LAYER.draw(rng, case)
    dout = rng.standard_normal(LAYER.out_shape(case))
    dx, dw, db = conv.conv_gradient(dout, x, w, b, param)
    loss = lambda x_, w_, b_: float(np.sum(conv.conv(x_, w_, b_, param) * dout))
    assert rel_error(dx, numeric_gradient(lambda v: loss(v, w, b), x)) < 1e-7
    assert rel_error(dw, numeric_gradient(lambda v: loss(x, v, b), w)) < 1e-7
    assert rel_error(db, numeric_gradient(lambda v: loss(x, w, v), b)) < 1e-7


# --- battery layout ---------------------------------------------------------------------------------


def test_battery_groups_and_points():
    assert conv.BATTERY.cells() == {
        "test_forward_shape": 2.0, "test_forward_values": 3.0, "test_backward_shapes": 1.0, "test_backward_values": 4.0,
    }
    assert len(set(IDS)) == len(IDS)
    assert all(c.fn.__doc__ for c in CHECKS)


def test_required_configurations_are_covered():
    grads = conv.GRADIENT
    assert any(c.pad == 0 for c in grads)
    assert any(c.stride == 2 and (c.HH > c.stride or c.WW > c.stride) for c in grads)  # overlapping windows
    assert any(c.H != c.W for c in grads) and any(c.HH != c.WW for c in grads)
    shapes = conv.SQUARE + conv.NON_SQUARE
    assert {0, 1, 2} <= {c.pad for c in shapes} and {1, 2, 3} <= {c.stride for c in shapes}
    assert any(c.H != c.W for c in shapes) and any(c.HH != c.WW for c in shapes)
    values = conv.PLAIN + conv.PADDED + conv.STRIDED
    assert any(c.pad > 0 for c in values) and any(c.stride == 2 for c in values)
    for case in ALL_CASES:  # small enough for a student's slow loops
        assert case.N <= 2 and case.C <= 3 and case.H <= 7 and case.W <= 7 and case.F <= 3
    # the stride divides evenly everywhere but in the rounding check, whose cases all round
    assert all(divides(case) for case in ALL_CASES if case not in conv.ROUNDING)
    assert not any(divides(case) for case in conv.ROUNDING)
    # the padding check has no stride, the stride check no padding: one mistake, one check
    assert {c.stride for c in conv.PADDED} == {1} and {c.pad for c in conv.STRIDED} == {0}


# --- correct code scores full marks -----------------------------------------------------------------

CORRECT = [("reference", inspect.getsource(reference))] + [(m.name, m.source(reference)) for m in catalogue.ALTERNATIVES]


def test_catalogue_sizes():
    assert len(catalogue.MUTANTS) >= 12 and len(catalogue.ALTERNATIVES) >= 3
    assert all(m.caught_by is None for m in catalogue.ALTERNATIVES)
    assert len({m.name for m in catalogue.MUTANTS + catalogue.ALTERNATIVES}) == len(catalogue.MUTANTS + catalogue.ALTERNATIVES)


def test_every_check_is_named_by_some_mutant():
    """A check no catalogued mistake needs has not shown it can fail."""
    assert set(IDS) == {m.caught_by for m in catalogue.MUTANTS}


@pytest.mark.parametrize("label,source", CORRECT, ids=[label for label, _ in CORRECT])
def test_correct_code_scores_full_marks_on_every_unseeded_run(label, source):
    rng = np.random.default_rng()
    for _ in range(UNSEEDED_RUNS.get(label, ALTERNATIVE_RUNS)):
        results = _run(source, rng)
        assert all(r.status == "passed" for r in results), [(r.name, r.output) for r in results if r.status != "passed"]
        assert sum(r.score for r in results) == pytest.approx(10.0)


def test_reference_battery_is_cheap():
    """In calls and rounds, which grading pays for in the sandbox; time is measured by
    benchmarks/, never asserted here."""
    student = RecordingStudent.from_source(inspect.getsource(reference))
    for _ in range(3):
        run_battery(CHECKS, student)
    assert student.calls / 3 <= 60  # each call costs a message to the sandbox in real grading
    assert student.rounds == 3 * 2  # forward, then backward: every check's calls share the rounds


FORWARD_CHECKS = [
    "output_shape_matches_formula", "output_shape_non_square", "output_shape_rounds_down", "forward_computes_cross_correlation",
    "forward_zero_pads_every_side", "forward_applies_stride", "forward_leaves_inputs_unchanged",
]
GRADIENT_CHECKS = ["dx_matches_numeric_gradient", "dw_matches_numeric_gradient", "db_matches_numeric_gradient"]


@pytest.mark.parametrize("check_id", IDS)
def test_each_check_needs_one_round_trip_per_dependent_step(check_id):
    """Forward checks: one round; backward checks: forward then backward, never a third (no probe
    calls after the backward pass: see test_checks_cross_call.py)."""
    assert set(FORWARD_CHECKS + GRADIENT_CHECKS + ["backward_shapes_match_inputs"]) == set(IDS)
    student = RecordingStudent.from_source(REF)
    assert run_check(conv.BATTERY.by_id(check_id), student, np.random.default_rng()).status == "passed"
    assert student.rounds == (1 if check_id in FORWARD_CHECKS else 2)
    consistent = RecordingStudent.from_source(next(m for m in catalogue.MUTANTS if m.name == "flipped_kernel_everywhere").source(reference))
    result = run_check(conv.BATTERY.by_id(check_id), consistent, np.random.default_rng())
    if check_id in ("dx_matches_numeric_gradient", "dw_matches_numeric_gradient"):
        assert result.status == "failed" and "true convolution" in result.output
    assert consistent.rounds == student.rounds


# --- every mutant is caught where it should be ----------------------------------------------------


@pytest.mark.parametrize("mutant", catalogue.MUTANTS, ids=lambda m: m.name)
def test_mutant_fails_its_named_check(mutant):
    assert mutant.caught_by in IDS, f"{mutant.name} names an unknown check"
    results = _run(mutant.source(reference))
    assert mutant.caught_by in _lost(results)
    for r in results:
        assert r.status == "passed" or r.output, "a lost check must say why"
        assert not any(p.search(r.output) for p in ARRAY_REPR), r.output


ONE_PROPERTY = [
    "flipped_kernel", "missing_bias", "bias_of_first_filter", "padding_on_one_side", "edge_padding",
    "reflect_padding", "stride_ignored_forward", "db_first_image_only",
    "dx_assigned_not_accumulated", "crop_without_offset", "dw_assigned_not_accumulated", "dw_reset_per_image",
]


@pytest.mark.parametrize("name", ONE_PROPERTY)
def test_a_mistake_costs_the_check_of_the_property_it_breaks_only(name):
    """A missing bias or a flipped filter does not fail the padding, stride or inputs-unchanged
    checks; a padding mistake does not fail the stride check; a forward-only mistake costs no
    gradient check (the backward pass is judged on the cache's inputs)."""
    mutant = next(m for m in catalogue.MUTANTS if m.name == name)
    assert _lost(_run(mutant.source(reference))) == {mutant.caught_by}


@pytest.mark.parametrize("name", EVEN_DIVISION_ONLY)
def test_even_division_costs_the_rounding_check_only(name):
    """Correct code that assumes the stride divides evenly (cs231n's asserts) loses 0.5 of 10."""
    mutant = next(m for m in catalogue.MUTANTS if m.name == name)
    results = _run(mutant.source(reference))
    assert _lost(results) == {"output_shape_rounds_down"}
    assert sum(r.score for r in results) == pytest.approx(9.5)


@pytest.mark.parametrize("name", ["flipped_kernel_everywhere", "stride_ignored_everywhere"])
def test_a_mistake_shared_by_both_passes_costs_both(name):
    """Gradients are judged against the correct layer only, never against the student's own
    forward pass (a submission could choose what its gradient is compared with)."""
    mutant = next(m for m in catalogue.MUTANTS if m.name == name)
    assert _lost(_run(mutant.source(reference))) == {
        mutant.caught_by, "dx_matches_numeric_gradient", "dw_matches_numeric_gradient"}


def test_student_errors_name_the_case_that_raised():
    source = REF.replace("    ### BEGIN SOLUTION\n    Hout", "    if pad == 2:\n        raise ValueError('boom')\n    ### BEGIN SOLUTION\n    Hout", 1)
    assert source != REF
    result = run_check(conv.BATTERY.by_id("forward_zero_pads_every_side"), InProcessStudent.from_source(source),
                       np.random.default_rng())
    assert result.status == "error", result.output
    assert result.output.startswith("conv_forward_naive raised ValueError: boom ")
    assert result.output.endswith(LAYER.describe(conv.PADDED[1])) and "pad 2, stride 1" in result.output
    timeout = StudentTimeout("conv_backward_naive did not finish within 1 s")
    with pytest.raises(StudentTimeout) as raised:  # same class, so the same status ("timeout")
        LAYER.backward_grads(Reply(error=timeout), conv.GRADIENT[1])
    assert str(raised.value) == f"{timeout} {LAYER.describe(conv.GRADIENT[1])}" and str(timeout).endswith("1 s")
    missing = run_check(conv.BATTERY.by_id("dx_matches_numeric_gradient"),
                        InProcessStudent.from_source(REF.split("def conv_backward_naive")[0]), np.random.default_rng())
    assert missing.output == "the submission does not define a function named conv_backward_naive"


def test_consistent_but_wrong_pair_stays_within_the_call_budget():
    student = RecordingStudent.from_source(next(m for m in catalogue.MUTANTS if m.name == "flipped_kernel_everywhere").source(reference))
    run_battery(CHECKS, student)
    assert student.calls <= 60
    assert student.rounds == 2


# --- stubs and malformed replies -------------------------------------------------------------------

STUB = '''
import numpy as np
def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    return np.zeros((N, F, 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s)), (x, w, b)
def conv_backward_naive(dout, cache):
    x, w, b = cache
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
'''


def test_a_stub_with_right_shapes_earns_only_the_shape_points():
    results = _run(STUB)
    assert _lost_cells(results) == {"test_forward_values", "test_backward_values"}
    assert sum(r.score for r in results) == pytest.approx(3.0)
    # gradients of a stub whose forward ignores its inputs are "consistent", and must still fail
    assert {"dx_matches_numeric_gradient", "dw_matches_numeric_gradient", "db_matches_numeric_gradient"} <= _lost(results)


REF = inspect.getsource(reference)


@pytest.mark.parametrize(
    "source,check_id,words",
    [
        (REF.replace("return out, cache", "return [out, cache]"), "output_shape_matches_formula", "tuple"),
        (REF.replace("return out, cache", "return out, cache, 0"), "output_shape_matches_formula", "(out, cache)"),
        (REF.replace("return out, cache", "return out.tolist(), cache"), "output_shape_matches_formula", "numpy array"),
        (REF.replace("return out, cache", "return out[0], cache"), "output_shape_matches_formula", "3 dimensions"),
        (REF.replace("return out, cache", "return out * np.nan, cache"), "forward_computes_cross_correlation", "NaN"),
        (REF.replace("return dx, dw, db", "return dx, dw"), "backward_shapes_match_inputs", "(dx, dw, db)"),
        (REF.replace("return dx, dw, db", "return dx, dw, float(db[0])"), "backward_shapes_match_inputs", "float as db"),
        (REF.replace("return dx, dw, db", "return dx / 0, dw, db"), "dx_matches_numeric_gradient", "NaN"),
        (REF.replace("return dx, dw, db", "return dx, dw, db, None"), "db_matches_numeric_gradient", "(dx, dw, db)"),
    ],
    ids=["list", "three-items", "out-list", "out-3d", "nan-out", "two-grads", "db-float", "nan-dx", "four-grads"],
)
def test_malformed_replies_fail_with_a_clear_message(source, check_id, words):
    with np.errstate(all="ignore"):
        results = _run(source)
    result = results[IDS.index(check_id)]
    assert result.status in ("failed", "error") and words in result.output, result.output


FLIPPED_EVERYWHERE = next(m for m in catalogue.MUTANTS if m.name == "flipped_kernel_everywhere").source(reference)


@pytest.mark.parametrize(
    "source,check_id,status,words",
    [
        # case 1's dx is a flipped kernel's, case 2's is badly shaped: case 1 is reported
        (FLIPPED_EVERYWHERE.replace(CROP, CROP + " if pad == 0 else dxp"),
         "dx_matches_numeric_gradient", "failed", "true convolution (the filter flipped) " + LAYER.describe(conv.GRADIENT[0])),
        # case 1's dx is wrong, case 3's backward raises: case 1 is reported
        (REF.replace("return dx, dw, db", "assert not (pad == 0 and stride == 2)\n    return 2 * dx, dw, db"),
         "dx_matches_numeric_gradient", "failed", "dx is wrong " + LAYER.describe(conv.GRADIENT[0])),
        # case 2's forward reply is unusable, case 1's backward reply too: case 1's backward is reported
        (REF.replace("return out, cache", "return (out, cache) if pad == 0 else (out, cache, 0)")
            .replace("return dx, dw, db", "return dx, dw"),
         "backward_shapes_match_inputs", "failed", "(dx, dw, db)"),
        # case 1's forward reply is unusable: no backward call at all
        (REF.replace("return out, cache", "return (out, cache) if pad else (out, cache, 0)"),
         "backward_shapes_match_inputs", "failed", "(out, cache)"),
        # case 2 (not case 3) is reported when both fail
        (REF.replace("return dx, dw, db", "return (dx if pad == 0 and stride == 1 else 3 * dx), dw, db"),
         "dx_matches_numeric_gradient", "failed", "dx is wrong " + LAYER.describe(conv.GRADIENT[1])),
    ],
    ids=["flipped-then-shape", "wrong-before-error", "backward-before-forward", "first-forward", "second-case"],
)
def test_the_first_failing_case_in_order_is_reported(source, check_id, status, words):
    """Calls of later cases are made early, but cases are judged in order, as when made one by one."""
    result = run_check(conv.BATTERY.by_id(check_id), InProcessStudent.from_source(source), np.random.default_rng())
    assert result.status == status and words in result.output, result.output


def test_missing_function_is_an_error_not_a_crash():
    results = _run(REF.split("def conv_backward_naive")[0])
    assert {r.status for r in results[IDS.index("backward_shapes_match_inputs"):]} == {"error"}
    assert all(r.status == "passed" for r in results[:IDS.index("backward_shapes_match_inputs")])


def test_rel_error_never_lets_non_finite_or_overflowing_values_pass():
    from grader.checks.gradients import rel_error

    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1e308, -1e308]), np.array([1e308, -1e308])) == 0.0
    assert rel_error(np.array([1.7e308]), np.array([1.0e308])) > 0.1  # |a|+|b| overflows without scaling
    assert rel_error(np.array([1e300, 1.0]), np.array([-1e300, 1.0])) == pytest.approx(1.0)
    for bad in (np.nan, np.inf, -np.inf):
        assert rel_error(np.array([bad]), np.array([1.0])) == np.inf
        assert rel_error(np.array([1.0]), np.array([bad])) == np.inf
    assert rel_error(np.array([1e-20]), np.array([0.0])) == pytest.approx(1e-20 / 1e-12)  # the tiny floor


def test_code_that_assumes_an_even_division_is_told_so():
    mutant = next(m for m in catalogue.MUTANTS if m.name == "assert_even_division")
    result = run_check(conv.BATTERY.by_id("output_shape_rounds_down"), InProcessStudent.from_source(mutant.source(reference)),
                       np.random.default_rng())
    assert result.status == "error"
    assert result.output == (f"conv_forward_naive raised AssertionError {LAYER.describe(conv.ROUNDING[0])}. "
                             + conv.ROUNDING_HINT)

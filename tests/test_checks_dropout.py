"""The dropout battery: full marks for correct code, each catalogued mistake caught by its check."""

import inspect
import re

import numpy as np
import pytest

import solutions.dropout as reference
from grader import assignments
from grader.checks.base import run_battery, run_check
from grader.student import InProcessStudent
from support import RecordingStudent

BATTERY = assignments.get("dropout").battery()
MUTANTS, ALTERNATIVES = assignments.get("dropout").mutants().MUTANTS, assignments.get("dropout").mutants().ALTERNATIVES
TOTAL = sum(c.points for c in BATTERY.checks)
CELLS = ("test_forward_shape", "test_train_mode", "test_test_mode", "test_seed", "test_backward")
# What an array (or a list of numbers) looks like when printed: hidden data must never leak.
ARRAY_REPR = re.compile(r"array\(|\[\s*[-+]?\d|\d\s+[-+]?\d+\.\d")


def _run(source: str):
    return run_battery(BATTERY.checks, InProcessStudent.from_source(source), np.random.default_rng())


def _assert_clean(output: str) -> None:
    assert not ARRAY_REPR.search(output), output
    assert len(output) < 600


def test_battery_totals_ten_points_in_the_notebook_groups():
    assert TOTAL == pytest.approx(10.0)
    assert tuple(BATTERY.cells()) == CELLS
    assert all(c.points > 0 for c in BATTERY.checks)


def test_every_check_is_a_generator_of_rng_only():
    for c in BATTERY.checks:
        assert inspect.isgeneratorfunction(c.fn), c.id
        assert list(inspect.signature(c.fn).parameters) == ["rng"], c.id


def test_forward_checks_cost_one_round_trip_and_backward_checks_two():
    source = inspect.getsource(reference)
    for c in BATTERY.checks:
        student = RecordingStudent.from_source(source)
        assert run_check(c, student, np.random.default_rng()).status == "passed", c.id
        assert student.rounds == (2 if c.cell == "test_backward" else 1), c.id
    student = RecordingStudent.from_source(source)
    assert all(r.status == "passed" for r in run_battery(BATTERY.checks, student, np.random.default_rng()))
    assert student.rounds == 2


def test_every_check_is_named_by_some_mutant():
    """A check no mutant fails could be a check that cannot fail."""
    named = {m.caught_by for m in MUTANTS}
    assert {c.id for c in BATTERY.checks} <= named


def test_catalogue_names_are_unique_and_edits_match_the_reference_once():
    names = [m.name for m in MUTANTS + ALTERNATIVES]
    assert len(names) == len(set(names))
    assert len(MUTANTS) >= 12 and len(ALTERNATIVES) >= 5
    text = inspect.getsource(reference)
    for m in MUTANTS + ALTERNATIVES:
        assert m.source_text is not None or m.edits, m.name
        for old, _ in m.edits:
            assert text.count(old) == 1, (m.name, old)
    assert all(m.caught_by is None for m in ALTERNATIVES)


def test_reference_scores_full_marks():
    results = _run(inspect.getsource(reference))
    assert [r.output for r in results if r.status != "passed"] == []
    assert sum(r.score for r in results) == pytest.approx(TOTAL)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda m: m.name)
def test_correct_alternative_scores_full_marks(alternative):
    results = _run(alternative.source(reference))
    assert [(r.name, r.output) for r in results if r.status != "passed"] == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_fails_its_named_check(mutant):
    named = BATTERY.by_id(mutant.caught_by)  # KeyError: the mutant names a check that does not exist
    with np.errstate(all="ignore"):
        results = _run(mutant.source(reference))
    by_name = {r.name: r for r in results}
    assert by_name[named.name].status != "passed", f"{mutant.name} passed {named.id}"
    assert by_name[named.name].output
    assert sum(r.score for r in results) < TOTAL
    for r in results:
        _assert_clean(r.output)


@pytest.mark.parametrize("name, words", [("row_mask", "a single row"), ("shared_sample_mask", "a single column")])
def test_whole_input_masks_are_explained(name, words):
    """A mask drawn per row or shared by the samples keeps all or none of a one-row or one-column
    input: the rate and mean checks say so, and point at one draw per unit."""
    mutant = next(m for m in MUTANTS if m.name == name)
    by_id = {c.name: c.id for c in BATTERY.checks}
    failed = {by_id[r.name]: r.output for r in _run(mutant.source(reference)) if r.status != "passed"}
    assert set(failed) == {"keep_rate_matches_p", "expectation_is_preserved", "units_dropped_independently"}
    for check_id in ("keep_rate_matches_p", "expectation_is_preserved"):
        assert words in failed[check_id] and "np.random.rand(*x.shape)" in failed[check_id]
    assert "kept or dropped together" in failed["units_dropped_independently"]


def test_a_mask_kept_in_a_global_is_told_to_use_the_cache():
    """All forward calls of a battery come before any backward call, so a global mask is always
    another check's; the check for it must still explain the bug rather than report a crash."""
    mutant = next(m for m in MUTANTS if m.name == "global_mask")
    by_id = {c.name: c.id for c in BATTERY.checks}
    failed = {by_id[r.name]: r for r in _run(mutant.source(reference)) if r.status != "passed"}
    reuse = failed["backward_reuses_forward_mask"]
    assert reuse.status == "failed" and "use the mask stored in the cache" in reuse.output
    assert {r.cell for r in failed.values()} == {"test_backward"}


# Hand-written submissions for the reply validation: each must lose points with a clear message.
def _forward_returning(expr: str) -> str:
    return inspect.getsource(reference).replace("return out, cache", f"return {expr}")


@pytest.mark.parametrize(
    "source, words",
    [
        (_forward_returning("out.tolist(), cache"), "returned a list as out, expected a numpy array"),
        (_forward_returning("out"), "should return a tuple"),
        (_forward_returning("out, cache, None"), "should return (out, cache)"),
        (_forward_returning("out.ravel(), cache"), "of shape"),
        (_forward_returning("out * np.nan, cache"), "NaN or infinite"),
        ("def dropout_backward(dout, cache):\n    return dout\n", "does not define a function named dropout_forward"),
        (_forward_returning("np.float64(out.sum()), cache"), "returned a float as out"),
    ],
)
def test_bad_replies_fail_with_a_clear_message(source, words):
    results = _run(source)
    # input_is_unchanged grades only what happened to x, so it may pass
    assert [r.name for r in results if r.status == "passed"] in ([], [BATTERY.by_id("input_is_unchanged").name])
    outputs = [r.output for r in results]
    assert any(words in o for o in outputs), outputs[0]
    for o in outputs:
        _assert_clean(o)


def test_backward_reply_is_validated():
    source = inspect.getsource(reference).replace("return dx", "return [dx]")
    results = {r.cell: r for r in _run(source) if r.status != "passed"}
    assert set(results) == {"test_backward"}
    assert "dropout_backward returned a list as dx" in results["test_backward"].output


def test_student_errors_are_reported_not_raised():
    source = inspect.getsource(reference).replace("dx = dout * mask", "raise RuntimeError('boom')")
    results = [r for r in _run(source) if r.status != "passed"]
    assert results and all(r.status == "error" and r.cell == "test_backward" for r in results)
    assert "RuntimeError: boom" in results[0].output


IDENTITY = '''
def dropout_forward(x, dropout_param):
    return x.copy(), None

def dropout_backward(dout, cache):
    return dout.copy()
'''


def test_a_layer_that_drops_nothing_earns_only_what_it_really_does():
    """An identity 'dropout' is right in test mode and at p = 1, and nothing else: the mask's
    properties (expectation, seeding, backward reuse and scale, gradient) need a mask."""
    results = _run(IDENTITY)
    ids = {c.name: c.id for c in BATTERY.checks}
    passed = {ids[r.name] for r in results if r.status == "passed"}
    assert passed == {
        "output_shape_and_dtype_match_input", "input_is_unchanged", "keep_all_when_p_is_1",
        "test_mode_is_identity", "test_mode_draws_nothing", "backward_test_mode_is_identity",
    }
    nothing_dropped = [r for r in results if "dropped no unit" in r.output]
    assert len(nothing_dropped) == 7
    for r in nothing_dropped:
        _assert_clean(r.output)
    assert sum(r.score for r in results) == 3.5


def _outputs(source: str) -> dict[str, str]:
    by_id = {c.name: c.id for c in BATTERY.checks}
    with np.errstate(all="ignore"):
        return {by_id[r.name]: r.output for r in _run(source) if r.status != "passed"}


def _mutant(name: str) -> str:
    return next(m for m in MUTANTS if m.name == name).source(reference)


@pytest.mark.parametrize(
    "name, check_id, fits, does_not_fit",
    [
        ("randn_mask", "keep_all_when_p_is_1", "normal draw", ("1 - p", "capping", "wrong way")),
        ("capped_p", "keep_all_when_p_is_1", "capping", ("normal draw", "wrong way")),
        ("greater_than_p", "keep_all_when_p_is_1", "wrong way", ("normal draw", "capping")),
        ("drop_probability", "keep_all_when_p_is_1", "by 1 - p", ("normal draw", "capping")),
        ("randn_mask", "keep_rate_matches_p", "normal draw", ("wrong way",)),
        ("greater_than_p", "keep_rate_matches_p", "wrong way", ("normal draw",)),
        ("no_rescale", "kept_units_scaled_by_inverse_p", "not scaling at all", ("instead of dividing", "1 - p")),
        ("scale_by_p", "kept_units_scaled_by_inverse_p", "instead of dividing", ("not scaling", "1 - p")),
        ("scale_by_one_minus_p", "kept_units_scaled_by_inverse_p", "dividing by 1 - p", ("not scaling",)),
        ("no_rescale", "expectation_is_preserved", "not scaling at all", ("wrong fraction",)),
        ("greater_than_p", "expectation_is_preserved", "wrong fraction", ("not scaling",)),
    ],
)
def test_messages_list_only_causes_that_fit_what_was_seen(name, check_id, fits, does_not_fit):
    output = _outputs(_mutant(name))[check_id]
    assert fits in output, output
    assert not any(words in output for words in does_not_fit), output


def test_a_non_finite_output_away_from_p_1_is_not_blamed_on_1_minus_p():
    output = _outputs(_forward_returning("out * np.nan, cache"))["keep_rate_matches_p"]
    assert "NaN or infinite" in output and "1 - p" not in output


def test_student_errors_name_the_call_that_raised():
    source = inspect.getsource(reference).replace("dx = dout * mask", "raise RuntimeError('boom')")
    output = _outputs(source)["backward_scales_by_inverse_p"]
    assert output == ("dropout_backward raised RuntimeError: boom "
                      "(in the backward pass after train mode, p = 0.25, x of shape (100, 100))")
    seeded = _outputs(_forward_returning("out, cache if 'seed' not in dropout_param else 1 / 0"))
    assert "(train mode, p = 0.6, x of shape (50, 100), with a seed)" in seeded["same_seed_same_output"]


def test_vanilla_dropout_passes_no_check_whose_name_promises_1_over_p():
    """A layer that never scales (consistently, in both passes) must not pass a check named for 1/p."""
    failed = _outputs(_mutant("no_rescale"))
    for check in BATTERY.checks:
        if "1/p" in check.name:
            assert check.id in failed, check.name

"""Conv and dropout code written the ways cs231n students write it, which the project had not
seen (tests/student_code/): graded through the command line, each right one earns full marks (an
evenly-dividing-stride assumption loses the rounding check only) and each wrong one loses exactly
the checks of the property it breaks, with a message that names the cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import assignments
from grader.cli import main
from support import records

STUDENTS = Path(__file__).parent / "student_code"

#: assignment -> student -> (checks it must fail, words the first failed check's message must carry)
EXPECTED: dict[str, dict[str, tuple[set[str], str]]] = {
    "conv": {
        "right_batched_manual_padding": (set(), ""),
        "right_einsum_windows": (set(), ""),
        "right_int_of_true_division": (set(), ""),
        "right_im2col_loops_rounded_size": ({"output_shape_rounds_down"}, "stride does not divide"),
        "right_tensordot_over_filters": ({"output_shape_rounds_down"}, "AssertionError: width does not work"),
        "wrong_bias_per_channel": ({"forward_computes_cross_correlation"}, "the bias is not"),
        "wrong_db_averaged_over_images": ({"db_matches_numeric_gradient"}, "db[f] is the sum of dout[:, f]"),
        "wrong_dw_reads_transposed_dout": ({"dw_matches_numeric_gradient"}, "dw is wrong"),
        # one padding bug that shows at pad 0 too: not charged again by the stride and unchanged checks
        "wrong_padding_one_too_many": ({"forward_computes_cross_correlation", "forward_zero_pads_every_side"},
                                       "output values are wrong"),
        # windows dilated by the stride: raises on most strided cases, so every check using them
        "wrong_dilated_windows": ({"output_shape_non_square", "forward_applies_stride", "backward_shapes_match_inputs",
                                   "dx_matches_numeric_gradient", "dw_matches_numeric_gradient",
                                   "db_matches_numeric_gradient"}, "stride 3"),
    },
    "dropout": {
        "right_bool_mask_mode_default": (set(), ""),
        "right_random_sample_dict_cache": (set(), ""),
        "wrong_bool_mask_backward_unscaled": ({"backward_scales_by_inverse_p"}, "multiplied the gradient of kept units by 1"),
        "wrong_scales_only_in_backward": ({"kept_units_scaled_by_inverse_p", "expectation_is_preserved"},
                                          "multiplied kept units by 1"),
        "wrong_seed_after_draw": ({"same_seed_same_output"}, "same dropout_param[\"seed\"]"),
        "wrong_test_mode_divides_by_p": ({"test_mode_is_identity", "backward_test_mode_is_identity"}, "divided by p"),
    },
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def graded(request, tmp_path_factory) -> tuple[str, dict[str, dict]]:
    assignment = request.param
    out = tmp_path_factory.mktemp(assignment) / "results.jsonl"
    assert main(["grade", "--assignment", assignment, str(STUDENTS / assignment), "--json", str(out), "--jobs", "2"]) == 0
    ids = {c.name: c.id for c in assignments.get(assignment).battery().checks}
    by_stem = {}
    for record in records(out):
        by_stem[Path(record["submission"]).stem] = {ids[t["name"]]: t for t in record["tests"]} | {"": record}
    return assignment, by_stem


def test_every_student_is_graded_as_expected(graded):
    assignment, records = graded
    assert sorted(records) == sorted(EXPECTED[assignment])
    for student, (lost, words) in EXPECTED[assignment].items():
        tests = {k: t for k, t in records[student].items() if k}
        failed = {k for k, t in tests.items() if t["status"] != "passed"}
        assert failed == lost, (student, failed)
        record = records[student][""]
        lost_points = sum(t["max_score"] for k, t in tests.items() if k in lost)
        assert record["score"] == pytest.approx(record["max_score"] - lost_points), student
        if lost:
            first = next(t for k, t in tests.items() if k in lost)
            assert words in first["output"], (student, first["output"])


def test_even_stride_assumptions_lose_only_the_rounding_check(graded):
    assignment, records = graded
    if assignment != "conv":
        pytest.skip("conv only")
    rounding = next(c for c in assignments.get("conv").battery().checks if c.id == "output_shape_rounds_down")
    for student in ("right_im2col_loops_rounded_size", "right_tensordot_over_filters"):
        record = records[student][""]
        assert record["max_score"] - record["score"] == pytest.approx(rounding.points)


@pytest.mark.parametrize("assignment,mutant,check,words", [
    ("dropout", "test_mode_scales_by_p", "test_mode_is_identity", "multiplied by p (vanilla dropout's test time"),
    ("dropout", "dropout_in_test_mode", "test_mode_is_identity", "dropped units"),
    ("dropout", "backward_test_mode_scales", "backward_test_mode_is_identity", "multiplied by p"),
    ("conv", "bias_of_first_filter", "forward_computes_cross_correlation", "the bias is not"),
    ("conv", "missing_bias", "forward_computes_cross_correlation", "off by the bias"),
])
def test_messages_name_what_the_code_did(assignment, mutant, check, words):
    """The cause a message gives fits the observation (issue 15): a test mode that divides by p is
    not told it multiplies by p, a bias added C times is not told the windows are wrong."""
    from grader.checks.base import run_battery
    from grader.student import InProcessStudent

    battery = assignments.get(assignment).battery().checks
    catalogue = assignments.get(assignment).mutants()
    reference = assignments.get(assignment).reference()
    source = next(m for m in catalogue.MUTANTS if m.name == mutant).source(reference)
    results = dict(zip((c.id for c in battery), run_battery(battery, InProcessStudent.from_source(source))))
    assert results[check].status == "failed" and words in results[check].output, results[check].output

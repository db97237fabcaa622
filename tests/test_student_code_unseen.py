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
        # written later, without looking at the ones above or the mutant table
        "right_as_strided_dict_cache": (set(), ""),
        "right_dilated_dout_full_correlation": (set(), ""),
        "right_fancy_index_einsum": (set(), ""),
        "right_im2col_matmul": (set(), ""),
        "right_namedtuple_keeps_dtype": (set(), ""),
        "right_seven_loops_scalar": (set(), ""),
        "wrong_backward_ignores_stride_for_dx": ({"dx_matches_numeric_gradient"}, "ignoring the stride"),
        "wrong_bias_added_per_channel_sum": ({"forward_computes_cross_correlation"}, "the bias is not"),
        "wrong_crops_with_minus_pad": ({"backward_shapes_match_inputs", "dx_matches_numeric_gradient"},
                                       "which is empty when pad = 0"),
        "wrong_db_of_last_image": ({"db_matches_numeric_gradient"}, "db[f] is the sum of dout[:, f]"),
        "wrong_dw_averaged_over_batch": ({"dw_matches_numeric_gradient"}, "the right gradient times a constant"),
        "wrong_dx_assigned_not_added": ({"dx_matches_numeric_gradient"}, "'=' instead of '+='"),
        # the padding counted once in the output size: every shape check with a pad, and the padding check
        "wrong_hout_pads_one_side": ({"output_shape_matches_formula", "output_shape_non_square", "output_shape_rounds_down",
                                     "forward_zero_pads_every_side"}, "axis 2 (Hout) is 1 too small"),
        # np.pad(x, pad) pads N and C too: raises wherever pad > 0
        "wrong_np_pad_every_axis": ({"output_shape_matches_formula", "output_shape_non_square", "output_shape_rounds_down",
                                    "forward_zero_pads_every_side", "backward_shapes_match_inputs",
                                    "dx_matches_numeric_gradient", "dw_matches_numeric_gradient",
                                    "db_matches_numeric_gradient"}, "operands could not be broadcast"),
        # its db sums every stride-th output only, so db is wrong too
        "wrong_range_steps_over_outputs": ({"forward_applies_stride", "dx_matches_numeric_gradient",
                                           "dw_matches_numeric_gradient", "db_matches_numeric_gradient"},
                                          "starts at row i*stride"),
        "wrong_reshapes_b_in_place": ({"forward_leaves_inputs_unchanged"}, "changed its input b in place"),
        # square filters only: raises (or broadcasts wrongly) on every case with a non-square filter
        "wrong_square_filters_only": ({"output_shape_non_square", "forward_computes_cross_correlation",
                                      "forward_zero_pads_every_side", "forward_applies_stride",
                                      "backward_shapes_match_inputs", "dx_matches_numeric_gradient",
                                      "dw_matches_numeric_gradient", "db_matches_numeric_gradient"},
                                     "operands could not be broadcast"),
        "wrong_true_convolution_flips_filter": ({"forward_computes_cross_correlation", "dx_matches_numeric_gradient",
                                                "dw_matches_numeric_gradient"}, "computes a true convolution"),
    },
    "dropout": {
        "right_bool_mask_mode_default": (set(), ""),
        "right_random_sample_dict_cache": (set(), ""),
        "wrong_bool_mask_backward_unscaled": ({"backward_scales_by_inverse_p"}, "multiplied the gradient of kept units by 1"),
        "wrong_scales_only_in_backward": ({"kept_units_scaled_by_inverse_p", "expectation_is_preserved"},
                                          "multiplied kept units by 1"),
        "wrong_seed_after_draw": ({"same_seed_same_output"}, "same dropout_param[\"seed\"]"),
        "wrong_test_mode_divides_by_p": ({"test_mode_is_identity", "backward_test_mode_is_identity"}, "divided by p"),
        # written later, without looking at the ones above or the mutant table
        "right_binomial_float32_mask": (set(), ""),
        "right_default_rng_generator": (set(), ""),
        "right_flat_draw_reshaped": (set(), ""),
        "right_p_one_shortcut": (set(), ""),
        "right_randomstate_object": (set(), ""),
        "right_rng_in_markers": (set(), ""),
        "right_restores_global_state": (set(), ""),
        "right_python_random_module": (set(), ""),  # Python's random module, seeded with random.seed
        "wrong_backward_redraws_mask": ({"backward_reuses_forward_mask", "numeric_gradient_matches"},
                                        "use the mask stored in the cache"),
        "wrong_divides_by_p_again_in_backward": ({"backward_scales_by_inverse_p"}, "do not divide again"),
        # one mask for every call: no backward pass can show it follows its own call's mask
        "wrong_mask_cached_globally": ({"different_seeds_differ", "unseeded_calls_differ", "backward_reuses_forward_mask",
                                       "numeric_gradient_matches"}, "not one kept from an earlier call"),
        # written after the zero-input blind spot was found: kept units whose input was 0 lose their gradient
        "wrong_mask_from_output": ({"backward_scales_by_inverse_p"}, "rebuilding the mask from out != 0"),
        "wrong_mask_drawn_before_mode": ({"test_mode_draws_nothing"}, "drew random numbers in test mode"),
        "wrong_mask_shared_by_batch": ({"keep_rate_matches_p", "expectation_is_preserved", "units_dropped_independently"},
                                       "shared by all rows"),
        "wrong_multiplies_input_in_place": ({"input_is_unchanged"}, "x *= mask"),
        "wrong_no_cast_back": ({"output_shape_and_dtype_match_input"}, "cast back with .astype(x.dtype)"),
        "wrong_p_capped_below_one": ({"keep_all_when_p_is_1"}, "capping it below 1"),
        "wrong_pytorch_convention": ({"keep_rate_matches_p", "kept_units_scaled_by_inverse_p", "keep_all_when_p_is_1",
                                     "backward_scales_by_inverse_p"}, "comparing the wrong way"),
        "wrong_seed_zero_ignored": ({"same_seed_same_output"}, "not its truth value"),
        "wrong_vanilla_dropout": ({"kept_units_scaled_by_inverse_p", "expectation_is_preserved", "test_mode_is_identity",
                                  "backward_scales_by_inverse_p", "backward_test_mode_is_identity"}, "vanilla dropout"),
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

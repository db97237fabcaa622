"""Realistic wrong (MUTANTS) and correct-but-different (ALTERNATIVES) dropout implementations.

Each mutant names the check of ``grader.checks.dropout`` that must fail for it; alternatives
must score full marks. Edits apply to ``solutions/dropout.py`` (each ``old`` text occurs once).
Every mutant must also get the same score on every run (tests/test_dropout_statistics.py): the
masks correlated along some axes (``row_mask`` .. ``channel_mask``) are there to prove it.
"""

from __future__ import annotations

from solutions.mutants import Mutant

# Fragments of the reference, named once so the edits below stay readable.
SEEDING = 'if "seed" in dropout_param:\n        np.random.seed(dropout_param["seed"])'
SEED_CALL = 'np.random.seed(dropout_param["seed"])'
DRAW = "np.random.rand(*x.shape)"
MASK = "mask = (np.random.rand(*x.shape) < p) / p"
MASK_AND_OUT = "mask = (np.random.rand(*x.shape) < p) / p\n        out = x * mask"
TEST_OUT = "out = x\n"
CAST = "    out = out.astype(x.dtype, copy=False)\n"
GRAD = "dx = dout * mask"
TEST_GRAD = "dx = dout\n"
READ_P = 'p, mode = dropout_param["p"], dropout_param["mode"]\n'

MUTANTS: list[Mutant] = [
    # --- forward: shape, dtype, input -------------------------------------------------------
    Mutant("dtype_change", "returns float64 for a float32 input (float64 mask, no cast back)",
           ((CAST, ""),), "output_shape_and_dtype_match_input"),
    Mutant("only_2d", "draws the mask as rand(N, D), so only 2-D inputs work",
           ((DRAW, "np.random.rand(x.shape[0], x.shape[1])"),), "output_shape_and_dtype_match_input"),
    Mutant("in_place", "multiplies x in place (x *= mask), changing the caller's array",
           (("out = x * mask", "x *= mask\n        out = x"),), "input_is_unchanged"),
    # --- train mode ---------------------------------------------------------------------------
    Mutant("randn_mask", "normal draw np.random.randn instead of uniform rand (the seed notes' bug)",
           ((DRAW, "np.random.randn(*x.shape)"),), "keep_rate_matches_p"),
    Mutant("greater_than_p", "keeps units where rand > p, i.e. a fraction 1 - p",
           (("< p) / p", "> p) / p"),), "keep_rate_matches_p"),
    Mutant("threshold_one_minus_p", "keeps units where rand < 1 - p (p read as drop probability in the mask only)",
           (("< p) / p", "< 1 - p) / p"),), "keep_rate_matches_p"),
    Mutant("drop_probability", "p read as the DROP probability throughout: keeps 1 - p, scales by 1/(1 - p)",
           ((MASK, "mask = (np.random.rand(*x.shape) >= p) / (1 - p)"),), "keep_rate_matches_p"),
    Mutant("no_rescale", "vanilla dropout: kept units are not divided by p",
           ((MASK, "mask = (np.random.rand(*x.shape) < p) * 1.0"),), "expectation_is_preserved"),
    Mutant("scale_by_p", "multiplies kept units by p instead of dividing",
           ((MASK, "mask = (np.random.rand(*x.shape) < p) * p"),), "kept_units_scaled_by_inverse_p"),
    Mutant("scale_by_one_minus_p", "keeps a fraction p but scales by 1/(1 - p)",
           ((MASK, "mask = (np.random.rand(*x.shape) < p) / (1 - p)"),), "kept_units_scaled_by_inverse_p"),
    Mutant("row_mask", "one draw per row (per sample), broadcast over the other axes",
           ((DRAW, "np.random.rand(x.shape[0], *([1] * (x.ndim - 1)))"),), "units_dropped_independently"),
    Mutant("shared_sample_mask", "one mask of shape x.shape[1:] shared by every sample of the batch",
           ((DRAW, "np.random.rand(*x.shape[1:])"),), "units_dropped_independently"),
    Mutant("column_mask", "one draw per feature (last axis), broadcast over the batch and other axes",
           ((DRAW, "np.random.rand(x.shape[-1])"),), "units_dropped_independently"),
    Mutant("channel_mask", "spatial dropout: one draw per sample and channel, broadcast over the rest",
           ((DRAW, "np.random.rand(*x.shape[:2], *[1] * (x.ndim - 2))"),), "units_dropped_independently"),
    Mutant("capped_p", "caps p at 0.99 'to avoid dividing by zero', so p = 1 still drops and rescales",
           ((READ_P, READ_P + "    p = min(p, 0.99)\n"),), "keep_all_when_p_is_1"),
    # --- test mode ----------------------------------------------------------------------------
    Mutant("dropout_in_test_mode", "applies dropout in test mode too",
           ((TEST_OUT, "out = x * (np.random.rand(*x.shape) < p) / p\n"),), "test_mode_is_identity"),
    Mutant("test_mode_scales_by_p", "vanilla-dropout test time: multiplies by p",
           ((TEST_OUT, "out = x * p\n"),), "test_mode_is_identity"),
    Mutant("mask_drawn_before_mode", "draws the mask before looking at the mode, so test mode consumes random numbers",
           (("    mask = None\n", "    keep = np.random.rand(*x.shape) < p\n    mask = None\n"),
            (MASK, "mask = keep / p")), "test_mode_draws_nothing"),
    # --- seeding ------------------------------------------------------------------------------
    Mutant("ignored_seed", "never seeds, so a given seed does not make the call reproducible",
           ((SEED_CALL, "pass"),), "same_seed_same_output"),
    Mutant("truthy_seed", "tests the seed's truth value, so seed 0 is ignored",
           (('if "seed" in dropout_param:', 'if dropout_param.get("seed"):'),), "same_seed_same_output"),
    Mutant("constant_seed", "always seeds with 0 when a seed is given",
           ((SEED_CALL, "np.random.seed(0)"),), "different_seeds_differ"),
    Mutant("default_seed", "seeds with a default of 0 when no seed is given",
           ((SEEDING, 'np.random.seed(dropout_param.get("seed", 0))'),), "unseeded_calls_differ"),
    # --- backward -----------------------------------------------------------------------------
    Mutant("fresh_mask_in_backward", "draws a new mask in the backward pass",
           ((GRAD, 'p = dropout_param["p"]\n        dx = dout * (np.random.rand(*dout.shape) < p) / p'),),
           "backward_reuses_forward_mask"),
    Mutant("global_mask", "keeps the mask in a module global, so backward uses the latest forward's mask",
           (("out = x * mask\n", "out = x * mask\n        global _last_mask\n        _last_mask = mask\n"),
            (GRAD, "dx = dout * _last_mask")), "backward_reuses_forward_mask"),
    Mutant("backward_forgets_scale", "stores a 0/1 mask and forgets 1/p in the backward pass",
           ((MASK_AND_OUT, "mask = np.random.rand(*x.shape) < p\n        out = x * mask / p"),),
           "backward_scales_by_inverse_p"),
    Mutant("backward_scales_twice", "stores the scaled mask and divides by p again in the backward pass",
           ((GRAD, 'dx = dout * mask / dropout_param["p"]'),), "backward_scales_by_inverse_p"),
    Mutant("backward_test_mode_scales", "multiplies the test-mode gradient by p (vanilla-dropout thinking)",
           ((TEST_GRAD, 'dx = dout * dropout_param["p"]\n'),), "backward_test_mode_is_identity"),
    Mutant("backward_returns_mask", "returns the mask (the local derivative) instead of dout * mask",
           ((GRAD, "dx = mask"),), "numeric_gradient_matches"),
]

REWRITE = '''\
import numpy as np


def dropout_forward(x, dropout_param):
    """cs231n style: boolean keep mask, boolean indexing, a dict cache, copies in test mode."""
    p, mode, seed = dropout_param["p"], dropout_param["mode"], dropout_param.get("seed")
    if mode != "train":
        return x.copy(), {"mode": mode}
    if seed is not None:
        np.random.seed(seed)
    keep = np.random.random_sample(x.shape) < p
    out = np.zeros_like(x)
    out[keep] = x[keep] / np.asarray(p, dtype=x.dtype)
    return out, {"mode": mode, "keep": keep, "scale": 1.0 / p}


def dropout_backward(dout, cache):
    if cache["mode"] != "train":
        return dout.copy()
    dx = np.zeros_like(dout)
    dx[cache["keep"]] = dout[cache["keep"]] * cache["scale"]
    return dx
'''

ALTERNATIVES: list[Mutant] = [
    Mutant("default_rng", "a local np.random.default_rng(seed) generator instead of the global one",
           ((SEEDING, 'rng = np.random.default_rng(dropout_param.get("seed"))'), (DRAW, "rng.random(x.shape)"))),
    Mutant("random_state", "np.random.RandomState(seed) when seeded, the global generator otherwise",
           ((SEEDING, 'gen = np.random.RandomState(dropout_param["seed"]) if "seed" in dropout_param else np.random'),
            (DRAW, "gen.rand(*x.shape)"))),
    Mutant("binomial", "mask drawn with np.random.binomial(1, p)",
           ((f"({DRAW} < p)", "np.random.binomial(1, p, size=x.shape)"),)),
    Mutant("where_bool_mask", "boolean mask stored, np.where in both passes",
           ((MASK_AND_OUT, "mask = np.random.rand(*x.shape) < p\n        out = np.where(mask, x / p, 0)"),
            (GRAD, 'dx = np.where(mask, dout / dropout_param["p"], 0)'))),
    Mutant("unscaled_mask", "0/1 mask of x's dtype stored, 1/p applied in both passes",
           ((MASK_AND_OUT, "mask = (np.random.rand(*x.shape) < p).astype(x.dtype)\n        out = x * mask / p"),
            (GRAD, 'dx = dout * mask / dropout_param["p"]'))),
    Mutant("uniform_at_least_one_minus_p", "keeps units where uniform >= 1 - p (also probability p)",
           ((f"({DRAW} < p)", "(np.random.uniform(size=x.shape) >= 1 - p)"),)),
    Mutant("transposed_draws", "draws in another order (reversed shape, transposed)",
           ((DRAW, "np.random.rand(*x.shape[::-1]).T"),)),
    Mutant("rewrite", "a different structure: boolean indexing, dict cache, copies", source_text=REWRITE),
]

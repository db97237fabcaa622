"""Hidden checks of the dropout assignment (inverted dropout, ``p`` = probability of KEEPING a unit),
composed from grader.layercheck.stochastic (docs/authoring.md, "Layers that draw random numbers").

False failures: each statistical block computes its Hoeffding bound from its sizes (below 1e-9,
else the battery is refused); the comments below add what the blocks cannot know: how likely a
correct layer is to drop no unit of a check's inputs (at most 0.6^2500) and why each catalogued
mistake (mutants.txt) gets the same verdict on every run. Masks correlated along some axes (one
draw per row, one mask shared by all samples) keep each unit with probability p but average only
a few draws, so rates and means are measured on a single row or column (``line_shapes``).

No cross-call verdicts beyond the one the layer needs: a backward check reads which units were
kept off the output of the very forward call whose cache the backward pass gets, judges the
gradient's scale against 1/p (never against the forward pass's own factor), and makes no probe
calls; that the kept units can only come from the cache is certain up to 1/13!
(``backward_follows_draw``). The backward scale check also sets some inputs to exactly 0 (as after a
ReLU), where a kept unit's output is 0 too: a mask rebuilt from ``out != 0`` loses their gradient.
"""

import math

import numpy as np

from grader.layercheck import (
    CheckFailed, RandomLayer, backward_follows_draw, backward_matches_reference, backward_scaled_where, battery,
    ZeroInputs, different_seeds_differ, draws_nothing, entries_independent, input_unchanged, keeps_shape_and_dtype,
    matches_reference, mean_preserved, rate_near, same_seed_same_output, scaled_where, unseeded_calls_differ,
)

FORWARD, BACKWARD = "dropout_forward", "dropout_backward"
RTOL = 1e-6  # float32 rounding in a student's mask is correct
UNEVEN_P = (0.25, 0.6, 0.85)  # keep/drop confusion is invisible at p = 0.5
RATE_UNITS, RATE_TOL = 20_000, 0.03  # per call, on one row or one column
MEAN_UNITS, EXPECTATION_TOL = 30_000, 0.1
INDEPENDENCE_SHAPES = ((240, 200), (12, 20, 20, 10))  # 48,000 units each, every axis even
INDEPENDENCE_RATIO = 0.8  # neighbours must differ at least this fraction as often as independent draws would
MASK_P, MASK_SHAPE, MASK_CALLS = 0.6, (50, 50), 26  # every axis of MASK_SHAPE has >= 50 independent draws
ZERO_UNITS = 500  # inputs of exactly 0 (as after a ReLU) in the backward scale check's 10,000


def param(p, mode="train"):
    return {"p": float(p), "mode": mode}


TRAIN = [param(p) for p in UNEVEN_P]
KEPT = lambda x, out: out != 0  # noqa: E731

LAYER = RandomLayer(
    forward=FORWARD, backward=BACKWARD, param="dropout_param", describe="{mode} mode, p = {p:g}", draw_word="mask",
    affected=lambda x, out: out == 0, rtol=RTOL,
    no_effect="train mode dropped no unit at all (p = {p}), so there is no mask whose {what} could be checked; "
              "this check counts once train mode drops units: draw one random number per unit and keep the unit "
              "where it is below p",
    nonfinite=lambda prm: f"at p = {prm['p']:g} (usually a division by zero, "
                          f"{'by 1 - p, which is 0 at p = 1' if prm['p'] == 1 else 'or an overflow'})",
)

WHOLE_INPUT_HINT = (
    "Keeping all or none of them happens when no mask is applied, or when the mask is drawn once "
    "per row (sample) or shared by all rows: draw one random number per unit, np.random.rand(*x.shape)"
)


def rate_message(prm, rate, described):
    p = prm["p"]
    if rate in (0.0, 1.0):
        return (f"with p = {p}, train mode kept {'every' if rate else 'no'} unit of an input with {described}; it "
                f"should keep about {p:.0%} of them (p is the probability of KEEPING a unit). {WHOLE_INPUT_HINT}")
    causes = []
    if abs(rate - (1 - p)) <= RATE_TOL:
        causes.append("comparing the wrong way (rand > p, or rand < 1 - p, keeps a fraction 1 - p)")
    randn_rate = 0.5 * (1 + math.erf(p / math.sqrt(2)))  # P(N(0, 1) < p)
    if abs(rate - randn_rate) <= RATE_TOL:
        causes.append(f"a normal draw (np.random.randn < p keeps {randn_rate:.0%}) instead of a uniform one")
    cause = ("Usual cause: " + ", or ".join(causes) + "; use np.random.rand(*x.shape) < p." if causes
             else "Keep a unit where a uniform draw is below p: np.random.rand(*x.shape) < p.")
    return (f"with p = {p}, train mode kept {rate:.1%} of units; it should keep about {p:.0%} "
            f"(p is the probability of KEEPING a unit). {cause}")


def scale_cause(p, factor):
    for wrong, cause in ((p, "multiplying by p instead of dividing by it"),
                         (1.0, "not scaling at all (vanilla dropout, which rescales at test time instead)"),
                         (1 / (1 - p), "dividing by 1 - p (p is the probability of KEEPING a unit)"),
                         (1 / p**2, "dividing by p twice")):
        if abs(factor - wrong) <= RTOL * wrong:
            return f" Usual cause: {cause}."
    return ""


def scale_message(prm, median):
    p = prm["p"]
    if median is None:
        return f"with p = {p}, train mode dropped every unit; it should keep a fraction p"
    return (f"with p = {p}, train mode multiplied kept units by {median:.4g}; inverted dropout scales them by "
            f"exactly 1/p = {1 / p:.4g}.{scale_cause(p, median)}")


def mean_message(prm, ratio, out, c, described):
    p = prm["p"]
    if np.all(out == out.flat[0]):
        return (f"with p = {p}, train mode gave every unit of a constant input with {described} the same output, "
                f"{ratio:.2f} times the input; inverted dropout keeps it equal on average (E[out] = x), keeping "
                f"about {p:.0%} of the units and scaling them by 1/p. " + WHOLE_INPUT_HINT)
    kept = out != 0
    factor = float(np.median(out[kept] / c)) if kept.any() else 0.0
    cause = scale_cause(p, factor) if abs(factor - 1 / p) > RTOL / p else (
        " Its kept units are scaled by 1/p, so the mask keeps the wrong fraction of units "
        f"({np.mean(kept):.0%} instead of about {p:.0%}).")
    return (f"with p = {p}, the average train-mode output was {ratio:.2f} times the input; inverted dropout keeps "
            f"it equal on average (E[out] = x).{cause}")


def independence_message(prm, shape, axis, differ, expected, rate):
    if expected == 0.0:
        return (f"in train mode at p = 0.5, {FORWARD} kept {'every' if rate else 'no'} unit of a {len(shape)}-D "
                "input, so no unit was kept or dropped independently of its neighbours: draw one random number "
                "per unit, np.random.rand(*x.shape)")
    return (f"in train mode, neighbouring units along axis {axis} of a {len(shape)}-D input were kept or dropped "
            f"together (only {differ:.0%} of pairs differ; independent draws at your keep rate would make about "
            f"{expected:.0%} differ): draw one random number per unit, np.random.rand(*x.shape), not one per row, "
            "column or sample")


def p_one_message(out, x, prm, words):
    dropped = int(np.count_nonzero(out == 0))
    if dropped:  # the causes differ with what was seen: units dropped, or all kept but rescaled
        share = dropped / x.size
        randn_drops = 0.5 * (1 - math.erf(1 / math.sqrt(2)))  # P(N(0, 1) >= 1)
        if share == 1:
            cause = "comparing the wrong way (rand > p and rand < 1 - p are never true at p = 1)"
        elif abs(share - randn_drops) <= RATE_TOL:
            cause = f"a normal draw (np.random.randn < 1 drops {randn_drops:.0%}) instead of a uniform one"
        elif share <= RATE_TOL:
            cause = "changing p (e.g. capping it below 1 to avoid a division by zero)"
        else:
            cause = "a mask that can drop a unit even at p = 1; keep a unit where np.random.rand(*x.shape) < p"
        return (f"with p = 1, train mode dropped {dropped} of {x.size} units; p is the probability of KEEPING a "
                f"unit, so p = 1 keeps all of them. Usual cause: {cause}")
    factor = out / x
    if LAYER.close(factor, factor.flat[0]):
        return (f"with p = 1, train mode kept every unit but multiplied it by {factor.flat[0]:.4g}, not by 1/p = 1. "
                "Usual causes: scaling by something other than 1/p, or changing p (e.g. capping it below 1)")
    return ("with p = 1, train mode kept every unit but changed their values unevenly; it should return the "
            "input unchanged (the mask keeps every unit and 1/p = 1)")


def test_mode_change(got, given, p):
    """What test mode did instead of the identity (``given`` has no zeros)."""
    if np.any(got == 0):
        return "dropped units (apply the mask in train mode only)"
    ratio = got.astype(np.float64) / given
    scale = float(np.median(ratio))
    if not LAYER.close(ratio, scale):
        return "changed the values by different factors"
    for factor, words in ((p, "multiplied by p (vanilla dropout's test time; inverted dropout has none)"),
                          (1 / p, "divided by p (the 1/p belongs to train mode only)"),
                          (1 / (1 - p), "divided by 1 - p (the 1/p belongs to train mode only)"),
                          (1 - p, "multiplied by 1 - p")):
        if LAYER.close(scale, factor):
            return words
    return f"multiplied by {scale:.4g}"


def follows_mask(x, out, dout, dx, prm):
    if not np.array_equal(dx != 0, out != 0):
        raise CheckFailed(f"{BACKWARD} let gradient through units that the forward pass dropped (or blocked units it "
                          f"kept) {LAYER.words(prm, dx.shape, backward=True)}; use the mask stored in the cache by "
                          "the same forward call, not a new draw or a global variable")


def dout_times_mask(x, out, dout, dx, prm):
    kept = out != 0
    factor = dx[kept] / dout[kept]
    if not (np.all(dx[~kept] == 0) and LAYER.close(factor, float(np.median(factor))) and np.all(factor != 0)):
        raise CheckFailed(f"{BACKWARD} did not return dout times the forward pass's mask "
                          f"{LAYER.words(prm, x.shape, backward=True)}: dx must be 0 where the unit was dropped and "
                          "dout times the same scale 1/p wherever it was kept (the local gradient is the mask; the "
                          "chain rule multiplies it by dout)")


def zero_input_message(prm, ratio):
    p = prm["p"]
    if ratio is None:
        return (f"with p = {p}, {BACKWARD} blocked the gradient of every unit whose input was exactly 0 (common after "
                "a ReLU); a unit the forward pass kept gets dout/p whatever its input, though its output is 0 too. "
                "Usual cause: rebuilding the mask from out != 0 loses kept units whose input was 0; keep the mask in "
                "the cache")
    return (f"with p = {p}, {BACKWARD} multiplied the gradient of units whose input was exactly 0 by {ratio:.4g}; "
            f"it must be 0 where the unit was dropped and 1/p = {1 / p:.4g} where it was kept, whatever the input. "
            "Usual cause: a mask rebuilt from the forward pass's output (e.g. out / x); keep the mask in the cache")


def backward_scale_message(prm, median):
    p = prm["p"]
    if median is None:
        return f"{BACKWARD} blocked the gradient of every unit the forward pass kept"
    return (f"with p = {p}, {BACKWARD} multiplied the gradient of kept units by {median:.4g}; the gradient of "
            f"inverted dropout scales them by 1/p = {1 / p:.4g}, as the forward pass scales the units (if you store "
            "a 0/1 mask, divide by p in the backward pass too; if you store the scaled mask, do not divide again)")


IDENTITY = lambda x, prm: x  # noqa: E731
SEED_HINT = ("when a seed is given, seed the generator with it before drawing the mask (np.random.seed(seed) or "
             'np.random.default_rng(seed)); test with "seed" in dropout_param, not its truth value, since 0 is a valid seed')

BATTERY = battery(
    # -- test_forward_shape
    keeps_shape_and_dtype(
        LAYER, "output_shape_and_dtype_match_input", "dropout_forward returns an array with the input's shape and dtype",
        1.0, "test_forward_shape", ((7,), (5, 6), (3, 4, 5), (2, 3, 4, 5)), (np.float64, np.float32),
        (param(0.6), param(0.6, "test")),
        hint="(a float64 mask times a float32 input gives float64: cast back with .astype(x.dtype))"),
    input_unchanged(
        LAYER, "input_is_unchanged", "dropout_forward leaves its input x unchanged", 0.5, "test_forward_shape",
        (param(0.6), param(0.6, "test")), (20, 30),
        hint="compute a new array (out = x * mask) instead of updating x in place (x *= mask, x[...] = 0)"),
    # -- test_train_mode
    # Same verdict every run: the catalogued wrong rates are >= 0.34 off at p = 0.25 (randn keeps
    # 60%, "> p" and "< 1 - p" keep 75%), so they pass only if their rate strays >= 0.3 from its
    # mean, P <= 2 e^-3600; a mask per row, or shared by all samples, keeps all or none of a
    # one-row (one-column) input and is >= 0.15 off, always.
    rate_near(LAYER, "keep_rate_matches_p", "train mode keeps a fraction p of units", 1.0, "test_train_mode",
              KEPT, lambda prm: prm["p"], TRAIN, n=RATE_UNITS, tol=RATE_TOL, explain=rate_message),
    # Not statistical: it only needs some unit kept (a correct mask drops all 20,000 with
    # probability 0.75^20000; a mask per row or shared by the samples, <= 0.75^100 < 1e-12).
    scaled_where(LAYER, "kept_units_scaled_by_inverse_p", "train mode scales kept units by exactly 1/p", 0.75,
                 "test_train_mode", KEPT, lambda prm: 1.0 / prm["p"], TRAIN, (100, 200), scale_message),
    # out_i / c lies in [0, 1/p]. Same verdict every run: "p read as the drop probability" has the
    # right mean and passes every time (at p = 0.85 its ratio leaves [0.9, 1.1] with probability
    # <= e^-25.7 + e^-27.2 < 1e-11, Chernoff); the other catalogued mistakes are >= 60% off at
    # p = 0.25, P <= 2 exp(-2 n (0.5 p)^2) = 2 e^-937; a mask per row or shared by the samples
    # gives a one-row (one-column) input mean 0 or c/p, always. A correct layer drops none of
    # 30,000 units with probability 0.85^30000.
    mean_preserved(LAYER, "expectation_is_preserved", "train mode preserves the expected value of each unit", 0.75,
                   "test_train_mode", TRAIN, n=MEAN_UNITS, tol=EXPECTATION_TOL, width=lambda prm: 1 / prm["p"],
                   explain=mean_message),
    # 2-D and 4-D inputs of 48,000 units, 24,000 disjoint pairs per axis. Same verdict every run
    # for any mask drawn per unit with keep rate r in [0.2, 0.8] (randn keeps 69% at p = 0.5):
    # P <= 6 exp(-2 * 24000 * 0.032^2) + 4 exp(-2 * 48000 * 0.02^2) < 1e-16.
    entries_independent(
        LAYER, "units_dropped_independently", "train mode drops each unit independently, not whole rows, columns "
        "or samples", 0.5, "test_train_mode", KEPT, param(0.5), 0.5, INDEPENDENCE_SHAPES,
        independence_message, ratio=INDEPENDENCE_RATIO),
    matches_reference(LAYER, "keep_all_when_p_is_1", "train mode with p = 1 returns the input unchanged", 0.5,
                      "test_train_mode", param(1.0), (50, 40), IDENTITY, p_one_message),
    # -- test_test_mode
    matches_reference(
        LAYER, "test_mode_is_identity", "test mode returns the input unchanged", 0.5, "test_test_mode",
        param(0.3, "test"), (40, 50), IDENTITY,
        lambda out, x, prm, words: f"test mode should return x unchanged {words}, but it "
                                   f"{test_mode_change(out, x, prm['p'])}: inverted dropout already rescales in train "
                                   "mode, so test mode is the identity"),
    draws_nothing(LAYER, "test_mode_draws_nothing", "test mode draws no random numbers", 0.5, "test_test_mode",
                  param(0.6, "test"), (20, 30),
                  f"{FORWARD} drew random numbers in test mode; draw the mask only in the train branch, so test "
                  "mode leaves the random generator alone"),
    # -- test_seed: 5,000 units at p = 0.6. A correct layer drops none with probability 0.6^5000;
    # two independent masks agree with probability 0.52^5000; a mask per row (50 rows) or shared
    # by the samples (100 columns) agrees with probability <= 0.52^50 < 1e-14, so passes always.
    same_seed_same_output(
        LAYER, "same_seed_same_output", "train mode with the same seed gives the same output", 0.5, "test_seed",
        param(0.6), (50, 100), 'two train-mode calls with the same dropout_param["seed"] gave different outputs; '
        + SEED_HINT),
    different_seeds_differ(
        LAYER, "different_seeds_differ", "train mode with different seeds gives different masks", 0.5, "test_seed",
        param(0.6), (50, 100), 'two train-mode calls with different dropout_param["seed"] values gave the same '
        "output; seed the generator with the given seed, not a fixed number, and draw a fresh mask on every call "
        "(not one kept from an earlier call, e.g. in a global variable)"),
    unseeded_calls_differ(
        LAYER, "unseeded_calls_differ", "train mode without a seed draws a fresh mask on every call", 0.5,
        "test_seed", param(0.6), (50, 100), "two train-mode calls without a seed gave the same output; seed the "
        'generator only when dropout_param has a "seed" (not with a default such as 0 or 42), and draw a fresh '
        "mask on every call (not one kept from an earlier call, e.g. in a global variable)"),
    # -- test_backward: 26 forward calls on (50, 50) at p = 0.6. A correct layer drops no unit of a
    # call with probability 0.6^2500, two of its masks agree with probability 0.52^2500; a mask
    # drawn over only some axes has >= 50 draws per call, so two calls share a mask with
    # probability <= 0.52^50, < 2.1e-12 for all 325 pairs: it is judged on its backward pass.
    backward_follows_draw(
        LAYER, "backward_reuses_forward_mask",
        "dropout_backward lets the gradient through exactly the units its own forward pass kept", 0.75,
        "test_backward", param(MASK_P), MASK_SHAPE, follows_mask, calls=MASK_CALLS),
    # p = 0.25: p, 1/p, 1/(1 - p) and 1/p^2 all differ. Needs a unit kept and one dropped: a correct
    # layer fails that on the 9,500 nonzero inputs with probability 0.75^9500 + 0.25^9500. At the
    # 500 inputs of exactly 0, where out is 0 whether the unit was kept or not, dx must be 0 or
    # dout/p, and dout/p somewhere: a correct layer drops all 500 with probability 0.75^500 < 1e-62
    # (the computed bound); a mask rebuilt from out != 0 gives 0 at all of them, on every run.
    backward_scaled_where(
        LAYER, "backward_scales_by_inverse_p", "dropout_backward scales the gradient of kept units by 1/p", 0.5,
        "test_backward", KEPT, lambda prm: 1.0 / prm["p"], param(0.25), (100, 100), backward_scale_message,
        zeros=ZeroInputs(ZERO_UNITS, rate=lambda prm: prm["p"], explain=zero_input_message)),
    backward_matches_reference(
        LAYER, "backward_test_mode_is_identity", "dropout_backward in test mode passes the gradient through unchanged",
        0.5, "test_backward", param(0.3, "test"), (30, 40), lambda dout, x, prm: dout,
        lambda dx, dout, prm, words: f"in test mode, {BACKWARD} should return dout unchanged {words}, but it "
                                     f"{test_mode_change(dx, dout, prm['p'])} (test mode is the identity, so its "
                                     "gradient is dout)"),
    # Up to its scale, which backward_scales_by_inverse_p grades (a scale mistake is not charged twice).
    backward_follows_draw(
        LAYER, "numeric_gradient_matches", "dropout_backward returns dout times its forward pass's mask", 0.75,
        "test_backward", param(MASK_P), MASK_SHAPE, dout_times_mask, what="gradient", calls=MASK_CALLS),
)

"""Hidden checks for the dropout assignment (inverted dropout, ``p`` = probability of KEEPING a unit).

Checks never hold the submission: each is a generator of the hidden-input ``rng`` that yields
:class:`grader.student.Call` objects (one, or a list) and judges the
:class:`~grader.student.Reply` objects sent back (see :mod:`grader.checks.base`).
``dropout_forward`` returns ``(out, Handle)`` (the cache stays with the student's code) and a
later yield passes the Handle to ``dropout_backward``. All the calls of a check go out in one
yield, so a forward check costs one round trip and a backward check two. Replies are validated
here, never trusted, and in the order the calls were made, so the first problem is the one
reported (later calls of the same yield have been made anyway).

Statistical checks bound their false-failure probability for a correct implementation in their
docstring, each below 1e-9, with Hoeffding's inequality: for n independent values in an interval
of width w, P(|mean - E[mean]| >= t) <= 2 exp(-2 n t^2 / w^2) (one-sided: without the 2), or,
for 0/1 values with mean q, its sharper Chernoff form P(mean >= q + t) <= exp(-n KL(q + t || q))
(likewise below), KL being the Bernoulli relative entropy.
Inputs are drawn from the ``rng`` the runner passes, so every run sees fresh hidden data.

Same code, same score: a wrong submission must lose the same points on every run, so each
statistical check also bounds, below 1e-9, the chance that a catalogued mutant
(``solutions.mutants.dropout``) gets a different verdict than usual. Correlated masks need care:
a mask drawn once per row, or one mask shared by all samples, keeps each unit with probability p,
but its keep rate on an input of R rows averages only R draws, so it lands near p or not at
random. The rate and expectation checks therefore use inputs with a single row or a single column
(``_one_row_or_column``), where any mask that depends on only some of the axes is either one
independent draw per unit or one draw for the whole input, and the independence check compares
neighbours against the keep rate actually observed; see each check.

No cross-call verdicts beyond the one the layer needs. The mask is the student's own random draw,
so a backward check reads which units were kept off the output of the very forward call whose
cache the backward pass gets; nothing else of a forward reply enters a backward verdict. The
gradient's scale is judged against 1/p, never against the forward pass's own factor (a submission
could pick that factor on the one call whose cache the backward pass gets, as a stateful one did
with the conv checks' probe calls: see grader/checks/conv.py), and no probe calls are made (an
earlier numeric-gradient check made extra seeded forward calls whose outputs the backward pass
could read instead of its cache). That the kept units can only come from the cache is made
certain up to 1/13! by :func:`_own_masks`.

Properties of the mask (expectation, seeding, the backward pass's reuse and scale, the numeric
gradient) are only credited to a layer that drops units in train mode (``_require_drops``): an
identity "dropout" has them vacuously and must not collect their points. A correct layer drops
no unit of a check's inputs with probability at most 0.6^2500; each check says its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.checks.base import Battery, CheckFailed, Steps, value_in_case
from grader.masking import shape_shown
from grader.plain import describe
from grader.student import RNG_FINGERPRINT, Call, Reply

BATTERY = Battery()

FORWARD = "dropout_forward"
BACKWARD = "dropout_backward"
#: Relative tolerance for "exactly" equal values: float32 rounding in a student's mask is correct.
RTOL = 1e-6
#: Keep probabilities for rate and scale checks; keep/drop confusion is invisible at p = 0.5.
UNEVEN_P = (0.25, 0.6, 0.85)
#: Input of the scale check: one large call rather than many small ones (each call is copied and sent).
N_UNITS = (100, 200)
#: Units per call of the keep-rate and expectation checks, on one row or one column (see below).
RATE_UNITS = 20_000
MEAN_UNITS = 30_000
SHAPES = ((7,), (5, 6), (3, 4, 5), (2, 3, 4, 5))
SEED_BOUND = 2**31


# ----------------------------------------------------------------------------------------------
# Talking to the student and validating replies
# ----------------------------------------------------------------------------------------------


def _signed(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """Values with |v| uniform in [0.5, 2] and random signs: never 0, so a kept unit is visibly nonzero.

    One uniform draw per value (v in [-1.5, 1.5) moved 0.5 away from 0), cheaper than a separate
    draw for the sign on the large inputs of the statistical checks.
    """
    v = rng.uniform(-1.5, 1.5, size=shape)
    return (v + np.copysign(0.5, v)).astype(dtype, copy=False)


def _param(p: float, mode: str = "train", seed: int | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"p": float(p), "mode": mode}
    if seed is not None:
        param["seed"] = int(seed)
    return param


def _case(param: dict[str, Any], shape: tuple[int, ...], pass_: str = "forward") -> str:
    """Student-facing words for a call's public parameters (mode, p, shape, whether seeded)."""
    words = f"{param['mode']} mode, p = {param['p']:g}, x of shape {shape}"
    if "seed" in param:
        words += ", with a seed"
    return f"(in the backward pass after {words})" if pass_ == "backward" else f"({words})"


def _array(name: str, value: Any, shape: tuple[int, ...], what: str, p: float) -> np.ndarray:
    """``value`` as a finite array of ``shape``, or a student-facing :class:`CheckFailed`."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{name} returned a {describe(value)} as {what}, expected a numpy array")
    if value.shape != shape:
        raise CheckFailed(
            f"{name} returned {what} of shape {shape_shown(value.shape, shape)} for an input of shape {shape}; "
            "it must have the input's shape"
        )
    if not np.all(np.isfinite(value)):
        cause = "by 1 - p, which is 0 at p = 1" if p == 1 else "or an overflow"
        raise CheckFailed(
            f"{name} returned NaN or infinite values in {what} at p = {p:g} (usually a division by zero, {cause})"
        )
    return value


def forward_call(x: np.ndarray, param: dict[str, Any], echo: bool = False, cache: bool = False) -> Call:
    """The call ``dropout_forward(x, param)``. With ``cache`` the cache stays with the student's
    code as a Handle (for a backward call); without, it is thrown away there at once (None)."""
    return Call(FORWARD, (x, param), keep=(1,) if cache else (), drop=() if cache else (1,), echo=echo)


def forward_reply(reply: Reply, shape: tuple[int, ...], param: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """The validated ``out`` (for an input of ``shape`` and ``dropout_param`` ``param``) and the
    cache Handle of a forward call; a student error names the call's parameters."""
    value = value_in_case(reply, _case(param, shape))
    if len(value) != 2:
        raise CheckFailed(f"{FORWARD} should return (out, cache), got a tuple of {len(value)} items")
    return _array(FORWARD, value[0], shape, "out", param["p"]), value[1]


def backward_call(dout: np.ndarray, cache: Any) -> Call:
    """The call ``dropout_backward(dout, cache)``, ``cache`` a Handle from an earlier yield."""
    return Call(BACKWARD, (dout, cache))


def backward_reply(reply: Reply, shape: tuple[int, ...], param: dict[str, Any]) -> np.ndarray:
    """The validated ``dx`` of a backward call whose ``dout`` had ``shape``, after a forward call
    with ``param``; a student error names the call's parameters."""
    return _array(BACKWARD, value_in_case(reply, _case(param, shape, "backward")), shape, "dx", param["p"])


def _close(a: np.ndarray, b: np.ndarray | float) -> bool:
    """``|a - b| <= RTOL |b|`` everywhere (np.allclose with atol = 0, without its overhead); NaN is never close."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return bool(np.all(np.abs(a - b) <= RTOL * np.abs(b)))


def _require_drops(p: float, what: str, *outs: np.ndarray) -> None:
    """Fail unless some train-mode output of the check has a dropped unit (the inputs have no zeros)."""
    if not any(np.any(out == 0) for out in outs):
        raise CheckFailed(
            f"train mode dropped no unit at all (p = {p}), so there is no mask whose {what} could be "
            "checked; this check counts once train mode drops units: draw one random number per unit "
            "and keep the unit where it is below p"
        )


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(1, SEED_BOUND))


# ----------------------------------------------------------------------------------------------
# test_forward_shape
# ----------------------------------------------------------------------------------------------


@BATTERY.check("dropout_forward returns an array with the input's shape and dtype", 1.0, "test_forward_shape")
def output_shape_and_dtype_match_input(rng: np.random.Generator) -> Steps:
    """1-D to 4-D inputs, float64 and float32, both modes: same shape, same dtype."""
    cases = []
    for shape in SHAPES:
        for dtype in (np.float64, np.float32):
            x = _signed(rng, shape, dtype)
            cases += [(x, mode) for mode in ("train", "test")]
    replies = yield [forward_call(x, _param(0.6, mode)) for x, mode in cases]
    for (x, mode), reply in zip(cases, replies):
        out, _ = forward_reply(reply, x.shape, _param(0.6, mode))
        if out.dtype != x.dtype:
            raise CheckFailed(
                f"in {mode} mode, {FORWARD} turned a {x.dtype} input of {x.ndim} dimension(s) "
                f"into a {out.dtype} output; keep the input's dtype (a float64 mask times a "
                "float32 input gives float64: cast back with .astype(x.dtype))"
            )


@BATTERY.check("dropout_forward leaves its input x unchanged", 0.5, "test_forward_shape")
def input_is_unchanged(rng: np.random.Generator) -> Steps:
    """The caller's ``x`` must be the same after the call, in both modes."""
    cases = [(mode, _signed(rng, (20, 30))) for mode in ("train", "test")]
    replies = yield [forward_call(x, _param(0.6, mode), echo=True) for mode, x in cases]
    for (mode, x), reply in zip(cases, replies):
        value_in_case(reply, _case(_param(0.6, mode), x.shape))  # not graded here, but a student error ends the check
        x_after = reply.after[0]
        if not (isinstance(x_after, np.ndarray) and x_after.shape == x.shape and np.array_equal(x_after, x)):
            raise CheckFailed(
                f"{FORWARD} changed its input x in {mode} mode; compute a new array "
                "(out = x * mask) instead of updating x in place (x *= mask, x[...] = 0)"
            )


# ----------------------------------------------------------------------------------------------
# test_train_mode
# ----------------------------------------------------------------------------------------------

def _one_row_or_column(i: int, n: int) -> tuple[tuple[int, int], str]:
    """The shape of the ``i``-th statistical call, alternating (1, n) and (n, 1), and its description.

    A mask that depends on only some axes of a 2-D input (one draw per row, i.e. per sample; one
    draw per column shared by every sample; one draw in all) is, on a one-row input and on a
    one-column input, either one independent draw per unit (the axes it depends on are the long
    one) or a single draw for the whole input (it keeps all or none: its rate is 0 or 1, at least
    0.15 from every p in UNEVEN_P). Its rate and mean are thus those of an independent mask, or
    decisively wrong, on every call: never the average of a few hundred correlated draws, which
    would land near p or not at random. Only a mask that is one draw per unit on both kinds of
    input, at the right rate, passes.
    """
    return ((1, n), "a single row") if i % 2 == 0 else ((n, 1), "a single column")


WHOLE_INPUT_HINT = (
    "Keeping all or none of them happens when no mask is applied, or when the mask is drawn once "
    "per row (sample) or shared by all rows: draw one random number per unit, np.random.rand(*x.shape)"
)

RATE_TOL = 0.03


@BATTERY.check("train mode keeps a fraction p of units", 1.0, "test_train_mode")
def keep_rate_matches_p(rng: np.random.Generator) -> Steps:
    """The fraction of nonzero outputs is within 0.03 of p, for p in 0.25, 0.6, 0.85, on inputs of
    20,000 units with a single row (p = 0.25, 0.85) or a single column (p = 0.6).

    False failure: the n = 20,000 keep indicators are independent Bernoulli(p) (range 1), so per p
    P(|rate - p| >= 0.03) <= 2 exp(-2 * 20000 * 0.03^2) = 2 e^-36 < 5e-16; over 3 values < 1.5e-15.
    Same verdict every run: a mask drawn per unit at the right rate passes with that probability;
    the catalogued wrong rates are >= 0.34 off at p = 0.25 (randn keeps 60%, "> p" and "< 1 - p"
    keep 75%), so they pass only if their rate strays >= 0.3 from its mean, P <= 2 e^-3600; a mask
    drawn per row, or one mask shared by all samples, keeps all or none of a one-row (resp.
    one-column) input and is >= 0.15 off, always (see ``_one_row_or_column``).
    """
    x = _signed(rng, (RATE_UNITS,))  # one draw, reshaped: the masks are what must be fresh
    shapes = [_one_row_or_column(i, RATE_UNITS) for i in range(len(UNEVEN_P))]
    replies = yield [forward_call(x.reshape(shape), _param(p)) for p, (shape, _) in zip(UNEVEN_P, shapes)]
    for p, (shape, described), reply in zip(UNEVEN_P, shapes, replies):
        out, _ = forward_reply(reply, shape, _param(p))
        rate = np.count_nonzero(out) / out.size
        if abs(rate - p) <= RATE_TOL:
            continue
        if rate in (0.0, 1.0):
            raise CheckFailed(
                f"with p = {p}, train mode kept {'every' if rate else 'no'} unit of an input with "
                f"{described}; it should keep about {p:.0%} of them (p is the probability of KEEPING "
                f"a unit). {WHOLE_INPUT_HINT}"
            )
        raise CheckFailed(
            f"with p = {p}, train mode kept {rate:.1%} of units; it should keep about {p:.0%} "
            f"(p is the probability of KEEPING a unit). {_rate_causes(p, rate)}"
        )


def _rate_causes(p: float, rate: float) -> str:
    """The usual causes of keeping a fraction ``rate`` at ``p``: only those that fit it."""
    causes = []
    if abs(rate - (1 - p)) <= RATE_TOL:
        causes.append("comparing the wrong way (rand > p, or rand < 1 - p, keeps a fraction 1 - p)")
    randn_rate = 0.5 * (1 + math.erf(p / math.sqrt(2)))  # P(N(0, 1) < p)
    if abs(rate - randn_rate) <= RATE_TOL:
        causes.append(f"a normal draw (np.random.randn < p keeps {randn_rate:.0%}) instead of a uniform one")
    if not causes:
        return "Keep a unit where a uniform draw is below p: np.random.rand(*x.shape) < p."
    return "Usual cause: " + ", or ".join(causes) + "; use np.random.rand(*x.shape) < p."


def _scale_causes(p: float, factor: float) -> str:
    """The usual cause of scaling kept units by ``factor`` at ``p``, if one fits it."""
    for wrong, cause in ((p, "multiplying by p instead of dividing by it"),
                         (1.0, "not scaling at all (vanilla dropout, which rescales at test time instead)"),
                         (1 / (1 - p), "dividing by 1 - p (p is the probability of KEEPING a unit)"),
                         (1 / p**2, "dividing by p twice")):
        if abs(factor - wrong) <= RTOL * wrong:
            return f" Usual cause: {cause}."
    return ""


@BATTERY.check("train mode scales kept units by exactly 1/p", 0.75, "test_train_mode")
def kept_units_scaled_by_inverse_p(rng: np.random.Generator) -> Steps:
    """Every nonzero output equals x / p (up to float32 rounding), for p in 0.25, 0.6, 0.85.

    Not statistical: no randomness can make a kept unit's factor differ from 1/p. It only needs
    some unit kept: a correct mask drops all 20,000 with probability 0.75^20000; a mask drawn per
    row (100 rows) or shared by the samples (200 columns) does with probability <= 0.75^100 < 1e-12.
    """
    x = _signed(rng, N_UNITS)
    replies = yield [forward_call(x, _param(p)) for p in UNEVEN_P]
    for p, reply in zip(UNEVEN_P, replies):
        out, _ = forward_reply(reply, x.shape, _param(p))
        kept = out != 0
        if not kept.any():
            raise CheckFailed(f"with p = {p}, train mode dropped every unit; it should keep a fraction p")
        factor = out[kept] / x[kept]
        if not _close(factor, 1.0 / p):
            median = float(np.median(factor))
            raise CheckFailed(
                f"with p = {p}, train mode multiplied kept units by {median:.4g}; inverted dropout scales "
                f"them by exactly 1/p = {1 / p:.4g}.{_scale_causes(p, median)}"
            )


EXPECTATION_TOL = 0.1


@BATTERY.check("train mode preserves the expected value of each unit", 0.75, "test_train_mode")
def expectation_is_preserved(rng: np.random.Generator) -> Steps:
    """For a constant input c, the mean output is within 10% of c, for p in 0.25, 0.6, 0.85, on
    inputs of 30,000 units with a single row (p = 0.25, 0.85) or a single column (p = 0.6).

    False failure: out_i = c D_i / p lies in [0, c/p] with mean c, independently over n = 30,000
    units, so P(|mean - c| >= 0.1 c) <= 2 exp(-2 n (0.1 p)^2): 2 e^-37.5 < 1e-16 at p = 0.25 and
    far smaller at 0.6 and 0.85; in total < 1e-15. A missing 1/p gives mean p c, 75% off at p = 0.25.
    Same verdict every run: "p read as the drop probability" keeps 1 - p and scales by 1/(1 - p),
    so its mean is right; it must pass every time, and at p = 0.85 (keep rate q = 0.15) the ratio
    mean/c = (fraction kept)/q leaves [0.9, 1.1] with probability <= exp(-n KL(0.165 || 0.15)) +
    exp(-n KL(0.135 || 0.15)) = e^-25.7 + e^-27.2 < 1e-11 (larger q is more concentrated).
    The other catalogued mistakes are >= 60% off at p = 0.25 (mean p c, p^2 c, p c/(1 - p), 3 c
    for a fraction 1 - p kept, randn's 2.4 c), so they pass only if their mean strays by >= 0.5 c
    from its own mean; their outputs lie in [0, c/p], so P <= 2 exp(-2 n (0.5 p)^2) = 2 e^-937; a
    mask drawn per row or shared by the samples gives every unit of a one-row (one-column) input
    the same output, mean 0 or c/p (>= 17% off), always. A mean within 10% that drops no unit is
    an identity layer and fails (a correct one drops none of 30,000 with probability 0.85^30000).
    """
    cases = []
    for i, p in enumerate(UNEVEN_P):
        shape, described = _one_row_or_column(i, MEAN_UNITS)
        cases.append((p, shape, described, float(rng.uniform(1.0, 2.0))))
    replies = yield [forward_call(np.full(shape, c), _param(p)) for p, shape, _, c in cases]
    for (p, shape, described, c), reply in zip(cases, replies):
        out, _ = forward_reply(reply, shape, _param(p))
        ratio = float(np.mean(out)) / c
        if abs(ratio - 1.0) <= EXPECTATION_TOL:
            _require_drops(p, "effect on the expected value", out)
            continue
        if np.all(out == out.flat[0]):
            raise CheckFailed(
                f"with p = {p}, train mode gave every unit of a constant input with {described} the "
                f"same output, {ratio:.2f} times the input; inverted dropout keeps it equal on average "
                f"(E[out] = x), keeping about {p:.0%} of the units and scaling them by 1/p. "
                + WHOLE_INPUT_HINT
            )
        kept = out != 0
        factor = float(np.median(out[kept] / c)) if kept.any() else 0.0
        cause = _scale_causes(p, factor) if abs(factor - 1 / p) > RTOL / p else (
            " Its kept units are scaled by 1/p, so the mask keeps the wrong fraction of units "
            f"({np.mean(kept):.0%} instead of about {p:.0%}).")
        raise CheckFailed(
            f"with p = {p}, the average train-mode output was {ratio:.2f} times the input; inverted "
            f"dropout keeps it equal on average (E[out] = x).{cause}"
        )


#: 2-D and 4-D inputs of 48,000 units, every axis of even length: 24,000 disjoint pairs per axis.
INDEPENDENCE_SHAPES = ((240, 200), (12, 20, 20, 10))
INDEPENDENCE_UNITS = 240 * 200  # both shapes hold this many units: one draw of values serves both
#: Neighbouring pairs must differ at least this fraction as often as independent draws would.
DISCORDANCE_RATIO_MIN = 0.8


@BATTERY.check(
    "train mode drops each unit independently, not whole rows, columns or samples", 0.5, "test_train_mode"
)
def units_dropped_independently(rng: np.random.Generator) -> Steps:
    """At p = 0.5, neighbouring units along every axis (2-D and 4-D inputs) differ at least 0.8
    times as often as independent draws at the observed keep rate would make them differ.

    Pairs (even index, next odd index) along one axis are disjoint; with r the fraction of units
    kept in the call, independent draws make a pair differ with probability q = 2r(1-r) (0.5 for
    a correct mask). Masks drawn per row, column or sample make pairs along the axes they ignore
    never differ: 0 <= 0.8 q, so they fail with certainty, whatever their keep rate (so does a
    layer that drops nothing, r = 1). Measuring against the observed rate keeps this check about
    independence only: a wrong keep rate is graded by keep_rate_matches_p, not here again.
    False failure, per axis with n = 24,000 pairs: 2r(1-r) <= 1/2 for every r, so failing needs
    the fraction differing <= 0.4, P <= exp(-2 * 24000 * 0.1^2) = e^-480 (one-sided); 6 axes < 1e-200.
    Same verdict every run for any mask drawn per unit with keep rate r in [0.2, 0.8] (q >= 0.32;
    randn keeps 69% at p = 0.5): failing needs the fraction differing <= q - 0.032, or |observed
    rate - r| >= 0.02 (2r(1-r) moves by at most 2|dr|, and 0.8 (q + 0.04) = q - 0.2q + 0.032 <=
    q - 0.032), P <= 6 exp(-2 * 24000 * 0.032^2) + 2 * 2 exp(-2 * 48000 * 0.02^2) < 1e-16.
    """
    values = _signed(rng, (INDEPENDENCE_UNITS,))  # one draw for both inputs, reshaped
    replies = yield [forward_call(values.reshape(shape), _param(0.5)) for shape in INDEPENDENCE_SHAPES]
    for shape, reply in zip(INDEPENDENCE_SHAPES, replies):
        out, _ = forward_reply(reply, shape, _param(0.5))
        kept = out != 0
        rate = float(np.mean(kept))
        expected = 2.0 * rate * (1.0 - rate)
        for axis in range(kept.ndim):
            along = np.moveaxis(kept, axis, 0)
            differ = float(np.mean(along[0::2] != along[1::2]))
            if differ > DISCORDANCE_RATIO_MIN * expected:
                continue
            if expected == 0.0:
                raise CheckFailed(
                    f"in train mode at p = 0.5, {FORWARD} kept {'every' if rate else 'no'} unit of a "
                    f"{len(shape)}-D input, so no unit was kept or dropped independently of its "
                    "neighbours: draw one random number per unit, np.random.rand(*x.shape)"
                )
            raise CheckFailed(
                f"in train mode, neighbouring units along axis {axis} of a {len(shape)}-D input were "
                f"kept or dropped together (only {differ:.0%} of pairs differ; independent draws at "
                f"your keep rate would make about {expected:.0%} differ): draw one random number per "
                "unit, np.random.rand(*x.shape), not one per row, column or sample"
            )


@BATTERY.check("train mode with p = 1 returns the input unchanged", 0.5, "test_train_mode")
def keep_all_when_p_is_1(rng: np.random.Generator) -> Steps:
    """p = 1 keeps every unit with factor 1/1: the output equals the input."""
    x = _signed(rng, (50, 40))
    out, _ = forward_reply((yield forward_call(x, _param(1.0))), x.shape, _param(1.0))
    if _close(out, x):
        return
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
        raise CheckFailed(
            f"with p = 1, train mode dropped {dropped} of {x.size} units; p is the probability of KEEPING a "
            f"unit, so p = 1 keeps all of them. Usual cause: {cause}"
        )
    factor = out / x
    if _close(factor, factor.flat[0]):
        raise CheckFailed(
            f"with p = 1, train mode kept every unit but multiplied it by {factor.flat[0]:.4g}, not by 1/p = 1. "
            "Usual causes: scaling by something other than 1/p, or changing p (e.g. capping it below 1)"
        )
    raise CheckFailed(
        "with p = 1, train mode kept every unit but changed their values unevenly; it should return the "
        "input unchanged (the mask keeps every unit and 1/p = 1)"
    )


# ----------------------------------------------------------------------------------------------
# test_test_mode
# ----------------------------------------------------------------------------------------------


def _test_mode_change(got: np.ndarray, given: np.ndarray, p: float) -> str:
    """What test mode did instead of the identity, in words that fit it (``got`` has ``given``'s
    shape; ``given`` has no zeros): the usual causes differ for p, 1/p and dropped units."""
    if np.any(got == 0):
        return "dropped units (apply the mask in train mode only)"
    ratio = got.astype(np.float64) / given
    scale = float(np.median(ratio))
    if not _close(ratio, scale):
        return "changed the values by different factors"
    for factor, words in ((p, "multiplied by p (vanilla dropout's test time; inverted dropout has none)"),
                          (1 / p, "divided by p (the 1/p belongs to train mode only)"),
                          (1 / (1 - p), "divided by 1 - p (the 1/p belongs to train mode only)"),
                          (1 - p, "multiplied by 1 - p")):
        if _close(scale, factor):
            return words
    return f"multiplied by {scale:.4g}"


@BATTERY.check("test mode returns the input unchanged", 0.5, "test_test_mode")
def test_mode_is_identity(rng: np.random.Generator) -> Steps:
    """Inverted dropout does all its scaling in train mode, so test mode is the identity."""
    x = _signed(rng, (40, 50))
    param = _param(0.3, "test")
    out, _ = forward_reply((yield forward_call(x, param)), x.shape, param)
    if not _close(out, x):
        raise CheckFailed(
            f"test mode should return x unchanged {_case(param, x.shape)}, but it {_test_mode_change(out, x, param['p'])}: "
            "inverted dropout already rescales in train mode, so test mode is the identity"
        )


@BATTERY.check("test mode draws no random numbers", 0.5, "test_test_mode")
def test_mode_draws_nothing(rng: np.random.Generator) -> Steps:
    """numpy's global random state is the same before and after an unseeded test-mode call."""
    x = _signed(rng, (20, 30))
    # One list: its calls are made in order, with nothing of another check in between.
    before, reply, after = yield [RNG_FINGERPRINT, forward_call(x, _param(0.6, "test")), RNG_FINGERPRINT]
    fingerprint = before.get()
    forward_reply(reply, x.shape, _param(0.6, "test"))
    if after.get() != fingerprint:
        raise CheckFailed(
            f"{FORWARD} drew random numbers in test mode; draw the mask only in the train branch, so "
            "test mode leaves the random generator alone"
        )


# ----------------------------------------------------------------------------------------------
# test_seed
# ----------------------------------------------------------------------------------------------


@BATTERY.check("train mode with the same seed gives the same output", 0.5, "test_seed")
def same_seed_same_output(rng: np.random.Generator) -> Steps:
    """Two calls with equal seeds (seed 0 and a random one) give identical outputs, with units dropped.

    False failure: only if a correct layer drops none of 5,000 units at p = 0.6 (0.6^5000); a mask
    drawn per row (50 rows) drops nothing with probability 0.6^50 < 1e-11.
    """
    x = _signed(rng, (50, 100))
    seeds = (0, _seed(rng))
    replies = yield [forward_call(x, _param(0.6, seed=seed)) for seed in seeds for _ in range(2)]
    for i, seed in enumerate(seeds):
        first, _ = forward_reply(replies[2 * i], x.shape, _param(0.6, seed=seed))
        _require_drops(0.6, "seeding", first)
        second, _ = forward_reply(replies[2 * i + 1], x.shape, _param(0.6, seed=seed))
        if not np.array_equal(first, second):
            raise CheckFailed(
                'two train-mode calls with the same dropout_param["seed"] gave different outputs; when a '
                "seed is given, seed the generator with it before drawing the mask (np.random.seed(seed) "
                'or np.random.default_rng(seed)); test with "seed" in dropout_param, not its truth value, '
                "since 0 is a valid seed"
            )


@BATTERY.check("train mode with different seeds gives different masks", 0.5, "test_seed")
def different_seeds_differ(rng: np.random.Generator) -> Steps:
    """Two distinct random seeds give different outputs on 5,000 units.

    False failure: the streams of two distinct seeds behave as independent, and two independent
    masks at p = 0.6 agree on all 5,000 units with probability 0.52^5000 < 1e-1400. A layer that
    drops nothing has no mask to compare and fails (a correct one drops none of 10,000 units with
    probability 0.6^10000). A mask drawn per row (50 rows) or shared by the samples (100 columns) also passes every time:
    it agrees with probability <= 0.52^50 < 1e-14.
    """
    x = _signed(rng, (50, 100))
    seed = _seed(rng)
    other = seed + int(rng.integers(1, 1000))
    replies = yield [forward_call(x, _param(0.6, seed=seed)), forward_call(x, _param(0.6, seed=other))]
    first, _ = forward_reply(replies[0], x.shape, _param(0.6, seed=seed))
    second, _ = forward_reply(replies[1], x.shape, _param(0.6, seed=other))
    _require_drops(0.6, "dependence on the seed", first, second)
    if np.array_equal(first, second):
        raise CheckFailed(
            'two train-mode calls with different dropout_param["seed"] values gave the same output; seed '
            'the generator with the given seed, not a fixed number'
        )


@BATTERY.check("train mode without a seed draws a fresh mask on every call", 0.5, "test_seed")
def unseeded_calls_differ(rng: np.random.Generator) -> Steps:
    """Two calls without a seed give different outputs on 5,000 units.

    False failure: two independent masks at p = 0.6 agree on all 5,000 units with probability
    (0.6^2 + 0.4^2)^5000 = 0.52^5000 < 1e-1400. A layer that drops nothing fails (a correct one
    drops none of 10,000 units with probability 0.6^10000). A mask drawn per row (50 rows) or shared by the samples
    (100 columns) also passes every time: it agrees with probability <= 0.52^50 < 1e-14.
    """
    x = _signed(rng, (50, 100))
    replies = yield [forward_call(x, _param(0.6)) for _ in range(2)]
    first, _ = forward_reply(replies[0], x.shape, _param(0.6))
    second, _ = forward_reply(replies[1], x.shape, _param(0.6))
    _require_drops(0.6, "fresh draws", first, second)
    if np.array_equal(first, second):
        raise CheckFailed(
            "two train-mode calls without a seed gave the same output; seed the generator only when "
            'dropout_param has a "seed" (not with a default such as 0 or 42)'
        )


# ----------------------------------------------------------------------------------------------
# test_backward
# ----------------------------------------------------------------------------------------------

#: Forward calls per mask-following check: half unseeded, half with distinct seeds, so that a
#: layer whose masks repeat only without a seed (default_seed) or only with one (constant_seed)
#: still gives MASK_CALLS // 2 calls a mask of their own (see _own_masks).
MASK_CALLS = 26
MASK_P = 0.6
#: Input of the mask-following checks: every axis, and so every mask drawn over only some axes
#: (per row, per column, shared by the samples), has at least 50 independent draws. Both checks
#: use it, so a mask kept in a global (the last forward call's) fits and is told what is wrong.
MASK_SHAPE = (50, 50)


def _own_masks(rng: np.random.Generator, shape: tuple[int, ...], what: str) -> Steps:
    """MASK_CALLS train-mode forward calls on inputs of ``shape`` (one yield), then one backward
    call per cache in a random order (a second yield); returns ``[(x, out, dout, dx, param)]``
    in forward order.

    Why: a backward pass is judged on which units of ITS forward call were kept, so it must not be
    able to get that from anything but its cache. The calls look alike (same shape and p), each
    must get a mask of its own, and the backward calls come in an order drawn here: a backward pass
    that ignores its cache (a mask kept in a global, the mask of the k-th forward call, a mask its
    forward pass could predict) must guess which of the M >= MASK_CALLS // 2 distinct masks
    belongs to which backward call, and guesses all of them right with probability at most
    1/M! <= 1/13! < 1e-9 (the order is uniform and hidden).
    False failure: a correct layer drops no unit of a call (2,500+ units at p = 0.6) with
    probability 0.6^2500, and two of its masks are equal with probability 0.52^2500 each.
    Same verdict every run for masks drawn over only some axes (catalogued as row_mask,
    column_mask, shared_sample_mask, channel_mask): each has >= 50 independent draws per call, so
    two calls share a mask with probability <= 0.52^50 each, < 2.1e-12 for all 325 pairs: they
    always get 26 masks of their own and are judged on what their backward pass does with them.
    """
    seeds = [_seed(rng) for _ in range(MASK_CALLS // 2)]
    params = [_param(MASK_P) for _ in range(MASK_CALLS - len(seeds))]
    params += [_param(MASK_P, seed=seed) for seed in sorted(set(seeds))]
    xs = [_signed(rng, shape) for _ in params]
    douts = [_signed(rng, shape) for _ in params]  # out has x's shape once validated
    replies = yield [forward_call(x, param, cache=True) for x, param in zip(xs, params)]
    passes = [forward_reply(reply, shape, param) for reply, param in zip(replies, params)]
    outs = [out for out, _ in passes]
    _require_drops(MASK_P, what, *outs)
    masks = [(out != 0).tobytes() for out in outs]
    own = sum(masks.count(m) == 1 for m in masks)
    if own < MASK_CALLS // 2:
        raise CheckFailed(
            f"train mode gave the same mask to different calls ({own} of {len(outs)} calls with p = {MASK_P} "
            f"had a mask of their own), so no backward pass could show it uses its own call's mask; this "
            f"check counts once every call draws a fresh mask, whether or not dropout_param has a seed"
        )
    order = rng.permutation(len(params))
    replies = yield [backward_call(douts[i], passes[i][1]) for i in order]
    dxs: list[Any] = [None] * len(params)
    for i, reply in zip(order, replies):  # judged in forward order below, validated here in call order
        dxs[i] = backward_reply(reply, shape, params[i])
    return list(zip(xs, outs, douts, dxs, params))


@BATTERY.check(
    "dropout_backward lets the gradient through exactly the units its own forward pass kept", 0.75, "test_backward"
)
def backward_reuses_forward_mask(rng: np.random.Generator) -> Steps:
    """dx is nonzero exactly where out is, for each of 26 forward passes on (50, 50) inputs made
    before any backward pass, with the backward passes in a random order (:func:`_own_masks`).

    False failure: see :func:`_own_masks`. A fresh mask (agreeing with probability 0.52 per unit)
    or another call's mask fails on 2,500 units with probability 1 - 0.52^2500.
    """
    for _, out, _, dx, param in (yield from _own_masks(rng, MASK_SHAPE, "use in the backward pass")):
        if not np.array_equal(dx != 0, out != 0):
            raise CheckFailed(
                f"{BACKWARD} let gradient through units that the forward pass dropped (or blocked units it "
                f"kept) {_case(param, dx.shape, 'backward')}; use the mask stored in the cache by the same "
                "forward call, not a new draw or a global variable"
            )


@BATTERY.check("dropout_backward scales the gradient of kept units by 1/p", 0.5, "test_backward")
def backward_scales_by_inverse_p(rng: np.random.Generator) -> Steps:
    """Where the forward pass kept the unit and dx is nonzero, dx / dout is 1/p (p = 0.25, so p,
    1/p, 1/(1 - p) and 1/p^2 all differ).

    Judged against 1/p, never against the forward pass's own factor: a submission could choose
    that factor on the one call whose cache the backward pass gets (see grader/checks/conv.py).
    So a scale mistake shared by both passes costs this check and the train-mode scale checks.
    It needs some unit kept and some dropped. False failure: a correct layer drops all 10,000
    units with probability 0.75^10000 or keeps all of them with probability 0.25^10000; a mask
    drawn per row (100 rows) or shared by the samples (100 columns) keeps some unit with
    probability >= 1 - 0.75^100 > 1 - 1e-12.
    """
    p = 0.25
    x = _signed(rng, (100, 100))
    dout = _signed(rng, x.shape)
    out, cache = forward_reply((yield forward_call(x, _param(p), cache=True)), x.shape, _param(p))
    _require_drops(p, "scale in the backward pass", out)
    dx = backward_reply((yield backward_call(dout, cache)), dout.shape, _param(p))
    kept = (out != 0) & (dx != 0)
    if not kept.any():
        raise CheckFailed(f"{BACKWARD} blocked the gradient of every unit the forward pass kept")
    factor = dx[kept] / dout[kept]
    if not _close(factor, 1.0 / p):
        raise CheckFailed(
            f"with p = {p}, {BACKWARD} multiplied the gradient of kept units by {np.median(factor):.4g}; the "
            f"gradient of inverted dropout scales them by 1/p = {1 / p:.4g}, as the forward pass scales the "
            "units (if you store a 0/1 mask, divide by p in the backward pass too; if you store the scaled "
            "mask, do not divide again)"
        )


@BATTERY.check("dropout_backward in test mode passes the gradient through unchanged", 0.5, "test_backward")
def backward_test_mode_is_identity(rng: np.random.Generator) -> Steps:
    """Test mode is the identity, so its gradient is dout itself."""
    x = _signed(rng, (30, 40))
    dout = _signed(rng, (30, 40))
    param = _param(0.3, "test")
    _, cache = forward_reply((yield forward_call(x, param, cache=True)), x.shape, param)
    dx = backward_reply((yield backward_call(dout, cache)), dout.shape, param)
    if not _close(dx, dout):
        raise CheckFailed(
            f"in test mode, {BACKWARD} should return dout unchanged {_case(param, x.shape, 'backward')}, but it "
            f"{_test_mode_change(dx, dout, param['p'])} (test mode is the identity, so its gradient is dout)"
        )


@BATTERY.check("dropout_backward returns dout times its forward pass's mask", 0.75, "test_backward")
def numeric_gradient_matches(rng: np.random.Generator) -> Steps:
    """For each of 26 forward passes on (50, 50) inputs (:func:`_own_masks`), dx is 0 where the
    unit was dropped and dout times one common factor where it was kept: the gradient of the layer
    up to its scale, which backward_scales_by_inverse_p grades (so a scale mistake is not charged
    twice here). An earlier version compared dx with central differences of extra seeded forward
    calls; the backward pass could read those calls' outputs (same seed, same mask) instead of its
    cache, so no probe calls are made now. False failure: see :func:`_own_masks`.
    """
    for x, out, dout, dx, param in (yield from _own_masks(rng, MASK_SHAPE, "gradient")):
        kept = out != 0
        factor = dx[kept] / dout[kept]
        if not (np.all(dx[~kept] == 0) and _close(factor, float(np.median(factor))) and np.all(factor != 0)):
            raise CheckFailed(
                f"{BACKWARD} did not return dout times the forward pass's mask {_case(param, x.shape, 'backward')}: "
                "dx must be 0 where the unit was dropped and dout times the same scale 1/p wherever it was "
                "kept (the local gradient is the mask; the chain rule multiplies it by dout)"
            )

"""The stochastic layer-check blocks are generic: a toy layer that is not dropout, graded for real.

The toy flips the sign of each entry with probability q and scales by 1/(1 - 2q), so its mean is
the input's; test mode is the identity. Its battery below is composed only from
grader.layercheck.stochastic. The correct layer and one wrong version per block go through the
real sandbox; the statistical blocks then run many times unseeded on the correct layer (it never
loses a point) and on the wrong versions (each is caught on every run). The bound functions are
checked against their formulas, and a block refuses a configuration whose bound is not below 1e-9.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import grader.layercheck.stochastic as stochastic
from grader.checks.base import run_battery, run_check
from grader.layercheck import (
    CheckFailed, RandomLayer, backward_follows_draw, backward_matches_reference, backward_scaled_where, battery,
    different_seeds_differ, draws_nothing, entries_independent, input_unchanged, keeps_shape_and_dtype,
    matches_reference, mean_preserved, rate_near, same_seed_same_output, scaled_where, unseeded_calls_differ,
    ZeroInputs,
)
from grader.student import InProcessStudent

TOY = '''
import numpy as np


def flip_forward(x, flip_param):
    q, mode = flip_param["q"], flip_param["mode"]
    if "seed" in flip_param:
        np.random.seed(flip_param["seed"])
    if mode == "test":
        return x.copy(), (mode, None)
    signs = np.where(np.random.rand(*x.shape) < q, -1.0, 1.0) / (1 - 2 * q)
    return (x * signs).astype(x.dtype), (mode, signs)


def flip_backward(dout, cache):
    mode, signs = cache
    return dout.copy() if mode == "test" else dout * signs
'''

SIGNS_CACHED = '''    return (x * signs).astype(x.dtype), (mode, signs)


def flip_backward(dout, cache):
    mode, signs = cache
    return dout.copy() if mode == "test" else dout * signs'''
FLIPS_FROM_OUTPUT = '''    out = (x * signs).astype(x.dtype)
    return out, (mode, (x, out, q))


def flip_backward(dout, cache):
    mode, saved = cache
    if mode == "test":
        return dout.copy()
    x, out, q = saved
    return dout * np.where(out * x < 0, -1.0, 1.0) / (1 - 2 * q)'''

#: One wrong version per block: (name, edit of TOY, the check it must fail).
WRONG = [
    ("float64_out", (").astype(x.dtype)", ")"), "keeps_dtype"),
    ("in_place", ("return (x * signs).astype(x.dtype), (mode, signs)", "x *= signs\n    return x, (mode, signs)"),
     "input_kept"),
    ("flips_one_minus_q", ("< q, -1.0", "< 1 - q, -1.0"), "flip_rate"),
    ("not_rescaled", (") / (1 - 2 * q)", ")"), "mean_kept"),
    ("scaled_by_one_minus_q", (") / (1 - 2 * q)", ") / (1 - q)"), "kept_scaled"),
    ("rows_flip_together", ("np.random.rand(*x.shape)", "np.random.rand(x.shape[0], *[1] * (x.ndim - 1))"),
     "flips_independent"),
    ("test_mode_halves", ("return x.copy(), (mode, None)", "return x / 2, (mode, None)"), "test_identity"),
    ("draws_in_test_mode", ('    if mode == "test":\n        return x.copy()',
                            '    np.random.rand()\n    if mode == "test":\n        return x.copy()'), "test_no_draw"),
    ("seed_ignored", ('np.random.seed(flip_param["seed"])', "pass"), "same_seed"),
    ("constant_seed", ('np.random.seed(flip_param["seed"])', "np.random.seed(1)"), "seeds_differ"),
    ("default_seed", ('if "seed" in flip_param:\n        np.random.seed(flip_param["seed"])',
                      'np.random.seed(flip_param.get("seed", 7))'), "unseeded_differ"),
    ("fresh_backward_draw", ("return dout.copy() if mode == \"test\" else dout * signs",
                             "return dout.copy() if mode == \"test\" else dout * np.where(np.random.rand(*dout.shape) < 0.2, -1, 1) / 0.6"),
     "backward_follows"),
    ("backward_unscaled", ("else dout * signs", "else dout * np.sign(signs)"), "backward_scale"),
    # the flips rebuilt from out and x: an input of 0 never looks flipped
    ("flips_from_output", (SIGNS_CACHED, FLIPS_FROM_OUTPUT), "backward_scale"),
    ("backward_test_mode_doubles", ("return dout.copy() if", "return 2 * dout if"), "backward_test_identity"),
    ("never_flips", ("< q, -1.0", "< 0, -1.0"), "same_seed"),
]

FLIPPED = lambda x, out: out * x < 0  # noqa: E731


def flip(q, mode="train"):
    return {"q": q, "mode": mode}


LAYER = RandomLayer(
    forward="flip_forward", backward="flip_backward", param="flip_param", describe="{mode} mode, q = {q:g}",
    affected=FLIPPED, draw_word="sign pattern",
    no_effect="train mode flipped no sign (q = {q}), so its {what} cannot be checked",
)
QS = [flip(0.1), flip(0.2)]


def _same_sign(x, out, dout, dx, param):
    if not np.array_equal(np.sign(dx), np.sign(dout) * np.sign(out / x)):
        raise CheckFailed("dx does not follow the forward pass's signs")


def _message(*_):
    return "wrong"


BATTERY = battery(
    keeps_shape_and_dtype(LAYER, "keeps_dtype", "out keeps x's shape and dtype", 1, "shape",
                          ((6,), (3, 4)), (np.float64, np.float32), (flip(0.2), flip(0.2, "test"))),
    input_unchanged(LAYER, "input_kept", "x is left unchanged", 1, "shape", (flip(0.2),), (10, 10)),
    rate_near(LAYER, "flip_rate", "a fraction q of signs flips", 1, "train", FLIPPED, lambda p: p["q"], QS,
              n=20_000, tol=0.03, explain=_message),
    scaled_where(LAYER, "kept_scaled", "unflipped entries scale by 1/(1 - 2q)", 1, "train",
                 lambda x, out: out * x > 0, lambda p: 1 / (1 - 2 * p["q"]), QS, (40, 50), _message),
    mean_preserved(LAYER, "mean_kept", "the mean is kept", 1, "train", QS, n=30_000, tol=0.1,
                   width=lambda p: 2 / (1 - 2 * p["q"]), explain=_message),
    entries_independent(LAYER, "flips_independent", "entries flip independently", 1, "train", FLIPPED, flip(0.3),
                        0.3, ((240, 200), (12, 20, 20, 10)), _message, ratio=0.6),
    matches_reference(LAYER, "test_identity", "test mode is the identity", 1, "test", flip(0.2, "test"), (20, 30),
                      lambda x, p: x, _message),
    draws_nothing(LAYER, "test_no_draw", "test mode draws nothing", 1, "test", flip(0.2, "test"), (20, 30), "drew"),
    same_seed_same_output(LAYER, "same_seed", "same seed, same output", 1, "seed", flip(0.3), (50, 100), "differ"),
    different_seeds_differ(LAYER, "seeds_differ", "different seeds differ", 1, "seed", flip(0.3), (50, 100), "same"),
    unseeded_calls_differ(LAYER, "unseeded_differ", "fresh draws", 1, "seed", flip(0.3), (50, 100), "same"),
    backward_follows_draw(LAYER, "backward_follows", "dx follows its own forward call's signs", 1, "backward",
                          flip(0.3), (50, 50), _same_sign),
    backward_scaled_where(LAYER, "backward_scale", "flipped entries' gradient is -1/(1 - 2q) dout", 1, "backward",
                          FLIPPED, lambda p: -1 / (1 - 2 * p["q"]), flip(0.2), (100, 100), _message,
                          zeros=ZeroInputs(300, rate=lambda p: p["q"], explain=_message,
                                           otherwise=lambda p: 1 / (1 - 2 * p["q"]))),
    backward_matches_reference(LAYER, "backward_test_identity", "test-mode gradient is dout", 1, "backward",
                               flip(0.2, "test"), (30, 40), lambda dout, x, p: dout, _message),
)
IDS = [c.id for c in BATTERY.checks]
STATISTICAL = ("flip_rate", "mean_kept", "flips_independent", "backward_follows", "backward_scale")


def _source(edit: tuple[str, str] | None = None) -> str:
    if edit is None:
        return TOY
    assert TOY.count(edit[0]) == 1, edit
    return TOY.replace(*edit)


def _failed(results) -> set[str]:
    return {check_id for check_id, r in zip(IDS, results) if r.status != "passed"}


def test_the_blocks_name_no_layer_of_the_unit():
    text = inspect.getsource(stochastic).lower()
    assert "dropout" not in text and "keep probability" not in text


def test_every_block_is_failed_by_some_wrong_version():
    assert {check for _, _, check in WRONG} == set(IDS)


@pytest.mark.e2e
def test_the_toy_layer_through_the_real_sandbox():
    """Correct: full marks; each wrong version loses the check it was written for."""
    from grader.sandbox.judge import SandboxedStudent

    rng = np.random.default_rng()
    with SandboxedStudent([("module", _source())]) as student:
        results = run_battery(BATTERY.checks, student, rng)
    assert [r.output for r in results if r.status != "passed"] == []
    for name, edit, check in WRONG:
        with np.errstate(all="ignore"), SandboxedStudent([("module", _source(edit))]) as student:
            failed = _failed(run_battery(BATTERY.checks, student, rng))
        assert check in failed, (name, failed)


def test_the_correct_layer_never_loses_a_point_unseeded():
    rng = np.random.default_rng()  # unseeded: fresh inputs and seeds on every run
    for _ in range(200):
        results = run_battery(BATTERY.checks, InProcessStudent.from_source(_source()), rng)
        assert [r.output for r in results if r.status != "passed"] == []


@pytest.mark.parametrize("name, edit, check", [w for w in WRONG if w[2] in STATISTICAL],
                         ids=[w[0] for w in WRONG if w[2] in STATISTICAL])
def test_statistical_blocks_catch_their_wrong_version_every_run(name, edit, check):
    rng = np.random.default_rng()
    block = BATTERY.by_id(check)
    with np.errstate(all="ignore"):
        statuses = {run_check(block, InProcessStudent.from_source(_source(edit)), rng).status for _ in range(100)}
    assert statuses == {"failed"}, name


def test_a_layer_that_never_draws_earns_nothing_for_its_draws():
    never = next(edit for name, edit, _ in WRONG if name == "never_flips")
    failed = _failed(run_battery(BATTERY.checks, InProcessStudent.from_source(_source(never)), np.random.default_rng()))
    assert {"same_seed", "seeds_differ", "unseeded_differ", "backward_follows", "backward_scale", "mean_kept"} <= failed
    results = run_battery([BATTERY.by_id("same_seed")], InProcessStudent.from_source(_source(never)), np.random.default_rng())
    assert "flipped no sign (q = 0.3), so its seeding cannot be checked" in results[0].output


# ---- the bounds


def test_bound_functions_follow_their_formulas():
    assert stochastic.hoeffding(20_000, 0.03) == pytest.approx(2 * math.exp(-36))
    assert stochastic.hoeffding(30_000, 0.1, width=4) == pytest.approx(2 * math.exp(-37.5))
    assert stochastic.hoeffding(100, 0.1, two_sided=False) == pytest.approx(math.exp(-2))
    assert stochastic.discordance_bound(24_000, 0.5, 0.8) == pytest.approx(math.exp(-480))
    assert stochastic.discordance_bound(100, 0.1, 0.8) == 1.0  # 2 q (1 - q) = 0.18 < 0.4: no bound at all
    assert stochastic.permutation_bound(26) == 1 / math.factorial(13) < 1e-9 < stochastic.permutation_bound(24)
    assert stochastic.miss_bound(300, 0.2) == pytest.approx(0.8**300)


def test_every_statistical_check_of_the_toy_states_a_computed_bound_below_1e_9():
    for check_id in STATISTICAL:
        doc = BATTERY.by_id(check_id).fn.__doc__
        assert "False failure" in doc
        bound = float(doc.rsplit("Computed false-failure bound of this check: ", 1)[1].rstrip("."))
        assert 0 <= bound < stochastic.FALSE_FAILURE_MAX


@pytest.mark.parametrize("build", [
    lambda: rate_near(LAYER, "r", "r", 1, "c", FLIPPED, lambda p: p["q"], QS, n=2_000, tol=0.03, explain=_message),
    lambda: mean_preserved(LAYER, "m", "m", 1, "c", [flip(0.45)], n=30_000, tol=0.1, width=lambda p: 20, explain=_message),
    lambda: entries_independent(LAYER, "i", "i", 1, "c", FLIPPED, flip(0.3), 0.3, ((240, 200),), _message),
    lambda: entries_independent(LAYER, "i", "i", 1, "c", FLIPPED, flip(0.3), 0.3, ((241, 200),), _message, ratio=0.6),
    lambda: backward_follows_draw(LAYER, "b", "b", 1, "c", flip(0.3), (50, 50), _same_sign, calls=20),
    lambda: backward_scaled_where(LAYER, "z", "z", 1, "c", FLIPPED, lambda p: -1.0, flip(0.2), (100, 100), _message,
                                  zeros=ZeroInputs(90, rate=lambda p: p["q"], explain=_message)),
    lambda: backward_scaled_where(LAYER, "z", "z", 1, "c", FLIPPED, lambda p: -1.0, flip(0.2), (10, 10), _message,
                                  zeros=ZeroInputs(100, rate=lambda p: p["q"], explain=_message)),
], ids=["rate: too few entries", "mean: too wide", "independence: ratio too close", "odd axis", "too few calls",
        "too few zero inputs", "an input of zeros only"])
def test_a_block_refuses_a_configuration_without_the_bound(build):
    with pytest.raises(ValueError):
        build()


# ---- inputs of exactly 0 (ZeroInputs)

ZERO_CHECK = backward_scaled_where(
    LAYER, "zero_scale", "zero_scale", 1, "backward", FLIPPED, lambda p: -1 / (1 - 2 * p["q"]), flip(0.2), (100, 100),
    _message, zeros=ZeroInputs(300, rate=lambda p: p["q"], explain=lambda p, ratio: f"ratio {ratio}",
                               otherwise=lambda p: 1 / (1 - 2 * p["q"])))


@pytest.mark.parametrize("name, edit, output", [
    ("correct", None, ""),
    # flips rebuilt from out and x: every zero input gets the unflipped factor, none the flipped one
    ("flips_from_output", (SIGNS_CACHED, FLIPS_FROM_OUTPUT), "ratio None"),
    # flips rebuilt as sign(out * x), which is 0 at a zero input: a factor that is neither
    ("sign_of_output", (SIGNS_CACHED, FLIPS_FROM_OUTPUT.replace("np.where(out * x < 0, -1.0, 1.0)", "np.sign(out * x)")),
     "ratio 0.0"),
])
def test_zero_inputs_judge_only_what_a_zero_input_shows(name, edit, output):
    """At an input of 0 the gradient must be dout times one of the two factors, and some must get
    the factor of the entries the draw acted on; the rest of the input still decides the scale."""
    rng = np.random.default_rng()
    results = {run_check(ZERO_CHECK, InProcessStudent.from_source(_source(edit)), rng).output for _ in range(20)}
    assert results == {output}, name

"""No cross-call tricks: a stateful submission that tells probe calls from ordinary ones gains nothing.

The conv battery used to accept a gradient that matched numeric derivatives of the student's
*own* forward pass, measured with extra forward calls (probes) made after the backward call. The
attacks in tests/attacks/conv_probe_*.py recognise those probes (by call order, by similarity to
earlier inputs, by pairing x + h*d with x - h*d) and answer them with a forward pass fitted to a
backward pass that computes no convolution. Here, in-process and fast:

* positive control: :func:`legacy_gradient_check`, a copy of the old check, accepts each attack's
  dx, dw and db (+4 of 10), and rejects its honest twin (HOSTILE = False), so the attacks are real;
* the battery as it is gives each attack exactly its twin's results (the sandboxed, end-to-end
  version of that is tests/test_attack_scores.py);
* a stateless pair (a cheap linear map and its exact gradient) also passed the old fallback, which
  is why gradients are now judged against the reference only.

And the dropout battery: its backward checks are judged on the cached call's own output, with no
probe calls (see assignments/dropout/checks.py), checked by the dropout attack here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.checks.base import Battery, CheckFailed, Steps, run_battery
from grader import assignments
from grader.checks.gradients import rel_error
from grader.definition import load_module
from grader.student import InProcessStudent

ATTACKS = Path(__file__).parent / "attacks"
dropout = load_module(assignments.get("dropout").checks_path)  # assignments/dropout/checks.py
conv = load_module(assignments.get("conv").checks_path)  # assignments/conv/checks.py
GRAD_NAMES = tuple(conv.LAYER.grads)  # dx, dw, db
CONV_ATTACKS = ("conv_probe_after_backward", "conv_probe_similar_inputs", "conv_probe_pairs")
GRADIENT_IDS = ("dx_matches_numeric_gradient", "dw_matches_numeric_gradient", "db_matches_numeric_gradient")


def attack_source(name: str, hostile: bool = True) -> str:
    """The attack's code, or its honest twin's (the one switch ``HOSTILE = True`` turned off)."""
    code = (ATTACKS / f"{name}.py").read_text()
    assert code.count("HOSTILE = True") == 1, f"{name}.py must define HOSTILE = True exactly once"
    return code if hostile else code.replace("HOSTILE = True", "HOSTILE = False")


# ---- the old logic, kept here only to show that the attacks worked against it

LEGACY_STEP, LEGACY_DIRECTIONS = 1e-2, 2


def legacy_gradient_check(which: int):
    """The old ``_gradient`` check: the reference gradient, or else agreement with central
    differences of the student's own forward pass along random directions (probe calls in a third
    round, after the backward calls). Returns a check function for a one-check Battery."""

    layer = conv.LAYER

    def check(rng: np.random.Generator) -> Steps:
        cases = conv.GRADIENT
        inputs = [layer.draw(rng, case) for case in cases]
        douts = [rng.standard_normal(layer.out_shape(case)) for case in cases]
        forwards, backwards = yield from layer.forward_then_backward(inputs, douts)
        suspects = []
        for i, (case, args, dout) in enumerate(zip(cases, inputs, douts)):
            layer.forward_value(forwards[i], case)
            grad = layer.backward_grads(backwards[i], case)[GRAD_NAMES[which]]
            expected = conv.conv_gradient(dout, *args)[which]
            if grad.shape != expected.shape or not np.all(np.isfinite(grad)):
                raise CheckFailed("shape or non-finite")
            if rel_error(grad, expected) <= layer.rtol:
                continue
            if not np.any(grad):
                raise CheckFailed("zero gradient")
            directions = [rng.standard_normal(grad.shape) for _ in range(LEGACY_DIRECTIONS)]
            suspects.append((args, dout, grad, directions))
        calls = []
        for (x, w, b, param), _, _, directions in suspects:
            for d in directions:
                for sign in (1, -1):
                    moved = [x, w, b]
                    moved[which] = moved[which] + sign * LEGACY_STEP * d
                    calls.append(layer.forward_call((*moved, param)))
        replies = (yield calls) if calls else []
        for k, (_, dout, grad, directions) in enumerate(suspects):
            for j, d in enumerate(directions):
                plus, minus = (float(np.sum(replies[4 * k + 2 * j + s].get()[0] * dout)) for s in (0, 1))
                numeric, analytic = (plus - minus) / (2 * LEGACY_STEP), float(np.sum(grad * d))
                if abs(analytic - numeric) > layer.rtol * max(np.linalg.norm(grad) * np.linalg.norm(d), abs(numeric)):
                    raise CheckFailed("matches neither")

    check.__name__ = GRAD_NAMES[which]
    return check


LEGACY = Battery()
for _which in range(3):
    LEGACY.check(f"legacy {GRAD_NAMES[_which]}", 1, "legacy")(legacy_gradient_check(_which))


def _legacy_passes(source: str) -> list[str]:
    results = run_battery(LEGACY.checks, InProcessStudent.from_source(source), np.random.default_rng())
    return [c.id for c, r in zip(LEGACY.checks, results) if r.status == "passed"]


def _conv_outcome(source: str) -> list[tuple[str, float]]:
    results = run_battery(conv.BATTERY.checks, InProcessStudent.from_source(source), np.random.default_rng())
    return [(r.status, r.score) for r in results]


@pytest.mark.parametrize("name", CONV_ATTACKS)
def test_the_probe_attack_beat_the_old_fallback(name):
    """Positive control: the old check accepted all three gradients of a submission without a
    convolution, and only because of the hostile part (its twin passes none)."""
    assert _legacy_passes(attack_source(name)) == ["dx", "dw", "db"]
    assert _legacy_passes(attack_source(name, hostile=False)) == []


@pytest.mark.parametrize("name", CONV_ATTACKS)
def test_the_probe_attack_gains_nothing_now(name):
    attacked, honest = _conv_outcome(attack_source(name)), _conv_outcome(attack_source(name, hostile=False))
    assert attacked == honest
    ids = [c.id for c in conv.BATTERY.checks]
    assert all(attacked[ids.index(i)][0] == "failed" for i in GRADIENT_IDS)
    assert sum(score for _, score in attacked) == pytest.approx(3.0)  # the shape checks, nothing else


LINEAR_PAIR = '''
import numpy as np

def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    out = np.zeros((N, F, 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s))
    out += x.sum(axis=(1, 2, 3))[:, None, None, None] + w.sum(axis=(1, 2, 3))[None, :, None, None] + 2 * b[None, :, None, None]
    return out, (x, w, b)

def conv_backward_naive(dout, cache):
    x, w, b = cache
    per_image, per_filter = dout.sum(axis=(1, 2, 3)), dout.sum(axis=(0, 2, 3))
    return (np.broadcast_to(per_image[:, None, None, None], x.shape).copy(),
            np.broadcast_to(per_filter[:, None, None, None], w.shape).copy(), 2 * per_filter)
'''


def test_a_stateless_linear_pair_without_convolution_earns_no_gradient_points():
    """A cheap linear map and its exact gradient: 'consistent with its own forward pass', so the
    old fallback gave it 4 points; judged against the reference, it gets none."""
    assert _legacy_passes(LINEAR_PAIR) == ["dx", "dw", "db"]
    ids = [c.id for c in conv.BATTERY.checks]
    outcome = _conv_outcome(LINEAR_PAIR)
    assert [ids[i] for i, (status, _) in enumerate(outcome) if status == "passed"] == [
        "output_shape_matches_formula", "output_shape_non_square", "output_shape_rounds_down", "backward_shapes_match_inputs"]


def test_no_check_calls_the_forward_pass_after_the_backward_pass():
    """The structural guarantee behind the above, for both batteries: every forward call of a
    battery is made before its first backward call, so no forward reply can be fitted to a
    backward reply (and the dropout backward checks make no probe calls at all)."""
    from support import RecordingStudent

    import solutions.conv as conv_reference
    import solutions.dropout as dropout_reference
    import inspect

    for battery, reference, backward in ((conv.BATTERY, conv_reference, conv.LAYER.backward),
                                         (dropout.BATTERY, dropout_reference, dropout.BACKWARD)):
        for check in battery.checks:
            student = RecordingStudent.from_source(inspect.getsource(reference))
            order = []
            original = student.run

            def run(chains, original=original):
                order.extend(c.name for g in chains for c in g)
                return original(chains)

            student.run = run
            run_battery([check], student, np.random.default_rng())
            if backward in order:
                assert all(name == backward for name in order[order.index(backward):]), (check.id, order)


# ---- dropout: the old numeric-gradient check made seeded probe calls next to the cached one

LEGACY_H = 1e-5


def legacy_dropout_numeric_gradient(rng: np.random.Generator) -> Steps:
    """The old check: central differences of seeded forward calls at x +- h*d (the same seed, so
    the same mask) against <dx, d>."""
    seed, p = int(rng.integers(1, 2**31)), 0.6
    param = dropout.LAYER.seeded(dropout.param(p), seed)
    x = dropout.LAYER.draw(rng, (4, 6, 5))
    w = rng.standard_normal(x.shape)
    directions = rng.standard_normal((4,) + x.shape)
    probes = [z for d in directions for z in (x + LEGACY_H * d, x - LEGACY_H * d)]
    layer = dropout.LAYER
    replies = yield [layer.forward_call(x, param, cache=True), *(layer.forward_call(z, param) for z in probes)]
    _, cache = layer.forward_reply(replies[0], x.shape, param)
    dx = layer.backward_reply((yield layer.backward_call(w, cache)), w.shape, param)
    losses = [float(np.sum(w * layer.forward_reply(r, x.shape, param)[0])) for r in replies[1:]]
    numeric = np.array([(a - b) / (2 * LEGACY_H) for a, b in zip(losses[0::2], losses[1::2])])
    if rel_error(numeric, np.array([float(np.sum(dx * d)) for d in directions])) > 1e-6:
        raise CheckFailed("does not match")


def _dropout_outcome(source: str) -> list[tuple[str, float]]:
    results = run_battery(dropout.BATTERY.checks, InProcessStudent.from_source(source), np.random.default_rng())
    return [(r.status, r.score) for r in results]


def test_the_dropout_probe_attack_beat_the_old_check_and_gains_nothing_now():
    legacy = Battery()
    legacy.check("legacy numeric gradient", 1, "legacy")(legacy_dropout_numeric_gradient)
    for hostile, expected in ((True, "passed"), (False, "failed")):  # positive control, then its twin
        student = InProcessStudent.from_source(attack_source("dropout_probe_similar_inputs", hostile))
        assert run_battery(legacy.checks, student, np.random.default_rng())[0].status == expected
    attacked = _dropout_outcome(attack_source("dropout_probe_similar_inputs"))
    honest = _dropout_outcome(attack_source("dropout_probe_similar_inputs", hostile=False))
    assert attacked == honest
    ids = [c.id for c in dropout.BATTERY.checks]
    assert attacked[ids.index("backward_scales_by_inverse_p")][0] == "failed"
    assert sum(score for _, score in attacked) == pytest.approx(9.5)  # the wrong scale costs that check only


# A backward pass that ignores its cache and takes the mask of the k-th train-mode forward call
# (first in, first out): right whenever backward calls come in the order of their forward calls.
FIFO_MASKS = '''
import numpy as np
_queue = []

def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode != "train":
        return x.copy(), mode
    mask = (np.random.rand(*x.shape) < p) / p
    _queue.append(mask)
    return x * mask, mode

def dropout_backward(dout, cache):
    return dout.copy() if cache != "train" else dout * _queue.pop(0)
'''


def legacy_reuse_check(rng: np.random.Generator) -> Steps:
    """The old check: two forward passes, then their backward passes in the same order."""
    layer = dropout.LAYER
    xs = [layer.draw(rng, (50, 100)) for _ in range(2)]
    douts = [layer.draw(rng, x.shape) for x in xs]
    param = dropout.param(0.6)
    replies = yield [layer.forward_call(x, param, cache=True) for x in xs]
    passes = [layer.forward_reply(r, x.shape, param) for x, r in zip(xs, replies)]
    replies = yield [layer.backward_call(d, cache) for d, (_, cache) in zip(douts, passes)]
    for (out, _), d, r in zip(passes, douts, replies):
        if not np.array_equal(layer.backward_reply(r, d.shape, param) != 0, out != 0):
            raise CheckFailed("another mask")


def test_a_backward_pass_that_ignores_its_cache_must_guess_the_hidden_order():
    legacy = Battery()
    legacy.check("legacy reuse", 1, "legacy")(legacy_reuse_check)
    reuse = dropout.BATTERY.by_id("backward_reuses_forward_mask")
    rng = np.random.default_rng()
    for _ in range(5):  # a fresh student each time, as in grading
        assert run_battery(legacy.checks, InProcessStudent.from_source(FIFO_MASKS), rng)[0].status == "passed"
        assert run_battery([reuse], InProcessStudent.from_source(FIFO_MASKS), rng)[0].status == "failed"
    assert 1 / np.prod(np.arange(1, dropout.MASK_CALLS // 2 + 1, dtype=float)) < 1e-9  # the written bound

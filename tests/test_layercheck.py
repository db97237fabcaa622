"""The layer-check library on a small layer of its own: blocks pass a right layer, fail wrong
ones with the property's message, and say nothing of the hidden inputs."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import run_battery
from grader.layercheck import (Layer, agrees, all_negative, all_positive, battery, distinct, gradient_shapes, known_answers,
                               leaves_inputs_unchanged, numeric_gradient, output_shape, plant_peak, reference_gradient)
from grader.student import InProcessStudent

# A row-sum-then-scale layer: out (N,) = scale * x.sum(axis=1); dx = scale * dout[:, None].
LAYER = Layer(
    forward="rowsum_forward", backward="rowsum_backward", dims=("N", "D", "scale"), inputs={"x": "N D"},
    param=("p", ("scale",)), out_shape={"N": "N"}, reference=lambda x, p: p["scale"] * x.sum(axis=1),
    describe="scale {scale}",
)
CASES = LAYER.cases((3, 4, 2.0), (2, 5, -1.5))
BATTERY = battery(
    output_shape(LAYER, "shape", "out has one entry per row", 1, "cell_a", CASES),
    known_answers(LAYER, "values", "out is scale times each row's sum", 1, "cell_a", CASES,
                  wrong="Sum each row, then scale.", diagnose={"forgot the scale": lambda x, p: x.sum(axis=1)}),
    leaves_inputs_unchanged(LAYER, "unchanged", "leaves x and p unchanged", 1, "cell_a", CASES[0]),
    gradient_shapes(LAYER, "grad_shape", "dx has the shape of x", 1, "cell_b", CASES),
    numeric_gradient(LAYER, "grad", "dx matches the numeric gradient", 1, "cell_b", CASES, hint="dx[n, d] = scale * dout[n]."),
)

RIGHT = '''
import numpy as np
def rowsum_forward(x, p):
    return p["scale"] * x.sum(axis=1), (x, p)
def rowsum_backward(dout, cache):
    x, p = cache
    return p["scale"] * np.repeat(dout[:, None], x.shape[1], axis=1)
'''


def _grade(source: str) -> dict[str, tuple[str, str]]:
    results = run_battery(BATTERY.checks, InProcessStudent.from_source(source), np.random.default_rng())
    return {c.id: (r.status, r.output) for c, r in zip(BATTERY.checks, results)}


def test_a_right_layer_passes_every_block():
    assert {k: v[0] for k, v in _grade(RIGHT).items()} == dict.fromkeys(
        ("shape", "values", "unchanged", "grad_shape", "grad"), "passed")
    assert BATTERY.cells() == {"cell_a": 3.0, "cell_b": 2.0}


@pytest.mark.parametrize("edit, failed, words", [
    (("x.sum(axis=1), (x, p)", "x.sum(axis=1, keepdims=True), (x, p)"), {"shape", "values", "unchanged"},
     "returned out with 2 dimensions (scale 2.0); expected 1: (N)"),
    (("x.sum(axis=1), (x, p)", "x[:, 1:].sum(axis=1), (x, p)"), {"values", "unchanged"},
     "output values are wrong (scale 2.0). Sum each row, then scale."),
    (('p["scale"] * x.sum(axis=1), (x, p)', 'x.sum(axis=1), (x, p)'), {"values", "unchanged"},
     "rowsum_forward forgot the scale (scale 2.0)."),
    (('return p["scale"] * x.sum', 'p.pop("scale")\n    return 2.0 * x.sum'), {"unchanged", "values", "grad_shape", "grad"},
     "rowsum_forward changed p (for example with pop)"),
    (("np.repeat(dout[:, None], x.shape[1], axis=1)", "dout"), {"grad_shape", "grad"},
     "returned dx of shape (3,) (scale 2.0); it must have the shape of x, (3, 4)"),
    (('return p["scale"] * np.repeat', 'return np.repeat'), {"grad"},
     "dx is wrong (scale 2.0): it does not match the numeric gradient of a correct rowsum_forward. dx[n, d] = scale * dout[n]."),
])
def test_a_wrong_layer_fails_the_property_it_breaks(edit, failed, words):
    got = _grade(RIGHT.replace(*edit))
    assert {k for k, (status, _) in got.items() if status != "passed"} == failed
    assert any(words in output for _, output in got.values()), got


def test_a_missing_function_or_a_bad_reply_is_reported_not_raised():
    got = _grade("def rowsum_forward(x, p):\n    return 1\n")
    assert all(status != "passed" for status, _ in got.values())
    assert "rowsum_forward should return a tuple of 2 items" in got["shape"][1]
    got = _grade(RIGHT.split("def rowsum_backward")[0])
    assert got["grad"] == ("error", "the submission does not define rowsum_backward") or "rowsum_backward" in got["grad"][1]
    assert got["values"][0] == "passed"


def test_grid_keeps_the_cases_that_satisfy_where_and_have_an_output():
    cases = LAYER.grid(N=[1, 2], D=[3, 4], scale=[1.0, -1.0], where="D > N + 1")
    assert [(c.N, c.D) for c in cases] == [(1, 3), (1, 3), (1, 4), (1, 4), (2, 4), (2, 4)]
    with pytest.raises(ValueError, match="grid needs values for scale"):
        LAYER.grid(N=[1], D=[1])
    with pytest.raises(ValueError, match="a case needs 3 values"):
        LAYER.cases((1, 2))


def test_draws_space_values_apart_and_plant_what_checks_need():
    rng = np.random.default_rng()
    for _ in range(50):
        x = distinct(rng, (2, 3, 5, 6), gap=0.1)
        gaps = np.diff(np.sort(x.ravel()))
        assert gaps.min() >= 0.1 - 1e-12 and abs(np.median(x)) < 1
        assert all_negative(rng, (4, 4)).max() <= -1.0 and all_positive(rng, (4, 4)).min() >= 1.0
        peaked = plant_peak(x, 2, 3)
        assert np.array_equal(np.sort(peaked.ravel()), np.sort(x.ravel()))
        assert np.array_equal(peaked[:, :, 2, 3], x.max(axis=(2, 3)))


# --- several inputs and gradients, judging apart, placed and computed messages --------------------
# An affine layer: out (N, M) = scale * x @ w + b; dx = scale * dout @ w.T, dw = scale * x.T @ dout, db = dout.sum(0).


def affine(x, w, b, p):
    return p["scale"] * x @ w + b


AFFINE = Layer(
    forward="affine_forward", backward="affine_backward", dims=("N", "D", "M", "scale"),
    inputs={"x": "N D", "w": "D M", "b": "M"}, param=("p", ("scale",)), out_shape={"N": "N", "M": "M"},
    reference=affine, describe="x of shape ({N}, {D}), scale {scale}",
)
FAST = Layer(  # the same layer with its trusted analytic gradient
    forward="affine_forward", backward="affine_backward", dims=AFFINE.dims, inputs={"x": "N D", "w": "D M", "b": "M"},
    param=("p", ("scale",)), out_shape={"N": "N", "M": "M"}, reference=affine, describe="x of shape ({N}, {D}), scale {scale}",
    gradient=lambda dout, x, w, b, p: (p["scale"] * dout @ w.T, p["scale"] * x.T @ dout, dout.sum(axis=0)),
)
AFFINE_CASES = AFFINE.cases((3, 4, 2, 2.0), (2, 3, 5, -1.5))
TRANSPOSED = {"multiplies by w transposed {case}; out = scale * x @ w + b": lambda x, w, b, p: p["scale"] * x @ w[::-1] + b}


def centred(out):  # what a constant added to every output cannot change
    return out - out.mean(axis=0, keepdims=True)


def affine_battery(layer):
    return battery(
        output_shape(layer, "shape", "out is (N, M)", 1, "a", AFFINE_CASES, hint="Here D is odd"),
        known_answers(layer, "values", "out is scale * x @ w + b", 1, "a", AFFINE_CASES,
                      wrong=lambda out, x, w, b, p: "Only the bias is wrong." if agrees(layer, out, (x, w, b, p), apart=centred)
                      else "Multiply, then add b.", diagnose=TRANSPOSED),
        known_answers(layer, "products", "x @ w, whatever the bias and sign", 1, "a", AFFINE_CASES,
                      accept=(lambda x, w, b, p: -affine(x, w, b, p),), apart=centred),
        leaves_inputs_unchanged(layer, "unchanged", "leaves its inputs unchanged", 1, "a", AFFINE_CASES[0], apart=centred),
        gradient_shapes(layer, "grad_shapes", "dx, dw, db shaped like x, w, b", 1, "b", AFFINE_CASES),
        *(numeric_gradient(layer, f"{g}_right", f"{g} matches the numeric gradient", 1, "b", AFFINE_CASES, g,
                           diagnose={"is the gradient of the layer without its scale {case}": lambda x, w, b, p: x @ w + b})
          for g in ("dx", "dw", "db")),
    )


AFFINE_RIGHT = '''
def affine_forward(x, w, b, p):
    return p["scale"] * x @ w + b, (x, w, b, p)
def affine_backward(dout, cache):
    x, w, b, p = cache
    return p["scale"] * dout @ w.T, p["scale"] * x.T @ dout, dout.sum(axis=0)
'''


def _affine(source: str, layer: Layer = AFFINE) -> dict[str, tuple[str, str]]:
    checks = affine_battery(layer).checks
    results = run_battery(checks, InProcessStudent.from_source(source), np.random.default_rng())
    return {c.id: (r.status, r.output) for c, r in zip(checks, results)}


@pytest.mark.parametrize("layer", [AFFINE, FAST], ids=["central-differences", "trusted-gradient"])
def test_several_inputs_and_gradients_pass_a_right_layer(layer):
    assert {k: s for k, (s, _) in _affine(AFFINE_RIGHT, layer).items() if s != "passed"} == {}


def test_a_trusted_gradient_is_what_the_gradient_checks_compare_with():
    """The layer's ``gradient`` replaces central differences (a wrong one fails a right layer: it is used)."""
    wrong = Layer(forward="affine_forward", backward="affine_backward", dims=AFFINE.dims, inputs=dict(x="N D", w="D M", b="M"),
                  param=("p", ("scale",)), out_shape={"N": "N", "M": "M"}, reference=affine,
                  gradient=lambda dout, x, w, b, p: (dout @ w.T, x.T @ dout, dout.sum(axis=0)))
    got = _affine(AFFINE_RIGHT, wrong)
    assert {k for k, (s, _) in got.items() if s != "passed"} == {"dx_right", "dw_right"}
    rng = np.random.default_rng()
    args, dout = FAST.draw(rng, AFFINE_CASES[1]), rng.standard_normal((2, 5))
    for name in ("x", "w", "b"):
        numeric = reference_gradient(AFFINE, args, dout, name)
        assert np.allclose(reference_gradient(FAST, args, dout, name), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("edit, failed, words", [
    # a constant added: the bias-blind checks pass, the known answer says it is the bias
    (("+ b, (x, w, b, p)", "+ b + 1.0, (x, w, b, p)"), {"values"},
     "affine_forward output values are wrong (x of shape (3, 4), scale 2.0). Only the bias is wrong."),
    # the sign flipped: accepted by the check that accepts it, and only there
    (("return p[\"scale\"] * x @ w + b, (x", "return -p[\"scale\"] * x @ w + b, (x"), {"values", "unchanged"},
     "Multiply, then add b."),
    # a usual mistake, its message with the case placed where {case} stands
    (("p[\"scale\"] * x @ w + b, (x", "p[\"scale\"] * x @ w[::-1] + b, (x"), {"values", "products", "unchanged"},
     "affine_forward multiplies by w transposed (x of shape (3, 4), scale 2.0); out = scale * x @ w + b."),
    # a gradient of the mistaken forward pass is named so; its own check only
    (("return p[\"scale\"] * dout @ w.T", "return dout @ w.T"), {"dx_right"},
     "dx is the gradient of the layer without its scale (x of shape (3, 4), scale 2.0)."),
    (("dout.sum(axis=0)\n", "dout.sum(axis=0) / 0.0\n"), {"db_right"}, "returned NaN, infinite or non-numeric values in db"),
    # the student's error names the case that raised, and the shape check's hint ends it
    (("def affine_forward(x, w, b, p):\n", "def affine_forward(x, w, b, p):\n    assert x.shape[1] % 2 == 0\n"),
     {"shape", "values", "products", "grad_shapes", "dx_right", "dw_right", "db_right"},
     "affine_forward raised AssertionError (x of shape (2, 3), scale -1.5). Here D is odd"),
])
def test_judging_apart_and_messages_on_several_inputs(edit, failed, words):
    source = AFFINE_RIGHT.replace(*edit)
    assert source != AFFINE_RIGHT
    with np.errstate(all="ignore"):
        got = _affine(source)
    assert {k for k, (s, _) in got.items() if s != "passed"} == failed, got
    assert any(words in output for _, output in got.values()), got


def test_no_backward_call_follows_an_unusable_forward_reply():
    """A forward reply whose out is not an array ends the backward calls there (their cases are judged on it)."""
    source = AFFINE_RIGHT.replace('return p["scale"] * x @ w + b, (x', 'return (p["scale"] * x @ w + b).tolist(), (x')
    calls = []

    class Recording(InProcessStudent):
        def run(self, groups):
            calls.extend(c.name for g in groups for c in g)
            return super().run(groups)

    check = affine_battery(AFFINE).by_id("dx_right")
    result = run_battery([check], Recording.from_source(source), np.random.default_rng())[0]
    assert result.status == "failed" and "expected a numpy array" in result.output
    assert calls == ["affine_forward"] * len(AFFINE_CASES)


# --- the own-forward fallback: a usual forward mistake is charged once, never by the gradient checks --------

UNSCALED = lambda x, w, b, p: x @ w + b  # noqa: E731 (the usual mistake: the scale left out of the forward pass)
UNSCALED_PAIR = AFFINE_RIGHT.replace('return p["scale"] * x @ w + b, (x', "return x @ w + b, (x").replace(
    'return p["scale"] * dout @ w.T, p["scale"] * x.T @ dout', "return dout @ w.T, x.T @ dout")


def _gradients(source: str, own_forward=()) -> set[str]:
    checks = [numeric_gradient(AFFINE, f"{g}_right", f"{g} matches", 1, "b", AFFINE_CASES, g, own_forward=own_forward)
              for g in ("dx", "dw", "db")]
    results = run_battery(checks, InProcessStudent.from_source(source), np.random.default_rng())
    return {c.id for c, r in zip(checks, results) if r.status != "passed"}


def test_own_forward_credits_a_backward_pass_consistent_with_a_listed_forward_mistake():
    assert UNSCALED_PAIR != AFFINE_RIGHT
    assert _gradients(UNSCALED_PAIR) == {"dx_right", "dw_right"}  # without the fallback: charged twice
    assert _gradients(UNSCALED_PAIR, own_forward=(UNSCALED,)) == set()
    assert _gradients(AFFINE_RIGHT, own_forward=(UNSCALED,)) == set()


def test_own_forward_credits_only_the_mistake_the_call_itself_showed():
    """A right forward pass with the mistake's backward pass, or the mistake's forward pass with
    some other wrong backward pass, gets nothing from the fallback."""
    right_forward_unscaled_backward = AFFINE_RIGHT.replace(
        'return p["scale"] * dout @ w.T, p["scale"] * x.T @ dout', "return dout @ w.T, x.T @ dout")
    assert _gradients(right_forward_unscaled_backward, own_forward=(UNSCALED,)) == {"dx_right", "dw_right"}
    other_backward = UNSCALED_PAIR.replace("return dout @ w.T, x.T @ dout", "return 2 * dout @ w.T, x.T @ dout")
    assert _gradients(other_backward, own_forward=(UNSCALED,)) == {"dx_right"}

"""The layer-check library on a small layer of its own: blocks pass a right layer, fail wrong
ones with the property's message, and say nothing of the hidden inputs."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import run_battery
from grader.layercheck import (Layer, all_negative, all_positive, battery, distinct, gradient_shapes, known_answers,
                               leaves_inputs_unchanged, numeric_gradient, output_shape, plant_peak)
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

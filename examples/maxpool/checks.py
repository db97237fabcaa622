"""Hidden checks of the max-pooling assignment, composed from grader.layercheck (docs/authoring.md).

Tied maxima: the main draws have none (all values at least 0.1 apart, so central differences of
the reference are exact); one check plants them and states the rule: a window's dout goes to its
maxima only and adds up to dout once (to one tied maximum, or split among them).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.layercheck import (CheckFailed, Layer, battery, all_positive, all_negative, forward_backward, grads_of,
                               gradient_shapes, known_answers, leaves_inputs_unchanged, numeric_gradient,
                               output_shape, plant_peak)


def windows(x, p):  # view (N, C, Hout, Wout, pool_height, pool_width) of every pooling window
    return sliding_window_view(x, (p["pool_height"], p["pool_width"]), axis=(2, 3))[:, :, ::p["stride"], ::p["stride"]]


def draw(rng, case):  # positive, no ties; each slice's largest value where windows 0 and 1 overlap (if they do)
    x = all_positive(rng, (case.N, case.C, case.H, case.W))
    return {"x": plant_peak(x, min(case.stride, case.H - 1), min(case.stride, case.W - 1))}


LAYER = Layer(
    forward="max_pool_forward_naive", backward="max_pool_backward_naive",
    dims=("N", "C", "H", "W", "pool_height", "pool_width", "stride"), inputs={"x": "N C H W"},
    param=("pool_param", ("pool_height", "pool_width", "stride")),
    out_shape={"N": "N", "C": "C", "Hout": "1 + (H - pool_height) // stride", "Wout": "1 + (W - pool_width) // stride"},
    reference=lambda x, p: windows(x, p).max(axis=(4, 5)), draw=draw,
    describe="{pool_height}x{pool_width} window, stride {stride}",
)
SQUARE = LAYER.grid(N=[2], C=[3], H=[4, 5, 7], W=[4, 5, 7], pool_height=[1, 2, 3], pool_width=[1, 2, 3],
                    stride=[1, 2, 3], where="H == W and pool_height == pool_width")
NON_SQUARE = LAYER.cases((1, 2, 5, 7, 3, 2, 1), (2, 1, 7, 4, 2, 3, 2), (1, 1, 3, 8, 1, 3, 3), (1, 3, 6, 4, 3, 1, 2))
GRADIENT = LAYER.cases((2, 3, 6, 6, 2, 2, 2), (2, 2, 7, 7, 3, 3, 2), (1, 3, 5, 6, 2, 2, 1), (2, 2, 6, 7, 2, 3, 2))
SPLIT = "give each window's dout to one of its tied maxima (or split it among them): it must add up to dout once"

BATTERY = battery(
    output_shape(LAYER, "output_shape_matches_formula", "output shape follows Hout = 1 + (H - pool_height) // stride",
                 1, "test_forward_shape", SQUARE, hint="Hout rounds down: a window that would run past the border is left out"),
    output_shape(LAYER, "output_shape_non_square", "output shape is right for non-square inputs and windows",
                 1, "test_forward_shape", NON_SQUARE),
    known_answers(LAYER, "output_is_the_window_maximum", "each output is the maximum of its window, also for negative inputs",
                  1.5, "test_forward_values", LAYER.cases((2, 3, 4, 6, 2, 2, 2), (1, 2, 6, 6, 3, 3, 3)),
                  draws=(None, lambda rng, case: {"x": all_negative(rng, (case.N, case.C, case.H, case.W))}),
                  wrong="out[n, c, i, j] must be the largest x[n, c] in the window at (i * stride, j * stride).",
                  diagnose={"computes the mean of each window (average pooling), not its maximum":
                            lambda x, p: windows(x, p).mean(axis=(4, 5)),
                            "returns 0 where a whole window is negative: start a running maximum at -inf, not 0":
                            lambda x, p: np.maximum(windows(x, p).max(axis=(4, 5)), 0)}),
    known_answers(LAYER, "windows_move_by_stride", "windows move by stride, also when they overlap or leave gaps",
                  1, "test_forward_values", LAYER.cases((2, 2, 7, 7, 3, 3, 2), (1, 3, 6, 5, 2, 2, 1), (2, 1, 8, 5, 2, 2, 3)),
                  wrong="The window of out[..., i, j] starts at row i * stride and column j * stride."),
    leaves_inputs_unchanged(LAYER, "forward_leaves_inputs_unchanged", "max_pool_forward_naive leaves x and pool_param unchanged",
                            0.5, "test_forward_values", LAYER.cases((2, 2, 6, 4, 2, 2, 2))[0]),
    gradient_shapes(LAYER, "backward_shape_matches_x", "max_pool_backward_naive returns dx shaped like x",
                    1, "test_backward_shapes", LAYER.cases((2, 3, 5, 6, 3, 2, 2), (1, 2, 6, 5, 2, 2, 1))),
    numeric_gradient(LAYER, "dx_matches_numeric_gradient", "dx matches the numeric gradient", 3, "test_backward_values",
                     GRADIENT, hint="Usual causes: '=' instead of '+=' where windows overlap, ignoring the stride, "
                                    "or unravelling the argmax with the wrong window width."),
)


@BATTERY.check("with tied maxima, each window's dout goes to its maxima, once", 1, "test_backward_values")
def tied_maxima_share_dout(rng):
    """Windows side by side (stride = window), two corners of each tied above the rest."""
    def tied(rng, case):
        x = rng.integers(0, 3, (case.N, case.C, case.H, case.W)).astype(float)
        x[..., ::case.stride, ::case.stride] = x[..., case.stride - 1::case.stride, case.stride - 1::case.stride] = 5.0
        return {"x": x}
    cases = LAYER.cases((2, 3, 4, 6, 2, 2, 2), (1, 2, 6, 6, 3, 3, 3))
    inputs, douts, pairs = yield from forward_backward(LAYER, rng, cases, tied)
    for case, (x, p), dout, (forward, backward) in zip(cases, inputs, douts, pairs):
        dx = grads_of(LAYER, forward, backward)["dx"]
        if dx.shape != x.shape:
            raise CheckFailed(f"max_pool_backward_naive returned dx of shape {dx.shape}; it must have the shape of x, {x.shape}")
        win, share = windows(x, p), windows(dx, p)
        if np.any(share[win < win.max(axis=(4, 5), keepdims=True)]):
            raise CheckFailed(f"dx is nonzero at an input that is not its window's maximum {LAYER.describe(case)}")
        if not np.allclose(share.sum(axis=(4, 5)), dout, rtol=1e-6, atol=0):
            raise CheckFailed(f"with tied maxima {LAYER.describe(case)}, {SPLIT}, not to each of them")

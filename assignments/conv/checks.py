"""Hidden checks of the convolution assignment, composed from grader.layercheck (docs/authoring.md).

Nothing here is statistical: correct float64 code agrees with the reference to rounding (~1e-15
relative) whatever the draw, and the tolerance (1e-6) leaves nine orders of margin.

One property, one check. Every case divides evenly (``(H + 2*pad - HH) % stride == 0``, as
cs231n's own code asserts) except the rounding check's, so code that assumes it loses that check
only. The padding check is judged apart from the bias (both outputs centred over the positions of
each image and filter) and accepts either orientation of the filter; the stride and
inputs-unchanged checks also accept up to two zeros too many of padding. So a bias, flip or
padding mistake costs its own check, not these too. Gradients are judged against the reference
only, never against the student's own forward pass (tests/test_checks_cross_call.py): a mistake
shared by both passes (a flipped filter everywhere) costs both.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.layercheck import (Layer, agrees, battery, gradient_shapes, known_answers, leaves_inputs_unchanged,
                               numeric_gradient, output_shape)


def windows(x, w, p, pad):  # view (N, C, Hout, Wout, HH, WW) of the zero-padded x's windows
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::p["stride"], ::p["stride"]]


def conv(x, w, b, p, pad=None):  # cross-correlation of the zero-padded x with each filter, plus its bias
    return np.einsum("nchwij,fcij->nfhw", windows(x, w, p, p["pad"] if pad is None else pad), w) + b[None, :, None, None]


def conv_gradient(dout, x, w, b, p):  # dx, dw, db of conv (tests: they are its central differences), fast
    pad, s, (HH, WW), (Hout, Wout) = p["pad"], p["stride"], w.shape[2:], dout.shape[2:]
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad))
    for i, j in np.ndindex(HH, WW):  # one strided scatter per filter tap
        dxp[:, :, i:i + s * (Hout - 1) + 1:s, j:j + s * (Wout - 1) + 1:s] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    dw = np.einsum("nchwij,nfhw->fcij", windows(x, w, p, pad), dout)
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def flipped(x, w, b, p):  # a true convolution: every filter flipped
    return conv(x, w[:, :, ::-1, ::-1], b, p)


def centred(out):  # minus its mean over the positions of each image and filter: any bias constant there is gone
    return out - out.mean(axis=(2, 3), keepdims=True)


def padded_more(extra, flip):  # the top-left corner of the output with `extra` zeros too many of padding
    def forward(x, w, b, p):
        rows, cols = (1 + (n + 2 * p["pad"] - k) // p["stride"] for n, k in zip(x.shape[2:], w.shape[2:]))
        return conv(x, w[:, :, ::-1, ::-1] if flip else w, b, p, p["pad"] + extra)[:, :, :rows, :cols]
    return forward


ANY_PADDING = tuple(padded_more(extra, flip) for extra in range(3) for flip in (False, True))[1:]


def draw(rng, case):  # |b| in [1, 2] with random signs: a missing or misindexed bias never hides behind a tiny b
    x, w = rng.standard_normal((case.N, case.C, case.H, case.W)), rng.standard_normal((case.F, case.C, case.HH, case.WW))
    return {"x": x, "w": w, "b": rng.uniform(1.0, 2.0, case.F) * rng.choice((-1.0, 1.0), case.F)}


LAYER = Layer(
    forward="conv_forward_naive", backward="conv_backward_naive",
    dims=("N", "C", "H", "W", "F", "HH", "WW", "pad", "stride"), inputs={"x": "N C H W", "w": "F C HH WW", "b": "F"},
    param=("conv_param", ("stride", "pad")), reference=conv, gradient=conv_gradient, draw=draw,
    out_shape={"N": "N", "F": "F", "Hout": "1 + (H + 2*pad - HH) // stride", "Wout": "1 + (W + 2*pad - WW) // stride"},
    describe="x of shape ({N}, {C}, {H}, {W}), w of shape ({F}, {C}, {HH}, {WW}), pad {pad}, stride {stride}",
)
SQUARE = LAYER.cases((2, 3, 5, 5, 2, 3, 3, 0, 1), (1, 2, 6, 6, 3, 3, 3, 1, 1), (2, 1, 7, 7, 2, 3, 3, 0, 2),
                     (1, 2, 6, 6, 2, 2, 2, 0, 2), (1, 1, 7, 7, 1, 3, 3, 1, 2), (1, 2, 4, 4, 2, 2, 2, 2, 3),
                     (2, 1, 5, 5, 1, 5, 5, 0, 1))  # the last: one window covers the whole input
NON_SQUARE = LAYER.cases((1, 2, 5, 7, 2, 3, 2, 0, 1), (2, 1, 7, 4, 3, 3, 2, 1, 2), (1, 1, 7, 5, 1, 3, 4, 1, 3),
                         (1, 3, 6, 4, 2, 3, 3, 2, 1))
# (H + 2*pad - HH) / stride is 2.5, 7/3, 3.5, 1.5; square, so a height/width mix-up costs the non-square check only
ROUNDING = LAYER.cases((1, 1, 6, 6, 1, 3, 3, 1, 2), (1, 2, 4, 4, 2, 1, 1, 2, 3), (2, 1, 7, 7, 3, 2, 2, 1, 2),
                       (1, 2, 5, 5, 3, 2, 2, 0, 2))
ROUNDING_HINT = ("Here the stride does not divide H + 2*pad - HH evenly: do not assume it does; the output size "
                 "rounds down, Hout = 1 + (H + 2*pad - HH) // stride, leaving out the last partial window")
PLAIN = LAYER.cases((2, 3, 5, 6, 3, 3, 2, 0, 1))  # N < F: b[n] instead of b[f] runs, wrongly
PADDED = LAYER.cases((2, 2, 5, 4, 3, 3, 3, 1, 1), (1, 3, 4, 5, 2, 2, 3, 2, 1))  # stride 1: one mistake, one check
STRIDED = LAYER.cases((2, 2, 7, 5, 3, 3, 3, 0, 2), (1, 2, 7, 5, 2, 1, 2, 0, 3))  # pad 0, likewise
UNCHANGED = LAYER.cases((2, 2, 6, 6, 2, 3, 3, 0, 1))[0]  # square: a shape mix-up costs the shape checks only
BACKWARD_SHAPES = LAYER.cases((2, 3, 5, 6, 3, 3, 2, 0, 2), (1, 2, 6, 5, 3, 3, 3, 1, 1))  # pad 0 catches [pad:-pad]
GRADIENT = LAYER.cases((2, 2, 5, 6, 3, 3, 2, 0, 1), (2, 3, 7, 5, 2, 3, 3, 1, 2), (1, 2, 7, 5, 3, 3, 3, 0, 2))

PAD_ZEROS = "pad the input with pad zeros on all four sides (np.pad with mode='constant')"


def bias_or_values(out, x, w, b, p):  # the most specific hint for a wrong cross-correlation
    if agrees(LAYER, out, (x, w, b, p), apart=centred):  # b[n], b[0], b added once per channel, ...
        return ("They are the cross-correlation plus a wrong constant: the sums over the windows are right, the "
                "bias is not; add b[f], once, to every output of filter f.")
    return ("out[n, f, i, j] must be the sum over c, a, b of x_pad[n, c, i*stride + a, j*stride + b] * "
            "w[f, c, a, b], plus b[f].")


def border_or_padding(out, x, w, b, p):  # right where the windows hold no padding, wrong at the border?
    pad, s, (HH, WW) = p["pad"], p["stride"], w.shape[2:]
    rows = [i for i in range(out.shape[2]) if pad <= i * s and i * s + HH <= pad + x.shape[2]]
    cols = [j for j in range(out.shape[3]) if pad <= j * s and j * s + WW <= pad + x.shape[3]]
    inner = x[:, :, rows[0] * s - pad:rows[-1] * s - pad + HH, cols[0] * s - pad:cols[-1] * s - pad + WW] if rows and cols else x
    if len(rows) * len(cols) > 1 and agrees(LAYER, out[:, :, rows][..., cols], (inner, w, b, {"stride": s, "pad": 0}),
                                            (None, flipped), centred):
        return f"They are right in the middle but wrong near the border: {PAD_ZEROS}."
    return (f"Judged apart from the bias and the filter's orientation (the cross-correlation check grades those): "
            f"{PAD_ZEROS}, then slide the windows over the padded input.")


GRADIENT_HINTS = {
    "dx": "Usual causes: '=' instead of '+=' where windows overlap, ignoring the stride, or cropping the padding "
          "from the wrong place (keep rows pad to pad + H and columns pad to pad + W).",
    "dw": "Usual causes: '=' instead of '+=' (dw must sum over every image and window), ignoring the stride, or "
          "using the unpadded input.",
    "db": "db[f] is the sum of dout[:, f] over images, rows and columns.",
}
FLIPPED_GRADIENT = {"is the gradient of a true convolution (the filter flipped) {case}; the layer is a cross-correlation "
                    "(w[f] as it is, unflipped), in the forward pass and in its gradient": flipped}


def gradient(grad, points, diagnose=None):
    return numeric_gradient(LAYER, f"{grad}_matches_numeric_gradient", f"{grad} is the gradient of the layer with respect "
                            f"to {grad[1:]}", points, "test_backward_values", GRADIENT, grad, GRADIENT_HINTS[grad],
                            diagnose=diagnose)


BATTERY = battery(
    output_shape(LAYER, "output_shape_matches_formula", "output shape follows Hout = 1 + (H + 2*pad - HH) // stride",
                 0.75, "test_forward_shape", SQUARE),
    output_shape(LAYER, "output_shape_non_square", "output shape is right for non-square inputs and filters",
                 0.75, "test_forward_shape", NON_SQUARE),
    output_shape(LAYER, "output_shape_rounds_down", "output size rounds down when the stride does not divide evenly",
                 0.5, "test_forward_shape", ROUNDING, hint=ROUNDING_HINT),
    known_answers(LAYER, "forward_computes_cross_correlation", "output is the cross-correlation of x with each filter, "
                  "plus its bias", 1, "test_forward_values", PLAIN, wrong=bias_or_values,
                  diagnose={"computes a true convolution (the filter flipped) {case}. This course, like every "
                            "deep-learning library, uses cross-correlation: multiply each window by w[f] as it is, "
                            "unflipped.": flipped,
                            "output values are off by the bias {case}: add b[f] to every output of filter f.":
                            lambda x, w, b, p: conv(x, w, 0 * b, p)}),
    known_answers(LAYER, "forward_zero_pads_every_side", "input is zero-padded by pad on every side", 0.75,
                  "test_forward_values", PADDED, wrong=border_or_padding, accept=(flipped,), apart=centred),
    known_answers(LAYER, "forward_applies_stride", "windows move by stride", 0.75, "test_forward_values", STRIDED,
                  wrong="Judged apart from the bias, the filter's orientation and the amount of zero padding (the "
                        "cross-correlation and padding checks grade those): window (i, j) starts at row i*stride and "
                        "column j*stride of the padded input.", accept=ANY_PADDING, apart=centred),
    leaves_inputs_unchanged(LAYER, "forward_leaves_inputs_unchanged", "conv_forward_naive leaves its inputs unchanged",
                            0.5, "test_forward_values", UNCHANGED, accept=ANY_PADDING, apart=centred),
    gradient_shapes(LAYER, "backward_shapes_match_inputs", "conv_backward_naive returns dx, dw, db shaped like x, w, b",
                    1, "test_backward_shapes", BACKWARD_SHAPES),
    gradient("dx", 1.5, FLIPPED_GRADIENT), gradient("dw", 1.5, FLIPPED_GRADIENT), gradient("db", 1),
)

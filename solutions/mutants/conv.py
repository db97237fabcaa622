"""Student mistakes (``MUTANTS``) and correct variants (``ALTERNATIVES``) of ``solutions/conv.py``.

Every mutant names the check of ``grader/checks/conv.py`` that must fail for it; alternatives
must score full marks on every run.
"""

from __future__ import annotations

from solutions.mutants import Mutant

# Exact text of the reference that several edits target (each occurs once in solutions/conv.py).
FORWARD_LOOP = """\
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
"""
FORWARD_OUT = "out[n, f, i, j] = np.sum(window * w[f]) + b[f]"
FORWARD_WINDOW = "window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]"
FORWARD_PAD = 'xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")\n    out = np.zeros'
BACKWARD_PAD = 'xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")\n    dxp'
# the forward pass's first line (the backward pass has the same line after `cache`)
FORWARD_PARAM = '''\
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    ### BEGIN SOLUTION
    Hout'''
BACKWARD_LOOP_HEAD = """\
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    hs, ws"""
DX_ACC = "dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]"
DW_ACC = "dw[f] += xp[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]"
DB = "db = np.sum(dout, axis=(0, 2, 3))"
CROP = "dx = dxp[:, :, pad:pad + H, pad:pad + W]"
HOUT = "Hout = 1 + (H + 2 * pad - HH) // stride"
WOUT = "Wout = 1 + (W + 2 * pad - WW) // stride"
STARTS = "hs, ws = i * stride, j * stride"

MUTANTS: list[Mutant] = [
    # --- forward values -----------------------------------------------------------------------
    Mutant("flipped_kernel", "true convolution in the forward pass: the filter flipped (finn)",
           ((FORWARD_OUT, "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),),
           "forward_computes_cross_correlation"),
    Mutant("flipped_kernel_everywhere",
           "true convolution in both passes: gradients agree with the forward, only a known answer catches it",
           ((FORWARD_OUT, "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),
            (DX_ACC, "dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f, :, ::-1, ::-1] * dout[n, f, i, j]"),
            (DW_ACC, "dw[f, :, ::-1, ::-1] += xp[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]")),
           "forward_computes_cross_correlation"),
    Mutant("missing_bias", "forgot + b[f] (chloe)",
           ((FORWARD_OUT, "out[n, f, i, j] = np.sum(window * w[f])"),), "forward_computes_cross_correlation"),
    Mutant("bias_indexed_by_image", "b[n] instead of b[f]",
           ((FORWARD_OUT, "out[n, f, i, j] = np.sum(window * w[f]) + b[n]"),), "forward_computes_cross_correlation"),
    Mutant("bias_of_first_filter", "b[0] for every filter",
           ((FORWARD_OUT, "out[n, f, i, j] = np.sum(window * w[f]) + b[0]"),), "forward_computes_cross_correlation"),
    Mutant("integer_output", "output array allocated with an integer dtype: values truncated",
           (("out = np.zeros((N, F, Hout, Wout), dtype=np.result_type(x, w, b))",
             "out = np.zeros((N, F, Hout, Wout), dtype=int)"),), "forward_computes_cross_correlation"),
    Mutant("padding_on_one_side", "all 2*pad zeros before the input, none after",
           ((FORWARD_PAD, 'xp = np.pad(x, ((0, 0), (0, 0), (2 * pad, 0), (2 * pad, 0)), mode="constant")\n    out = np.zeros'),),
           "forward_zero_pads_every_side"),
    Mutant("edge_padding", "np.pad mode='edge': repeats border values instead of zeros",
           ((FORWARD_PAD, 'xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")\n    out = np.zeros'),),
           "forward_zero_pads_every_side"),
    Mutant("reflect_padding", "np.pad mode='reflect' instead of zeros",
           ((FORWARD_PAD, 'xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")\n    out = np.zeros'),),
           "forward_zero_pads_every_side"),
    Mutant("stride_ignored_forward", "windows start at (i, j) instead of (i*stride, j*stride)",
           ((FORWARD_WINDOW, "window = xp[n, :, i:i + HH, j:j + WW]"),), "forward_applies_stride"),
    Mutant("stride_ignored_everywhere", "stride ignored in both passes: gradients agree with the forward",
           ((FORWARD_WINDOW, "window = xp[n, :, i:i + HH, j:j + WW]"), (STARTS, "hs, ws = i, j")),
           "forward_applies_stride"),
    Mutant("conv_param_popped", "reads stride with conv_param.pop, emptying the caller's dict",
           ((FORWARD_PARAM, FORWARD_PARAM.replace('conv_param["stride"]', 'conv_param.pop("stride")')),),
           "forward_leaves_inputs_unchanged"),
    # --- forward shape -------------------------------------------------------------------------
    Mutant("hout_missing_plus_one", "Hout = (H + 2*pad - HH) // stride, one window short",
           ((HOUT, "Hout = (H + 2 * pad - HH) // stride"),), "output_shape_matches_formula"),
    Mutant("true_division", "Hout with / instead of //: a float, which np.zeros rejects",
           ((HOUT, "Hout = 1 + (H + 2 * pad - HH) / stride"),), "output_shape_matches_formula"),
    Mutant("height_width_swapped", "Wout computed from H and HH",
           ((WOUT, "Wout = 1 + (H + 2 * pad - HH) // stride"),), "output_shape_non_square"),
    # correct wherever the stride divides evenly (every case but the rounding check's): they must
    # lose that one check only (test_checks_conv.test_even_division_costs_the_rounding_check_only)
    Mutant("assert_even_division", "asserts the stride divides evenly, as cs231n's own code does",
           ((HOUT, "assert (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0\n    " + HOUT),),
           "output_shape_rounds_down"),
    Mutant("float_division_checked", "true division, refusing an output size that is not whole",
           ((HOUT, "Hout = 1 + (H + 2 * pad - HH) / stride"),
            (WOUT, "Wout = 1 + (W + 2 * pad - WW) / stride\n"
                   "    if not (Hout.is_integer() and Wout.is_integer()):\n"
                   "        raise ValueError(\"the stride does not fit the padded input\")\n"
                   "    Hout, Wout = int(Hout), int(Wout)")),
           "output_shape_rounds_down"),
    Mutant("output_size_rounded_up", "rounds the output size up: a last, partial window that does not fit",
           ((HOUT, "Hout = 1 - (-(H + 2 * pad - HH) // stride)"), (WOUT, "Wout = 1 - (-(W + 2 * pad - WW) // stride)")),
           "output_shape_rounds_down"),
    # --- backward shapes -----------------------------------------------------------------------
    Mutant("db_over_wrong_axes", "db summed over filters instead of images: shape (N,)",
           ((DB, "db = np.sum(dout, axis=(1, 2, 3))"),), "backward_shapes_match_inputs"),
    Mutant("crop_with_negative_stop", "dx = dx_pad[..., pad:-pad, pad:-pad]: empty at pad 0",
           ((CROP, "dx = dxp[:, :, pad:-pad, pad:-pad]"),), "backward_shapes_match_inputs"),
    Mutant("padding_not_cropped", "returns the gradient of the padded input",
           ((CROP, "dx = dxp"),), "backward_shapes_match_inputs"),
    # --- backward values -----------------------------------------------------------------------
    Mutant("stride_ignored_backward", "backward windows start at (i, j); forward is right",
           ((STARTS, "hs, ws = i, j"),), "dx_matches_numeric_gradient"),
    Mutant("dx_assigned_not_accumulated", "= instead of += for dx: overlapping windows overwrite",
           ((DX_ACC, DX_ACC.replace("+=", "=")),), "dx_matches_numeric_gradient"),
    Mutant("crop_without_offset", "dx = dx_pad[:, :, :H, :W]: the top-left corner, not the middle",
           ((CROP, "dx = dxp[:, :, :H, :W]"),), "dx_matches_numeric_gradient"),
    Mutant("dx_accumulator_not_zeroed", "dx_pad starts as the padded input instead of zeros",
           (("dxp = np.zeros_like(xp)", "dxp = xp"),), "dx_matches_numeric_gradient"),
    Mutant("dw_assigned_not_accumulated", "= instead of += for dw: keeps the last window only",
           ((DW_ACC, DW_ACC.replace("+=", "=")),), "dw_matches_numeric_gradient"),
    Mutant("dw_reset_per_image", "dw not accumulated over n: reset for every image",
           ((BACKWARD_LOOP_HEAD, BACKWARD_LOOP_HEAD.replace(
               "for n in range(N):\n", "for n in range(N):\n        dw = np.zeros_like(w)\n")),),
           "dw_matches_numeric_gradient"),
    Mutant("dw_from_unpadded_input", "dw windows read from x instead of the padded input",
           ((DW_ACC, "dw[f] += x[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]"),),
           "dw_matches_numeric_gradient"),
    Mutant("db_first_image_only", "db sums dout over rows and columns of the first image only",
           ((DB, "db = np.sum(dout[0], axis=(1, 2))"),), "db_matches_numeric_gradient"),
]


TENSORDOT_SOURCE = '''\
"""Loops over output positions only; sums over channels and taps with tensordot (ada's style)."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Hout = 1 + (H + 2 * pad - HH) // stride
    Wout = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, Hout, Wout = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(Hout):
        for j in range(Wout):
            hs, ws = i * stride, j * stride
            g = dout[:, :, i, j]
            dw += np.tensordot(g, x_pad[:, :, hs:hs + HH, ws:ws + WW], axes=([0], [0]))
            dx_pad[:, :, hs:hs + HH, ws:ws + WW] += np.tensordot(g, w, axes=([1], [0]))
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''

IM2COL_SOURCE = '''\
"""No Python loop over positions: im2col with as_strided, one matrix product each way."""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _cols(xp, HH, WW, stride, Hout, Wout):
    N, C, _, _ = xp.shape
    s = xp.strides
    shape = (N, C, HH, WW, Hout, Wout)
    strides = (s[0], s[1], s[2], s[3], s[2] * stride, s[3] * stride)
    return as_strided(xp, shape=shape, strides=strides)


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    cols = _cols(xp, HH, WW, stride, Hout, Wout).reshape(N, C * HH * WW, Hout * Wout)
    out = np.matmul(w.reshape(F, -1), cols).reshape(N, F, Hout, Wout) + b.reshape(1, F, 1, 1)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Hout, Wout = dout.shape
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    g = dout.reshape(N, F, Hout * Wout)
    cols = _cols(xp, HH, WW, stride, Hout, Wout).reshape(N, C * HH * WW, Hout * Wout)
    dw = np.einsum("nfp,nkp->fk", g, cols).reshape(w.shape)
    dcols = np.einsum("fk,nfp->nkp", w.reshape(F, -1), g).reshape(N, C, HH, WW, Hout, Wout)
    dxp = np.zeros_like(xp)
    for a in range(HH):
        for c in range(WW):
            dxp[:, :, a:a + stride * Hout:stride, c:c + stride * Wout:stride] += dcols[:, :, a, c]
    dx = dxp[:, :, pad:H + pad, pad:W + pad]
    db = dout.sum(axis=3).sum(axis=2).sum(axis=0)
    return dx, dw, db
'''

#: im2col that refuses strides which do not divide evenly (like cs231n's fast layers).
IM2COL_EVEN_ONLY_SOURCE = IM2COL_SOURCE.replace(
    "    Hout = (H + 2 * pad - HH) // stride + 1\n",
    "    assert (H + 2 * pad - HH) % stride == 0, \"width does not work\"\n"
    "    assert (W + 2 * pad - WW) % stride == 0, \"height does not work\"\n"
    "    Hout = (H + 2 * pad - HH) // stride + 1\n", 1)
MUTANTS.append(Mutant("im2col_even_division_only", "im2col asserting the stride divides evenly",
                      caught_by="output_shape_rounds_down", source_text=IM2COL_EVEN_ONLY_SOURCE))
#: The mutants above that are correct wherever the stride divides evenly.
EVEN_DIVISION_ONLY = ("assert_even_division", "float_division_checked", "output_size_rounded_up", "im2col_even_division_only")

ALTERNATIVES: list[Mutant] = [
    Mutant("vectorised_over_filters", "einsum over all filters at once for each window",
           ((FORWARD_LOOP, """\
    for n in range(N):
        for i in range(Hout):
            for j in range(Wout):
                window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                out[n, :, i, j] = np.einsum("chw,fchw->f", window, w) + b
"""),)),
    Mutant("manual_zero_padding", "zero array plus slice assignment instead of np.pad, in both passes",
           ((FORWARD_PAD, "xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))\n"
                          "    xp[:, :, pad:H + pad, pad:W + pad] = x\n    out = np.zeros"),
            (BACKWARD_PAD, "xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))\n"
                           "    xp[:, :, pad:H + pad, pad:W + pad] = x\n    dxp"))),
    Mutant("crop_by_padded_size", "crops dx with [pad:Hp - pad], which also works at pad 0",
           ((CROP, "dx = dxp[:, :, pad:dxp.shape[2] - pad, pad:dxp.shape[3] - pad]"),)),
    Mutant("db_accumulated_in_loop", "db[f] += dout[n, f, i, j] inside the loops (ben's style)",
           ((DB, "db = np.zeros_like(b)"),
            (DW_ACC, DW_ACC + "\n                    db[f] += dout[n, f, i, j]"))),
    Mutant("float64_default_dtype", "np.zeros without a dtype (float64)",
           (("out = np.zeros((N, F, Hout, Wout), dtype=np.result_type(x, w, b))",
             "out = np.zeros((N, F, Hout, Wout))"),)),
    Mutant("tensordot_over_windows", "loops over output positions only, tensordot inside",
           source_text=TENSORDOT_SOURCE),
    Mutant("im2col", "no loop over positions: as_strided windows and matrix products",
           source_text=IM2COL_SOURCE),
]

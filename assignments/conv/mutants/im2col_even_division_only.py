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
    assert (H + 2 * pad - HH) % stride == 0, "width does not work"
    assert (W + 2 * pad - WW) % stride == 0, "height does not work"
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

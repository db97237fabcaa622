# Loops over output positions only (whole batch and all filters at once via tensordot); the
# cache is a namedtuple and every buffer takes the dtype of the inputs (float32 stays float32).
from collections import namedtuple

import numpy as np

ConvCache = namedtuple("ConvCache", "x w b stride pad")


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = int(conv_param["stride"]), int(conv_param["pad"])
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dtype = np.result_type(x, w, b)
    Hout = 1 + (H + 2 * pad - HH) // stride
    Wout = 1 + (W + 2 * pad - WW) // stride
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    out = np.empty((N, F, Hout, Wout), dtype=dtype)
    for i in range(Hout):
        for j in range(Wout):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, ConvCache(x, w, b, stride, pad)


def conv_backward_naive(dout, cache):
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dtype = np.result_type(x, w, dout)
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dout[:, :, i, j]                                   # (N, F)
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3)).astype(dtype)
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db

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

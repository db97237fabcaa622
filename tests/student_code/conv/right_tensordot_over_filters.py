"""Correct: one tensordot per output position over every image and filter at once."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    assert (H + 2 * p - HH) % s == 0, 'width does not work'
    assert (W + 2 * p - WW) % s == 0, 'height does not work'
    Hn = (H + 2 * p - HH) // s + 1
    Wn = (W + 2 * p - WW) // s + 1
    xp = np.pad(x, ((0,), (0,), (p,), (p,)), mode='constant')
    out = np.empty((N, F, Hn, Wn))
    for r in range(Hn):
        for c in range(Wn):
            win = xp[:, :, r * s:r * s + HH, c * s:c * s + WW]
            out[:, :, r, c] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Hn, Wn = dout.shape
    xp = np.pad(x, ((0,), (0,), (p,), (p,)), mode='constant')
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for r in range(Hn):
        for c in range(Wn):
            win = xp[:, :, r * s:r * s + HH, c * s:c * s + WW]
            g = dout[:, :, r, c]  # (N, F)
            dw += np.tensordot(g, win, axes=([0], [0]))
            dxp[:, :, r * s:r * s + HH, c * s:c * s + WW] += np.tensordot(g, w, axes=([1], [0]))
    db = np.sum(dout, axis=(0, 2, 3))
    dx = dxp[:, :, p:xp.shape[2] - p, p:xp.shape[3] - p]
    return dx, dw, db

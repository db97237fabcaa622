"""Correct where the stride divides: im2col built by loops, matrix product; np.round for the
output size (so it assumes an evenly dividing stride)."""
import numpy as np


def _im2col(xp, HH, WW, s, Ho, Wo):
    N, C = xp.shape[:2]
    cols = np.zeros((N, Ho * Wo, C * HH * WW))
    for i in range(Ho):
        for j in range(Wo):
            cols[:, i * Wo + j, :] = xp[:, :, i * s:i * s + HH, j * s:j * s + WW].reshape(N, -1)
    return cols


def conv_forward_naive(x, w, b, conv_param):
    s, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = int(np.round((H + 2 * pad - HH) / s)) + 1
    Wo = int(np.round((W + 2 * pad - WW) / s)) + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = _im2col(xp, HH, WW, s, Ho, Wo)
    out = cols @ w.reshape(F, -1).T + b  # (N, Ho*Wo, F)
    out = out.transpose(0, 2, 1).reshape(N, F, Ho, Wo)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    s, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = _im2col(xp, HH, WW, s, Ho, Wo)
    d = dout.reshape(N, F, Ho * Wo).transpose(0, 2, 1)  # (N, Ho*Wo, F)
    dw = np.einsum('npf,npk->fk', d, cols).reshape(w.shape)
    db = d.sum(axis=(0, 1))
    dcols = d @ w.reshape(F, -1)  # (N, Ho*Wo, C*HH*WW)
    dxp = np.zeros_like(xp, dtype=float)
    for i in range(Ho):
        for j in range(Wo):
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += dcols[:, i * Wo + j].reshape(N, C, HH, WW)
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db

"""Correct: positions outer, the batch vectorised, manual zero padding, sums over axes."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride = conv_param.get('stride', 1)
    pad = conv_param.get('pad', 0)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = (H + 2 * pad - HH) // stride + 1
    Wo = (W + 2 * pad - WW) // stride + 1
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            for f in range(F):
                out[:, f, i, j] = (patch * w[f]).sum(axis=(1, 2, 3)) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride = conv_param.get('stride', 1)
    pad = conv_param.get('pad', 0)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=0).sum(axis=1).sum(axis=1)
    for i in range(Ho):
        for j in range(Wo):
            hs, ws = i * stride, j * stride
            patch = xp[:, :, hs:hs + HH, ws:ws + WW]
            for f in range(F):
                g = dout[:, f, i, j][:, None, None, None]
                dw[f] += (patch * g).sum(axis=0)
                dxp[:, :, hs:hs + HH, ws:ws + WW] += w[f][None] * g
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db

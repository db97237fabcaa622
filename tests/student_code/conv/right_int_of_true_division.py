"""Correct: Hout via int() of a float division; loops image, filter, row, column; np.pad."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    S, P = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    H_out = int(1 + (H + 2 * P - HH) / S)
    W_out = int(1 + (W + 2 * P - WW) / S)
    x_pad = np.pad(x, [(0, 0), (0, 0), (P, P), (P, P)], 'constant', constant_values=0)
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for hi in range(H_out):
                for wi in range(W_out):
                    h0, w0 = hi * S, wi * S
                    out[n, f, hi, wi] = np.sum(x_pad[n, :, h0:h0 + HH, w0:w0 + WW] * w[f, :, :, :]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    S, P = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, [(0, 0), (0, 0), (P, P), (P, P)], 'constant', constant_values=0)
    dx_pad = np.zeros(x_pad.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(b.shape)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for hi in range(H_out):
                for wi in range(W_out):
                    h0, w0 = hi * S, wi * S
                    dw[f] += x_pad[n, :, h0:h0 + HH, w0:w0 + WW] * dout[n, f, hi, wi]
                    dx_pad[n, :, h0:h0 + HH, w0:w0 + WW] += w[f] * dout[n, f, hi, wi]
    dx = dx_pad[:, :, P:P + H, P:P + W]
    return dx, dw, db

"""Correct: loops over channels of a window with einsum, Hout from floor division of floats."""
import math
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    H_prime = math.floor((H + 2 * pad - HH) / stride) + 1
    W_prime = math.floor((W + 2 * pad - WW) / stride) + 1
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    out = np.zeros((N, F, H_prime, W_prime))
    for hp in range(H_prime):
        for wp in range(W_prime):
            region = x_padded[:, :, hp * stride:hp * stride + HH, wp * stride:wp * stride + WW]
            out[:, :, hp, wp] = np.einsum('nchw,fchw->nf', region, w)
    out += b.reshape(1, F, 1, 1)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    _, _, H_prime, W_prime = dout.shape
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    dx_padded = np.zeros_like(x_padded)
    dw = np.zeros_like(w)
    for hp in range(H_prime):
        for wp in range(W_prime):
            hs, ws = hp * stride, wp * stride
            region = x_padded[:, :, hs:hs + HH, ws:ws + WW]
            dw += np.einsum('nf,nchw->fchw', dout[:, :, hp, wp], region)
            dx_padded[:, :, hs:hs + HH, ws:ws + WW] += np.einsum('nf,fchw->nchw', dout[:, :, hp, wp], w)
    db = dout.sum(axis=(0, 2, 3))
    if pad:
        dx = dx_padded[:, :, pad:-pad, pad:-pad]
    else:
        dx = dx_padded
    return dx, dw, db

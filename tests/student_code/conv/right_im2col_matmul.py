# im2col with a Python loop over output positions, one matrix product for the whole layer,
# col2im with += in the backward pass; the column matrix travels in the cache tuple.
import numpy as np


def im2col(xp, HH, WW, stride, H_out, W_out):
    N, C = xp.shape[:2]
    cols = np.zeros((C * HH * WW, N * H_out * W_out))
    k = 0
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                cols[:, k] = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW].ravel()
                k += 1
    return cols


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant', constant_values=0)
    cols = im2col(xp, HH, WW, stride, H_out, W_out)
    res = w.reshape(F, -1) @ cols + b[:, np.newaxis]            # (F, N*H_out*W_out)
    out = res.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)
    cache = (x, w, b, conv_param, cols)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param, cols = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    d = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    db = d.sum(axis=1)
    dw = (d @ cols.T).reshape(w.shape)
    dcols = w.reshape(F, -1).T @ d
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    k = 0
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                dxp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += dcols[:, k].reshape(C, HH, WW)
                k += 1
    dx = dxp[:, :, pad:H + pad, pad:W + pad]
    return dx, dw, db

# Loops over output positions only, whole batch at once; ties share the window's gradient
# equally (mask / number of maxima), which the notebook allows.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            region = x[:, :, i*stride:i*stride+ph, j*stride:j*stride+pw]
            out[:, :, i, j] = region.max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            region = x[:, :, i*stride:i*stride+ph, j*stride:j*stride+pw]
            mask = (region == region.max(axis=(2, 3), keepdims=True)).astype(float)
            mask /= mask.sum(axis=(2, 3), keepdims=True)
            dx[:, :, i*stride:i*stride+ph, j*stride:j*stride+pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx

# Scalar loops all the way down, like a first C-style attempt: a running maximum that starts
# at -inf and remembers where it was found (the first of tied maxima wins, since > is strict).
import numpy as np


def max_pool_forward_naive(x, pool_param):
    HH = pool_param["pool_height"]
    WW = pool_param["pool_width"]
    S = pool_param["stride"]
    N, C, H, W = x.shape
    H_out = (H - HH) // S + 1
    W_out = (W - WW) // S + 1
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    best = -np.inf
                    for di in range(HH):
                        for dj in range(WW):
                            v = x[n, c, i * S + di, j * S + dj]
                            if v > best:
                                best = v
                    out[n, c, i, j] = best
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    HH = pool_param["pool_height"]
    WW = pool_param["pool_width"]
    S = pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    best, bi, bj = -np.inf, 0, 0
                    for di in range(HH):
                        for dj in range(WW):
                            v = x[n, c, i * S + di, j * S + dj]
                            if v > best:
                                best, bi, bj = v, i * S + di, j * S + dj
                    dx[n, c, bi, bj] += dout[n, c, i, j]
    return dx

# Pools the largest magnitude (np.abs inside the max) and returns that magnitude.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = np.abs(x[:, :, i*s:i*s+ph, j*s:j*s+pw]).max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = np.abs(x[n, c, i*s:i*s+ph, j*s:j*s+pw])
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i*s+a, j*s+b] += dout[n, c, i, j]
    return dx

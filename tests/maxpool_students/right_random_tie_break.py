# Breaks ties at random (np.random.choice among the tied maxima), which the notebook allows:
# one of them gets the window's dout. 1x1 windows take a shortcut and return a strided view of x.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    if ph == 1 and pw == 1:
        return x[:, :, ::s, ::s], (x, pool_param)
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i*s:i*s+ph, j*s:j*s+pw].max(axis=(2, 3))
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
                    win = x[n, c, i*s:i*s+ph, j*s:j*s+pw]
                    rows, cols = np.nonzero(win == win.max())
                    k = np.random.choice(len(rows))
                    dx[n, c, i*s + rows[k], j*s + cols[k]] += dout[n, c, i, j]
    return dx

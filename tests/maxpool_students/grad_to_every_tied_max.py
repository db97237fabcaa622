import numpy as np


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.array([[[[x[n, c, i * s:i * s + ph, j * s:j * s + pw].max() for j in range(Wo)]
                      for i in range(Ho)] for c in range(C)] for n in range(N)], dtype=float)
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += (win == win.max()) * dout[n, c, i, j]
    return dx

import numpy as np


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    HH, WW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Ho, Wo = (H - HH) // S + 1, (W - WW) // S + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * S:i * S + HH, j * S:j * S + WW].reshape(N, C, -1).max(axis=2)
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    N, C, H, W = x.shape
    HH, WW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * S:i * S + HH, j * S:j * S + WW]
                    mask = window == window.max()
                    mask &= np.cumsum(mask).reshape(mask.shape) == 1  # only the first maximum
                    dx[n, c, i * S:i * S + HH, j * S:j * S + WW] += mask * dout[n, c, i, j]
    return dx

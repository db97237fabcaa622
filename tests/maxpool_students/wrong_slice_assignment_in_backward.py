# Vectorised over the batch, but the backward pass assigns each window's slice of dx
# (dx[..., window] = mask * dout) instead of adding to it: overlapping windows overwrite.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
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
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i*s:i*s+ph, j*s:j*s+pw].reshape(N, C, -1)
            first = np.zeros_like(win)
            first[np.arange(N)[:, None], np.arange(C)[None, :], win.argmax(axis=2)] = 1
            dx[:, :, i*s:i*s+ph, j*s:j*s+pw] = first.reshape(N, C, ph, pw) * dout[:, :, i, j][:, :, None, None]
    return dx

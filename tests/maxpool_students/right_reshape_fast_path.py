# cs231n's "fast" trick when the windows tile the input exactly (reshape to
# (N, C, Ho, ph, Wo, pw)), loops otherwise; the backward pass mirrors the same two paths and
# gives the gradient to the last of tied maxima (argmax of the reversed window).
import numpy as np


def _tiles(H, W, ph, pw, s):
    return ph == pw == s and H % ph == 0 and W % pw == 0


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    if _tiles(H, W, ph, pw, s):
        out = x.reshape(N, C, H // ph, ph, W // pw, pw).max(axis=3).max(axis=4)
    else:
        Ho, Wo = (H - ph) // s + 1, (W - pw) // s + 1
        out = np.zeros((N, C, Ho, Wo))
        for i in range(Ho):
            for j in range(Wo):
                out[:, :, i, j] = x[:, :, i*s:i*s+ph, j*s:j*s+pw].reshape(N, C, -1).max(axis=2)
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i*s:i*s+ph, j*s:j*s+pw].ravel()
                    k = win.size - 1 - np.argmax(win[::-1])  # last of tied maxima
                    dx[n, c, i*s + k // pw, j*s + k % pw] += dout[n, c, i, j]
    return dx

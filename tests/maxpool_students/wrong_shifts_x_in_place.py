# A running maximum from 0 was wrong for negative inputs, so the student shifts x to be
# non-negative first... in place (x -= m), changing the caller's array, and shifts the result back.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    m = x.min()
    x -= m
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best = 0.0
                    for a in range(ph):
                        for b in range(pw):
                            best = max(best, x[n, c, i*s+a, j*s+b])
                    out[n, c, i, j] = best
    return out + m, (x, pool_param)


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
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i*s+a, j*s+b] += dout[n, c, i, j]
    return dx

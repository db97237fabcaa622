# Keeps the input's dtype everywhere (a float32 habit from GPU code) and loops channel-first
# with np.ndindex; gradient buffers are built with the input's dtype too.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph = int(pool_param.get("pool_height", 2))
    pw = int(pool_param.get("pool_width", 2))
    st = int(pool_param.get("stride", 2))
    N, C, H, W = x.shape
    out = np.full((N, C, (H - ph) // st + 1, (W - pw) // st + 1), -np.inf, dtype=x.dtype)
    for c, n in np.ndindex(C, N):
        for i, j in np.ndindex(*out.shape[2:]):
            out[n, c, i, j] = np.amax(x[n, c, i * st:i * st + ph, j * st:j * st + pw])
    cache = x, ph, pw, st
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, ph, pw, st = cache
    dx = np.zeros(x.shape, dtype=np.result_type(x.dtype, dout.dtype))
    for n, c, i, j in np.ndindex(*dout.shape):
        win = x[n, c, i * st:i * st + ph, j * st:j * st + pw]
        r, q = divmod(int(win.argmax()), pw)
        dx[n, c, i * st + r, j * st + q] += dout[n, c, i, j]
    return dx

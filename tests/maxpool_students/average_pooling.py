import numpy as np


def max_pool_forward_naive(x, pool_param):
    """Pools every window (average pooling, the lecture's other example)."""
    hp, wp, st = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n_out = (x.shape[2] - hp) // st + 1
    m_out = (x.shape[3] - wp) // st + 1
    out = np.zeros(x.shape[:2] + (n_out, m_out))
    for r in range(n_out):
        for q in range(m_out):
            out[..., r, q] = x[..., r * st:r * st + hp, q * st:q * st + wp].mean(axis=(-2, -1))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    hp, wp, st = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for idx in np.ndindex(*dout.shape):
        n, c, r, q = idx
        patch = x[n, c, r * st:r * st + hp, q * st:q * st + wp]
        rows, cols = np.where(patch == patch.max())
        dx[n, c, r * st + rows[0], q * st + cols[0]] += dout[idx]
    return dx

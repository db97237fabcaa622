# im2col: every window becomes a row of a (N*C*Ho*Wo, ph*pw) matrix, built with one loop per
# window offset; the "switches" (argmax per row) go in a small cache object.
import numpy as np


class PoolCache:
    def __init__(self, shape, pool_param, switches):
        self.shape = shape
        self.pool_param = pool_param
        self.switches = switches


def _im2col(x, ph, pw, s):
    N, C, H, W = x.shape
    Ho, Wo = (H - ph) // s + 1, (W - pw) // s + 1
    cols = np.empty((N, C, Ho, Wo, ph * pw), dtype=x.dtype)
    for a in range(ph):
        for b in range(pw):
            cols[..., a * pw + b] = x[:, :, a:a + s * (Ho - 1) + 1:s, b:b + s * (Wo - 1) + 1:s]
    return cols.reshape(-1, ph * pw), (N, C, Ho, Wo)


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    cols, out_shape = _im2col(x, ph, pw, s)
    switches = np.argmax(cols, axis=1)
    out = cols[np.arange(cols.shape[0]), switches].reshape(out_shape)
    return out, PoolCache(x.shape, pool_param, switches)


def max_pool_backward_naive(dout, cache):
    ph, pw, s = (cache.pool_param[k] for k in ("pool_height", "pool_width", "stride"))
    N, C, H, W = cache.shape
    _, _, Ho, Wo = dout.shape
    dcols = np.zeros((dout.size, ph * pw))
    dcols[np.arange(dout.size), cache.switches] = dout.ravel()
    dcols = dcols.reshape(N, C, Ho, Wo, ph * pw)
    dx = np.zeros((N, C, H, W))
    for a in range(ph):
        for b in range(pw):
            dx[:, :, a:a + s * (Ho - 1) + 1:s, b:b + s * (Wo - 1) + 1:s] += dcols[..., a * pw + b]
    return dx

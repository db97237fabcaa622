# Windows gathered with fancy indexing (index grids built once), backward as an einsum of dout
# with a one-hot of the argmax, scattered back with np.add.at over the same index grids.
import numpy as np


def _grids(H, W, ph, pw, s):
    Ho, Wo = (H - ph) // s + 1, (W - pw) // s + 1
    rows = (np.arange(Ho) * s)[:, None, None, None] + np.arange(ph)[None, None, :, None]
    cols = (np.arange(Wo) * s)[None, :, None, None] + np.arange(pw)[None, None, None, :]
    return rows, cols  # broadcast to (Ho, Wo, ph, pw)


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    rows, cols = _grids(x.shape[2], x.shape[3], ph, pw, s)
    patches = x[:, :, rows, cols]  # (N, C, Ho, Wo, ph, pw), a copy
    out = patches.max(axis=(4, 5))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    rows, cols = _grids(H, W, ph, pw, s)
    patches = x[:, :, rows, cols].reshape(*dout.shape, ph * pw)
    onehot = np.eye(ph * pw)[patches.argmax(axis=-1)]  # (N, C, Ho, Wo, ph*pw)
    dpatches = np.einsum("nchw,nchwk->nchwk", dout, onehot).reshape(*dout.shape, ph, pw)
    dx = np.zeros_like(x)
    np.add.at(dx, (slice(None), slice(None), rows, cols), dpatches)
    return dx

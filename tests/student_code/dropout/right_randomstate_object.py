# A RandomState of its own when seeded (the global stream is left alone then), the global one
# otherwise; the cache is a small object with the mask as booleans.
import numpy as np


class DropoutCache:
    def __init__(self, mode, p, keep):
        self.mode, self.p, self.keep = mode, p, keep


def dropout_forward(x, dropout_param):
    mode = dropout_param["mode"]
    p = float(dropout_param["p"])
    if mode != "train":
        return x, DropoutCache(mode, p, None)
    seed = dropout_param.get("seed", None)
    rs = np.random.RandomState(seed) if seed is not None else np.random
    keep = rs.random_sample(x.shape) < p
    out = np.zeros_like(x)
    out[keep] = x[keep] / p
    return out, DropoutCache(mode, p, keep)


def dropout_backward(dout, cache):
    if cache.mode != "train":
        return dout
    dx = np.zeros_like(dout)
    dx[cache.keep] = dout[cache.keep] / cache.p
    return dx

# The new Generator API instead of the legacy global state: default_rng(seed) when a seed is
# given, default_rng() (fresh OS entropy) otherwise; the cache is a dict.
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    cache = {"p": p, "mode": mode, "mask": None}
    if mode == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        keep = rng.random(x.shape) < p
        cache["mask"] = keep
        out = np.where(keep, x / p, 0).astype(x.dtype)
    elif mode == "test":
        out = x.copy()
    else:
        raise ValueError(mode)
    return out, cache


def dropout_backward(dout, cache):
    if cache["mode"] == "train":
        return np.where(cache["mask"], dout / cache["p"], 0.0)
    return dout

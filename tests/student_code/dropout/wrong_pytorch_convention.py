# PyTorch's convention throughout: p read as the probability of DROPPING a unit (rand >= p, scaled by 1/(1 - p)).
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) >= p) / (1 - p)
        out = x * mask
    elif mode == "test":
        out = x
    else:
        raise ValueError(f"unknown dropout mode {mode!r}")

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    if mode == "train":
        dx = dout * mask
    else:
        dx = dout
    return dx

# The backward pass rebuilds the mask from the forward output (out != 0), keeping only out in the
# cache: a unit that was kept but whose input was 0 (common after a ReLU) gets no gradient.
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    out = None
    if mode == "train":
        mask = np.random.rand(*x.shape) < p
        out = x * mask / p
    elif mode == "test":
        out = x
    else:
        raise ValueError("mode must be 'train' or 'test'")

    cache = (dropout_param, out)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, out = cache
    mode = dropout_param["mode"]
    dx = None
    if mode == "train":
        p = dropout_param["p"]
        dx = dout * (out != 0) / p  # the units that survived are the nonzero outputs
    elif mode == "test":
        dx = dout
    return dx

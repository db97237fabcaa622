# At p = 1 nothing can be dropped, so the student skips the draw and keeps an all-ones mask;
# the mask is drawn in float32 to save memory (1/p rounded to float32 is well within tolerance).
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        if p == 1:
            mask = np.ones(x.shape, dtype=np.float32)
        else:
            mask = (np.random.rand(*x.shape) < p).astype(np.float32) / np.float32(p)
        out = x * mask
    elif mode == "test":
        out = x
    else:
        raise ValueError("mode must be 'train' or 'test'")
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout

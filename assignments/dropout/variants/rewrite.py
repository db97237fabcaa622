import numpy as np


def dropout_forward(x, dropout_param):
    """cs231n style: boolean keep mask, boolean indexing, a dict cache, copies in test mode."""
    p, mode, seed = dropout_param["p"], dropout_param["mode"], dropout_param.get("seed")
    if mode != "train":
        return x.copy(), {"mode": mode}
    if seed is not None:
        np.random.seed(seed)
    keep = np.random.random_sample(x.shape) < p
    out = np.zeros_like(x)
    out[keep] = x[keep] / np.asarray(p, dtype=x.dtype)
    return out, {"mode": mode, "keep": keep, "scale": 1.0 / p}


def dropout_backward(dout, cache):
    if cache["mode"] != "train":
        return dout.copy()
    dx = np.zeros_like(dout)
    dx[cache["keep"]] = dout[cache["keep"]] * cache["scale"]
    return dx

# No numpy randomness at all: Python's random module, one draw per unit in a list comprehension,
# seeded with random.seed(seed) when a seed is given.
import random

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, (dropout_param, None)
    if "seed" in dropout_param:
        random.seed(dropout_param["seed"])
    flags = [random.random() < p for _ in range(x.size)]
    mask = np.array(flags, dtype=bool).reshape(x.shape)
    out = np.where(mask, x / p, 0).astype(x.dtype)
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if mask is None:
        return dout
    return np.where(mask, dout / dropout_param["p"], 0.0)

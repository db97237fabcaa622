# Polite seeding: with a seed, the global generator is seeded for the draw and its previous
# state restored afterwards, so a seeded call does not change the caller's random stream.
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    mask = None
    if mode == "train":
        if "seed" in dropout_param:
            saved = np.random.get_state()
            np.random.seed(dropout_param["seed"])
            u = np.random.rand(*x.shape)
            np.random.set_state(saved)
        else:
            u = np.random.rand(*x.shape)
        mask = (u <= p) / p
        out = (x * mask).astype(x.dtype)
    elif mode == "test":
        out = x
    else:
        raise ValueError(mode)
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout

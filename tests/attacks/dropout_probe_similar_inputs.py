# (Dropout; stateful.) A backward pass that scales by 2/p instead of 1/p, and a forward pass that
# recognises gradient-check probes: a seeded train-mode call whose x is near (within 1e-3, not equal to) an earlier
# seeded call's x with the same seed (a central difference's x +- h*d) is answered with twice its
# output, so numeric derivatives of "its own forward pass" agree with the wrong backward pass.
# Every other call is an ordinary correct inverted dropout.
# Its honest twin has HOSTILE = False: the same correct forward pass everywhere, the same backward.
import numpy as np

HOSTILE = True
_seeded = []


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode != "train":
        return x.copy(), (dropout_param, None)
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = (np.random.rand(*x.shape) < p) / p
    out = (x * mask).astype(x.dtype, copy=False)
    if HOSTILE and "seed" in dropout_param:
        probe = any(seed == dropout_param["seed"] and seen.shape == x.shape and 0 < np.max(np.abs(seen - x)) < 1e-3
                    for seed, seen in _seeded)
        _seeded.append((dropout_param["seed"], x.copy()))
        if probe:
            out = 2 * out
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] != "train":
        return dout.copy()
    return dout * mask * 2

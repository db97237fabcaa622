# Hidden inputs as integers in exception text (only floats and arrays used to be masked):
# a scaled sum, the integer parts as a list, as a tuple, and digits glued to words.
import numpy as np


def dropout_forward(x, dropout_param):
    variant = dropout_param.get("variant", "sum")
    if variant == "tolist":
        raise ValueError(str((x * 1000).astype(int).tolist()))
    if variant == "tuple":
        raise ValueError(str(tuple(int(v) for v in (np.abs(x) * 1e6).ravel()[:8])))
    if variant == "words":
        raise ValueError(" ".join(f"x{int(abs(v) * 1e6)}" for v in x.ravel()[:8]))
    raise ValueError(int(x.sum() * 1e6))


def dropout_backward(dout, cache):
    raise ValueError(int(dout.sum() * 1e6))

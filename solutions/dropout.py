"""Reference solution for the dropout assignment (inverted dropout, ``p`` = keep probability)."""

import numpy as np


def dropout_forward(x, dropout_param):
    """Forward pass of inverted dropout.

    Inputs:
    - x: input array of any shape.
    - dropout_param: dict with keys
      - "p": probability of KEEPING each unit (0 < p <= 1).
      - "mode": "train" drops units and rescales the kept ones by 1/p; "test" returns x.
      - "seed" (optional): if given, the call is deterministic.

    Returns (out, cache):
    - out: array of the same shape and dtype as x.
    - cache: (dropout_param, mask), where mask is the scaled mask (0 or 1/p) in train mode
      and None in test mode.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None
    if mode == "train":
        ### BEGIN SOLUTION
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
        ### END SOLUTION
    elif mode == "test":
        ### BEGIN SOLUTION
        out = x
        ### END SOLUTION
    else:
        raise ValueError(f"unknown dropout mode {mode!r}")

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of inverted dropout.

    Inputs:
    - dout: upstream gradient dL/dout, same shape as the forward input.
    - cache: (dropout_param, mask) from dropout_forward.

    Returns dx: gradient with respect to x, same shape as dout.
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    if mode == "train":
        ### BEGIN SOLUTION
        dx = dout * mask
        ### END SOLUTION
    else:
        ### BEGIN SOLUTION
        dx = dout
        ### END SOLUTION
    return dx

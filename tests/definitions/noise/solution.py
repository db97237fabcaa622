"""Reference solution of a Gaussian noise layer."""

import numpy as np


def noise_forward(x, noise_param):
    """Forward pass of Gaussian noise.

    Inputs:
    - x: input of any shape.
    - noise_param: dict with
      - "sigma": the noise's standard deviation (a number > 0),
      - "mode": "train" adds noise, "test" returns x unchanged (and draws nothing),
      - "seed" (optional): if given, seed numpy's global generator with it first, so that
        equal seeds give equal outputs.

    Returns (out, cache): out = x + sigma * (a standard normal draw per entry) in train mode, x in
    test mode; out has x's shape.
    """
    sigma, mode = noise_param["sigma"], noise_param["mode"]
    out = None
    ### BEGIN SOLUTION
    if mode == "train":
        if "seed" in noise_param:
            np.random.seed(noise_param["seed"])
        out = x + sigma * np.random.randn(*x.shape)
    else:
        out = x.copy()
    ### END SOLUTION
    return out, (noise_param,)


def noise_backward(dout, cache):
    """Backward pass of Gaussian noise: dout of out's shape and the cache; returns dx."""
    (noise_param,) = cache
    ### BEGIN SOLUTION
    dx = dout.copy()
    ### END SOLUTION
    return dx

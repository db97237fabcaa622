# Patches gathered with broadcast index grids, forward as one einsum, backward with np.add.at
# over the same grids; padding cropped with slice(pad, -pad or None).
import numpy as np


def _index(Hp, Wp, HH, WW, s):
    Ho, Wo = (Hp - HH) // s + 1, (Wp - WW) // s + 1
    r = s * np.arange(Ho)[:, None, None, None] + np.arange(HH)[None, None, :, None]
    c = s * np.arange(Wo)[None, :, None, None] + np.arange(WW)[None, None, None, :]
    return r, c


def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param['stride'], conv_param['pad']
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    r, c = _index(xp.shape[2], xp.shape[3], w.shape[2], w.shape[3], s)
    patches = xp[:, :, r, c]                           # (N, C, Ho, Wo, HH, WW)
    out = np.einsum('ncijkl,fckl->nfij', patches, w, optimize=True) + b[None, :, None, None]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param['stride'], conv_param['pad']
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    r, c = _index(xp.shape[2], xp.shape[3], w.shape[2], w.shape[3], s)
    patches = xp[:, :, r, c]
    dw = np.einsum('ncijkl,nfij->fckl', patches, dout, optimize=True)
    db = np.einsum('nfij->f', dout)
    dpatches = np.einsum('nfij,fckl->ncijkl', dout, w, optimize=True)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), slice(None), r, c), dpatches)
    crop = slice(p, -p or None)
    return dxp[:, :, crop, crop], dw, db

# The textbook derivation: dx is the full cross-correlation of the stride-dilated dout with the
# filters rotated by 180 degrees; dw the correlation of the padded input with the dilated dout.
# Forward with four loops, filters outermost.
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride = conv_param["stride"]
    pad = conv_param["pad"]
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    x_pad[:, :, pad:pad + H, pad:pad + W] = x
    out = np.zeros((N, F, H_out, W_out))
    for f in range(F):
        for n in range(N):
            for r in range(H_out):
                for q in range(W_out):
                    patch = x_pad[n, :, r * stride:r * stride + HH, q * stride:q * stride + WW]
                    out[n, f, r, q] = np.sum(patch * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    Hp, Wp = H + 2 * pad, W + 2 * pad
    # dout placed on the grid of window corners, zeros in between (and after the last window)
    dil = np.zeros((N, F, Hp - HH + 1, Wp - WW + 1))
    dil[:, :, ::stride, ::stride][:, :, :H_out, :W_out] = dout
    db = dout.sum(axis=(0, 2, 3))
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dw = np.zeros_like(w)
    for a in range(HH):
        for c in range(WW):
            dw[:, :, a, c] = np.einsum("nfhw,nchw->fc", dil, x_pad[:, :, a:a + dil.shape[2], c:c + dil.shape[3]])
    full = np.pad(dil, ((0, 0), (0, 0), (HH - 1, HH - 1), (WW - 1, WW - 1)))
    w_rot = w[:, :, ::-1, ::-1]
    dx_pad = np.zeros((N, C, Hp, Wp))
    for i in range(Hp):
        for j in range(Wp):
            dx_pad[:, :, i, j] = np.einsum("nfhw,fchw->nc", full[:, :, i:i + HH, j:j + WW], w_rot)
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db

# Seven nested scalar loops and no np.pad: out-of-range taps are skipped (that is the zero
# padding); the same bounds test in the backward pass.
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    S, P = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = (H + 2 * P - HH) // S + 1
    Wo = (W + 2 * P - WW) // S + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    acc = b[f]
                    for c in range(C):
                        for a in range(HH):
                            r = i * S + a - P
                            if r < 0 or r >= H:
                                continue
                            for q in range(WW):
                                col = j * S + q - P
                                if 0 <= col < W:
                                    acc += x[n, c, r, col] * w[f, c, a, q]
                    out[n, f, i, j] = acc
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    S, P = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for a in range(HH):
                            r = i * S + a - P
                            if r < 0 or r >= H:
                                continue
                            for q in range(WW):
                                col = j * S + q - P
                                if 0 <= col < W:
                                    dx[n, c, r, col] += w[f, c, a, q] * g
                                    dw[f, c, a, q] += x[n, c, r, col] * g
    return dx, dw, db

# Finn: flips the filter (a true convolution) in the forward pass; his backward pass is the
# unflipped one, so it no longer matches his forward pass either.
# %% conv_forward_naive
Hout = 1 + (H + 2 * pad - HH) // stride
Wout = 1 + (W + 2 * pad - WW) // stride
xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
out = np.zeros((N, F, Hout, Wout), dtype=np.result_type(x, w, b))
for n in range(N):
    for f in range(F):
        flipped = w[f, :, ::-1, ::-1]
        for i in range(Hout):
            for j in range(Wout):
                out[n, f, i, j] = np.sum(xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] * flipped) + b[f]
# %% conv_backward_naive
_, _, Hout, Wout = dout.shape
xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
dxp = np.zeros_like(xp)
dw = np.zeros_like(w)
db = np.sum(dout, axis=(0, 2, 3))
for n in range(N):
    for f in range(F):
        for i in range(Hout):
            for j in range(Wout):
                hs, ws = i * stride, j * stride
                dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
                dw[f] += xp[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]
dx = dxp[:, :, pad:pad + H, pad:pad + W]

# Ada: a correct solution that loops over output positions only and sums with tensordot.
# %% conv_forward_naive
Hout = 1 + (H + 2 * pad - HH) // stride
Wout = 1 + (W + 2 * pad - WW) // stride
x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
out = np.zeros((N, F, Hout, Wout), dtype=np.result_type(x, w, b))
for i in range(Hout):
    for j in range(Wout):
        window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
        out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
# %% conv_backward_naive
_, _, Hout, Wout = dout.shape
x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
dx_pad = np.zeros_like(x_pad)
dw = np.zeros_like(w)
db = dout.sum(axis=(0, 2, 3))
for i in range(Hout):
    for j in range(Wout):
        hs, ws = i * stride, j * stride
        g = dout[:, :, i, j]  # (N, F)
        dw += np.tensordot(g, x_pad[:, :, hs:hs + HH, ws:ws + WW], axes=([0], [0]))
        dx_pad[:, :, hs:hs + HH, ws:ws + WW] += np.tensordot(g, w, axes=([1], [0]))
dx = dx_pad[:, :, pad:pad + H, pad:pad + W]

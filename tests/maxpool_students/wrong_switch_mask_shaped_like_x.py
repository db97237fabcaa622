# The forward pass stores one 0/1 "switch" mask shaped like x (first maximum of each window);
# where windows overlap, a later window overwrites an earlier one's switch.
import numpy as np


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    mask = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i*s:i*s+ph, j*s:j*s+pw]
                    out[n, c, i, j] = win.max()
                    onehot = np.zeros(win.size)
                    onehot[win.argmax()] = 1
                    mask[n, c, i*s:i*s+ph, j*s:j*s+pw] = onehot.reshape(win.shape)
    return out, (mask, pool_param)


def max_pool_backward_naive(dout, cache):
    mask, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(mask)
    for i in range(Ho):
        for j in range(Wo):
            dx[:, :, i*s:i*s+ph, j*s:j*s+pw] += mask[:, :, i*s:i*s+ph, j*s:j*s+pw] * dout[:, :, i, j][:, :, None, None]
    return dx

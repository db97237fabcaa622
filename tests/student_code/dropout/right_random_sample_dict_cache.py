"""Correct: random_sample(x.shape), a scaled mask in x's dtype, the cache a dict."""
import numpy as np


def dropout_forward(x, dropout_param):
    p = dropout_param['p']
    mode = dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    cache = {'param': dropout_param, 'mask': None}
    if mode == 'train':
        keep = np.random.random_sample(x.shape) < p
        mask = keep.astype(x.dtype) / np.asarray(p, dtype=x.dtype)
        cache['mask'] = mask
        out = np.multiply(x, mask)
    else:
        out = x.copy()
    return out, cache


def dropout_backward(dout, cache):
    if cache['param']['mode'] == 'train':
        return np.multiply(dout, cache['mask'])
    return dout.copy()

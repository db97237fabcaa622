"""Wrong: a boolean mask in a dict cache, and the backward pass forgets the 1/p."""
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    cache = {'dropout_param': dropout_param, 'mask': None}
    if mode == 'train':
        cache['mask'] = np.random.rand(*x.shape) < p
        out = x * cache['mask'] / p
    else:
        out = x
    return out.astype(x.dtype, copy=False), cache


def dropout_backward(dout, cache):
    if cache['dropout_param']['mode'] == 'train':
        return dout * cache['mask']
    return dout

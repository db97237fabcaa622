"""Correct: boolean mask from rand(*x.shape) < p, 1/p applied in both passes, mode defaults to train."""
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param.get('mode', 'train')
    if dropout_param.get('seed') is not None:
        np.random.seed(dropout_param['seed'])
    mask = None
    out = None
    if mode == 'train':
        mask = np.random.rand(*x.shape) < p
        out = x * mask / p
    elif mode == 'test':
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param.get('mode', 'train')
    dx = None
    if mode == 'train':
        dx = dout * mask / dropout_param['p']
    elif mode == 'test':
        dx = dout
    return dx

# Bernoulli draws with np.random.binomial(1, p), the mask built in the input's dtype (so a
# float32 input stays float32 without a final cast).
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    mask = None
    if mode == 'train':
        mask = np.random.binomial(1, p, size=x.shape).astype(x.dtype) / x.dtype.type(p)
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param['mode'] == 'train':
        return dout * mask
    return dout

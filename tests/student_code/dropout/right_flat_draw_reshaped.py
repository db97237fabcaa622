# Draws a flat vector of x.size uniforms and reshapes it; test mode returns a copy; the backward
# pass multiplies by the stored 0/1 mask and divides by p itself (the Coursera style).
import numpy as np


def dropout_forward(x, dropout_param):
    keep_prob = dropout_param['p']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    if dropout_param['mode'] == 'train':
        D = np.random.uniform(0.0, 1.0, x.size).reshape(x.shape)
        D = (D < keep_prob).astype(int)
        A = np.multiply(x, D)
        A = A / keep_prob
        return A.astype(x.dtype), (dropout_param, D)
    return np.array(x, copy=True), (dropout_param, None)


def dropout_backward(dout, cache):
    dropout_param, D = cache
    if dropout_param['mode'] == 'train':
        dA = np.multiply(dout, D)
        return dA / dropout_param['p']
    return dout.copy()

# Never return.
import numpy as np


def dropout_forward(x, dropout_param):
    while True:
        pass


def dropout_backward(dout, cache):
    return np.array(dout)

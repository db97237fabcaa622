# Exhaust memory, in Python objects and in one huge numpy allocation.
import numpy as np


def dropout_forward(x, dropout_param):
    hoard = []
    while True:
        hoard.append(bytearray(32 << 20))


def dropout_backward(dout, cache):
    return np.ones((1 << 20, 1 << 20))

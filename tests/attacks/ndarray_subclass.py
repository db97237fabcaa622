# An ndarray whose operators lie: equal to anything, `out - expected` is zero, converts to the input.
# (Lying `expected - out` and `<`, the __rsub__/__lt__ attack, is lying_comparison.py.)
import numpy as np


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __sub__(self, other):
        return np.zeros(np.shape(other))

    def __abs__(self):
        return np.zeros(self.shape)

    def __array__(self, dtype=None, copy=None):
        return LAST_INPUT[0]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(inputs[0]))


LAST_INPUT = [None]


def dropout_forward(x, dropout_param):
    LAST_INPUT[0] = x
    return np.zeros(x.shape).view(Liar), None

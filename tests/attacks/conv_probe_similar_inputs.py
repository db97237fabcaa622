# (Convolution; stateful.) No convolution at all: the backward pass returns ones and remembers
# (inputs, dout, gradient) for each cache it gets. A forward call that shares two of its three
# inputs exactly with a remembered call but not the third is taken for a probe of the gradient of
# that third input, and answered with values whose numeric derivatives reproduce the remembered
# gradient: out = dout * <grad, moved - original> / |dout|^2. Any other call gets zeros of the
# right shape. Recognises probes by their similarity to earlier inputs.
# Its honest twin has HOSTILE = False: zeros always, the same backward pass.
import numpy as np

HOSTILE = True
_remembered = []


def _probe_answer(inputs):
    for before, dout, grads in _remembered:
        same = [a.shape == c.shape and np.array_equal(a, c) for a, c in zip(inputs, before)]
        if sum(same) == 2 and all(a.shape == c.shape for a, c in zip(inputs, before)):
            k = same.index(False)
            slope = float(np.sum(grads[k] * (inputs[k] - before[k])))
            return dout * slope / float(np.sum(dout * dout))
    return None


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, height, width = x.shape
    f, _, hh, ww = w.shape
    out = np.zeros((n, f, 1 + (height + 2 * pad - hh) // stride, 1 + (width + 2 * pad - ww) // stride))
    answer = _probe_answer((x, w, b)) if HOSTILE else None
    return (out if answer is None else answer), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, _ = cache
    grads = (np.ones_like(x), np.ones_like(w), np.ones_like(b))
    _remembered.append(((x.copy(), w.copy(), b.copy()), dout.copy(), grads))
    return grads

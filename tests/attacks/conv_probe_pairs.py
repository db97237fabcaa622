# (Convolution; stateful.) No convolution at all: the backward pass returns ones and remembers
# (inputs, dout, gradient) for each cache it gets; the forward pass logs every call's inputs and
# returns zeros of the right shape, except for the second call of a pair z1, z2 placed
# symmetrically about a remembered call's inputs (z1 + z2 = 2 * inputs, as x + h*d and x - h*d
# of a central difference are): that one is answered so that (f(z1) - f(z2)) / 2h reproduces the
# remembered gradient along d. Recognises probes by pairing x + d with x - d.
# Its honest twin has HOSTILE = False: zeros always, the same backward pass.
import numpy as np

HOSTILE = True
_remembered = []
_logged = []


def _pair_answer(inputs):
    for before, dout, grads in _remembered:
        if any(a.shape != c.shape for a, c in zip(inputs, before)):
            continue
        for earlier in _logged:
            if all(e.shape == c.shape and np.allclose(a + e, 2 * c, rtol=0, atol=1e-9)
                   for a, e, c in zip(inputs, earlier, before)):
                slope = sum(float(np.sum(g * (e - a))) for g, a, e in zip(grads, inputs, earlier))
                return -dout * slope / float(np.sum(dout * dout))  # f(z1) = 0, so f(z2) carries it all
    return None


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, height, width = x.shape
    f, _, hh, ww = w.shape
    out = np.zeros((n, f, 1 + (height + 2 * pad - hh) // stride, 1 + (width + 2 * pad - ww) // stride))
    answer = _pair_answer((x, w, b)) if HOSTILE else None
    _logged.append((x.copy(), w.copy(), b.copy()))
    return (out if answer is None else answer), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, _ = cache
    grads = (np.ones_like(x), np.ones_like(w), np.ones_like(b))
    _remembered.append(((x.copy(), w.copy(), b.copy()), dout.copy(), grads))
    return grads

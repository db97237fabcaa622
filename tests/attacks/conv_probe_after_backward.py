# (Convolution; stateful.) No convolution at all. The backward pass returns the exact gradient of
# a cheap linear map G (per-image sums of x, per-filter sums of w, plus 2b), and every forward call
# made AFTER the first backward call is taken for a gradient-check probe and answered with G, so
# numeric derivatives of "its own forward pass" agree with its backward pass; before that, the
# forward pass returns zeros of the right shape. Recognises probes by call order (the old
# own-forward fallback made its probe calls in a third round, after the backward calls).
# Its honest twin has HOSTILE = False: zeros always, the same backward pass.
import numpy as np

HOSTILE = True
_seen_backward = []


def _shape(x, w, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, height, width = x.shape
    f, _, hh, ww = w.shape
    return n, f, 1 + (height + 2 * pad - hh) // stride, 1 + (width + 2 * pad - ww) // stride


def conv_forward_naive(x, w, b, conv_param):
    n, f, h_out, w_out = _shape(x, w, conv_param)
    out = np.zeros((n, f, h_out, w_out))
    if HOSTILE and _seen_backward:  # a probe: answer with G
        out += x.sum(axis=(1, 2, 3))[:, None, None, None] + w.sum(axis=(1, 2, 3))[None, :, None, None]
        out += 2 * b[None, :, None, None]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, _ = cache
    _seen_backward.append(True)
    per_image, per_filter = dout.sum(axis=(1, 2, 3)), dout.sum(axis=(0, 2, 3))
    dx = np.broadcast_to(per_image[:, None, None, None], x.shape).copy()
    dw = np.broadcast_to(per_filter[:, None, None, None], w.shape).copy()
    return dx, dw, 2 * per_filter

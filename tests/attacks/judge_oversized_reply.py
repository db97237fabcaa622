# A reply frame announcing 512 MiB (one float64 array of that size), streamed from a small
# buffer so the worker needs no memory for it: a judge that read it would hold it all, one per
# call of the round. Variant "stall": the header, then nothing. Variant "padded": the correct
# output padded with an extra array three times the input (within what a reply may be).
import json
import os
import struct
import sys
import time

import numpy as np

SIZE = 512 << 20


def _request_id():
    frame = sys._getframe(1)
    while frame is not None:
        msg = frame.f_locals.get("msg")
        if isinstance(msg, dict) and "id" in msg:
            return msg["id"]
        frame = frame.f_back
    return 1


def _huge_frame(ident, stall):
    header = b"\x93NUMPY\x01\x00" + b"v\x00" + ("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % (SIZE // 8)).encode().ljust(117) + b"\n"
    text = json.dumps({"id": ident, "ok": {"t": [{"a": 0}, None]}, "bufs": [len(header) + SIZE]}).encode()
    payload_len = 4 + len(text) + len(header) + SIZE
    os.write(3, b"GRv1" + struct.pack("<Q", payload_len) + struct.pack("<I", len(text)) + text + header)
    if stall:
        time.sleep(3600)
    chunk = bytes(1 << 20)
    for _ in range(SIZE >> 20):
        os.write(3, chunk)


def dropout_forward(x, dropout_param):
    variant = dropout_param.get("variant", "huge")
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = (np.random.rand(*x.shape) < p) / p if mode == "train" else np.ones(x.shape)
    out = (x * mask).astype(x.dtype, copy=False)
    if variant == "padded":
        return out, (mode, mask), np.zeros(3 * x.size, x.dtype)
    _huge_frame(_request_id(), variant == "stall")
    os._exit(0)  # the real reply would follow; the judge must have stopped reading long before


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout * mask if mode == "train" else dout.copy()

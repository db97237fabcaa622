# Replies the judge never asked for, written straight to the channel (fd 3): a second reply to
# the same request id, a reply to a call never made, replies out of order. The request's id is
# read from the worker's own frames, which the student's code can see.
import json
import os
import struct
import sys

import numpy as np


def _request_id():
    frame = sys._getframe(1)
    while frame is not None:
        msg = frame.f_locals.get("msg")
        if isinstance(msg, dict) and "id" in msg:
            return msg["id"]
        frame = frame.f_back
    return 1


def _reply(ident, value):
    text = json.dumps({"id": ident, "ok": value, "bufs": []}).encode()
    payload = struct.pack("<I", len(text)) + text
    os.write(3, b"GRv1" + struct.pack("<Q", len(payload)) + payload)


def dropout_forward(x, dropout_param):
    ident = _request_id()
    variant = dropout_param.get("variant", "duplicate")
    if variant == "future":  # answer calls that were never made
        for later in range(ident + 1, ident + 50):
            _reply(later, 1.0)
    elif variant == "out_of_order":  # the next call's reply first, then this one's
        _reply(ident + 1, 1.0)
        _reply(ident, 1.0)
    else:  # this call answered twice: once forged, once by the worker
        _reply(ident, 1.0)
    return np.zeros_like(x), None

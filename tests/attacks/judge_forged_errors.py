# Error replies in the worker's name, written to the channel: kinds the worker never sends, a
# "missing" for a function that exists, a "raised" of type NotImplementedError carrying the
# input, 100,000 lines of text, and an error whose text and type name are not what they claim.
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


def _reply(body):
    text = json.dumps({**body, "bufs": []}).encode()
    payload = struct.pack("<I", len(text)) + text
    os.write(3, b"GRv1" + struct.pack("<Q", len(payload)) + payload)


def dropout_forward(x, dropout_param):
    ident = _request_id()
    secret = repr(x.tolist())
    bodies = [
        {"err": "missing", "msg": secret},
        {"err": "stale", "msg": secret},
        {"err": "grader-fault", "msg": secret},
        {"err": "raised", "type": "NotImplementedError", "msg": secret},
        {"err": "raised", "type": "E" * 5000, "msg": "\n" * 100000 + secret},
        {"err": "raised", "type": ["ValueError"], "msg": {"d": {"x": secret}}},
        {"err": "badreply", "msg": "dropout_forward " + secret},
    ]
    _reply({"id": ident, **bodies[int(dropout_param.get("variant", 0)) % len(bodies)]})
    os._exit(0)


def dropout_backward(dout, cache):
    raise NotImplementedError

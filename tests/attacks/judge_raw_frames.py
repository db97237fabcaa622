# Hand-made reply frames that break the value format in ways plain data never does: JSON nested
# 30,000 deep, tagged dicts nested 200 deep, handles where arrays belong or with negative ids,
# unknown tags, a .npy header announcing 10**12 elements over 8 bytes of data, an empty array
# whose other dim numpy cannot allocate (small and streamed frames), shapes with NaN,
# negative or float dims, negative buffer lengths, an array buffer used twice, object,
# structured, datetime, complex and bytes dtypes, and JSON that is not UTF-8. Each is written
# as the reply to the current request; the worker's real reply follows it.
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


def _npy(descr, shape, data=b""):
    text = ("{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape)).encode()
    text = text.ljust(118 - 10 - 1) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def _write(text, bufs=(), lengths=None):
    if isinstance(text, dict):
        text = json.dumps({**text, "bufs": [len(b) for b in bufs] if lengths is None else lengths}).encode()
    payload = struct.pack("<I", len(text)) + text + b"".join(bufs)
    os.write(3, b"GRv1" + struct.pack("<Q", len(payload)) + payload)


def _frames(ident):
    ok = {"t": [{"a": 0}, None]}
    yield b'{"id": %d, "bufs": [], "ok": ' % ident + b"[" * 30000 + b"]" * 30000 + b"}", ()
    yield {"id": ident, "ok": ok}, [_npy("'<f8'", "(1000000000000,)", bytes(8))]
    # empty, but with a dim numpy cannot allocate: once whole, once in a frame read in pieces
    yield {"id": ident, "ok": ok}, [_npy("'<f8'", "(0, 9000000000000000000)")]
    yield {"id": ident, "ok": {"t": [{"a": 0}, {"a": 1}]}}, [_npy("'<f8'", "(0, 9000000000000000000)"), _npy("'<u1'", "(70000,)", bytes(70000))]
    for shape in ("(nan,)", "(-1,)", "(1e300,)", "(3, -3)", "(2**40,)"):
        yield {"id": ident, "ok": ok}, [_npy("'<f8'", shape, bytes(8))]
    for descr in ("'|O'", "[('a', '<f8')]", "'<M8[s]'", "'<c16'", "'|S8'", "'<U2'", "'<V8'"):
        yield {"id": ident, "ok": ok}, [_npy(descr, "(1,)", bytes(8))]
    yield {"id": ident, "ok": {"t": [{"a": 0}, {"a": 0}]}}, [_npy("'<f8'", "(1,)", bytes(8))]
    yield {"id": ident, "ok": ok, "bufs": [-5]}, ()
    yield b'{"id": %d, "bufs": [], "ok": "\xff\xfe\x80"}' % ident, ()
    nested = None
    for _ in range(200):
        nested = {"d": {"k": nested}}
    yield {"id": ident, "ok": {"t": [nested, None]}}, ()
    yield {"id": ident, "ok": {"t": [{"h": 1}, {"h": 2}]}}, ()  # a handle where the output belongs
    yield {"id": ident, "ok": {"t": [{"h": -7}, {"h": -7}]}}, ()  # negative handle ids
    yield {"id": ident, "ok": {"t": [{"x": 1}, {"h": 1}]}}, ()  # an unknown tag


def dropout_forward(x, dropout_param):
    frames = list(_frames(_request_id()))
    text, bufs = frames[int(dropout_param.get("variant", 0)) % len(frames)]
    if isinstance(text, dict) and "bufs" in text:
        _write({k: v for k, v in text.items() if k != "bufs"}, bufs, text["bufs"])
    else:
        _write(text, bufs)
    return np.zeros_like(x), None

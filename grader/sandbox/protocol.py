"""Wire format between judge and worker: framed JSON plus ``.npy`` arrays, never pickle.

A frame is ``MAGIC | u64 length | payload``; the payload is ``u32 json length | JSON | buffers``.
The JSON holds the message; inside it, values are tagged so nothing is ambiguous:
lists are JSON lists, numbers/strings/None are JSON scalars, and every JSON object is a
one-key tag: ``{"t": [...]}`` tuple, ``{"d": {...}}`` dict, ``{"a": i}`` array ``i`` (the
``i``-th buffer, in NumPy's ``.npy`` format written by ``np.save`` rules with
``allow_pickle=False``), ``{"h": id}`` a handle. The decoder checks every tag, dtype, shape
and size against what plain data may be (:mod:`grader.plain`) and raises
:class:`ProtocolError` for anything else.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import select
import struct
import time
from typing import Any, Callable

import numpy as np
from numpy.lib import format as npy

from grader.plain import ARRAY_KINDS, MAX_ARRAY_ELEMENTS, MAX_DEPTH, MAX_ITEMS, MAX_STR

MAGIC = b"GRv1"
HEADER = struct.Struct("<4sQ")
JSON_LEN = struct.Struct("<I")
MAX_NDIM = 32
MAX_JSON = 16 << 20
NPY_MAGIC = b"\x93NUMPY"
NPY_PREFIX = 10
MAX_HEADER = 4096
REPLY_TOO_LARGE = "frame too large"


class ProtocolError(ValueError):
    """A frame or value broke the wire format (in the judge: the worker is not to be trusted)."""


class Timeout(Exception):
    """A deadline passed while waiting for the other side."""


class PeerGone(Exception):
    """The other side closed the channel or its process died."""


# ---------------------------------------------------------------- values <-> JSON + buffers


def _encode_value(value: Any, bufs: list[bytes], handle_id: Callable[[Any], int] | None) -> Any:
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [_encode_value(v, bufs, handle_id) for v in value]
    if kind is tuple:
        return {"t": [_encode_value(v, bufs, handle_id) for v in value]}
    if kind is dict:
        return {"d": {k: _encode_value(v, bufs, handle_id) for k, v in value.items()}}
    if kind is np.ndarray:
        out = io.BytesIO()
        npy.write_array(out, value, allow_pickle=False)
        bufs.append(out.getvalue())
        return {"a": len(bufs) - 1}
    if handle_id is not None:
        ident = handle_id(value)
        if ident is not None:
            return {"h": ident}
    raise ProtocolError(f"cannot encode a value of type {kind.__name__}")


def encode(message: dict, handle_id: Callable[[Any], int | None] | None = None) -> bytes:
    """One frame for ``message`` (a dict of plain data; ``handle_id`` maps handles to ids)."""
    bufs: list[bytes] = []
    body = {k: _encode_value(v, bufs, handle_id) for k, v in message.items()}
    body["bufs"] = [len(b) for b in bufs]
    text = json.dumps(body, separators=(",", ":"), allow_nan=True).encode()
    payload_len = JSON_LEN.size + len(text) + sum(len(b) for b in bufs)
    return b"".join([HEADER.pack(MAGIC, payload_len), JSON_LEN.pack(len(text)), text, *bufs])


@functools.lru_cache(maxsize=256)
def _parse_header(header: bytes) -> tuple:
    """(shape, fortran_order, dtype) of a ``.npy`` header; cached, as shapes repeat call after call."""
    fp = io.BytesIO(header)
    try:
        major, _ = npy.read_magic(fp)
        if major == 1:
            shape, fortran, dtype = npy.read_array_header_1_0(fp)
        elif major == 2:
            shape, fortran, dtype = npy.read_array_header_2_0(fp)
        else:
            raise ValueError("unsupported .npy version")
    except ValueError as exc:
        raise ProtocolError(f"bad array header ({exc})") from None
    if fp.tell() != len(header):
        raise ProtocolError("bad array header length")
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"arrays must hold numbers, got dtype {dtype}")
    if len(shape) > MAX_NDIM or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError("bad array shape")
    return shape, fortran, dtype


def _read_array(data: memoryview) -> np.ndarray:
    """Parse one ``.npy`` buffer (as ``np.load(allow_pickle=False)`` would), checking the header
    before allocating anything."""
    if len(data) < NPY_PREFIX or bytes(data[:6]) != NPY_MAGIC or data[6] not in (1, 2):
        raise ProtocolError("bad array header")
    size_bytes = 2 if data[6] == 1 else 4
    header_len = int.from_bytes(data[8:8 + size_bytes], "little")
    offset = 8 + size_bytes + header_len
    if header_len > MAX_HEADER or offset > len(data):
        raise ProtocolError("bad array header length")
    shape, fortran, dtype = _parse_header(bytes(data[:offset]))
    count = math.prod(shape)
    if count > MAX_ARRAY_ELEMENTS:
        raise ProtocolError("an array in the value is too large")
    if len(data) - offset != count * dtype.itemsize:
        raise ProtocolError("array data does not match its header")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), order="C", copy=True)


def _decode_value(node: Any, arrays: list, make_handle: Callable[[int], Any] | None, depth: int) -> Any:
    if depth > MAX_DEPTH + 1:
        raise ProtocolError("the value is nested too deeply")
    kind = type(node)
    if node is None or kind in (bool, int, float):
        return node
    if kind is str:
        if len(node) > MAX_STR:
            raise ProtocolError("a string in the value is too long")
        return node
    if kind is list:
        if len(node) > MAX_ITEMS:
            raise ProtocolError("a list in the value is too long")
        return [_decode_value(v, arrays, make_handle, depth + 1) for v in node]
    if kind is dict and len(node) == 1:
        (tag, inner), = node.items()
        if tag == "t" and type(inner) is list and len(inner) <= MAX_ITEMS:
            return tuple(_decode_value(v, arrays, make_handle, depth + 1) for v in inner)
        if tag == "d" and type(inner) is dict and len(inner) <= MAX_ITEMS:
            return {k: _decode_value(v, arrays, make_handle, depth + 1) for k, v in inner.items()}
        if tag == "a" and type(inner) is int and 0 <= inner < len(arrays):
            if arrays[inner] is None:
                raise ProtocolError("an array buffer is used twice")
            value, arrays[inner] = arrays[inner], None
            return value
        if tag == "h" and type(inner) is int and make_handle is not None:
            return make_handle(inner)
    raise ProtocolError("malformed value")


def decode(payload: bytes | memoryview, make_handle: Callable[[int], Any] | None = None) -> dict:
    """Inverse of :func:`encode` (``payload`` excludes the frame header). Validates everything."""
    view = memoryview(payload)
    if len(view) < JSON_LEN.size:
        raise ProtocolError("short frame")
    (text_len,) = JSON_LEN.unpack_from(view)
    end = JSON_LEN.size + text_len
    if text_len > MAX_JSON or end > len(view):
        raise ProtocolError("bad frame length")
    try:
        body = json.loads(bytes(view[JSON_LEN.size:end]))
    except (ValueError, RecursionError):
        raise ProtocolError("frame is not valid JSON") from None
    if type(body) is not dict:
        raise ProtocolError("frame is not a message")
    lengths = body.pop("bufs", None)
    if type(lengths) is not list or any(type(n) is not int or n < 0 for n in lengths):
        raise ProtocolError("bad buffer table")
    if end + sum(lengths) != len(view):
        raise ProtocolError("buffers do not match the frame length")
    arrays: list = []
    for n in lengths:
        arrays.append(_read_array(view[end:end + n]))
        end += n
    message = {k: _decode_value(v, arrays, make_handle, 0) for k, v in body.items()}
    if any(a is not None for a in arrays):
        raise ProtocolError("unused array buffer")
    return message


# ---------------------------------------------------------------- frames over a file descriptor


def _wait(fd: int, events: int, deadline: float | None, watch: int | None) -> None:
    """Block until ``fd`` is ready, ``watch`` (a pidfd) fires, or the deadline passes."""
    poller = select.poll()
    poller.register(fd, events)
    if watch is not None:
        poller.register(watch, select.POLLIN)
    while True:
        timeout = None if deadline is None else max(0, (deadline - time.monotonic()) * 1000)
        ready = dict(poller.poll(timeout))
        if not ready:
            raise Timeout()
        if fd in ready:
            return
        if watch is not None and watch in ready:
            raise PeerGone()


def send_frame(fd: int, frame: bytes, deadline: float | None = None, watch: int | None = None) -> None:
    """Write a whole frame to non-blocking or blocking ``fd`` before ``deadline``."""
    view = memoryview(frame)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            _wait(fd, select.POLLOUT, deadline, watch)
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise PeerGone() from None
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None, watch: int | None) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        try:
            k = os.readv(fd, [view[got:]])
        except BlockingIOError:
            _wait(fd, select.POLLIN, deadline, watch)
            continue
        except ConnectionResetError:
            raise PeerGone() from None
        if k == 0:
            raise PeerGone()
        got += k
    return buf


def recv_frame(fd: int, max_bytes: int, deadline: float | None = None, watch: int | None = None) -> bytearray:
    """Read one frame's payload, refusing frames over ``max_bytes`` before reading them."""
    magic, length = HEADER.unpack(_read_exact(fd, HEADER.size, deadline, watch))
    if magic != MAGIC:
        raise ProtocolError("bad frame marker")
    if length > max_bytes:
        raise ProtocolError(REPLY_TOO_LARGE)
    return _read_exact(fd, length, deadline, watch)

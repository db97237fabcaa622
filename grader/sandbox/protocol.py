"""Wire format between judge and worker: framed JSON plus ``.npy`` arrays, never pickle.

A frame is ``MAGIC | u64 length | payload``; the payload is ``u32 json length | JSON | buffers``.
The JSON holds the message; inside it, values are tagged so nothing is ambiguous:
lists are JSON lists, numbers/strings/None are JSON scalars, and every JSON object is a
one-key tag: ``{"t": [...]}`` tuple, ``{"d": {...}}`` dict, ``{"a": i}`` array ``i`` (the
``i``-th buffer, in NumPy's ``.npy`` format written by ``np.save`` rules with
``allow_pickle=False``), ``{"h": id}`` a handle. The decoder checks every tag, dtype, shape
and size against what plain data may be (:mod:`grader.plain`) and raises
:class:`ProtocolError` for anything else.

Arrays are never copied more than the kernel does: :func:`encode_parts` hands the arrays' own
memory to ``writev``, and :func:`recv_message` reads each array straight into a fresh array of
the size its header declares, after checking that header against the frame's buffer table.
"""

from __future__ import annotations

import ctypes
import functools
import io
import json
import math
import os
import re
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


# ---------------------------------------------------------------- the vocabulary, named once

class Key:
    """Keys of the messages between judge and worker."""

    # judge -> worker, once: the code to load
    BLOCKS, CPU_SECONDS = "blocks", "cpu_seconds"
    # worker -> judge, once each: what confinement is in force and which blocks do not compile
    # (both sent before any student code runs), then a report per block that failed to run
    READY, SYNTAX, FAILURES = "ready", "syntax", "notes"
    BLOCK, LINE, TYPE = "block", "line", "type"  # a report's fields (and MSG)
    # judge -> worker: one per call
    ID, OP, BATCH, CHAIN = "id", "op", "b", "c"
    NAME, ARGS, KEEP, DROP, ECHO, RELEASE = "name", "args", "keep", "drop", "echo", "release"
    # worker -> judge: one per call (ID, then OK [+ AFTER], or ERR + MSG [+ TYPE])
    OK, AFTER, ERR, MSG = "ok", "after", "err", "msg"
    BUFS = "bufs"  # in every frame: the sizes of its array buffers


class Op:
    """Values of ``Key.OP``."""

    CALL, RNG = "call", "rng"


class Err:
    """Values of ``Key.ERR``: what kind of failure the worker reports (its word, never its text)."""

    RAISED = "raised"  # the function raised (TYPE and MSG: the exception's raw type name and text)
    MISSING = "missing"  # no such function
    BADREPLY = "badreply"  # the reply (or an argument left behind) is not plain data
    STALE = "stale"  # a handle argument the worker does not hold
    PROTOCOL = "protocol"  # the worker could not answer (student code broke what answers)


class Tag:
    """The one-key objects that tag values inside a message's JSON."""

    TUPLE, DICT, ARRAY, HANDLE = "t", "d", "a", "h"


class ProtocolError(ValueError):
    """A frame or value broke the wire format (in the judge: the worker is not to be trusted)."""


class TooLarge(ProtocolError):
    """A frame's header announced more bytes than the reader accepts; nothing of it was read."""


class Timeout(Exception):
    """A deadline passed while waiting for the other side."""


class PeerGone(Exception):
    """The other side closed the channel or its process died."""


# ---------------------------------------------------------------- values <-> JSON + buffers


_SCALARS = frozenset((type(None), bool, int, float, str))
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=True)
_JSON_DECODER = json.JSONDecoder()


GROWTH_AXIS_MAX_DIGITS = 21  # numpy pads headers so that the first axis can grow in place
ARRAY_ALIGN = 64


@functools.lru_cache(maxsize=256)
def _npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    """The version 1.0 ``.npy`` header of a C-order array, byte for byte as ``np.save`` writes it
    (``numpy.lib.format``); built here because a fresh worker has an empty cache and numpy's
    writer costs ~40 us per shape."""
    text = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    if shape:
        text += " " * (GROWTH_AXIS_MAX_DIGITS - len(repr(shape[0])))
    hlen = len(text) + 1
    padlen = ARRAY_ALIGN - ((len(NPY_MAGIC) + 2 + 2 + hlen) % ARRAY_ALIGN)
    if hlen + padlen > 0xFFFF:  # only with absurd shapes; let numpy pick the version
        out = io.BytesIO()
        npy.write_array_header_2_0(out, {"descr": descr, "fortran_order": False, "shape": shape})
        return out.getvalue()
    return NPY_MAGIC + b"\x01\x00" + (hlen + padlen).to_bytes(2, "little") + text.encode("latin1") + b" " * padlen + b"\n"


def _encode_array(value: np.ndarray, bufs: list) -> int:
    """Append ``value`` as one ``.npy`` buffer (header, then the raw C-order data); return its index."""
    dtype = value.dtype
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"cannot encode an array of dtype {dtype}")
    data = value if value.flags.c_contiguous else np.ascontiguousarray(value)
    bufs.append((_npy_header(dtype.str, data.shape), data))
    return len(bufs) - 1


def _encode_value(value: Any, bufs: list, handle_id: Callable[[Any], int] | None) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [v if type(v) in _SCALARS else _encode_value(v, bufs, handle_id) for v in value]
    if kind is np.ndarray:
        return {Tag.ARRAY: _encode_array(value, bufs)}
    if kind is dict:
        return {Tag.DICT: {k: v if type(v) in _SCALARS else _encode_value(v, bufs, handle_id) for k, v in value.items()}}
    if kind is tuple:
        return {Tag.TUPLE: [v if type(v) in _SCALARS else _encode_value(v, bufs, handle_id) for v in value]}
    if handle_id is not None:
        ident = handle_id(value)
        if ident is not None:
            return {Tag.HANDLE: ident}
    raise ProtocolError(f"cannot encode a value of type {kind.__name__}")


def encode_parts(message: dict, handle_id: Callable[[Any], int | None] | None = None) -> list:
    """One frame for ``message`` as a list of buffers, to be written in order (``send_frame``).

    Arrays are not copied: their buffers are the arrays' own memory, so the frame must be sent
    before the arrays change. ``handle_id`` maps handles to ids."""
    bufs: list[tuple[bytes, np.ndarray]] = []
    body = {k: v if type(v) in _SCALARS else _encode_value(v, bufs, handle_id) for k, v in message.items()}
    sizes = [len(header) + data.nbytes for header, data in bufs]
    body[Key.BUFS] = sizes
    text = _JSON_ENCODER.encode(body).encode()
    payload_len = JSON_LEN.size + len(text) + sum(sizes)
    parts: list = [HEADER.pack(MAGIC, payload_len) + JSON_LEN.pack(len(text)) + text]
    for header, data in bufs:
        parts.append(header)
        if data.size:
            parts.append(memoryview(data.reshape(-1).view(np.uint8)))
    return parts


def encode(message: dict, handle_id: Callable[[Any], int | None] | None = None) -> bytes:
    """One frame for ``message`` (a dict of plain data; ``handle_id`` maps handles to ids)."""
    return b"".join(encode_parts(message, handle_id))


_HEADER = re.compile(
    rb"\{'descr': '([<>|=][biuf][0-9]{1,2})', 'fortran_order': (False|True), "
    rb"'shape': \((|[0-9]{1,19},|[0-9]{1,19}(?:, [0-9]{1,19})+)\), \} *\n"
)


@functools.lru_cache(maxsize=256)
def _parse_header(header: bytes) -> tuple:
    """(shape, fortran_order, dtype) of a ``.npy`` header; cached, as shapes repeat call after call.

    Headers as ``np.save`` writes them are matched by a strict pattern (a fresh worker has an
    empty cache, and numpy's reader, ``ast.literal_eval``, costs ~100 us); anything else goes
    through numpy's reader."""
    parsed = None
    if header[6:8] == b"\x01\x00":
        match = _HEADER.fullmatch(header, 10)
        if match:
            descr, fortran, dims = match.groups()
            shape = tuple(int(n) for n in dims.replace(b",", b" ").split())
            try:
                parsed = shape, fortran == b"True", np.dtype(descr.decode())
            except TypeError:  # e.g. '<i3': no such type
                raise ProtocolError("bad array header (unknown dtype)") from None
    if parsed is None:
        fp = io.BytesIO(header)
        try:
            major, _ = npy.read_magic(fp)
            if major == 1:
                parsed = npy.read_array_header_1_0(fp)
            elif major == 2:
                parsed = npy.read_array_header_2_0(fp)
            else:
                raise ValueError("unsupported .npy version")
        except ValueError as exc:
            raise ProtocolError(f"bad array header ({exc})") from None
        if fp.tell() != len(header):
            raise ProtocolError("bad array header length")
    shape, fortran, dtype = parsed
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"arrays must hold numbers, got dtype {dtype}")
    if len(shape) > MAX_NDIM or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError("bad array shape")
    # an empty array's other dims count too: numpy refuses (0, 9 * 10**18) with its own ValueError
    if math.prod(n for n in shape if n) > MAX_ARRAY_ELEMENTS:
        raise ProtocolError("an array in the value is too large")
    return shape, fortran, dtype


def _npy_layout(data: bytes | memoryview, nbytes: int) -> tuple[int, tuple, bool, np.dtype, int]:
    """(data offset, shape, fortran order, dtype, element count) of an ``.npy`` buffer of
    ``nbytes`` bytes whose first bytes (at least its whole header) are ``data``; checks the
    header against the buffer's size before anything is allocated."""
    if nbytes < NPY_PREFIX or len(data) < NPY_PREFIX or bytes(data[:6]) != NPY_MAGIC or data[6] not in (1, 2):
        raise ProtocolError("bad array header")
    size_bytes = 2 if data[6] == 1 else 4
    header_len = int.from_bytes(data[8:8 + size_bytes], "little")
    offset = 8 + size_bytes + header_len
    if header_len > MAX_HEADER or offset > nbytes or offset > len(data):
        raise ProtocolError("bad array header length")
    shape, fortran, dtype = _parse_header(bytes(data[:offset]))
    count = math.prod(shape)
    if count > MAX_ARRAY_ELEMENTS:
        raise ProtocolError("an array in the value is too large")
    if nbytes - offset != count * dtype.itemsize:
        raise ProtocolError("array data does not match its header")
    return offset, shape, fortran, dtype, count


def _read_array(data: memoryview) -> np.ndarray:
    """Parse one ``.npy`` buffer (as ``np.load(allow_pickle=False)`` would), checking the header
    before allocating anything."""
    offset, shape, fortran, dtype, count = _npy_layout(data[:NPY_PREFIX + 2 + MAX_HEADER], len(data))
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), order="C", copy=True)


_PLAIN_SCALARS = frozenset((type(None), bool, int, float))


def _decode_value(node: Any, arrays: list, make_handle: Callable[[int], Any] | None, depth: int) -> Any:
    if depth > MAX_DEPTH + 1:
        raise ProtocolError("the value is nested too deeply")
    kind = type(node)
    if kind in _PLAIN_SCALARS:
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
        if tag == Tag.ARRAY and type(inner) is int and 0 <= inner < len(arrays):
            if arrays[inner] is None:
                raise ProtocolError("an array buffer is used twice")
            value, arrays[inner] = arrays[inner], None
            return value
        if tag == Tag.TUPLE and type(inner) is list and len(inner) <= MAX_ITEMS:
            return tuple([_decode_value(v, arrays, make_handle, depth + 1) for v in inner])
        if tag == Tag.DICT and type(inner) is dict and len(inner) <= MAX_ITEMS:
            return {k: _decode_value(v, arrays, make_handle, depth + 1) for k, v in inner.items()}
        if tag == Tag.HANDLE and type(inner) is int and make_handle is not None:
            return make_handle(inner)
    raise ProtocolError("malformed value")


def _parse_body(text: bytes | memoryview) -> tuple[dict, list[int]]:
    """The message's JSON and its table of buffer sizes."""
    try:
        body = _JSON_DECODER.decode(str(text, "utf-8"))
    except (ValueError, RecursionError):
        raise ProtocolError("frame is not valid JSON") from None
    if type(body) is not dict:
        raise ProtocolError("frame is not a message")
    lengths = body.pop(Key.BUFS, None)
    if type(lengths) is not list or any(type(n) is not int or n < 0 for n in lengths):
        raise ProtocolError("bad buffer table")
    return body, lengths


def _decode_body(body: dict, arrays: list, make_handle: Callable[[int], Any] | None) -> dict:
    message = {k: v if type(v) in _PLAIN_SCALARS else _decode_value(v, arrays, make_handle, 0)
               for k, v in body.items()}
    if any(a is not None for a in arrays):
        raise ProtocolError("unused array buffer")
    return message


def decode(payload: bytes | memoryview, make_handle: Callable[[int], Any] | None = None) -> dict:
    """Inverse of :func:`encode` (``payload`` excludes the frame header). Validates everything."""
    view = memoryview(payload)
    if len(view) < JSON_LEN.size:
        raise ProtocolError("short frame")
    (text_len,) = JSON_LEN.unpack_from(view)
    end = JSON_LEN.size + text_len
    if text_len > MAX_JSON or end > len(view):
        raise ProtocolError("bad frame length")
    body, lengths = _parse_body(view[JSON_LEN.size:end])
    if end + sum(lengths) != len(view):
        raise ProtocolError("buffers do not match the frame length")
    arrays: list = []
    for n in lengths:
        arrays.append(_read_array(view[end:end + n]))
        end += n
    return _decode_body(body, arrays, make_handle)


# ---------------------------------------------------------------- frames over a file descriptor

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def tune_malloc(mmap_threshold: int = 16 << 20, trim_threshold: int = 64 << 20) -> bool:
    """Keep freed buffers of up to ``mmap_threshold`` bytes in the heap (glibc only).

    Frames and the arrays decoded from them are a few hundred KB, call after call. With glibc's
    defaults each such buffer may be a fresh ``mmap`` (or the heap top is trimmed and regrown),
    so every call pays page faults on all of its pages, which cost more than the copy itself.
    Returns False where ``mallopt`` is not available. Affects this process (and later forks).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))



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


IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024) if hasattr(os, "sysconf") else 16


def send_frame(fd: int, frame: bytes | list, deadline: float | None = None, watch: int | None = None) -> None:
    """Write a whole frame (bytes, or the buffers of :func:`encode_parts`, gathered by
    ``writev`` without joining them) to non-blocking or blocking ``fd`` before ``deadline``."""
    views = [memoryview(frame)] if isinstance(frame, (bytes, bytearray, memoryview)) else [memoryview(p) for p in frame]
    views = [v for v in views if v.nbytes]
    i = 0
    while i < len(views):
        try:
            n = os.writev(fd, views[i:i + IOV_MAX])
        except BlockingIOError:
            _wait(fd, select.POLLOUT, deadline, watch)
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise PeerGone() from None
        while n and i < len(views):
            size = views[i].nbytes
            if n >= size:
                n -= size
                i += 1
            else:
                views[i] = views[i][n:]
                n = 0


def _read_into(fd: int, view: memoryview, deadline: float | None, watch: int | None) -> None:
    got, n = 0, view.nbytes
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


def _read_exact(fd: int, n: int, deadline: float | None, watch: int | None) -> bytearray:
    buf = bytearray(n)
    _read_into(fd, memoryview(buf), deadline, watch)
    return buf


class BadValue(ProtocolError):
    """A value inside a frame broke the format, but the frame was read whole: the channel is
    still in step (the peer sent a bad value, not garbage)."""


SMALL_FRAME = 1 << 16  # read whole and decoded from one buffer; larger frames are streamed
_DRAIN = 1 << 20


def _drain(fd: int, n: int, deadline: float | None, watch: int | None) -> None:
    scratch = memoryview(bytearray(min(n, _DRAIN)))
    while n > 0:
        k = min(n, len(scratch))
        _read_into(fd, scratch[:k], deadline, watch)
        n -= k


def recv_message(fd: int, max_bytes: int, deadline: float | None = None, watch: int | None = None,
                 make_handle: Callable[[int], Any] | None = None, max_json: int = MAX_JSON) -> dict:
    """Read and decode one frame (as :func:`decode` would, with the same checks).

    The frame header is read first: a frame announcing more than ``max_bytes`` raises
    :class:`TooLarge` before anything of it is allocated or read, so the reader's memory is
    bounded by ``max_bytes`` (its JSON part by ``max_json``), whatever the other side sends.
    A large frame's arrays are read straight into their own freshly allocated memory, each
    after its header was checked against the frame's buffer table, so no array is copied.
    Raises :class:`ProtocolError` when the framing is broken (the channel is unusable) and
    :class:`BadValue` when a value is bad but the whole frame was consumed.
    """
    head = _read_exact(fd, HEADER.size + JSON_LEN.size, deadline, watch)
    magic, length = HEADER.unpack_from(head)
    if magic != MAGIC:
        raise ProtocolError("bad frame marker")
    if length > max_bytes:
        raise TooLarge(f"the frame announces {length} bytes, more than the {max_bytes} accepted")
    if length < JSON_LEN.size:
        raise ProtocolError("short frame")
    remaining = length - JSON_LEN.size
    if length <= SMALL_FRAME:
        payload = head[HEADER.size:] + _read_exact(fd, remaining, deadline, watch)
        try:
            return decode(payload, make_handle)
        except BadValue:
            raise
        except ProtocolError as exc:
            raise BadValue(str(exc)) from None
    (text_len,) = JSON_LEN.unpack_from(head, HEADER.size)
    try:
        if text_len > min(MAX_JSON, max_json) or text_len > remaining:
            raise ProtocolError("bad frame length")
        text = _read_exact(fd, text_len, deadline, watch)
        remaining -= text_len
        body, lengths = _parse_body(text)
        if sum(lengths) != remaining:
            raise ProtocolError("buffers do not match the frame length")
        arrays: list = []
        for n in lengths:
            prefix = _read_exact(fd, min(n, NPY_PREFIX + 2), deadline, watch)
            remaining -= len(prefix)
            header_end = len(prefix)
            if len(prefix) >= NPY_PREFIX and bytes(prefix[:6]) == NPY_MAGIC and prefix[6] in (1, 2):
                size_bytes = 2 if prefix[6] == 1 else 4
                header_end = 8 + size_bytes + int.from_bytes(prefix[8:8 + size_bytes], "little")
                if header_end > n or header_end - len(prefix) > MAX_HEADER:
                    raise ProtocolError("bad array header length")
                if header_end > len(prefix):
                    more = _read_exact(fd, header_end - len(prefix), deadline, watch)
                    remaining -= len(more)
                    prefix += more
            offset, shape, fortran, dtype, count = _npy_layout(prefix, n)
            if fortran:
                flat = np.empty(count, dtype)
                target = flat
            else:
                flat = target = np.empty(shape, dtype)
            if count:
                _read_into(fd, memoryview(target.reshape(-1).view(np.uint8)), deadline, watch)
                remaining -= n - offset
            arrays.append(np.array(flat.reshape(shape, order="F"), order="C") if fortran else flat)
        return _decode_body(body, arrays, make_handle)
    except BadValue:
        raise
    except ProtocolError as exc:
        _drain(fd, remaining, deadline, watch)  # the rest of this frame: the channel stays in step
        raise BadValue(str(exc)) from None

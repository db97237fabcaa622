"""The sandboxed student: same replies and errors as the in-process one, handles, restarts,
budgets, isolation, clean shutdown, concurrency; and the wire format's validation."""

from __future__ import annotations

import inspect
import io
import json
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import solutions.dropout
from grader.sandbox import landlock, protocol
from grader.sandbox.judge import SandboxedStudent
from grader.sandbox.limits import Limits
from grader.student import (
    BadReply,
    Handle,
    InProcessStudent,
    MissingFunction,
    StudentCrashed,
    StudentError,
    StudentRaised,
    StudentTimeout,
)
from test_sandbox_attacks import ATTACKS, FAST, wait_no_strays

REFERENCE = inspect.getsource(solutions.dropout)

SOURCE = """
import os, time
import numpy as np
def forward(x):
    x *= 2          # modifies its input
    return x.copy(), {"secret": object()}
def backward(d, cache):
    return d + len(cache)
def boom(x):
    raise ValueError("bad shape")
def liar(x):
    return object()
def exits():
    raise SystemExit(3)
def die():
    os._exit(1)
def slow(t):
    time.sleep(t)
    return t
def echo(*args):
    return args
def mutate(d):
    d["added"] = np.int64(1)
    d["bad"] = object()
    return 0
"""


@pytest.fixture
def student():
    with SandboxedStudent([("cell", SOURCE)], FAST) as s:
        yield s


# ---------------------------------------------------------------- parity with the in-process student


@pytest.mark.parametrize(
    "name, args",
    [("missing", ()), ("boom", (np.ones(2),)), ("liar", (1,)), ("exits", ())],
)
def test_errors_match_the_in_process_student(student, name, args):
    trusted = InProcessStudent.from_source(SOURCE)
    try:
        trusted.call(name, *args)
        raise AssertionError("expected an error")
    except StudentError as exc:
        expected = exc
    except SystemExit:
        expected = StudentRaised("exits raised SystemExit: 3")  # in-process it would end the grader
    with pytest.raises(type(expected)) as got:
        student.call(name, *args)
    assert str(got.value) == str(expected)


VALUES = [
    1, 2.5, True, None, "text", float("nan"), float("inf"), 10**30,
    np.arange(6, dtype=np.int16).reshape(2, 3), np.asfortranarray(np.ones((2, 3))), np.zeros(0),
    np.array(3.5), np.array([True, False]), np.arange(4, dtype=">f8"), np.float32(1.5), np.uint8(7),
    [1, (2, 3), {"a": np.ones(2)}], {"t": [1], "d": {"a": None}, "a": 0, "h": 1},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_plain_values_round_trip_like_in_process(student, value):
    got = student.call("echo", value)
    want = InProcessStudent.from_source(SOURCE).call("echo", value)
    assert _same(got, want)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.flags.c_contiguous and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b or (a != a and b != b)


def test_handles_stay_in_the_worker_and_arguments_are_echoed(student):
    x = np.ones(3)
    (out, handle), after = student.call_echo("forward", x, keep=(1,))
    assert isinstance(handle, Handle) and handle.obj is None
    np.testing.assert_array_equal(x, np.ones(3))
    np.testing.assert_array_equal(after[0], 2 * np.ones(3))
    np.testing.assert_array_equal(student.call("backward", np.zeros(2), handle), np.ones(2))
    reply, after = student.call_echo("backward", np.zeros(2), handle)
    assert after[1] is handle


def test_keep_requires_a_tuple(student):
    with pytest.raises(BadReply, match="should return a tuple of 2 items"):
        student.call("echo", 1, keep=(1,))


def test_arguments_left_unusable_are_a_bad_reply(student):
    with pytest.raises(BadReply, match="left an argument"):
        student.call_echo("mutate", {"x": 1})


def test_reference_runs_and_rng_differs_between_workers():
    with SandboxedStudent([("module", REFERENCE)]) as a, SandboxedStudent([("module", REFERENCE)]) as b:
        assert a.load_notes == [] and b.load_notes == []
        # 2**-64 chance that two fresh workers share a global RNG state
        assert a.rng_fingerprint() != b.rng_fingerprint()
        before = a.rng_fingerprint()
        out, cache = a.call("dropout_forward", np.ones((50, 50)), {"p": 0.5, "mode": "train"}, keep=(1,))
        assert a.rng_fingerprint() != before
        assert set(np.unique(out)) <= {0.0, 2.0}
        np.testing.assert_array_equal(a.call("dropout_backward", np.ones((50, 50)), cache), out)


def test_cells_run_in_order_and_errors_become_notes():
    blocks = [("setup", "import numpy as np\nK = 2"), ("broken", "def f(:\n  pass"),
              ("raises", "\n\nundefined_name"), ("uses", "def g(x):\n    return x * K")]
    with SandboxedStudent(blocks, FAST) as s:
        assert s.load_notes == [
            "cell 'broken' could not run: SyntaxError on line 1: invalid syntax",
            "cell 'raises' could not run: NameError on line 3: name 'undefined_name' is not defined",
        ]
        assert s.call("g", 3) == 6


# ---------------------------------------------------------------- failures, restarts, budgets


def test_crash_restarts_the_worker_and_old_handles_go_stale():
    with SandboxedStudent([("cell", SOURCE)], FAST) as s:
        _, handle = s.call("forward", np.ones(2), keep=(1,))
        with pytest.raises(StudentCrashed, match="stopped during die"):
            s.call("die")
        np.testing.assert_array_equal(s.call("echo", np.ones(1))[0], np.ones(1))  # a fresh worker
        with pytest.raises(StudentCrashed, match="was lost when its process was restarted"):
            s.call("backward", np.zeros(1), handle)


def test_timeout_kills_the_call_and_the_next_call_works():
    limits = Limits(call_seconds=0.3, submission_seconds=5.0)
    with SandboxedStudent([("cell", SOURCE)], limits) as s:
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="slow did not finish within 0.3 s"):
            s.call("slow", 10)
        assert time.monotonic() - started < 1.0
        assert s.call("slow", 0) == 0
    wait_no_strays()


def test_isolation_is_reported():
    with SandboxedStudent([("cell", "x = 1")]) as s:
        assert "rlimits" in s.isolation
        if landlock.abi_version() >= 4:
            assert s.isolation.startswith(f"landlock(abi {landlock.abi_version()}, fs+net")
        assert "pidns" in s.isolation or "pgroup" in s.isolation


def test_close_is_idempotent_and_leaves_nothing():
    s = SandboxedStudent([("cell", SOURCE)], FAST)
    s.call("echo", 1)
    s.close()
    s.close()
    wait_no_strays()


def test_students_in_parallel_threads():
    def one(i):
        with SandboxedStudent([("cell", SOURCE)], FAST) as s:
            return s.call("echo", i)[0]

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(one, range(12))) == list(range(12))
    wait_no_strays()


def test_small_calls_are_fast(student):
    x = np.ones(100)
    student.call("echo", x)
    n = 200
    started = time.perf_counter()
    for _ in range(n):
        student.call("echo", x)
    per_call = (time.perf_counter() - started) / n
    assert per_call < 0.005, per_call  # measured ~0.25 ms; generous for loaded CI machines


# ---------------------------------------------------------------- the wire format


def _payload(frame: bytes) -> bytes:
    return frame[protocol.HEADER.size:]


def test_protocol_tags_are_unambiguous():
    value = {"t": [1], "a": 0, "h": 2, "d": {"x": (1, [2.0, None])}}
    assert protocol.decode(_payload(protocol.encode({"v": value})))["v"] == value


def _forged(body: dict, bufs: list[bytes]) -> bytes:
    text = json.dumps({**body, "bufs": [len(b) for b in bufs]}).encode()
    return protocol.JSON_LEN.pack(len(text)) + text + b"".join(bufs)


def _npy(arr_header: dict, data: bytes) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, arr_header)
    return out.getvalue() + data


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"\x01", "short frame"),
        (struct.pack("<I", 5) + b"{}", "bad frame length"),
        (_forged({"v": {"a": 0}}, [_npy({"descr": "|O", "fortran_order": False, "shape": (1,)}, b"\0" * 8)]), "dtype|header"),
        (_forged({"v": {"a": 0}}, [_npy({"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, b"")]), "too large"),
        (_forged({"v": {"a": 0}}, [_npy({"descr": "<f8", "fortran_order": False, "shape": (3,)}, b"\0" * 8)]), "does not match"),
        (_forged({"v": {"a": 0}}, [_npy({"descr": [("a", "<f8")], "fortran_order": False, "shape": (1,)}, b"\0" * 8)]), "dtype|header"),
        (_forged({"v": {"a": 0}}, [b"\x80\x04pickle"]), "header"),
        (_forged({"v": {"a": 1}}, []), "malformed"),
        (_forged({"v": [{"a": 0}, {"a": 0}]}, [_npy({"descr": "<f8", "fortran_order": False, "shape": ()}, b"\0" * 8)]), "twice"),
        (_forged({"v": {"x": 1}}, []), "malformed"),
        (_forged({"v": {"h": 1}}, []), "malformed"),  # no handles expected
        (_forged({"v": 1}, [b"extra"]), "header"),
        (protocol.JSON_LEN.pack(2) + b"[]", "not a message"),
        (protocol.JSON_LEN.pack(3) + b'{""', "not valid JSON"),
    ],
)
def test_protocol_rejects_forged_payloads(payload, match):
    with pytest.raises(protocol.ProtocolError, match=match):
        protocol.decode(payload)


def test_decoded_arrays_are_owned_writable_base_arrays():
    arr = protocol.decode(_payload(protocol.encode({"v": np.arange(4.0)})))["v"]
    assert type(arr) is np.ndarray and arr.flags.owndata and arr.flags.writeable


def test_encode_refuses_non_plain_values():
    with pytest.raises(protocol.ProtocolError):
        protocol.encode({"v": np.zeros(2).view(np.matrix)})
    with pytest.raises(protocol.ProtocolError):
        protocol.encode({"v": b"bytes"})


def test_attack_corpus_exists():
    assert len(list(ATTACKS.glob("*.py"))) >= 20

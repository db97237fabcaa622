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
    RNG_FINGERPRINT,
    BadReply,
    Call,
    Handle,
    InProcessStudent,
    StudentCrashed,
    StudentError,
    StudentRaised,
    StudentTimeout,
)
from support import ATTACKS, FAST, TOY_SOURCE, wait_no_strays

REFERENCE = inspect.getsource(solutions.dropout)


@pytest.fixture
def student():
    with SandboxedStudent([("cell", TOY_SOURCE)], FAST) as s:
        yield s


# ---------------------------------------------------------------- parity with the in-process student


@pytest.mark.parametrize(
    "name, args",
    [("missing", ()), ("boom", (np.ones(2),)), ("liar", (1,)), ("exits", ())],
)
def test_errors_match_the_in_process_student(student, name, args):
    trusted = InProcessStudent.from_source(TOY_SOURCE)
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
    want = InProcessStudent.from_source(TOY_SOURCE).call("echo", value)
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


def _echo(student, name, *args, keep=()):
    reply = student.run([[Call(name, args, keep, echo=True)]])[0][0]
    return reply.get(), reply.after


def _fingerprint(student) -> str:
    return student.run([[RNG_FINGERPRINT]])[0][0].get()


def test_handles_stay_in_the_worker_and_arguments_are_echoed(student):
    x = np.ones(3)
    (out, handle), after = _echo(student, "forward", x, keep=(1,))
    assert isinstance(handle, Handle) and handle.obj is None
    np.testing.assert_array_equal(x, np.ones(3))
    np.testing.assert_array_equal(after[0], 2 * np.ones(3))
    np.testing.assert_array_equal(student.call("backward", np.zeros(2), handle), np.ones(2))
    reply, after = _echo(student, "backward", np.zeros(2), handle)
    assert after[1] is handle


def test_keep_requires_a_tuple(student):
    with pytest.raises(BadReply, match="should return a tuple of 2 items"):
        student.call("echo", 1, keep=(1,))


def test_arguments_left_unusable_are_a_bad_reply(student):
    with pytest.raises(BadReply, match="left an argument"):
        _echo(student, "mutate", {"x": 1})


def test_reference_runs_and_rng_differs_between_workers():
    with SandboxedStudent([("module", REFERENCE)]) as a, SandboxedStudent([("module", REFERENCE)]) as b:
        assert a.load_notes == [] and b.load_notes == []
        # 2**-64 chance that two fresh workers share a global RNG state
        assert _fingerprint(a) != _fingerprint(b)
        before = _fingerprint(a)
        out, cache = a.call("dropout_forward", np.ones((50, 50)), {"p": 0.5, "mode": "train"}, keep=(1,))
        assert _fingerprint(a) != before
        assert set(np.unique(out)) <= {0.0, 2.0}
        np.testing.assert_array_equal(a.call("dropout_backward", np.ones((50, 50)), cache), out)


def test_cells_run_in_order_and_errors_become_notes():
    # labels as grader.extract makes them; a note names the block by its label, as it is
    blocks = [("setup cell 1", "import numpy as np\nK = 2"), ("cell 'broken'", "def f(:\n  pass"),
              ("cell 'raises'", "\n\nundefined_name"), ("cell 'uses'", "def g(x):\n    return x * K")]
    with SandboxedStudent(blocks, FAST) as s:
        assert s.load_notes == [
            "cell 'broken' could not run: SyntaxError on line 1: invalid syntax",
            "cell 'raises' could not run: NameError on line 3: name 'undefined_name' is not defined",
        ]
        assert s.call("g", 3) == 6


def test_load_notes_name_notebook_cells_and_files_once(tmp_path):
    """The labels extract makes (``cell 'x'``, a file name) appear once, never wrapped again."""
    from grader.extract import extract_code

    module = tmp_path / "submission.py"
    module.write_text("def f(:\n")
    with SandboxedStudent(extract_code(module, None).blocks, FAST) as s:
        assert s.load_notes == ["submission.py could not run: SyntaxError on line 1: invalid syntax"]
    with SandboxedStudent([("cell 'dropout_forward'", "1 / 0")], FAST) as s:
        assert s.load_notes == ["cell 'dropout_forward' could not run: ZeroDivisionError on line 1: division by zero"]
        assert not any('"' in note for note in s.load_notes)


# ---------------------------------------------------------------- failures, restarts, budgets


def test_crash_restarts_the_worker_and_old_handles_go_stale():
    with SandboxedStudent([("cell", TOY_SOURCE)], FAST) as s:
        _, handle = s.call("forward", np.ones(2), keep=(1,))
        with pytest.raises(StudentCrashed, match="stopped during die"):
            s.call("die")
        np.testing.assert_array_equal(s.call("echo", np.ones(1))[0], np.ones(1))  # a fresh worker
        with pytest.raises(StudentCrashed, match="was lost when its process was restarted"):
            s.call("backward", np.zeros(1), handle)


def test_timeout_kills_the_call_and_the_next_call_works():
    limits = Limits(call_seconds=0.3, submission_seconds=5.0)
    with SandboxedStudent([("cell", TOY_SOURCE)], limits) as s:
        with pytest.raises(StudentTimeout, match="slow did not finish within 0.3 s"):
            s.call("slow", 10)  # 10 s asleep: only the call's limit ends it this early
        assert s.call("slow", 0) == 0 and s._generation == 2  # in a fresh worker
    wait_no_strays()


def test_isolation_is_reported():
    with SandboxedStudent([("cell", "x = 1")]) as s:
        assert {"rlimits", "session", "no caps", "no_new_privs", "uid"} <= s.isolation_facts
        if landlock.abi_version() >= 1:
            assert "landlock" in s.isolation_facts
        assert s.isolation.startswith("uid, no caps, no_new_privs")


def test_close_is_idempotent_and_leaves_nothing():
    s = SandboxedStudent([("cell", TOY_SOURCE)], FAST)
    s.call("echo", 1)
    s.close()
    s.close()
    wait_no_strays()


def test_students_in_parallel_threads():
    def one(i):
        with SandboxedStudent([("cell", TOY_SOURCE)], FAST) as s:
            return s.call("echo", i)[0]

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(one, range(12))) == list(range(12))
    wait_no_strays()


# ---------------------------------------------------------------- batches


def _outcomes(replies):
    """(value, None) or (None, error type and text) per reply, for comparing two students."""
    return [[(None, (type(r.error).__name__, str(r.error))) if r.error else (r.value, None) for r in chain]
            for chain in replies]


BATCH = [
    [Call("echo", (1,)), Call("boom", (np.ones(2),)), Call("echo", (2,))],  # stops at boom
    [Call("liar", (1,)), Call("echo", (3,))],  # a bad reply stops its chain too
    [RNG_FINGERPRINT, Call("missing"), Call("echo", (4,))],
    [],
    [Call("echo", (5,)), Call("forward", (np.ones(2),), keep=(1,), echo=True)],
]


def test_a_batch_gives_the_in_process_students_replies(student):
    trusted = InProcessStudent.from_source(TOY_SOURCE)
    got, want = student.run(BATCH), trusted.run(BATCH)
    assert [len(g) for g in got] == [len(g) for g in BATCH]
    got_plain = _outcomes(got)
    want_plain = _outcomes(want)
    got_plain[2][0] = want_plain[2][0] = ("digest", None)  # each side has its own random state
    got_plain[4][1] = want_plain[4][1] = ("forward", None)  # handles differ in kind; compared below
    assert got_plain == want_plain
    assert [r.error is not None for r in got[0]] == [False, True, True]
    (out, handle), after = got[4][1].value, got[4][1].after
    np.testing.assert_array_equal(out, 2 * np.ones(2))
    np.testing.assert_array_equal(after[0], 2 * np.ones(2))
    np.testing.assert_array_equal(student.call("backward", np.zeros(1), handle), np.ones(1))


def test_a_timeout_in_a_batch_stops_its_group_and_the_others_go_on_in_a_fresh_worker():
    limits = Limits(call_seconds=0.3, submission_seconds=5.0)
    with SandboxedStudent([("cell", TOY_SOURCE)], limits) as s:
        (_, handle), = [r.get() for r in s.run([[Call("forward", (np.ones(2),), keep=(1,))]])[0]]
        first = s._worker.pid
        replies = s.run([
            [Call("echo", (1,))],
            [Call("slow", (10,)), Call("echo", (2,))],
            [Call("echo", (3,)), Call("backward", (np.zeros(1), handle))],
        ])
        assert replies[0][0].get() == (1,)
        for reply in replies[1]:
            with pytest.raises(StudentTimeout, match="slow did not finish within 0.3 s"):
                reply.get()
        assert replies[2][0].get() == (3,)  # made again, after the timeout, in a fresh worker
        with pytest.raises(StudentCrashed, match="was lost when its process was restarted"):
            replies[2][1].get()
        assert s._worker.pid != first
    wait_no_strays()


def test_large_requests_and_replies_in_one_batch_do_not_deadlock():
    """Requests are written ahead while replies come back: with frames larger than the write-ahead
    window and replies larger than the channel's buffer, both sides must still make progress."""
    source = "import numpy as np\ndef grow(x):\n    return np.repeat(x, 8)\n"
    x = np.random.default_rng(0).standard_normal(150_000)  # 1.2 MB per request, 9.6 MB per reply
    limits = Limits(call_seconds=5.0, submission_seconds=60.0)
    with SandboxedStudent([("cell", source)], limits) as s:
        replies = s.run([[Call("grow", (x,), reply_bytes=9 * x.nbytes)] for _ in range(6)])  # 8x: more than the default budget
    for (reply,) in replies:
        np.testing.assert_array_equal(reply.get(), np.repeat(x, 8))


def test_a_battery_costs_a_few_round_trips_not_one_per_call(monkeypatch):
    """The reason batches exist: each round trip between processes costs ~0.2 ms on a VM."""
    from grader.checks.base import run_battery
    from grader import assignments

    BATTERY = assignments.get("dropout").battery()

    batches, calls = [], []
    run_once = SandboxedStudent._run_once

    def counting(self, chains, pending, replies):
        batches.append(len(pending))
        calls.extend(pending)
        return run_once(self, chains, pending, replies)

    monkeypatch.setattr(SandboxedStudent, "_run_once", counting)
    with SandboxedStudent([("module", REFERENCE)]) as s:
        results = run_battery(BATTERY.checks, s)
    assert all(r.status == "passed" for r in results), results
    assert len(calls) > 40 and len(batches) <= 3, (len(calls), batches)


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


def _stream(frames):
    """Write ``frames`` (bytes or encode_parts lists) from a thread; return our read end."""
    import socket
    import threading

    ours, theirs = socket.socketpair()
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)  # many partial writes

    def write():
        try:
            for frame in frames:
                protocol.send_frame(theirs.fileno(), frame)
        except protocol.PeerGone:  # a test that expects a refusal stops reading early
            pass
        theirs.close()

    threading.Thread(target=write, daemon=True).start()
    return ours


LARGE = {"x": np.arange(30_000.0), "t": (np.zeros((0, 3)), np.array(2.5), np.ones((4, 5), bool)),
         "f": np.asfortranarray(np.arange(12.0).reshape(3, 4)), "b": np.arange(5, dtype=">i4"), "n": [1, "s", None]}


def test_large_frames_stream_arrays_into_owned_memory():
    reader = _stream([protocol.encode_parts({"v": LARGE}), protocol.encode({"v": 7})])
    got = protocol.recv_message(reader.fileno(), 1 << 30)["v"]
    for key in ("x", "f", "b"):
        np.testing.assert_array_equal(got[key], LARGE[key])
        assert type(got[key]) is np.ndarray and got[key].flags.owndata and got[key].flags.c_contiguous
    assert got["t"][0].shape == (0, 3) and got["t"][1] == 2.5 and got["t"][2].dtype == bool
    assert got["n"] == [1, "s", None]
    assert protocol.recv_message(reader.fileno(), 1 << 30) == {"v": 7}  # still in step


def test_parts_and_joined_frames_are_the_same_bytes():
    assert b"".join(bytes(p) for p in protocol.encode_parts({"v": LARGE})) == protocol.encode({"v": LARGE})


def test_npy_headers_are_what_numpy_writes_and_reads():
    for arr in (np.zeros((3, 4)), np.zeros(3, np.float32), np.array(1.0), np.zeros((2, 3, 4, 5), bool),
                np.zeros((0,), ">i4"), np.zeros((1,) * 32, np.uint8)):
        expected = io.BytesIO()
        np.lib.format.write_array_header_1_0(expected, {"descr": arr.dtype.str, "fortran_order": False, "shape": arr.shape})
        header = protocol._npy_header(arr.dtype.str, arr.shape)
        assert header == expected.getvalue()
        protocol._parse_header.cache_clear()
        assert protocol._parse_header(header) == (arr.shape, False, arr.dtype)


@pytest.mark.parametrize("small", [True, False])
def test_a_bad_value_in_an_intact_frame_keeps_the_channel_in_step(small):
    size = 10 if small else 30_000
    bad = _forged({"v": {"a": 0}}, [_npy({"descr": "<f8", "fortran_order": False, "shape": (size + 1,)}, b"\0" * 8 * size)])
    frame = protocol.HEADER.pack(protocol.MAGIC, len(bad)) + bad
    reader = _stream([frame, protocol.encode({"v": 1})])
    with pytest.raises(protocol.BadValue, match="does not match"):
        protocol.recv_message(reader.fileno(), 1 << 30)
    assert protocol.recv_message(reader.fileno(), 1 << 30) == {"v": 1}


def test_broken_framing_and_oversized_frames_are_refused_before_reading():
    reader = _stream([b"XXXX" + bytes(12), protocol.encode({"v": np.zeros(1000)})])
    with pytest.raises(protocol.ProtocolError, match="marker") as info:
        protocol.recv_message(reader.fileno(), 1 << 30)
    assert not isinstance(info.value, protocol.BadValue)
    reader = _stream([protocol.encode({"v": np.zeros(1000)})])
    with pytest.raises(protocol.TooLarge, match="more than the 4000 accepted"):
        protocol.recv_message(reader.fileno(), 4000)


def test_handles_the_judge_drops_are_released_in_the_worker():
    import gc

    source = TOY_SOURCE + "\nimport gc\ndef kept():\n    return [len(o.kept) for o in gc.get_objects() if type(o).__name__ == '_Server']\n"
    with SandboxedStudent([("cell", source)], FAST) as s:
        handles = [s.call("forward", np.ones(2), keep=(1,))[1] for _ in range(5)]
        assert s.call("kept") == [5]
        del handles
        gc.collect()
        assert s.call("kept") == [0]  # the release rides on the next request
        _, handle = s.call("forward", np.ones(2), keep=(1,))
        np.testing.assert_array_equal(s.call("backward", np.zeros(1), handle), np.ones(1))


def test_a_worker_reaped_before_the_judge_hangs_up_still_gets_its_folder_removed(tmp_path):
    """The judge's death ends its idle workers too; the zygote may reap one before it reads the
    hang-up, and must still remove that worker's folder (the judge never will)."""
    import subprocess
    import sys
    from pathlib import Path

    folder = tmp_path / "grader-worker-x"
    folder.mkdir()
    (folder / "left.txt").write_text("by the student")
    script = (
        "import os, sys\n"
        "from grader.sandbox import zygote\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0)\n"
        "zygote.FACTORY.workers[pid] = (None, sys.argv[1], None)\n"
        "os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)\n"  # exited, not yet reaped
        "zygote.FACTORY.reap()\n"
        "assert pid not in zygote.FACTORY.workers\n"
        "zygote.FACTORY.abandon_workers()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(folder)], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not folder.exists()


def test_a_killed_judge_leaves_no_worker_folder_or_cgroup_behind(tmp_path):
    """The zygote sees the judge's end of its socket close: it kills the workers the judge left
    open and its spare workers, and removes their folders and cgroups."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "from grader.sandbox import judge\n"
        "s = judge.SandboxedStudent([('cell', 'x = 1')])\n"
        "print(judge.ZYGOTE._proc.pid, s._worker.workdir, s._worker.cgroup or '', flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    judge_proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                                  cwd=Path(__file__).resolve().parents[1])
    zygote_pid, workdir, cgroup = (judge_proc.stdout.readline().split() + [""])[:3]
    os.kill(judge_proc.pid, signal.SIGKILL)
    judge_proc.wait()
    deadline = time.monotonic() + 120  # a give-up, not a speed check
    while Path(f"/proc/{zygote_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{zygote_pid}").exists() or "Z" in Path(f"/proc/{zygote_pid}/stat").read_text().split()[2]
    assert not Path(workdir).exists()
    assert not cgroup or not Path(cgroup).exists()


def test_a_weaker_sandbox_is_announced_once_and_recorded(monkeypatch, capsys):
    from pathlib import Path

    from grader.grading import grade_submission
    from grader.sandbox import isolation

    monkeypatch.setattr(isolation, "_warned", set())
    monkeypatch.setattr(SandboxedStudent, "namespaces", "none")
    for _ in range(2):
        with SandboxedStudent([("cell", TOY_SOURCE)], FAST) as s:
            assert "pidns" not in s.isolation_facts
    err = capsys.readouterr().err
    assert err.count("grader: warning: student code runs without") == 1
    assert "pidns, netns, mntns, utsns, ipcns" in err.split("in force")[0]
    result = grade_submission(Path(solutions.dropout.__file__), "dropout")
    assert "pidns, netns, mntns, utsns, ipcns" in result.isolation.split("; without: ")[1]
    assert result.to_dict()["isolation"] == result.isolation


def test_the_full_sandbox_warns_nothing(monkeypatch, capsys):
    from grader.sandbox import isolation

    monkeypatch.setattr(isolation, "_warned", set())
    with SandboxedStudent([("cell", TOY_SOURCE)], FAST) as s:
        full = isolation.EXPECTED <= s.isolation_facts
    assert ("warning" in capsys.readouterr().err) == (not full)

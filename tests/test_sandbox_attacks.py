"""The attack corpus (tests/attacks/) against the real sandbox.

Each test loads one hostile submission into ``SandboxedStudent`` and asserts on raw behaviour:
a check comparing ``student.call`` replies in the judge sees the wrong value as wrong, nothing
outside the worker's folder can be read or written, the network is unreachable, and no process
survives ``close()``. Limits are short so the module runs in seconds. Where an attack only works
if it shares the judge's interpreter, a positive control (``unsandboxed``, in a separate Python)
first shows that it does work there, so the sandboxed assertion is one that can fail. Whole
submissions graded by the real engine against honest twins: ``test_attack_scores.py``.
"""

from __future__ import annotations

import builtins
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.checks.base import Check, CheckFailed, run_battery, run_check
from grader.grading import grade_submission
from grader.paths import REPO_ROOT
from grader.sandbox import cgroups, landlock
from grader.sandbox.judge import SandboxedStudent
from grader.sandbox.limits import MIB, Limits
from grader.student import BadReply, Call, Handle, StudentCrashed, StudentRaised, StudentTimeout
from support import ATTACKS, CORRECT_DROPOUT, FAST, TEST, attack, processes_with, wait_alive, wait_no_strays

needs_landlock = pytest.mark.skipif(landlock.abi_version() < 1, reason="kernel without Landlock")


def x_input() -> np.ndarray:
    return np.random.default_rng().standard_normal((4, 5)) + 3.0  # never all zeros


def looks_right(out, x) -> bool:
    """The comparisons a naive hidden test would make, in the judge's interpreter."""
    return bool(
        type(out) is np.ndarray
        and out.shape == x.shape
        and abs(out - x).max() < 1e-6
        and np.allclose(out, x)
    )


def unsandboxed(name: str, script: str) -> str:
    """Positive control: run ``script`` in a fresh interpreter (not this one) after the attack's
    top level, its namespace bound to ``attack``, with no sandbox. Returns what it printed.
    Shows the attack really works where student code shares the judge's interpreter."""
    prelude = f"import runpy\nattack = runpy.run_path({str(ATTACKS / f'{name}.py')!r})\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(Path(__file__).parent)])}
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=60, cwd=REPO_ROOT, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("name", ["builtins_abs", "numpy_allclose", "sys_modules", "fake_protocol_stdout"])
def test_patched_comparisons_stay_in_the_worker(name):
    x = x_input()
    with attack(name) as student:
        try:
            out, cache = student.call("dropout_forward", x, TEST, keep=(1,))
        except BadReply:
            return  # rejected outright (e.g. the lying subclass): as good as wrong
        assert isinstance(cache, Handle)
        assert type(out) is np.ndarray
        assert not looks_right(out, x)
    assert builtins.abs(-1) == 1 and np.allclose is not None and np.allclose([0.0], [1.0]) is False


def test_nan_and_inf_are_wrong_answers_to_the_real_checks():
    """NaN/inf is plain data, so it reaches the judge as it is: the checks themselves must refuse it."""
    x = x_input()
    with attack("nan_inf") as student:
        out, cache = student.call("dropout_forward", x, TEST, keep=(1,))
        assert isinstance(cache, Handle)
        assert type(out) is np.ndarray and out.shape == x.shape and not looks_right(out, x)
        # positive control: the reply passes a hidden test written the NaN-naive way (cs231n's
        # rel_error, negated: inf / inf and NaN / inf are NaN, and NaN > tol is False)
        with np.errstate(invalid="ignore"):
            cs231n_rel_error = np.max(np.abs(out - x) / np.maximum(1e-8, np.abs(out) + np.abs(x)))
        assert not cs231n_rel_error > 1e-6
        checks = assignments.get("dropout").battery().checks
        results = run_battery(checks, student)
    passed = {c.id for c, r in zip(checks, results) if r.status == "passed"}
    assert passed <= {"input_is_unchanged"}  # the only check that never looks at out's values
    assert builtins.abs(-1) == 1


def _answer_held_by_the_judge(rng):
    """A hidden test that holds its answer (3 x, never sent) in its frame while the student runs."""
    x = rng.standard_normal((4, 5)) + 3.0
    expected = x * 3.0
    out, _ = (yield Call("dropout_forward", (x, TEST), keep=(1,))).get()
    if not (type(out) is np.ndarray and out.shape == x.shape and np.allclose(out, expected)):
        raise CheckFailed("not the judge's answer")


HIDDEN_ANSWER = Check("hidden_answer", "returns the judge's hidden answer", 1.0, "frame_peek",
                      _answer_held_by_the_judge)


def test_frames_and_heap_of_the_worker_hold_no_expected_answer():
    # positive control: sharing the judge's interpreter (InProcessStudent), the attack finds the answer
    assert unsandboxed("frame_peek", """
        import numpy as np
        from grader.checks.base import run_check
        from grader.student import InProcessStudent
        from test_sandbox_attacks import HIDDEN_ANSWER
        print(run_check(HIDDEN_ANSWER, InProcessStudent(attack), np.random.default_rng()).status)
    """) == "passed"
    with attack("frame_peek") as student:
        result = run_check(HIDDEN_ANSWER, student, np.random.default_rng())
    assert (result.status, result.score) == ("failed", 0.0), result


def test_lying_ndarray_subclass_arrives_as_plain_wrong_array():
    x = x_input()
    with attack("ndarray_subclass") as student:
        out, _ = student.call("dropout_forward", x, TEST, keep=(1,))
    assert type(out) is np.ndarray
    assert not (out == x).all() and (x - out == x).all() and not looks_right(out, x)


def test_lying_rsub_and_lt_arrive_without_their_operators():
    # positive control: where the judge shares the student's interpreter, both forms of the lie
    # pass `abs(expected - out).max() < tol` with an all-zero (or no) answer
    assert unsandboxed("lying_comparison", """
        import numpy as np
        x = np.random.default_rng().standard_normal((4, 5)) + 3.0
        for variant in ("array", "object"):
            out, _ = attack["dropout_forward"](x, {"p": 0.5, "mode": "test", "variant": variant})
            print(bool(abs(x - out).max() < 1e-6))
    """).split() == ["True", "True"]
    x = x_input()
    with attack("lying_comparison") as student:
        out, _ = student.call("dropout_forward", x, TEST, keep=(1,))
        assert type(out) is np.ndarray and out.shape == x.shape
        assert not abs(x - out).max() < 1e-6 and (x - out == x).all() and not looks_right(out, x)
        with pytest.raises(BadReply, match="Lenient cannot be graded"):
            student.call("dropout_forward", x, {**TEST, "variant": "object"}, keep=(1,))


@pytest.mark.parametrize(
    "name, args, match",
    [
        ("scalar_subclass", ("scalar", 1.0), "cannot be graded"),
        ("array_interface", ("dropout_forward", np.ones(3), TEST), "cannot be graded"),
        ("pickled_payload", ("dropout_forward", np.ones(3), {**TEST, "variant": "bytes"}), "bytes cannot be graded"),
        ("pickled_payload", ("dropout_forward", np.ones(3), {**TEST, "variant": "object"}), "Boom cannot be graded"),
        ("pickled_payload", ("dropout_forward", np.ones(3), TEST), "dtype"),
        ("huge_array", ("dropout_forward", np.ones(3), TEST), "too large"),
    ],
)
def test_non_plain_replies_are_rejected(name, args, match):
    with attack(name) as student:
        with pytest.raises(BadReply, match=match):
            student.call(*args, keep=(1,) if args[0] == "dropout_forward" else ())
    assert not os.path.exists("/tmp/grader-attack-pickle-ran")


def test_oversized_reply_with_worker_checks_disabled_is_refused_by_the_judge():
    with attack("huge_array") as student:
        with pytest.raises(BadReply, match="more data than the layer's output can be"):  # refused unread
            student.call("dropout_forward", np.ones(3), {**TEST, "variant": "unchecked"}, keep=(1,))


def test_exit_after_printing_a_perfect_result_scores_nothing():
    with attack("exit_fake_result") as student:
        for _ in range(2):  # restarted, crashes again: never a reply
            with pytest.raises(StudentCrashed, match="stopped during dropout_forward"):
                student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
    wait_no_strays()


def test_exit_at_load_is_reported_and_every_call_fails():
    with attack("exit_at_load") as student:
        assert any("stopped while loading" in n for n in student.load_notes)
        with pytest.raises(StudentCrashed):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))


def test_garbage_on_the_channel_is_a_crash_not_a_reply():
    with attack("channel_garbage") as student:
        with pytest.raises((StudentCrashed, BadReply)):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))


def test_endless_loop_times_out_then_budget_fails_fast():
    limits = FAST.__class__(**{**FAST.to_json(), "call_seconds": 0.5, "submission_seconds": 1.0})
    with attack("infinite_loop", limits) as student:
        with pytest.raises(StudentTimeout, match="did not finish within 0.5 s"):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        np.testing.assert_array_equal(student.call("dropout_backward", np.ones(2), None), np.ones(2))
        with pytest.raises(StudentTimeout):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        workers = student._generation
        with pytest.raises(StudentTimeout, match="total time budget"):
            student.call("dropout_backward", np.ones(2), None)
        assert student._generation == workers and student._worker is None  # spent budget: no new worker
    wait_no_strays()


def test_endless_loop_at_load_times_out():
    with attack("infinite_loop_at_load") as student:
        assert any("did not finish" in n for n in student.load_notes)
        with pytest.raises(StudentTimeout):
            student.call("dropout_forward", np.ones(3), TEST)
    wait_no_strays()


def test_memory_exhaustion_is_contained():
    # Filling 512 MiB can take seconds on a loaded machine: the time limits here are far from
    # binding, so only the memory limit can end the calls (a timeout would fail the match).
    roomy = FAST.__class__(**{**FAST.to_json(), "call_seconds": 60.0, "submission_seconds": 120.0, "cpu_seconds": 120.0})
    with attack("memory_hog", roomy) as student:
        with pytest.raises((StudentRaised, StudentCrashed), match="MemoryError|stopped"):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        with pytest.raises(StudentRaised, match="MemoryError"):
            student.call("dropout_backward", np.ones(3), None)
    wait_no_strays()


def test_fork_bomb_is_bounded_and_cleaned_up():
    with attack("fork_bomb") as student:
        with pytest.raises((StudentTimeout, StudentCrashed)):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
    wait_no_strays()


def test_detached_children_do_not_survive_close():
    marker = f"grader-attack-{uuid.uuid4().hex}"
    with attack("detached_child") as student:
        out, _ = student.call("dropout_forward", np.ones(3), {**TEST, "marker": marker}, keep=(1,))
        np.testing.assert_array_equal(out, np.ones(3))
        wait_alive(marker)
    wait_no_strays(marker=marker)


@needs_landlock
def test_files_outside_the_folder_cannot_be_read():
    with attack("read_files") as student:
        for path in [REPO_ROOT / "solutions" / "dropout.py", REPO_ROOT / "grader" / "checks" / "base.py", "/etc/passwd", "/proc/1/environ"]:
            assert student.call("read", str(path)).startswith("denied"), path
        assert student.call("listdir", str(REPO_ROOT)).startswith("denied")
        assert student.call("import_reference").startswith("denied")
        assert student.call("import_checks").startswith("denied")


@needs_landlock
def test_files_outside_the_folder_cannot_be_written(tmp_path):
    target = tmp_path / f"owned-{uuid.uuid4().hex}"
    with attack("write_files") as student:
        assert student.call("write", str(target)).startswith("denied")
        assert student.call("write", "/tmp/" + target.name).startswith("denied")
        assert student.call("symlink_out", str(tmp_path)).startswith("denied")
        assert student.call("write", "inside.txt") == "written"  # its own folder is writable
    assert not target.exists() and not (tmp_path / "owned.txt").exists()


def test_loopback_network_is_unreachable():
    tcp = socket.create_server(("127.0.0.1", 0))
    tcp.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    try:
        with attack("network") as student:
            assert student.call("tcp", tcp.getsockname()[1]).startswith("denied")
            student.call("udp", udp.getsockname()[1])
            if {"netns", "seccomp", "landlock"} & student.isolation_facts:
                assert student.call("listen").startswith("denied") or "netns" in student.isolation_facts
        with pytest.raises(BlockingIOError):
            tcp.accept()
        if {"netns", "seccomp"} & student.isolation_facts:
            with pytest.raises(BlockingIOError):
                udp.recv(100)
    finally:
        tcp.close()
        udp.close()


def test_judge_and_zygote_cannot_be_signalled():
    from grader.sandbox.judge import ZYGOTE

    received = []
    previous = signal.signal(signal.SIGUSR2, lambda *a: received.append(a))
    try:
        with attack("signals") as student:
            assert student.call("send", os.getpid()).startswith("denied")
            assert student.call("send", ZYGOTE._proc.pid).startswith("denied")
        time.sleep(0.05)
        assert received == [] and ZYGOTE._proc.poll() is None
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_no_attack_leaves_a_process_behind():
    assert processes_with("grader-attack-") == []
    wait_no_strays()


@pytest.mark.parametrize("namespaces", ["user", "none"])
@pytest.mark.parametrize("cgroup", [True, False])
def test_fallbacks_still_leave_nothing_behind(monkeypatch, namespaces, cgroup):
    """Without a PID namespace (or through a user namespace), escaped processes still die."""
    monkeypatch.setattr(SandboxedStudent, "namespaces", namespaces)
    if not cgroup:
        monkeypatch.setattr(cgroups, "pids_cgroup_base", lambda: None)
    marker = f"grader-attack-{uuid.uuid4().hex}"
    with attack("detached_child") as student:
        assert "session" in student.isolation_facts
        if namespaces == "none":
            assert "pidns" not in student.isolation_facts
        student.call("dropout_forward", np.ones(3), {**TEST, "marker": marker}, keep=(1,))
        wait_alive(marker)
    wait_no_strays(marker=marker)
    small = Limits(**{**FAST.to_json(), "call_seconds": 0.3})
    with attack("fork_bomb", small) as student:
        with pytest.raises((StudentTimeout, StudentCrashed)):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
    wait_no_strays()


# ---- the resource limits (issue 5, item 3), each set small enough to bite within a second or two

def fast_with(**changes) -> Limits:
    """FAST with ``changes``."""
    return Limits(**{**FAST.to_json(), **changes})


CPU_LIMITS = fast_with(call_seconds=8.0, submission_seconds=30.0, cpu_seconds=1.0)


class CpuWatch:
    """Samples a process's CPU time (all its threads) from /proc until it is gone."""

    def __init__(self, pid: int) -> None:
        self.pid, self.most = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            try:
                fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return
            self.most = max(self.most, (int(fields[11]) + int(fields[12])) / tick)  # utime + stime
            time.sleep(0.005)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.most


def test_cpu_limit_stops_threads_burning_inside_a_call():
    """Several threads burn CPU in one call that never returns: the CPU limit ends it (a crash,
    well within the 8 s wall-clock limit, once the worker used its 1 s of CPU)."""
    with attack("cpu_threads", CPU_LIMITS) as student:
        watch = CpuWatch(student._worker.pid)
        with pytest.raises(StudentCrashed, match="CPU time"):  # not a timeout: the CPU limit ended it
            student.call("burn")
        used = watch.stop()
    assert used >= 0.8 * CPU_LIMITS.cpu_seconds, used
    wait_no_strays()


def test_cpu_limit_stops_threads_that_outlive_their_call():
    """Burners started by a call that returns at once keep running between calls; every later call
    is quick, so only the CPU limit (counting every thread) can stop them. The worker dies once it
    used its 1 s of CPU; the next call gets a fresh worker, without them."""
    with attack("cpu_threads", CPU_LIMITS) as student:
        watch = CpuWatch(student._worker.pid)
        assert student.call("start_burners", 4) == 4
        # Ends when the burners have used the 1 s of CPU; the bound only stops a broken limit
        # from looping forever. A ping that hit the wall-clock limit would raise StudentTimeout.
        deadline = time.monotonic() + 300.0
        with pytest.raises(StudentCrashed, match="CPU time"):
            while time.monotonic() < deadline:
                student.call("ping")
                time.sleep(0.02)
        used = watch.stop()
        assert used >= 0.8 * CPU_LIMITS.cpu_seconds, used
        assert student.call("ping") == 0  # a fresh worker: the burners are gone
    wait_no_strays()


FILE_LIMITS = fast_with(file_bytes=1 * MIB, folder_bytes=4 * MIB)


def worker_files(student: SandboxedStudent) -> dict[str, int]:
    """Sizes of the files in the worker's folder as the judge sees them (through the worker's
    mount namespace, where its folder is a tmpfs), checked apart from what the worker says."""
    folder = Path(f"/proc/{student._worker.pid}/root{student._worker.workdir}")
    return {p.name: p.stat().st_size for p in folder.iterdir()}


def assert_nothing_larger_left(root: Path, most: int) -> None:
    """No file under ``root`` (the workers' temporary folder) is over ``most`` bytes, nor allocates more."""
    for path in root.rglob("*"):
        if path.is_file():
            size = path.stat()
            assert max(size.st_size, size.st_blocks * 512) <= most, (path, size)


@pytest.mark.parametrize("how, namespaces", [("write", "auto"), ("seek", "auto"), ("truncate", "auto"),
                                             ("fallocate", "auto"), ("write", "none")])
def test_file_size_limit_stops_a_huge_file(monkeypatch, tmp_path, how, namespaces):
    """Asked for a 1 GiB file, the worker's own write fails with EFBIG at the 1 MiB limit, written
    at once, made sparse, preallocated or written past its end; without namespaces (no tmpfs
    folder, the real disk) too."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(SandboxedStudent, "namespaces", namespaces)
    with attack("huge_file", FILE_LIMITS) as student:
        done = student.call("write", "huge.bin", how)
        assert done.startswith("denied: EFBIG after "), done
        assert int(done.split()[-1]) <= FILE_LIMITS.file_bytes
        files, _used = student.call("sizes")
        assert 0 <= files["huge.bin"][0] <= FILE_LIMITS.file_bytes
        if how == "write":
            assert files["huge.bin"][0] == FILE_LIMITS.file_bytes  # written up to the limit, not less
        if "tmpfs folder" in student.isolation_facts:
            assert worker_files(student)["huge.bin"] == files["huge.bin"][0]
        folder = Path(student._worker.workdir)
    assert not folder.exists()
    assert_nothing_larger_left(tmp_path, FILE_LIMITS.file_bytes)


def test_folder_limit_stops_file_after_file(monkeypatch, tmp_path):
    """Files under the file-size limit, one after another: the folder (a tmpfs of 4 MiB) fills up
    and the next write fails with ENOSPC; nothing of it is left after close."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with attack("huge_file", FILE_LIMITS) as student:
        if "tmpfs folder" not in student.isolation_facts:
            pytest.skip(f"no size-capped folder on this machine ({student.isolation})")
        done = student.call("fill_folder")  # asks for 1 GiB
        assert done.endswith("denied: ENOSPC after 0"), done
        written = int(done.split()[2])
        assert FILE_LIMITS.folder_bytes - FILE_LIMITS.file_bytes < written <= FILE_LIMITS.folder_bytes
        files, used = student.call("sizes")
        assert used <= FILE_LIMITS.folder_bytes
        assert sum(size for size, _ in files.values()) == written
        seen = worker_files(student)
        assert sum(seen.values()) == written and max(seen.values()) <= FILE_LIMITS.file_bytes
        folder = Path(student._worker.workdir)
    assert not folder.exists()
    assert_nothing_larger_left(tmp_path, FILE_LIMITS.file_bytes)


OPEN_LIMITS = fast_with(open_files=40)


@pytest.mark.parametrize("kind", ["files", "sockets", "dup"])
def test_open_files_limit_stops_opening_at_the_configured_count(kind):
    """Opening (and keeping) up to 5,000 files, sockets or duplicated descriptors fails with
    EMFILE at the limit of 40, less the few the worker holds (its channel, stdin/out/err).
    (Under the seccomp filter no socket can be made at all.)"""
    with attack("many_files", OPEN_LIMITS) as student:
        done = student.call("open_many", kind)
        if kind == "sockets" and "seccomp" in student.isolation_facts:
            assert done == "denied: EPERM after 0"
            kind = "files"  # the limit itself, as it stands after the refused sockets
            done = student.call("open_many", kind)
        assert done.startswith("denied: EMFILE after "), done
        assert OPEN_LIMITS.open_files - 8 <= int(done.split()[-1]) < OPEN_LIMITS.open_files
        assert student.call("open_many", kind) == "denied: EMFILE after 0"  # still at the limit, still answering
    wait_no_strays()


# ---- a call that hangs, at check level: its checks time out, the others still run and score

HANGING_BACKWARD = "import time\n" + CORRECT_DROPOUT.replace(
    '    mode, mask = cache\n    return dout * mask if mode == "train" else dout.copy()\n', "    HANG\n")
assert "HANG" in HANGING_BACKWARD
HANG_LIMITS = fast_with(call_seconds=0.3, submission_seconds=10.0, cpu_seconds=10.0)
HANG_MESSAGE = "dropout_backward did not finish within 0.3 s (an endless loop, or far too slow)"


def assert_only_backward_timed_out(checks: list[Check], results) -> None:
    assert [r.name for r in results] == [c.name for c in checks]
    backward = [r for c, r in zip(checks, results) if c.cell == "test_backward"]
    others = [r for c, r in zip(checks, results) if c.cell != "test_backward"]
    assert len(backward) == 4 and len(others) == len(checks) - 4
    for r in backward:
        assert (r.status, r.score) == ("timeout", 0.0), r
        assert r.output.startswith(HANG_MESSAGE + " (") and "backward pass" in r.output, r  # then the case
    for r in others:
        assert (r.status, r.score) == ("passed", r.max_score), r
        assert r.max_score > 0


def test_hanging_backward_times_out_its_checks_and_the_forward_checks_still_score(tmp_path):
    """The real engine: a busy loop in dropout_backward gives each backward check "timeout" with a
    message for the student, and every forward check still passes with its points."""
    path = tmp_path / "hangs.py"
    path.write_text(HANGING_BACKWARD.replace("HANG", "while True:\n        pass"))
    result = grade_submission(path, "dropout", limits=HANG_LIMITS)
    assert result.status == "graded", result.message
    assert_only_backward_timed_out(assignments.get("dropout").battery().checks, result.tests)
    assert result.score == sum(c.points for c in assignments.get("dropout").battery().checks if c.cell != "test_backward")
    wait_no_strays()


def test_checks_after_a_hang_still_run_in_a_fresh_worker():
    """The backward checks run first, and hang (sleeping, so no CPU limit can end them): the
    forward checks after them still pass, in the worker started after the timeouts."""
    checks = assignments.get("dropout").battery().checks
    backward_first = sorted(checks, key=lambda c: c.cell != "test_backward")
    assert backward_first[0].cell == "test_backward"
    code = HANGING_BACKWARD.replace("HANG", "time.sleep(3600)")
    with SandboxedStudent([("hangs", code)], HANG_LIMITS) as student:
        results = run_battery(backward_first, student)
    assert_only_backward_timed_out(backward_first, results)
    wait_no_strays()

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
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from grader.checks import dropout as dropout_checks
from grader.checks.base import Check, CheckFailed, run_battery, run_check
from grader.paths import REPO_ROOT
from grader.sandbox import cgroups, judge, landlock
from grader.sandbox.judge import SandboxedStudent
from grader.sandbox.limits import MIB, Limits
from grader.student import BadReply, Handle, StudentCrashed, StudentRaised, StudentTimeout

# ---- helpers (test_sandbox.py uses them too)

ATTACKS = Path(__file__).parent / "attacks"
FAST = Limits(call_seconds=1.0, load_seconds=2.0, submission_seconds=8.0, cpu_seconds=8.0,
              memory_bytes=512 * MIB, processes=8, folder_bytes=4 * MIB)


def attack(name: str, limits: Limits = FAST) -> SandboxedStudent:
    """A sandboxed student loaded from ``tests/attacks/<name>.py``."""
    return SandboxedStudent([(name, (ATTACKS / f"{name}.py").read_text())], limits)


SPARE_NAME = "grader-spare"  # grader.sandbox.zygote.SPARE_NAME (importing the zygote changes os.environ)


def zygote_children() -> list[int]:
    """PIDs of the zygote's children: workers, or orphans it adopted as subreaper.

    Spare workers (made ahead of demand, never started, no student code ever ran in them) and
    the helpers making them are not counted: they are named ``grader-spare``."""
    proc = judge.ZYGOTE._proc
    if proc is None or proc.poll() is not None:
        return []
    try:
        text = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split() if _name(int(p)) != SPARE_NAME]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def processes_with(marker: str) -> list[int]:
    """PIDs whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def wait_alive(marker: str, timeout: float = 3.0) -> None:
    """Wait until a process with ``marker`` runs: proves the attack really left one behind."""
    end = time.monotonic() + timeout
    while not processes_with(marker):
        assert time.monotonic() < end, "the attack's daemon never started"
        time.sleep(0.01)


def wait_no_strays(timeout: float = 3.0, marker: str | None = None) -> None:
    """Assert that no worker or escaped process survives (the zygote reaps within milliseconds)."""
    end = time.monotonic() + timeout
    while True:
        strays = zygote_children() + (processes_with(marker) if marker else [])
        if not strays:
            return
        if time.monotonic() > end:
            raise AssertionError(f"stray processes left behind: {strays}")
        time.sleep(0.01)


TEST = {"p": 0.5, "mode": "test"}  # honest reply: x itself
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
        checks = dropout_checks.BATTERY.checks
        results = run_battery(checks, student)
    passed = {c.id for c, r in zip(checks, results) if r.status == "passed"}
    assert passed <= {"input_is_unchanged"}  # the only check that never looks at out's values
    assert builtins.abs(-1) == 1


def _answer_held_by_the_judge(student, rng) -> None:
    """A hidden test that holds its answer (3 x, never sent) in its frame while the student runs."""
    x = rng.standard_normal((4, 5)) + 3.0
    expected = x * 3.0
    out, _ = student.call("dropout_forward", x, TEST, keep=(1,))
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
        with pytest.raises(BadReply, match="too large"):
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
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="did not finish within 0.5 s"):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        np.testing.assert_array_equal(student.call("dropout_backward", np.ones(2), None), np.ones(2))
        with pytest.raises(StudentTimeout):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        fast = time.monotonic()
        with pytest.raises(StudentTimeout, match="total time budget"):
            student.call("dropout_backward", np.ones(2), None)
        assert time.monotonic() - fast < 0.05  # spent budget: no new worker, no waiting
        assert time.monotonic() - started < 2.0
    wait_no_strays()


def test_endless_loop_at_load_times_out():
    with attack("infinite_loop_at_load") as student:
        assert any("did not finish" in n for n in student.load_notes)
        with pytest.raises(StudentTimeout):
            student.call("dropout_forward", np.ones(3), TEST)
    wait_no_strays()


def test_memory_exhaustion_is_contained():
    with attack("memory_hog") as student:
        with pytest.raises((StudentRaised, StudentCrashed), match="MemoryError|stopped"):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        with pytest.raises(StudentRaised, match="MemoryError"):
            student.call("dropout_backward", np.ones(3), None)
    wait_no_strays()


def test_fork_bomb_is_bounded_and_cleaned_up():
    with attack("fork_bomb") as student:
        started = time.monotonic()
        with pytest.raises((StudentTimeout, StudentCrashed)):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
        assert time.monotonic() - started < 5.0
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
            if "netns" in student.isolation or "net" in student.isolation:
                assert student.call("listen").startswith("denied") or "netns" in student.isolation
        with pytest.raises(BlockingIOError):
            tcp.accept()
        if "netns" in student.isolation:
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
        assert ("pgroup" in student.isolation) == ("pidns" not in student.isolation)
        if namespaces == "none":
            assert "pidns" not in student.isolation
        student.call("dropout_forward", np.ones(3), {**TEST, "marker": marker}, keep=(1,))
        wait_alive(marker)
    wait_no_strays(marker=marker)
    small = Limits(**{**FAST.to_json(), "call_seconds": 0.3})
    with attack("fork_bomb", small) as student:
        with pytest.raises((StudentTimeout, StudentCrashed)):
            student.call("dropout_forward", np.ones(3), TEST, keep=(1,))
    wait_no_strays()

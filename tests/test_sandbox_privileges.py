"""Host-escape attacks (tests/attacks/host_*.py) against the real sandbox, each with a positive control.

Each attack file defines ``attack(*args) -> str``: "done: ..." if the harm was done, "refused: ..."
with the errors otherwise. In the sandbox every attack must be refused and leave no trace on the
host (hostname, SysV IPC objects, the test's session keyring, its priority and scheduling, no
stray process). Without the sandbox, the same ``attack`` run in a plain Python process as this
test's user (as root: in CI) must succeed, so every sandboxed assertion is one that can fail;
controls that would change the machine run in a throwaway ``unshare`` namespace or against a
throwaway target (a ``sleep`` of their own, a temporary folder). The last test runs the
sandboxed half once more as an unprivileged user.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from grader.paths import REPO_ROOT
from grader.sandbox import judge, privileges
from grader.sandbox.judge import SandboxedStudent
from support import ATTACKS, FAST, wait_no_strays

HOST_ATTACKS = sorted(p.stem for p in ATTACKS.glob("host_*.py"))
ROOT = os.geteuid() == 0
UNPRIVILEGED_RUN = "GRADER_TEST_UNPRIVILEGED"  # set in the unprivileged re-run: it must not recurse

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_KEYCTL, SYS_ADD_KEY = {"x86_64": (250, 248), "aarch64": (219, 217)}[os.uname().machine]
KEYCTL_DESCRIBE, KEYCTL_UNLINK, KEYCTL_READ, KEY_SPEC_SESSION_KEYRING = 6, 9, 11, -3


# ---- the host's state, before and after

def session_keys() -> dict[int, str]:
    """Serial -> description of every key in this process's session keyring."""
    buf = ctypes.create_string_buffer(4096)
    size = _libc.syscall(SYS_KEYCTL, KEYCTL_READ, ctypes.c_long(KEY_SPEC_SESSION_KEYRING), buf, len(buf))
    if size < 0:
        return {}
    serials = (ctypes.c_int32 * (min(size, len(buf)) // 4)).from_buffer_copy(buf.raw[:min(size, len(buf)) // 4 * 4])
    keys = {}
    for serial in serials:
        got = _libc.syscall(SYS_KEYCTL, KEYCTL_DESCRIBE, ctypes.c_long(serial), buf, len(buf))
        keys[serial] = buf.value.decode(errors="replace") if got > 0 else "?"
    return keys


def unlink_key(serial: int) -> None:
    _libc.syscall(SYS_KEYCTL, KEYCTL_UNLINK, ctypes.c_long(serial), ctypes.c_long(KEY_SPEC_SESSION_KEYRING))


def host_state() -> dict:
    """What a host escape would change: names, SysV IPC objects, keys, this process's scheduling."""
    state = {"uname": os.uname(), "domain": Path("/proc/sys/kernel/domainname").read_text(),
             "keys": session_keys(), "nice": os.getpriority(os.PRIO_PROCESS, 0),
             "pgrp nice": os.getpriority(os.PRIO_PGRP, os.getpgrp()), "policy": os.sched_getscheduler(0)}
    for kind in ("shm", "sem", "msg"):
        state[kind] = Path(f"/proc/sysvipc/{kind}").read_text()
    if judge.ZYGOTE._proc is not None:
        state["zygote"] = (os.getpriority(os.PRIO_PROCESS, judge.ZYGOTE._proc.pid), os.sched_getscheduler(judge.ZYGOTE._proc.pid))
    return state


# ---- the cases

@dataclass
class Target:
    """Things the tests aim the attacks at, made by the ``target`` fixture."""

    folder: Path
    unix_socket: socket.socket
    secret: bytes
    secret_key: int


@dataclass(frozen=True)
class Case:
    """How to aim one attack: ``args`` for its call, ``later`` for a call by a later submission
    (a process of its own); the control runs under ``wrapper`` (a throwaway namespace), with a
    canary process beside it if ``canary``."""

    args: Callable[[Target], list] = lambda t: []
    later: tuple = ()
    wrapper: tuple[str, ...] = ()
    canary: bool = False
    control_cwd: bool = False  # run the control in a temporary folder (it makes files)
    expect: str = ""  # a text the control's result must contain


def _secret_address(t: Target) -> list:
    return [os.getpid(), id(t.secret) + sys.getsizeof(b"") - 1, len(t.secret)]  # CPython: the bytes' data


CASES: dict[str, Case] = {
    "host_hostname": Case(wrapper=("unshare", "--uts")),
    "host_proc_sys": Case(wrapper=("unshare", "--uts")),
    "host_kernel_log": Case(),
    "host_bpf": Case(),
    "host_realtime": Case(),
    "host_renice": Case(args=lambda t: [os.getpgrp(), 0, os.getpid()]),  # control: aimed at a sleep of its own
    "host_keyring": Case(expect="grader-test-secret-payload"),
    "host_sysv_shm": Case(wrapper=("unshare", "--ipc"), args=lambda t: ["plant"], later=("read",),
                          expect="from another submission"),
    "host_unix_socket": Case(args=lambda t: [t.unix_socket.getsockname()]),
    "host_io_uring": Case(),
    "host_userfaultfd": Case(),
    "host_ptrace": Case(),
    "host_setuid_root": Case(),
    "host_new_userns": Case(),
    "host_mknod": Case(control_cwd=True),
    "host_setuid_file": Case(control_cwd=True),
    "host_kill_all": Case(wrapper=("unshare", "--pid", "--fork", "--kill-child"), canary=True, expect="canary killed"),
    "host_judge_memory": Case(args=_secret_address, expect="judge-secret-"),
    "host_perf_events": Case(),
    "host_fanotify": Case(),
    "host_inotify": Case(args=lambda t: ["/tmp"]),  # a folder every uid may read: only the filter refuses
    "host_i386_abi": Case(wrapper=("unshare", "--uts")),
    "host_memfd_pin": Case(),
    "host_stat_paths": Case(),
}

CONTROL = r'''
import json, os, runpy, signal, sys, time
ns = runpy.run_path(sys.argv[1], run_name="control")
canary = os.fork() if sys.argv[3] == "1" else None
if canary == 0:
    time.sleep(30)
    os._exit(0)
for args in json.loads(sys.argv[2]):  # each call in a process of its own (a later submission)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, str(ns["attack"](*args)).encode())
        os._exit(0)
    os.close(w)
    print(os.read(r, 1 << 16).decode(), flush=True)
    os.waitpid(pid, 0)
if canary:
    for _ in range(300):  # a SIGKILLed process takes a moment to become reapable
        gone = os.waitpid(canary, os.WNOHANG)[0] == canary
        if gone:
            break
        time.sleep(0.01)
    else:
        os.kill(canary, signal.SIGKILL)
    print("canary killed" if gone else "canary alive")
'''


@pytest.fixture
def target(tmp_path):
    """A listening pathname UNIX socket outside any worker's folder, a secret in this process's
    memory and one in its session keyring; the keyring is left as it was."""
    path = tmp_path / "host.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    server.setblocking(False)
    payload = b"grader-test-secret-payload"
    key = _libc.syscall(SYS_ADD_KEY, b"user", b"grader-test-secret", payload, len(payload),
                        ctypes.c_long(KEY_SPEC_SESSION_KEYRING))
    before = set(session_keys())
    try:
        yield Target(tmp_path, server, b"judge-secret-" + uuid.uuid4().hex.encode(), key)
    finally:
        server.close()
        for serial in set(session_keys()) - before:  # a control's planted key
            unlink_key(serial)
        if key > 0:
            unlink_key(key)


def run_control(name: str, t: Target) -> str:
    """The attack's own ``attack`` in a plain Python process (no sandbox): its results, one a line."""
    case = CASES[name]
    if case.wrapper and not shutil.which(case.wrapper[0]):
        pytest.skip(f"{case.wrapper[0]} is not installed")
    if name == "host_renice":
        return _renice_control()
    calls = [case.args(t)] + ([list(case.later)] if case.later else [])
    cwd = REPO_ROOT
    if case.control_cwd:
        cwd = t.folder / "control"
        cwd.mkdir()
    proc = subprocess.run([*case.wrapper, sys.executable, "-c", CONTROL, str(ATTACKS / f"{name}.py"), json.dumps(calls),
                           "1" if case.canary else "0"], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _renice_control() -> str:
    """Renice a throwaway ``sleep`` in a session of its own, under a uid nothing else uses, and
    check that it took: the attack works where nothing stops it."""
    uid = privileges.UID_BASE - 1 - os.getpid() % 1000
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True, user=uid)
    try:
        proc = subprocess.run([sys.executable, "-c", CONTROL, str(ATTACKS / "host_renice.py"),
                               json.dumps([[sleeper.pid, uid, sleeper.pid]]), "0"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout + f"sleeper nice {os.getpriority(os.PRIO_PROCESS, sleeper.pid)}"
    finally:
        sleeper.kill()
        sleeper.wait()


# ---- the tests

def test_every_host_attack_has_a_case():
    assert sorted(CASES) == HOST_ATTACKS


@pytest.mark.skipif(not ROOT, reason="the controls show what root could do (as CI runs the grader)")
@pytest.mark.skipif(bool(os.environ.get(UNPRIVILEGED_RUN)), reason="run once, as root")
@pytest.mark.parametrize("name", HOST_ATTACKS)
def test_attack_works_without_the_sandbox(name, target):
    out = run_control(name, target)
    results = [line for line in out.splitlines() if not line.startswith(("canary", "sleeper"))]  # the attack's own
    assert results and all(line.startswith("done") for line in results), out
    assert CASES[name].expect in out
    if name == "host_unix_socket":
        target.unix_socket.accept()[0].close()  # the control did reach the host's socket
    if name == "host_renice":
        assert out.endswith("sleeper nice 19")


@pytest.mark.parametrize("name", HOST_ATTACKS)
def test_attack_is_refused_in_the_sandbox_and_leaves_no_trace(name, target):
    with SandboxedStudent([("cell", "x = 1")], FAST):
        pass  # the zygote is running, so its priority is part of the state compared
    before = host_state()
    canary = subprocess.Popen(["sleep", "30"])
    code = (ATTACKS / f"{name}.py").read_text()
    try:
        with SandboxedStudent([(name, code)], FAST) as student:
            out = student.call("attack", *CASES[name].args(target))
            assert out.startswith("refused"), out
        if CASES[name].later:  # e.g. a later submission looks for what this one left
            with SandboxedStudent([(name, code)], FAST) as later:
                out = later.call("attack", *CASES[name].later)
                assert out.startswith("refused"), out
        wait_no_strays()
        assert canary.poll() is None, "the attack killed a process outside its worker"
        assert judge.ZYGOTE._proc.poll() is None, "the attack killed the zygote"
        with pytest.raises(BlockingIOError):
            target.unix_socket.accept()
        assert host_state() == before
    finally:
        canary.kill()
        canary.wait()


def test_workers_run_unprivileged_under_the_filter():
    """The kernel's own view of a worker (what the judge reads in /proc) holds no privilege."""
    with SandboxedStudent([("cell", "x = 1")], FAST) as student:
        facts = student.isolation_facts
        status = Path(f"/proc/{student._worker.pid}/status").read_text()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert {"uid", "no caps", "no_new_privs", "session", "keyring", "landlock"} <= facts
    assert all(int(u) != 0 for u in fields["Uid"].split())
    assert all(int(fields[c], 16) == 0 for c in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
    assert fields["NoNewPrivs"].strip() == "1"
    assert ("seccomp" in facts) == (fields["Seccomp"].strip() == "2")
    if not ROOT:  # no real uid to hand out: the user-namespace route
        assert {"userns", "pidns", "netns", "mntns"} <= facts


HONEST_WORK = '''
import os, threading
import numpy as np


def work():
    """Threads, a fork, numpy and a file in its folder: what honest code does."""
    box = []
    thread = threading.Thread(target=lambda: box.append(np.linalg.norm(np.ones((50, 50)) @ np.ones(50))))
    thread.start()
    thread.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    status = os.waitpid(pid, 0)[1]
    with open("notes.txt", "w") as fh:
        fh.write("kept")
    os.nice(1)  # lowering one's own priority is still allowed
    return [float(box[0]), os.waitstatus_to_exitcode(status), open("notes.txt").read()]
'''


def test_honest_code_still_works_under_the_filter():
    with SandboxedStudent([("cell", HONEST_WORK)], FAST) as student:
        assert student.call("work") == [pytest.approx(50 * 50 ** 0.5), 7, "kept"]


@pytest.mark.skipif(bool(os.environ.get(UNPRIVILEGED_RUN)), reason="this is the unprivileged run")
def test_the_sandbox_tests_pass_as_an_unprivileged_user():
    """This module's sandboxed tests and the sandbox's own tests, again as ``nobody``: the worker
    then takes the user-namespace route. A Python installed where nobody can read it (e.g. a
    pyenv under /root) is made reachable in a private mount namespace first."""
    if not ROOT:
        pytest.skip("needs root to switch to an unprivileged user")
    if not shutil.which("setpriv") or not shutil.which("unshare"):
        pytest.skip("needs setpriv and unshare (util-linux)")
    from grader.sandbox.worker import python_read_paths

    hidden = privileges.hidden_from_others([*python_read_paths(), str(REPO_ROOT), os.path.realpath(sys.executable)])
    tests = ["tests/test_sandbox_privileges.py", "tests/test_sandbox.py"]
    become = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
    scratch = tempfile.mkdtemp(prefix="grader-unprivileged-", dir="/tmp")  # pytest's tmp_path is root's only
    os.chmod(scratch, 0o777)
    pytest_cmd = [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider", "--basetemp", f"{scratch}/t", *tests]
    expose = ("import os, sys; from grader.sandbox import privileges; "
              f"assert privileges.expose({hidden!r}); os.execvp(sys.argv[1], sys.argv[1:])")
    env = {**os.environ, UNPRIVILEGED_RUN: "1", "HOME": scratch, "TMPDIR": scratch}
    try:
        proc = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c", expose, *become, *pytest_cmd],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout


def _ids(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    return int(fields["Uid"].split()[0]), int(fields["Gid"].split()[0])


@pytest.mark.skipif(not ROOT, reason="real per-worker uids are handed out only when the grader runs as root")
def test_live_workers_never_share_a_uid():
    students = [SandboxedStudent([("cell", "x = 1")], FAST) for _ in range(4)]
    try:
        ids = [_ids(s._worker.pid) for s in students]
        assert len({uid for uid, _ in ids}) == len(ids)
        assert all(uid == gid and uid >= privileges.UID_BASE for uid, gid in ids)
    finally:
        for s in students:
            s.close()


def test_without_libseccomp_the_record_says_so(monkeypatch, capsys, tmp_path):
    """A zygote that could not build the filter: workers run without it, the record and a warning say so."""
    from grader.sandbox import isolation, syscall_filter

    monkeypatch.setattr(syscall_filter, "seccomp", None)
    program, reason = syscall_filter.build()
    assert program is None and "pyseccomp" in reason
    monkeypatch.undo()
    monkeypatch.setattr(isolation, "_warned", set())
    zygote = judge._Zygote()  # a zygote of its own, started without the binding
    monkeypatch.setattr(judge, "ZYGOTE", zygote)
    for binding in ("seccomp", "pyseccomp"):  # found first on the zygote's path: neither binding imports
        (tmp_path / f"{binding}.py").write_text("raise ImportError('not installed')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    try:
        with SandboxedStudent([("cell", "import socket\ndef f():\n    return str(socket.socket())")], FAST) as student:
            assert "seccomp" not in student.isolation_facts
            assert "seccomp" in student.isolation.split("; without: ")[1]
            assert "no caps" in student.isolation_facts  # the rest of the jail still holds
            assert student.call("f").startswith("<socket.socket")  # no filter indeed
    finally:
        zygote.shutdown()
    assert "seccomp" in capsys.readouterr().err.split("in force")[0]


def test_paths_other_uids_cannot_reach_are_found_by_their_topmost_closed_folder():
    root = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own folders are root's only
    try:
        closed = root / "home"
        (closed / "py" / "lib").mkdir(parents=True)
        (root / "open" / "lib").mkdir(parents=True)
        os.chmod(root, 0o755)
        os.chmod(closed, 0o700)
        paths = [str(closed / "py"), str(closed / "py" / "lib"), str(root / "open" / "lib")]
        assert privileges.hidden_from_others(paths) == {str(closed): paths[:2]}
    finally:
        shutil.rmtree(root)

"""A second attacker's probes of the jail (issue 13's "further set of hostile submissions").

Cheap regression tests, one worker each: what a worker can reach beyond its channel (open file
descriptors, /proc, memfd execution, raising its limits, disabling ASLR, signals to anything
outside its PID namespace, files in /tmp or /dev/shm), and two judge faults a submission could
cause: an exception text longer than the wire's string cap was reported as a bad *return
value*, and an empty array with a dim numpy cannot allocate was a grader fault
(tests/attacks/judge_raw_frames.py). Each in-sandbox assertion is paired with a control showing
that the same probe succeeds in a plain process where that makes sense.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from grader.sandbox.judge import SandboxedStudent
from grader.student import StudentRaised
from support import FAST

PROBES = r'''
import ctypes, errno, os, resource

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE, ADDR_NO_RANDOMIZE = 4, 0x0040000


def _err(fn):
    try:
        fn()
        return "done"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    except ValueError as exc:
        return "refused"


def _memfd_exec():
    try:
        fd = os.memfd_create("payload", 0)  # not close-on-exec: a script needs its fd
    except OSError as exc:
        return errno.errorcode[exc.errno]
    os.write(fd, b"#!/bin/sh\nexit 0\n")
    pid = os.fork()
    if pid == 0:
        try:
            os.execve(fd, ["payload"], {})
        except OSError as exc:
            os._exit(exc.errno)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def probes(name):
    open_fds = []
    for fd in range(1024):
        try:
            os.fstat(fd)
            open_fds.append(fd)
        except OSError:
            pass
    personality = _libc.personality(ADDR_NO_RANDOMIZE)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return {
        "fds": open_fds,
        "proc": _err(lambda: os.listdir("/proc/self/fd")),
        "environ": _err(lambda: open("/proc/self/environ", "rb").read()),
        "memfd exec": _memfd_exec(),
        "raise nofile": _err(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (hard + 1, hard + 1))),
        "raise core": _err(lambda: resource.setrlimit(resource.RLIMIT_CORE, (-1, -1))),
        "dumpable": "done" if _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0 else errno.errorcode[ctypes.get_errno()],
        "no ASLR": "done" if personality >= 0 else errno.errorcode[ctypes.get_errno()],
        "kill -1": _err(lambda: os.kill(-1, 0)),
        "dev shm": _err(lambda: open("/dev/shm/" + name, "w")),
        "tmp": _err(lambda: open("/tmp/" + name, "w")),
    }


def long_error(n):
    raise ValueError("shapes do not match: " + "x" * n)
'''

#: What each probe meets in the sandbox: only the channel (fd 3) and /dev/null; its own root and
#: Landlock keep /proc, /tmp and /dev/shm out of reach; no memfd to execute (the filter); no
#: limit goes up; no ASLR switch; nothing outside its own PID namespace to signal.
HELD = {"fds": [0, 1, 2, 3], "proc": "EACCES", "environ": "EACCES", "memfd exec": "EPERM",
        "raise nofile": "refused", "raise core": "refused", "dumpable": "EPERM", "no ASLR": "EPERM",
        "kill -1": "ESRCH", "dev shm": "EACCES", "tmp": "EACCES"}
OUT_OF_SIGHT = ("ENOENT", "EACCES")  # not in its own root at all, or (without one) refused by Landlock


def test_a_worker_reaches_nothing_but_its_channel():
    with SandboxedStudent([("cell", PROBES)], FAST) as student:
        out = student.call("probes", f"grader-redteam-{uuid.uuid4().hex}")
    assert out["dev shm"] in OUT_OF_SIGHT and out["tmp"] in OUT_OF_SIGHT
    assert {**out, "dev shm": "EACCES", "tmp": "EACCES"} == HELD


def test_the_same_probes_succeed_in_a_plain_process(tmp_path):
    """Control: as this test's user, outside the sandbox, most of those probes get through."""
    name = f"grader-redteam-{uuid.uuid4().hex}"
    code = PROBES + f"\nimport json\nprint(json.dumps(probes({name!r})))\n"
    try:
        out = json.loads(subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                                        timeout=60, check=True).stdout)
    finally:
        for folder in ("/tmp", "/dev/shm"):
            Path(folder, name).unlink(missing_ok=True)
    assert out["proc"] == out["environ"] == out["no ASLR"] == out["kill -1"] == out["dumpable"] == "done"
    assert out["memfd exec"] == 0
    if os.geteuid() == 0:  # as CI runs the grader
        assert out["raise core"] == out["dev shm"] == out["tmp"] == "done"


@pytest.mark.parametrize("n", [100, 12_000, 20_000])
def test_a_long_exception_text_is_a_raised_error_not_a_bad_reply(n):
    """Text up to the masking's raw cap crosses the wire whole (it used to be refused as a
    "value the grader cannot use", a false account of what the function did); longer text is cut."""
    with SandboxedStudent([("cell", PROBES)], FAST) as student:
        with pytest.raises(StudentRaised, match="long_error raised ValueError: shapes do not match"):
            student.call("long_error", n)

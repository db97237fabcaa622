"""Every attack in tests/attacks/, graded end to end: it earns no more than its honest twin.

Issue 5 is done when "every attack in the corpus scores no more than its honest part earns, with
the grader alive and no stray processes left". ``test_sandbox_attacks.py`` checks single sandbox
calls; here each attack goes through the real engine (``grade_submission``: extraction, sandboxed
worker, the assignment's real checks) next to its honest twin, the same submission with the hostile
part removed (listed in ``HONEST`` below). The attack may not beat the twin on any check, nor in
total. Every file in tests/attacks/ is graded: a new attack without a twin fails here.

Attacks run under short time limits (an endless loop costs 2 s, not the real 60 s) and 512 MiB;
twins under the real default limits, so only the attack can lose points to the short limits.
Worker folders go to a private temporary folder, so a process found there after grading is ours.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.grading import grade_submission
from grader.sandbox import judge
from grader.sandbox.limits import MIB, Limits
from test_sandbox_attacks import CORRECT_DROPOUT

# The checks' arithmetic on hostile values (overflow_gradient.py) warns in the judge; that is expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ATTACKS = Path(__file__).parent / "attacks"
ATTACK_LIMITS = Limits(call_seconds=1.0, load_seconds=1.0, submission_seconds=2.0, cpu_seconds=2.0,
                       memory_bytes=512 * MIB)
SPARE_NAME = "grader-spare"  # grader.sandbox.zygote.SPARE_NAME: workers made ahead, never started
DAEMON_MARKER = b"grader-attack-daemon"  # in the command line of detached_child.py's daemon


@dataclass(frozen=True)
class Twin:
    """An attack's honest twin: ``code`` graded as a .py submission of ``assignment``."""

    code: str
    assignment: str = "dropout"


# ---- honest twins

NOTHING = Twin('''
def dropout_forward(x, dropout_param):
    raise NotImplementedError


def dropout_backward(dout, cache):
    raise NotImplementedError
''')
ZEROS = Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    return np.zeros_like(x), None
''')
ZEROS_FLOAT64 = Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    return np.zeros(x.shape), None
''')
IDENTITY = Twin('''
def dropout_forward(x, dropout_param):
    return x.copy(), None
''')
CORRECT = Twin(CORRECT_DROPOUT)  # the attacks' own correct answer, which they give after (or while) doing harm


def without_huge(name: str, assignment: str = "dropout") -> Twin:
    """The attack ``name`` itself with its one hostile line, ``HUGE = <largest float>``, set to 1.0."""
    hostile = "HUGE = np.finfo(np.float64).max"
    code = (ATTACKS / f"{name}.py").read_text()
    assert code.count(hostile) == 1, f"{name}.py must define {hostile!r} exactly once"
    return Twin(code.replace(hostile, "HUGE = 1.0"), assignment)


def hostile_off(name: str, assignment: str = "conv") -> Twin:
    """The attack ``name`` itself with its one switch, ``HOSTILE = True``, turned off."""
    code = (ATTACKS / f"{name}.py").read_text()
    assert code.count("HOSTILE = True") == 1, f"{name}.py must define HOSTILE = True exactly once"
    return Twin(code.replace("HOSTILE = True", "HOSTILE = False"), assignment)


HONEST = {
    "array_interface": IDENTITY,  # the Pretender wraps x itself
    "builtins_abs": ZEROS,  # without patching abs, max, all
    "channel_garbage": ZEROS,  # without scribbling on file descriptors
    "conv_overflow_gradient": without_huge("conv_overflow_gradient", "conv"),
    "conv_probe_after_backward": hostile_off("conv_probe_after_backward"),  # probes answered by call order
    "conv_probe_pairs": hostile_off("conv_probe_pairs"),  # probes answered by pairing x + d with x - d
    "conv_probe_similar_inputs": hostile_off("conv_probe_similar_inputs"),  # probes answered by similar inputs
    "cpu_threads": CORRECT,
    "dropout_probe_similar_inputs": hostile_off("dropout_probe_similar_inputs", "dropout"),  # probes answered by similar inputs  # without the threads burning CPU
    "detached_child": IDENTITY,  # without the daemon
    "exit_at_load": IDENTITY,  # without the fake result and the exit at load
    "exit_fake_result": NOTHING,  # the function is nothing but the fake result and the exit
    "fake_protocol_stdout": ZEROS,  # without the fake frames and prints
    "fork_bomb": NOTHING,  # nothing but forks and sleeps
    "frame_peek": ZEROS,  # its fallback, without the search through frames and heap
    # host_*.py (tests/test_sandbox_privileges.py): each tries a host escape, then raises NotImplementedError
    **dict.fromkeys((p.stem for p in ATTACKS.glob("host_*.py")), NOTHING),
    "huge_array": NOTHING,  # nothing but an oversized reply
    "huge_file": CORRECT,  # without filling its folder
    "infinite_loop": Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    raise NotImplementedError


def dropout_backward(dout, cache):
    return np.array(dout)
'''),  # forward never returns; backward is kept
    "infinite_loop_at_load": NOTHING,
    "lying_comparison": ZEROS,  # without the view as the lying subclass
    "many_files": CORRECT,  # without opening files and sockets until it cannot
    "memory_hog": NOTHING,
    "nan_inf": ZEROS,  # a finite wrong answer of the same shape and dtype instead of NaN and inf
    "ndarray_subclass": ZEROS_FLOAT64,  # without the view as the lying subclass
    "network": NOTHING,  # defines no dropout function
    "numpy_allclose": ZEROS,  # without patching numpy
    "overflow_gradient": without_huge("overflow_gradient"),
    "pickled_payload": NOTHING,  # nothing but pickles
    "read_files": NOTHING,  # defines no dropout function
    "scalar_subclass": Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    return np.float64(0.0), None
'''),  # a plain numpy scalar instead of the lying subclass
    "signals": NOTHING,  # defines no dropout function
    "sys_modules": ZEROS_FLOAT64,  # without replacing modules and without the lying subclass
    "write_files": NOTHING,  # defines no dropout function
    # the judge's channel: leaks through exception text, forged reports and replies, oversized frames
    "judge_bad_text": NOTHING,  # raises text no record may carry, and nothing else
    "judge_encoded_leak": NOTHING,  # raises the input encoded, and nothing else
    "judge_forged_errors": NOTHING,  # forges error replies, and nothing else
    "judge_forged_notes": CORRECT,  # without the forged load report
    "judge_forged_replies": ZEROS,  # without the forged reply frames
    "judge_int_leak": NOTHING,  # raises the input as integers, and nothing else
    "judge_oversized_reply": CORRECT,  # without the 512 MiB reply frame
    "judge_raw_frames": ZEROS,  # without the hand-made frames
    "judge_stalling_header": NOTHING,  # a frame header, then nothing
    "judge_unmask_worker": NOTHING,  # without switching the masking off, raising the input
}

ATTACK_NAMES = sorted(p.stem for p in ATTACKS.glob("*.py"))


# ---- processes

def processes() -> dict[int, tuple[int, str, str, bytes]]:
    """Every visible process: pid -> (parent pid, name, working folder, command line)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            cwd = ""
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        found[int(entry)] = (int(stat[stat.rindex(")") + 2:].split()[1]), name, cwd, cmdline)
    return found


def descendants(procs: dict[int, tuple[int, str, str, bytes]], root: int) -> set[int]:
    """Every process below ``root`` in the ``procs`` snapshot (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _strays(folder: Path, before: set[int]) -> list[str]:
    """Processes left by grading: new descendants of this process other than the zygote, or any
    process working in or naming the private worker folder, or detached_child.py's daemon.
    Spare workers (never started, so no student code ran in them) are not counted."""
    procs = processes()
    zygote = judge.ZYGOTE._proc.pid if judge.ZYGOTE._proc is not None else None
    ours = descendants(procs, os.getpid()) - before - {zygote}
    strays = []
    for pid, (_ppid, name, cwd, cmdline) in procs.items():
        if name == SPARE_NAME:
            continue
        if pid in ours or cwd.startswith(str(folder)) or str(folder).encode() in cmdline or DAEMON_MARKER in cmdline:
            strays.append(f"{pid} ({name}, in {cwd or '?'})")
    return strays


def assert_no_strays(folder: Path, before: set[int], timeout: float = 5.0) -> None:
    """Wait for the zygote to reap what grading left, then fail if anything is still running."""
    end = time.monotonic() + timeout
    while strays := _strays(folder, before):
        if time.monotonic() > end:
            raise AssertionError(f"stray processes left behind: {strays}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def worker_folder(tmp_path_factory):
    """A private parent for the workers' folders (the judge passes tempfile.gettempdir() on)."""
    folder = tmp_path_factory.mktemp("workers")
    saved, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved


# ---- the tests

def test_every_twin_has_its_attack():
    assert sorted(set(HONEST) - set(ATTACK_NAMES)) == []


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_attack_scores_no_more_than_its_honest_twin(name, worker_folder, tmp_path):
    twin = HONEST.get(name)
    if twin is None:
        pytest.fail(f"tests/attacks/{name}.py has no honest twin: add one to HONEST in {Path(__file__).name}")
    before = descendants(processes(), os.getpid())

    attacked = grade_submission(ATTACKS / f"{name}.py", twin.assignment, limits=ATTACK_LIMITS)
    assert_no_strays(worker_folder, before)
    assert judge.ZYGOTE._proc is not None and judge.ZYGOTE._proc.poll() is None, "the attack killed the zygote"

    honest_path = tmp_path / f"{name}_honest.py"
    honest_path.write_text(twin.code)
    honest = grade_submission(honest_path, twin.assignment)  # graded after the attack: the grader still works
    assert_no_strays(worker_folder, before)

    assert (attacked.status, honest.status) == ("graded", "graded"), (attacked.message, honest.message)
    assert [t.name for t in attacked.tests] == [t.name for t in honest.tests]
    gained = [f"{a.name}: {a.score:g} ({a.status}) > {h.score:g} ({h.status})"
              for a, h in zip(attacked.tests, honest.tests) if a.score > h.score]
    assert not gained, f"{name} earned points its honest twin does not: {gained}"
    assert attacked.score <= honest.score

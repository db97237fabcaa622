"""Every attack in tests/attacks/, graded end to end: it earns no more than its honest twin.

Issue 5 is done when "every attack in the corpus scores no more than its honest part earns, with
the grader alive and no stray processes left". ``test_sandbox_attacks.py`` checks single sandbox
calls; here each attack goes through the real engine (``grade_submission``: extraction, sandboxed
worker, the assignment's real checks) next to its honest twin, the same submission with the hostile
part removed (``HONEST`` in tests/support.py). The attack may not beat the twin on any check, nor in
total. Every file in tests/attacks/ is graded: a new attack without a twin fails here.

Attacks run under short time limits (an endless loop costs 2 s, not the real 60 s) and 512 MiB;
twins under the real default limits, so only the attack can lose points to the short limits.
Worker folders go to a private temporary folder, so a process found there after grading is ours.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from grader.grading import grade_submission
from grader.sandbox import judge
from grader.sandbox.limits import MIB, Limits
from support import ATTACKS, HONEST, SPARE_NAME, descendants, processes

# The checks' arithmetic on hostile values (overflow_gradient.py) warns in the judge; that is expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ATTACK_LIMITS = Limits(call_seconds=1.0, load_seconds=1.0, submission_seconds=2.0, cpu_seconds=2.0,
                       memory_bytes=512 * MIB)
DAEMON_MARKER = b"grader-attack-daemon"  # in the command line of detached_child.py's daemon
ATTACK_NAMES = sorted(p.stem for p in ATTACKS.glob("*.py"))


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
        pytest.fail(f"tests/attacks/{name}.py has no honest twin: add one to HONEST in tests/support.py")
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

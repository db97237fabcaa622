"""The grading benchmark runs end to end (tiny N) and its two graders agree."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import records

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_grading.py"


def test_benchmark_runs_and_scores_agree(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--n", "4", "--jobs", "2", "--repeats", "1", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "scores agree: yes, all 4" in out
    assert re.search(r"throughput ratio \(grader / stock, wall, start-up included\): [0-9.]+x", out)
    assert re.search(r"overhead ratio \(grader time per submission .*\): [0-9.]+x", out)
    # Both graders really graded all four, and the mix holds a correct and a buggy submission.
    found = records(tmp_path / "results.jsonl")
    assert len(found) == 4
    scores = sorted(r["score"] for r in found)
    assert scores[0] < scores[-1] == found[0]["max_score"]
    assert len(list((tmp_path / "course" / "autograded").iterdir())) == 4


def test_phase_profile_runs():
    script = SCRIPT.with_name("phases.py")
    proc = subprocess.run([sys.executable, str(script), "--n", "2", "--repeats", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "graded: 2/2" in proc.stdout
    for phase in ("extract", "start the sandbox", "calls to student functions", "close the worker"):
        assert re.search(rf"{phase}.* [0-9]+\.[0-9]+\n", proc.stdout), phase

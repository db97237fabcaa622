"""Collecting submissions and the resumable results file."""

import json
import os
from pathlib import Path

import pytest

from grader import grading_version
from grader.batch import Item, ResultsFile, collect
from grader.grading import content_hash
from grader.results import SubmissionResult
from support import descendants, processes, records


def test_collect_expands_folders_and_keeps_missing_paths(tmp_path):
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "a" / "x.ipynb").write_text("{}")
    (tmp_path / "a" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    (tmp_path / "a" / "notes.txt").write_text("")
    (tmp_path / "b.py").write_text("")
    items = collect([str(tmp_path / "a"), str(tmp_path / "b.py"), str(tmp_path / "missing.py")])
    assert [i.label for i in items] == [
        str(tmp_path / "a" / "x.ipynb"),
        str(tmp_path / "b.py"),
        str(tmp_path / "missing.py"),
    ]


def _result(label, path):
    return SubmissionResult(label, "quiz", content_hash=content_hash(path.read_bytes()))


def test_results_file_resumes_and_never_duplicates(tmp_path):
    sub = tmp_path / "s.py"
    sub.write_text("forward = 'H = D*Y'\n")
    other = tmp_path / "t.py"
    other.write_text("forward = 'H = Y'\n")
    results = tmp_path / "results.jsonl"
    rf = ResultsFile(results)
    rf.append(_result("s.py", sub))
    rf.append(_result("t.py", other))
    # a killed run leaves a torn last line behind
    with results.open("a") as fh:
        fh.write('{"submission": "u.py", "assig')

    rf = ResultsFile(results)
    assert rf.is_current(Item("s.py", sub), "quiz")
    assert not rf.is_current(Item("s.py", sub), "dropout")
    assert all(line.endswith("}") for line in results.read_text().splitlines())  # torn tail removed

    other.write_text("forward = 'H = D*Y/p'\n")  # resubmitted: stale record must be replaced
    assert not rf.is_current(Item("t.py", other), "quiz")
    rf.drop_stale({("t.py", "quiz")})
    rf.append(_result("t.py", other))
    found = records(results)
    assert sorted(r["submission"] for r in found) == ["s.py", "t.py"]
    assert all(r["grader_version"] == grading_version() for r in found)
    assert ResultsFile(results).is_current(Item("t.py", other), "quiz")


def test_records_of_another_grader_version_are_graded_again(tmp_path):
    sub = tmp_path / "s.py"
    sub.write_text("forward = 'H = D*Y'\n")
    results = tmp_path / "results.jsonl"
    ResultsFile(results).append(_result("s.py", sub))
    assert ResultsFile(results).is_current(Item("s.py", sub), "quiz")
    record = json.loads(results.read_text())
    record["grader_version"] = "0.0.1"
    results.write_text(json.dumps(record) + "\n")
    assert not ResultsFile(results).is_current(Item("s.py", sub), "quiz")
    # The version in records carries a digest of the grading code: a changed check regrades.
    from grader import __version__

    assert grading_version().startswith(__version__ + "+") and len(grading_version()) > len(__version__) + 8


# ---------------------------------------------------------------- grader faults become error records


def _submissions(tmp_path, n):
    import inspect

    import solutions.dropout

    for i in range(n):
        (tmp_path / f"s{i}.py").write_text(inspect.getsource(solutions.dropout))
    return collect([str(tmp_path)])


def test_a_sandbox_that_cannot_start_gives_error_records_not_a_crash(tmp_path, monkeypatch):
    from grader.batch import grade_batch
    from grader.sandbox import judge

    def broken(config, timeout=30.0):
        raise OSError("fork failed: Cannot allocate memory")

    monkeypatch.setattr(judge.ZYGOTE, "spawn", broken)
    results = list(grade_batch(_submissions(tmp_path, 3), "dropout", jobs=2))
    assert len(results) == 3
    for result in results:
        record = json.loads(result.to_json())
        assert record["status"] == "error" and record["tests"] == [] and record["score"] == 0
        assert record["max_score"] > 0
        assert "could not start a sandbox worker: fork failed" in record["message"]
        assert "not of the submission" in record["message"]
        assert result.content_hash == ""  # so a re-run with the same results file grades it again
        assert record["grader_fault"] is True


def test_a_sandbox_that_cannot_restart_mid_battery_gives_an_error_record(tmp_path, monkeypatch):
    from grader.grading import grade_submission
    from grader.sandbox import judge

    sub = tmp_path / "dies.py"
    sub.write_text("import os\ndef dropout_forward(x, p):\n    os._exit(1)\ndef dropout_backward(d, c):\n    os._exit(1)\n")
    real, calls = judge.ZYGOTE.spawn, []

    def first_only(config, timeout=30.0):  # the worker the call kills cannot be replaced
        calls.append(config)
        if len(calls) > 1:
            raise OSError("the worker factory stopped")
        return real(config, timeout)

    monkeypatch.setattr(judge.ZYGOTE, "spawn", first_only)
    result = grade_submission(sub, "dropout")
    assert result.status == "error" and "the worker factory stopped" in result.message
    assert result.tests == [] and result.content_hash == ""


def test_an_unexpected_grader_error_on_one_submission_does_not_end_the_batch(tmp_path, monkeypatch, capsys):
    from grader import batch

    items = _submissions(tmp_path, 3)
    real = batch.grade_submission

    def sometimes(path, assignment, label=None, limits=None):
        if path.name == "s1.py":
            raise ValueError("a bug in the grader")
        return real(path, assignment, label=label, limits=limits)

    monkeypatch.setattr(batch, "grade_submission", sometimes)
    results = {Path(r.submission).name: r for r in batch.grade_batch(items, "dropout", jobs=2)}
    faulty = results["s1.py"]
    assert faulty.status == "error" and faulty.grader_fault and "ValueError" in faulty.message
    assert "a bug in the grader" not in faulty.message  # details go to the staff's terminal, not to feedback
    assert "ValueError: a bug in the grader" in capsys.readouterr().err
    assert json.loads(faulty.to_json())["grader_fault"] is True
    assert not results["s0.py"].grader_fault and "grader_fault" not in json.loads(results["s0.py"].to_json())
    assert results["s0.py"].status == results["s2.py"].status == "graded"
    assert results["s0.py"].score == results["s0.py"].max_score


def test_stopping_a_batch_drops_the_submissions_not_yet_started(tmp_path, monkeypatch):
    """Ctrl-C (or closing the generator) must not first grade the rest of a 50,000-submission batch."""
    import threading
    import time

    from grader import batch

    started = []
    lock = threading.Lock()

    def slow(path, assignment, label=None, limits=None):
        with lock:
            started.append(label)
        time.sleep(0.05)
        return SubmissionResult(label, assignment)

    monkeypatch.setattr(batch, "grade_submission", slow)
    items = [Item(f"s{i}.py", tmp_path / f"s{i}.py") for i in range(40)]
    results = batch.grade_batch(items, "dropout", jobs=2)
    next(results)
    results.close()
    time.sleep(0.3)  # let the submissions in flight finish
    assert len(started) < 10


# ---------------------------------------------------------------- killed and restarted batch


def _wait_for_records(results: Path, at_least: int, proc, timeout: float = 120.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if results.exists() and results.read_bytes().count(b"\n") >= at_least:
            return
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} records after {timeout} s")


def _wait_gone(pids: set[int], timeout: float = 120.0) -> None:  # a give-up, not a speed check
    import time

    def alive(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)]


@pytest.mark.e2e
def test_a_killed_and_interrupted_batch_ends_with_every_submission_graded_exactly_once(tmp_path):
    """300 submissions; the batch is killed (SIGKILL) a third of the way in, restarted, stopped
    with Ctrl-C (SIGINT) two thirds in, and restarted again to the end."""
    import inspect
    import os
    import signal
    import subprocess
    import sys

    import solutions.dropout
    from grader import assignments

    MUTANTS = assignments.get("dropout").mutants().MUTANTS

    n = 300
    subs = tmp_path / "subs"
    subs.mkdir()
    right = inspect.getsource(solutions.dropout)
    wrong = next(m for m in MUTANTS if m.name == "no_rescale").source(solutions.dropout)
    for i in range(n):
        (subs / f"s{i:03d}.py").write_text(right if i % 2 else wrong)
    results = tmp_path / "results.jsonl"
    argv = [sys.executable, "-m", "grader.cli", "grade", "--assignment", "dropout", str(subs),
            "--jobs", "2", "--json", str(results)]
    root = Path(__file__).resolve().parents[1]

    scratch = tmp_path / "tmp"  # where the sandbox makes the workers' folders
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}

    def start():
        return subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = start()
    _wait_for_records(results, n // 3, first)
    below = descendants(processes(), first.pid)
    assert below  # the zygote and workers (it must have them to be grading)
    first.kill()
    first.communicate()
    _wait_gone(below)  # killing the judge leaves no zygote or worker behind,
    assert list(scratch.iterdir()) == []  # nor a worker's folder
    kept_after_kill = {json.loads(line)["submission"]: line for line in results.read_text().splitlines()
                       if line.endswith("}")}

    second = start()
    _wait_for_records(results, 2 * n // 3, second)
    second.send_signal(signal.SIGINT)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 130 and "results written so far are kept" in err
    assert f": {len(kept_after_kill)} of {n} submissions; grading the other" in err

    third = start()
    _, err = third.communicate(timeout=300)
    assert third.returncode == 0, err[-2000:]
    assert list(scratch.iterdir()) == []
    before = int(err.split(f" of {n} submissions; grading the other")[0].rsplit(" ", 1)[-1])
    assert before >= 2 * n // 3 and f"grading the other {n - before}" in err  # nothing graded twice

    lines = results.read_text().splitlines()
    found = records(results)
    labels = [r["submission"] for r in found]
    assert len(labels) == len(set(labels)) == n  # every submission exactly once
    assert all(r["status"] == "graded" for r in found)
    by_name = {Path(r["submission"]).name: r for r in found}
    full = {name for name, r in by_name.items() if r["score"] == r["max_score"]}
    assert full == {f"s{i:03d}.py" for i in range(1, n, 2)}  # right ones full marks, the others not
    assert set(kept_after_kill.values()) <= set(lines)  # records of the killed run kept as written


# ---------------------------------------------------------------- progress on a terminal only


class _Terminal:
    """A text stream that says it is a terminal."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_and_stays_quiet_otherwise():
    import io

    from grader.batch import progress

    quiet = io.StringIO()
    bar = progress(3, quiet)
    bar.update(3)
    bar.close()
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    bar = progress(3, terminal)
    bar.update(3)
    bar.refresh()
    shown = terminal.text
    bar.close()
    assert "3/3" in shown and "sub" in shown
    assert terminal.text.endswith("\r")  # and cleared at the end: the summary line follows cleanly

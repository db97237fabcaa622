"""Collecting submissions and the resumable results file."""

import json

from grader import __version__
from grader.batch import Item, ResultsFile, collect
from grader.grading import content_hash
from grader.results import SubmissionResult


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
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["submission"] for r in records) == ["s.py", "t.py"]
    assert all(r["grader_version"] == __version__ for r in records)
    assert ResultsFile(results).is_current(Item("t.py", other), "quiz")

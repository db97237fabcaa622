"""``grader demo`` builds, autogrades and reports the sample class through real nbgrader."""

import csv
import subprocess
import sys

import pytest

from grader.nbgrader_bridge.sample_class import students

pytestmark = pytest.mark.e2e


def test_demo_runs_and_prints_the_gradebook_table(tmp_path):
    dest = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "grader.cli", "demo", "--dest", str(dest)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in students()}
    assert sorted(rows) == students()
    got, slash, top = rows["ada"].split()[-3:]  # total column: "score / max"
    assert slash == "/" and float(top) > 0 and float(got) == float(top)
    got, _, top = rows["dan"].split()[-3:]
    assert float(got) == 0 and float(top) > 0
    assert (dest / "gradebook.db").is_file() and (dest / "grades.csv").is_file()
    # eve did not hand in conv: "missing" in the table, no score (not a 0) in grades.csv
    assert rows["eve"].split()[1:5] == ["0", "/", "10", "missing"]  # dropout, then conv
    grades = list(csv.DictReader((dest / "grades.csv").open(newline="")))
    (eve_conv,) = [r for r in grades if r["student_id"] == "eve" and r["assignment"] == "conv"]
    assert eve_conv["score"] == eve_conv["raw_score"] == "" and float(eve_conv["max_score"]) > 0
    assert all(r["score"] != "" for r in grades if r["student_id"] == "ada")
    assert list((dest / "feedback").glob("*/*/*.html"))
    assert str(dest / "feedback") in out

    # a second run into the same folder replaces the previous demo; other folders are refused
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "demo", "--dest", str(other)], capture_output=True, text=True)
    assert proc.returncode != 0 and (other / "keep.txt").exists()


def test_the_table_says_missing_and_totals_out_of_every_assignment():
    from grader.demo import score_table
    from grader.nbgrader_bridge.autograde import Score

    scores = [Score("ada", "dropout", 10, 10), Score("ada", "conv", 10, 12), Score("eve", "dropout", 9, 10)]
    rows = {line.split()[0]: line.split() for line in score_table(scores, ["dropout", "conv"], ["ada", "eve"]).splitlines()}
    assert rows["eve"] == ["eve", "9", "/", "10", "missing", "9", "/", "22"]
    assert rows["ada"][-3:] == ["20", "/", "22"]

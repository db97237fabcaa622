"""The ``grader`` command line: grade -> report / canvas / feedback, and one-sentence errors."""

from __future__ import annotations

import csv
import inspect
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.batch import collect
from grader.cli import main
from grader.results import SubmissionResult, TestResult
from solutions import dropout as reference_dropout
from support import records

QUIZ_RIGHT = 'forward = "H = D*Y"\nbackward = r"dL/dY = dL/dH \\odot D"\n'
QUIZ_VANILLA = 'forward_inverted = "H = D*Y"\nvariance = "p*(1-p)"\n'


@pytest.fixture
def quiz_class(tmp_path):
    """An nbgrader-like tree where each student also has a dropout file that must not be taken."""
    for student, text in (("ann", QUIZ_RIGHT), ("bob", QUIZ_VANILLA)):
        (tmp_path / "submitted" / student / "quiz").mkdir(parents=True)
        (tmp_path / "submitted" / student / "quiz" / "quiz.py").write_text(text)
        (tmp_path / "submitted" / student / "dropout").mkdir()
        (tmp_path / "submitted" / student / "dropout" / "dropout.py").write_text("x = 1\n")
    return tmp_path


def test_grade_takes_only_the_assignments_files_from_a_folder(quiz_class, capsys):
    results = quiz_class / "r.jsonl"
    assert main(["grade", "--assignment", "quiz", str(quiz_class / "submitted"), "--json", str(results)]) == 0
    got = {r["submission"].split("/")[-3]: r for r in records(results)}
    assert sorted(got) == ["ann", "bob"]
    assert all(r["submission"].endswith("quiz.py") for r in got.values())
    assert got["ann"]["score"] == 2 and got["bob"]["score"] < 1


def test_folder_filter_keeps_files_named_for_no_assignment(tmp_path):
    (tmp_path / "alice.py").write_text("")
    (tmp_path / "conv").mkdir()
    (tmp_path / "conv" / "alice.py").write_text("")
    (tmp_path / "quiz.ipynb").write_text("{}")
    labels = [i.label for i in collect([str(tmp_path)], "dropout")]
    assert labels == [str(tmp_path / "alice.py")]
    # a file given by name is graded whatever it is called
    assert [i.label for i in collect([str(tmp_path / "quiz.ipynb")], "dropout")] == [str(tmp_path / "quiz.ipynb")]


def test_rerun_skips_graded_work_and_still_writes_every_feedback_page(quiz_class, capsys):
    results, pages = quiz_class / "r.jsonl", quiz_class / "fb"
    args = ["grade", "--assignment", "quiz", str(quiz_class / "submitted"), "--json", str(results)]
    assert main(args) == 0
    before = results.read_text()
    assert main(args + ["--feedback", str(pages)]) == 0
    assert ": 2 of 2 submissions; grading the other 0" in capsys.readouterr().err
    assert results.read_text() == before  # nothing regraded, nothing duplicated
    html = sorted(pages.glob("*.html"))
    assert len(html) == 2
    bob = next(p for p in html if "bob" in p.name).read_text()
    # the misconception comes back from the stored record, not from a fresh grading
    assert "Recognised misconception: variance of the mask D" in bob


def test_report_and_canvas_from_a_results_file(quiz_class, capsys):
    results = quiz_class / "r.jsonl"
    main(["grade", "--assignment", "quiz", str(quiz_class / "submitted"), "--json", str(results)])
    report, table = quiz_class / "report.html", quiz_class / "report.csv"
    assert main(["report", str(results), "-o", str(report), "--csv", str(table)]) == 0
    assert "<svg" in report.read_text() and len(list(csv.reader(table.open()))) == 3
    canvas = quiz_class / "canvas.csv"
    assert main(["canvas", str(results), "-o", str(canvas)]) == 0
    rows = list(csv.reader(canvas.open()))
    assert rows[0][-1] == "quiz" and {r[0] for r in rows[2:]} == {"ann", "bob"}
    assert main(["canvas", str(results), "-o", str(canvas), "--column", "quiz=Quiz 8 (1234)", "--section", "L01"]) == 0
    rows = list(csv.reader(canvas.open()))
    assert rows[0][-1] == "Quiz 8 (1234)" and {r[4] for r in rows[2:]} == {"L01"}


def test_records_keep_the_recognised_misconception(quiz_class):
    results = quiz_class / "r.jsonl"
    main(["grade", "--assignment", "quiz", str(quiz_class / "submitted" / "bob"), "--json", str(results)])
    tests = {t["name"].split(":")[0]: t for t in records(results)[0]["tests"]}
    assert tests["forward_inverted"]["misconception"]
    assert tests["forward_inverted"]["understood"] == "D Y"
    assert "misconception" not in tests["O11"]  # unanswered: nothing recognised


def test_result_records_round_trip():
    result = SubmissionResult(
        "s.py", "quiz", tests=[TestResult("O11: x", 0.5, 1.0, "failed", "why", understood="X_{11}", misconception="flip")],
        notes=["n"], isolation="none", content_hash="abc",
    )
    again = SubmissionResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()
    error = SubmissionResult("t.py", "conv", status="error", message="bad", max_score_if_error=10.0)
    assert SubmissionResult.from_dict(error.to_dict()).max_score == 10.0


def test_grade_prints_a_table_and_json_to_stdout(tmp_path, capsys):
    sub = tmp_path / "mine.py"
    sub.write_text(inspect.getsource(reference_dropout))
    assert main(["grade", "--assignment", "dropout", str(sub)]) == 0
    assert f"{sub}: 10 / 10" in capsys.readouterr().out
    assert main(["grade", "--assignment", "dropout", str(sub), "--json", "-"]) == 0
    (record,) = records(capsys.readouterr().out)
    assert record["score"] == record["max_score"] == 10


def test_grade_exits_1_on_grader_faults_and_a_rerun_grades_those_again(tmp_path, monkeypatch, capsys):
    from grader.sandbox import judge

    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b"):
        (subs / f"{name}.py").write_text(inspect.getsource(reference_dropout))
    results = tmp_path / "results.jsonl"
    real = judge.ZYGOTE.spawn

    def broken(config, timeout=30.0):
        raise OSError("no more processes")

    monkeypatch.setattr(judge.ZYGOTE, "spawn", broken)
    assert main(["grade", "--assignment", "dropout", str(subs), "--json", str(results)]) == 1
    assert "2 submissions could not be graded because of a grader fault" in capsys.readouterr().err
    assert [r["grader_fault"] for r in records(results)] == [True, True]
    monkeypatch.setattr(judge.ZYGOTE, "spawn", real)
    assert main(["grade", "--assignment", "dropout", str(subs), "--json", str(results)]) == 0
    found = records(results)
    assert len(found) == 2 and all(r["status"] == "graded" and "grader_fault" not in r for r in found)
    assert all(r["score"] == r["max_score"] for r in found)


def test_gradescope_bundle_command(tmp_path, capsys):
    out = tmp_path / "autograder.zip"
    assert main(["gradescope", "--assignment", "conv", "-o", str(out)]) == 0
    names = zipfile.ZipFile(out).namelist()
    assert "setup.sh" in names and "run_autograder" in names


@pytest.mark.parametrize(
    "argv, says",
    [
        (["autograde", "--course", "{tmp}/nowhere"], "does not exist; create it with: grader release"),
        (["feedback", "--course", "{tmp}"], "is not a released course"),
        (["report", "{tmp}/none.jsonl", "-o", "{tmp}/r.html"], "does not exist; write one with: grader grade"),
        (["canvas", "--course", "{tmp}", "-o", "{tmp}/c.csv"], "no gradebook.db"),
        (["canvas", "-o", "{tmp}/c.csv"], "give the grades to export: a results file"),
            (["canvas", "{tmp}/r.jsonl", "--course", "{tmp}", "-o", "{tmp}/c.csv"], "not both"),
        (["grade", "--assignment", "quiz", "{tmp}/empty"], "no submissions found"),
        (["grade", "--assignment", "quiz", "{tmp}", "--jobs", "0"], "--jobs must be at least 1"),
        (["grade", "--assignment", "quiz", "{tmp}", "{tmp}/typo.ipynb", "--json", "{tmp}/r.jsonl"],
         "no such file or folder: {tmp}/typo.ipynb; nothing was graded"),
        (["canvas", "{tmp}/r.jsonl", "-o", "{tmp}/c.csv", "--column", "quiz"], "--column takes ASSIGNMENT=COLUMN"),
    ],
)
def test_user_mistakes_are_one_sentence_and_exit_2(tmp_path, capsys, argv, says):
    (tmp_path / "empty").mkdir()
    (tmp_path / "r.jsonl").write_text("")
    (tmp_path / "quiz.py").write_text(QUIZ_RIGHT)  # something gradable, which a refused command leaves alone
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert says.format(tmp=tmp_path) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "r.jsonl").read_text() == ""


@pytest.mark.parametrize("command", ["autograde", "feedback"])
@pytest.mark.parametrize("foreign", ["config", "gradebook"])
def test_a_course_folder_of_another_course_is_refused(tmp_path, capsys, command, foreign):
    import sqlite3
    from contextlib import closing

    from grader.nbgrader_bridge.course import config_text

    config = "c = get_config()\nc.CourseDirectory.course_id = 'hw'\n" if foreign == "config" else config_text()
    (tmp_path / "nbgrader_config.py").write_text(config)
    with closing(sqlite3.connect(tmp_path / "gradebook.db")) as db:
        db.execute("CREATE TABLE assignment (name TEXT)")
        db.execute("INSERT INTO assignment VALUES (?)", ("dropout" if foreign == "config" else "hw1",))
        db.commit()
    assert main([command, "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "grader release --course NEW_FOLDER" in err
    assert ("not written by grader release" if foreign == "config" else "belongs to another course") in err


def test_unknown_assignment_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["grade", "--assignment", "pooling", "x.py"])
    assert exc.value.code == 2 and "invalid choice: 'pooling'" in capsys.readouterr().err


def test_a_folder_of_good_and_broken_submissions_grades_each_and_goes_on(tmp_path):
    import nbformat

    from grader.extract import MAX_SUBMISSION_BYTES

    right = inspect.getsource(reference_dropout)
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "good.py").write_text(right)
    # Warnings and stderr output of a correct solution cost nothing (stock nbgrader gives 0).
    (folder / "warns.py").write_text(right.replace(
        '    mode = dropout_param["mode"]',
        '    import sys, warnings\n    print("debug", file=sys.stderr)\n    warnings.warn("careful")\n'
        '    mode = dropout_param["mode"]', 1))
    (folder / "empty.ipynb").write_text("")
    (folder / "not_json.ipynb").write_text("{this is not json")
    (folder / "latin1.py").write_bytes(right.encode() + "\n# caf\xe9\n".encode("latin-1"))
    (folder / "syntax.py").write_text(right.replace("def dropout_backward(dout, cache):", "def dropout_backward(dout, cache:"))
    (folder / "renamed.py").write_text(right.replace("def dropout_forward(", "def forward_dropout("))
    huge = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="y" * (MAX_SUBMISSION_BYTES + 10))])])
    nbformat.write(huge, str(folder / "huge_output.ipynb"))
    results = tmp_path / "results.jsonl"

    assert main(["grade", "--assignment", "dropout", str(folder), "--json", str(results)]) == 0
    by_name = {Path(r["submission"]).name: r for r in records(results)}
    assert len(by_name) == 8
    for name in ("good.py", "warns.py"):
        assert by_name[name]["score"] == by_name[name]["max_score"] == 10, by_name[name]
    says = {
        "empty.ipynb": "is empty",
        "not_json.ipynb": "not JSON",
        "latin1.py": "not valid UTF-8",
        "huge_output.ipynb": "too large",
    }
    for name, words in says.items():
        assert by_name[name]["status"] == "error" and words in by_name[name]["message"], by_name[name]
        assert by_name[name]["max_score"] == 10 and by_name[name]["score"] == 0
    syntax = by_name["syntax.py"]
    assert syntax["status"] == "graded" and syntax["score"] == 0
    assert any("SyntaxError on line" in note for note in syntax["notes"])
    renamed = by_name["renamed.py"]
    assert renamed["status"] == "graded" and renamed["score"] < 10
    assert any("dropout_forward" in t["output"] and "define" in t["output"] for t in renamed["tests"])


def test_the_summary_says_how_many_of_how_many_and_which_failed(tmp_path, capsys):
    (tmp_path / "good.py").write_text(QUIZ_RIGHT)
    (tmp_path / "broken.ipynb").write_text("{not json")
    results = tmp_path / "r.jsonl"
    assert main(["grade", "--assignment", "quiz", str(tmp_path / "good.py"), str(tmp_path / "broken.ipynb"),
                 "--json", str(results)]) == 0
    err = capsys.readouterr().err
    assert f"graded 1 of 2 submissions; 1 could not be graded: {tmp_path / 'broken.ipynb'}; records in {results}" in err


def test_only_notebooks_and_py_files_are_submissions(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("forward = 'H = D*Y'\n")
    assert main(["grade", "--assignment", "quiz", str(tmp_path / "notes.txt")]) == 2
    err = capsys.readouterr().err
    assert f"skipping {tmp_path / 'notes.txt'}: only .py and .ipynb files are submissions" in err
    assert "no submissions found" in err and "Traceback" not in err
    (tmp_path / "quiz.py").write_text(QUIZ_RIGHT)
    assert main(["grade", "--assignment", "quiz", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "quiz.py: 2 / " in out and "notes.txt" not in out


def test_grade_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "the assignment the submissions are for" in text and "in parallel (default: 1)" in text
    assert "<student>-<assignment>.html" in text


def _session_members(sid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry))
    return found


def test_ctrl_c_mid_batch_is_one_line_and_keeps_the_records(tmp_path):
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it: the grader and every
    helper get it; only the grader speaks, once, and what was recorded stays."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(30):
        (subs / f"s{i:02}.py").write_text(inspect.getsource(reference_dropout))
    results = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "grade", "--assignment", "dropout", str(subs), "--json", str(results)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        while not (results.exists() and results.read_text().count("\n") >= 1):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["grader: interrupted; results written so far are kept"], err
    kept = records(results)
    assert 1 <= len(kept) < 30 and all(r["status"] == "graded" and r["score"] == 10 for r in kept)
    deadline = time.monotonic() + 60  # helpers end once the grader is gone; how soon is not the point
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_members(proc.pid) == []


def test_every_option_of_every_command_is_explained_with_its_default():
    import argparse

    from grader.cli import build_parser

    (subparsers,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name, parser in subparsers.choices.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"grader {name} {'/'.join(action.option_strings) or action.dest} has no help"
            shown = action.default not in (None, False, [], "") and not isinstance(action, argparse._StoreTrueAction)
            if shown:
                assert "default" in action.help, f"grader {name} {action.dest}: default {action.default!r} not shown"

"""The class report and its CSV, from a results file."""

from __future__ import annotations

import csv
import html
import json
import re

import pytest

from grader.reports.class_report import (
    ResultsFileError,
    load_records,
    records_from_results,
    summarise,
    write_class_csv,
    write_class_report,
)
from grader.results import SubmissionResult, TestResult

CHECKS = [("keeps a fraction p", 2.0), ("scales kept units by 1/p", 1.0), ("backward uses the mask", 1.0)]
SCALE_MSG = "kept units are not scaled by 1/p; did you multiply by p?"


def make_class() -> list[SubmissionResult]:
    """10 submissions: 4 perfect, 3 that forgot the 1/p scale, 2 that also broke backward,
    1 ungradable."""
    out = []
    for i in range(10):
        if i == 9:
            out.append(SubmissionResult(f"s{i}.ipynb", "dropout", status="error", message="not a notebook", max_score_if_error=4))
            continue
        failed = set()
        if i >= 4:
            failed.add(CHECKS[1][0])
        if i >= 7:
            failed.add(CHECKS[2][0])
        tests = []
        for name, pts in CHECKS:
            bad = name in failed
            msg = SCALE_MSG if name == CHECKS[1][0] else "dropout_backward raised KeyError"
            tests.append(TestResult(name, 0.0 if bad else pts, pts, "error" if bad and "backward" in name else ("failed" if bad else "passed"), msg if bad else ""))
        out.append(SubmissionResult(f"s{i}.ipynb", "dropout", tests=tests))
    quiz = SubmissionResult(
        "q.py", "quiz",
        tests=[TestResult("variance: of H", 0.0, 1.0, "failed", "not equivalent", misconception="used the drop probability")],
    )
    return out + [quiz]


def write_jsonl(path, results):
    path.write_text("".join(r.to_json() + "\n" for r in results))
    return path


def test_summary_counts():
    dropout, quiz = summarise(records_from_results(make_class()))
    assert (dropout.assignment, dropout.submissions, dropout.ungraded) == ("dropout", 10, 1)
    # scores 4,4,4,4,3,3,3,2,2 of 4, and 0 for the ungradable one
    assert dropout.histogram() == [1, 0, 0, 0, 0, 2, 0, 3, 0, 4]
    rates = {c.name: (c.passed, c.total) for c in dropout.checks.values()}
    assert rates == {CHECKS[0][0]: (9, 9), CHECKS[1][0]: (4, 9), CHECKS[2][0]: (7, 9)}
    assert dropout.misconceptions[0] == (f"{CHECKS[1][0]}: {SCALE_MSG}", 5)
    assert dropout.patterns == [((CHECKS[1][0],), 3), ((CHECKS[1][0], CHECKS[2][0]), 2)]
    assert quiz.misconceptions == [("variance: of H: used the drop probability", 1)]


def test_the_same_mistake_with_other_measured_numbers_is_one_entry():
    def failed(output):
        return SubmissionResult("s.py", "dropout", tests=[TestResult("keep rate", 0.0, 1.0, "failed", output)])

    records = records_from_results([
        failed("with p = 0.25, train mode kept 60.1% of units"),
        failed("with p = 0.6, train mode kept 74.9% of units"),
        failed("dropout_forward raised KeyError: 'seed'"),
    ])
    (summary,) = summarise(records)
    assert summary.misconceptions == [("keep rate: with p = 0.25, train mode kept 60.1% of units", 2),
                                      ("keep rate: dropout_forward raised KeyError: 'seed'", 1)]


def test_report_has_plots_for_every_check(tmp_path):
    results = write_jsonl(tmp_path / "r.jsonl", make_class())
    out = write_class_report(results, tmp_path / "report.html", tmp_path / "report.csv")
    page = out.read_text()
    text = html.unescape(page)
    for plot in ("histogram-dropout", "checks-dropout", "mistakes-dropout", "patterns-dropout", "histogram-quiz"):
        assert f'id="{plot}"' in page
    assert len(re.findall(r'<g class="bin" data-count="\d+"', page)) == 20
    for name, _ in CHECKS:
        assert f'data-label="{html.escape(name)}"' in page
    assert "44% (4/9)" in text and "1 could not be graded" in text
    assert "<script" not in page


def test_csv_has_a_row_per_submission_and_a_column_per_check(tmp_path):
    results = make_class()
    results[0].submission = "=HYPERLINK(evil)"
    path = write_class_csv(records_from_results(results), tmp_path / "c.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 11
    assert rows[0]["submission"] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    assert rows[4][CHECKS[1][0]] == "0" and rows[4]["score"] == "3" and rows[4]["max_score"] == "4"
    assert rows[9]["status"] == "error" and rows[9][CHECKS[0][0]] == "" and rows[9]["message"] == "not a notebook"
    assert rows[10]["variance: of H"] == "0"


def test_load_records_skips_torn_lines_and_explains_bad_files(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", make_class()[:2])
    with path.open("a") as fh:
        fh.write('{"submission": "x", "assig')
    assert len(load_records(path)) == 2
    with pytest.raises(ResultsFileError, match="does not exist"):
        load_records(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text(json.dumps([1, 2]) + "\n")
    with pytest.raises(ResultsFileError, match="no result records"):
        load_records(tmp_path / "empty.jsonl")

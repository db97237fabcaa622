"""The class report and its CSV, from a results file."""

from __future__ import annotations

import csv
import html
import json
import re

import pytest

from grader.quiz import NO_ANSWER
from grader.reports.class_report import (
    Finding,
    ResultsFileError,
    load_records,
    records_from_results,
    shared_message,
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
    # scores 4,4,4,4,3,3,3,2,2 of 4; the ungradable one is no score, not a 0
    assert dropout.histogram() == [0, 0, 0, 0, 0, 2, 0, 3, 0, 4]
    rates = {c.name: (c.passed, c.total) for c in dropout.checks.values()}
    assert rates == {CHECKS[0][0]: (9, 9), CHECKS[1][0]: (4, 9), CHECKS[2][0]: (7, 9)}
    assert dropout.students == 9
    assert dropout.failing == [Finding(CHECKS[1][0], 5, SCALE_MSG), Finding(CHECKS[2][0], 2, "dropout_backward raised KeyError")]
    assert dropout.misconceptions == [] and dropout.no_answer == {}
    assert dropout.patterns == [((CHECKS[1][0],), 3), ((CHECKS[1][0], CHECKS[2][0]), 2)]
    assert quiz.misconceptions == [Finding("used the drop probability", 1, "in variance")]


def test_what_failing_students_share_keeps_equal_numbers_and_hides_differing_ones():
    assert shared_message(["with p = 0.25, kept 60.1% of units", "with p = 0.25, kept 74.9% of units"]) == \
        "with p = 0.25, kept …% of units"
    assert shared_message(["same words 1/p", "same words 1/p"]) == "same words 1/p"
    assert shared_message(["dropout_forward raised KeyError", "kept 60.1% of units"]) == ""
    assert shared_message([]) == ""


SCALE_CHECK = "train mode scales kept units by exactly 1/p"


def scale_message(factor):
    return (f"with p = 0.25, train mode multiplied kept units by {factor}; inverted dropout scales them by "
            "exactly 1/p = 4 (not by p, not by 1/(1 - p), not left unscaled)")


def test_a_group_of_failing_checks_is_labelled_by_what_its_students_share(tmp_path):
    """The complaint: three students under "multiplied kept units by 1.333", two of whom
    multiplied by 1."""
    results = [
        SubmissionResult(f"submitted/{student}/dropout/dropout.ipynb", "dropout",
                         tests=[TestResult(SCALE_CHECK, 0.0, 0.75, "failed", scale_message(factor))])
        for student, factor in (("ann", "1.333"), ("bo", "1"), ("cy", "1"))
    ]
    (summary,) = summarise(records_from_results(results))
    (finding,) = summary.failing
    assert finding.label == SCALE_CHECK and finding.students == 3
    assert "multiplied kept units by …;" in finding.detail and "exactly 1/p = 4" in finding.detail
    page = html.unescape(write_class_report(write_jsonl(tmp_path / "r.jsonl", results), tmp_path / "r.html").read_text())
    assert "1.333" not in page and "3 student(s)" in page and SCALE_CHECK in page


def quiz_result(student, blank=(), named=None):
    """A quiz submission: the answers in ``blank`` left empty; ``named`` maps answers to the
    misconception recognised in them; every other answer right."""
    named = named or {}
    tests = []
    for answer in ("forward", "forward_inverted", "O11", "O12", "O21", "O22", "Hout", "expectation"):
        name = f"{answer}: the {answer} question"
        if answer in blank:
            tests.append(TestResult(name, 0.0, 1.0, "failed", NO_ANSWER))
        elif answer in named:
            tests.append(TestResult(name, 0.0, 1.0, "failed", f"Understood as x. Not right: {named[answer]} ...",
                                    understood="x", misconception=named[answer]))
        else:
            tests.append(TestResult(name, 1.0, 1.0, "passed", "Right."))
    return SubmissionResult(f"quiz/{student}/quiz/quiz.ipynb", "quiz", tests=tests)


DROP = "p used as the drop probability"
VANILLA = "vanilla dropout where inverted dropout is asked"


def test_the_quiz_report_leads_with_named_misconceptions_and_keeps_blanks_apart(tmp_path):
    """The complaint: eight rows of "no answer given", the named misconceptions nowhere."""
    many_blank = ("O11", "O12", "O21", "O22", "Hout", "expectation", "forward", "forward_inverted")
    results = [quiz_result(f"idle{i}", blank=many_blank) for i in range(4)] + [
        # one student with the drop-probability mix-up in two answers counts once
        quiz_result("ann", named={"forward_inverted": DROP, "expectation": DROP}),
        quiz_result("bo", named={"forward_inverted": DROP}, blank=("O22",)),
        quiz_result("cy", named={"expectation": DROP, "forward": VANILLA}),
        quiz_result("dee", named={"forward_inverted": VANILLA}),
        quiz_result("ed", named={"forward": VANILLA}),
        quiz_result("flo", named={"O11": "true convolution (flipped filter)"}),
    ]
    (quiz,) = summarise(records_from_results(results))
    assert quiz.misconceptions == [
        Finding(DROP, 3, "in expectation, forward_inverted"),
        Finding(VANILLA, 3, "in forward, forward_inverted"),
        Finding("true convolution (flipped filter)", 1, "in O11"),
    ]
    assert quiz.no_answer_students == 5 and quiz.no_answer["O22"] == 5 and quiz.no_answer["O11"] == 4
    assert all(NO_ANSWER not in f.detail for f in quiz.failing)  # blanks are not mistakes
    assert [(f.label, f.students) for f in quiz.failing][:2] == [
        ("forward_inverted: the forward_inverted question", 3), ("expectation: the expectation question", 2)]
    assert not any("O12: the O12 question" in p for p, _ in quiz.patterns)  # only ever left blank
    page = html.unescape(write_class_report(write_jsonl(tmp_path / "r.jsonl", results), tmp_path / "r.html").read_text())
    named_at, failing_at = page.index("Named misconceptions"), page.index("Failing checks")
    assert named_at < failing_at and page.index(DROP) < failing_at  # the report leads with them
    assert failing_at < page.index("Score distribution") < page.index("Pass rate of every check")
    assert "5 student(s) left 33 answer(s) blank" in page
    assert page.count(NO_ANSWER) == 0  # not once, let alone eight rows of it


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
    assert [r["student"] for r in rows[1:4]] == ["s1", "s2", "s3"] and rows[10]["student"] == "q"
    assert rows[4][CHECKS[1][0]] == "0" and rows[4]["score"] == "3" and rows[4]["max_score"] == "4"
    assert rows[9]["status"] == "error" and rows[9][CHECKS[0][0]] == "" and rows[9]["message"] == "not a notebook"
    assert rows[10]["variance: of H"] == "0"


def test_load_records_skips_torn_lines_and_explains_bad_files(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", make_class()[:2])
    with path.open("a") as fh:
        fh.write("[" * 100_000 + "\n")  # nested past the parser's recursion limit: not a record
        fh.write('{"submission": "x", "assig')
    assert len(load_records(path)) == 2
    with pytest.raises(ResultsFileError, match="does not exist"):
        load_records(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text(json.dumps([1, 2]) + "\n")
    with pytest.raises(ResultsFileError, match="no result records"):
        load_records(tmp_path / "empty.jsonl")


def test_an_ungradable_submission_is_no_score_in_the_report_or_its_csv(tmp_path):
    records = records_from_results(make_class())
    errors = [r for r in records if r["status"] == "error"]
    assert errors  # make_class holds one submission that could not be graded
    page = write_class_report_from(records, tmp_path)
    assert "1 could not be graded (left out of the scores)" in page and "scored 0" not in page
    rows = list(csv.DictReader(write_class_csv(records, tmp_path / "c.csv").open()))
    ungraded = [row for row in rows if row["status"] == "error"]
    assert len(ungraded) == len(errors) and all(row["score"] == "" for row in ungraded)
    assert all(row["score"] != "" for row in rows if row["status"] != "error")


def write_class_report_from(records, folder):
    results = folder / "r.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    return write_class_report(results, folder / "report.html").read_text()

"""Feedback pages: what they show, what they escape, and what they must never show."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp

from grader import assignments
from grader.nbgrader_cells import is_autograder
from grader.paths import REPO_ROOT
from grader.reports.class_report import records_from_results, render_class_report
from grader.reports.feedback import render_feedback, safe_mathml, write_feedback
from grader.results import SubmissionResult, TestResult


def code_result() -> SubmissionResult:
    return SubmissionResult(
        "submitted/alice/dropout/dropout.ipynb",
        "dropout",
        tests=[
            TestResult("train mode keeps a fraction p of units", 2.0, 2.0, "passed", "", "fwd"),
            TestResult("kept units are scaled by 1/p", 0.0, 1.5, "failed", "kept units are not scaled by 1/p; did you multiply by p?", "fwd"),
            TestResult("backward uses the forward mask", 0.0, 1.0, "error", "dropout_backward raised KeyError: 'mask' <script>alert(1)</script>", "bwd"),
            TestResult("test mode is the identity", 0.0, 0.5, "timeout", "dropout_forward did not return within 10 s", "fwd"),
        ],
        notes=["cell 7 is not a solution cell and was not graded"],
    )


def quiz_result() -> SubmissionResult:
    return SubmissionResult(
        "bob.py",
        "quiz",
        tests=[
            TestResult("forward_inverted: inverted dropout forward", 1.0, 1.0, "passed", "", "", r"\frac{D Y}{p}"),
            TestResult(
                "variance: of one unit of H", 0.0, 1.0, "failed", "not equivalent to the expected variance",
                "", r"Y^{2} p \left(1 - p\right)", "variance of the mask D, not of H = D Y / p",
            ),
        ],
    )


def expr_hook(latex: str):
    # Stands in for the quiz package's parser: the two LaTeX strings used above.
    D, Y, p = sp.symbols("D Y p")
    return {r"\frac{D Y}{p}": D * Y / p, r"Y^{2} p \left(1 - p\right)": Y**2 * p * (1 - p)}.get(latex)


def test_page_shows_score_every_check_and_notes():
    page = render_feedback(code_result())
    text = html.unescape(page)
    assert "Score: 2 / 5" in text
    for t in code_result().tests:
        assert t.name in text
        assert t.output in text
    assert text.count('<tr class="check ') == 4
    assert "2 / 2" in text and "0 / 1.5" in text
    assert "timed out" in text and "cell 7 is not a solution cell" in text
    assert "1 of 4 checks passed" in text


def test_student_text_is_escaped_and_page_is_self_contained():
    page = render_feedback(code_result())
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page


def test_quiz_answers_render_as_mathml_with_misconception():
    page = render_feedback(quiz_result(), to_expr=expr_hook)
    assert page.count("<math ") == 2 and "<mfrac>" in page
    assert "Recognised misconception: variance of the mask D" in html.unescape(page)
    assert r"<code>\frac{D Y}{p}</code>" in page
    # without a hook the LaTeX is still shown, as code
    plain = render_feedback(quiz_result(), to_expr=lambda latex: None)
    assert "<math" not in plain and r"\frac{D Y}{p}" in plain


def test_mathml_whitelist_rejects_markup():
    assert safe_mathml("<mrow><mi>x</mi></mrow>").startswith("<math ")
    assert safe_mathml('<mrow><mi onclick="x">a</mi></mrow>') is None
    assert safe_mathml("<mrow><script>alert(1)</script></mrow>") is None
    assert safe_mathml("<mrow><mi>x</mi>") is None
    assert "&lt;b&gt;" in safe_mathml("<mi>&lt;b&gt;</mi>")


def test_ungradable_submission_says_why():
    result = SubmissionResult("x.ipynb", "conv", status="error", message="not a notebook: invalid JSON", max_score_if_error=10)
    text = html.unescape(render_feedback(result))
    assert "could not be graded: not a notebook: invalid JSON" in text and "Score: 0 / 10" in text


def test_write_feedback_never_overwrites(tmp_path):
    a = SubmissionResult("a/b.py", "quiz")
    b = SubmissionResult("a_b.py", "quiz")
    paths = write_feedback([a, b, code_result()], tmp_path / "fb")
    assert len({p.name for p in paths}) == 3 and all(p.is_file() for p in paths)


def test_pages_are_named_and_headed_by_student(tmp_path):
    results = [SubmissionResult("course1/submitted/ada/dropout/dropout.ipynb", "dropout"),
               SubmissionResult("subs/ben/quiz.py", "quiz"), SubmissionResult("carol.ipynb", "conv"),
               SubmissionResult("subs/../x/<b>.py", "conv")]
    paths = write_feedback(results, tmp_path / "fb")
    assert [p.name for p in paths] == ["ada-dropout.html", "ben-quiz.html", "carol-conv.html", "b-conv.html"]
    assert all(p.parent == tmp_path / "fb" for p in paths)
    for result, path in zip(results, paths):
        assert f'<strong id="student">{html.escape(result.student)}</strong>' in path.read_text()


# --- nothing hidden leaks ------------------------------------------------------------------------


def _code_lines(path: Path) -> set[str]:
    """Statement lines of every function body in a module, minus lines that are only strings
    (check messages are student-facing by design)."""
    source = path.read_text()
    lines = source.splitlines()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.stmt) and not isinstance(stmt, (ast.FunctionDef, ast.Expr)):
                    line = lines[stmt.lineno - 1].strip()
                    if len(line) >= 20 and not line.startswith(("raise CheckFailed(", "f\"", '"', "'")):
                        found.add(line)
    return found


def _hidden_test_lines() -> set[str]:
    found = set()
    for a in assignments.ASSIGNMENTS.values():
        nb = nbformat.read(a.notebook, as_version=4)
        for cell in nb.cells:
            if is_autograder(cell):
                found |= {ln.strip() for ln in cell.source.splitlines() if len(ln.strip()) >= 20}
    return found


FORBIDDEN_PATTERNS = [
    re.compile(r"BEGIN HIDDEN TESTS", re.I),
    re.compile(r"END HIDDEN TESTS", re.I),
    re.compile(r"array\("),
    re.compile(r"\[\[?\s*-?\d+\.\d+(e[+-]?\d+)?\s+-?\d+\.\d+"),  # numpy's printed arrays
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"grader/checks/"),
]


def assert_no_leak(text: str) -> None:
    """Fail if a student-facing text holds test code, hidden tests or array dumps."""
    text = html.unescape(text)
    for pattern in FORBIDDEN_PATTERNS:
        assert not pattern.search(text), f"page leaks {pattern.pattern!r}"
    secrets = _hidden_test_lines()
    for path in sorted((REPO_ROOT / "grader" / "checks").glob("*.py")):
        secrets |= _code_lines(path)
    for line in secrets:
        assert line not in text, f"page leaks hidden code: {line!r}"


def test_leak_detector_can_fail():
    body = next(iter(_code_lines(REPO_ROOT / "grader" / "checks" / "base.py")))
    for bad in (body, "BEGIN HIDDEN TESTS", repr(np.array([[0.5, 1.25], [2.0, 3.5]])), "[ 0.12  0.5 ]"):
        with pytest.raises(AssertionError):
            assert_no_leak(f"<p>{html.escape(bad)}</p>")


def test_hand_made_pages_do_not_leak():
    for result in (code_result(), quiz_result()):
        assert_no_leak(render_feedback(result, to_expr=expr_hook))
    assert_no_leak(render_class_report(records_from_results([code_result(), quiz_result()])))


@pytest.mark.parametrize("name", [a.name for a in assignments.ASSIGNMENTS.values() if a.kind == "code"])
def test_real_battery_pages_do_not_leak(name):
    """Every mutant's real check messages, as feedback, class report and Gradescope JSON."""
    from grader.checks.base import run_battery
    from grader.platforms.gradescope import gradescope_results
    from grader.student import InProcessStudent

    a = assignments.get(name)
    reference = a.reference()
    mutants = a.mutants()
    results = []
    for mutant in [*mutants.MUTANTS, *getattr(mutants, "ALTERNATIVES", ())]:
        student = InProcessStudent.from_source(mutant.source(reference), f"{mutant.name}.py")
        tests = run_battery(a.battery().checks, student, np.random.default_rng())
        results.append(SubmissionResult(f"{mutant.name}.py", name, tests=tests))
    assert any(t.status != "passed" for r in results for t in r.tests)  # messages were exercised
    for result in results:
        assert_no_leak(render_feedback(result))
        assert_no_leak(json.dumps(gradescope_results(result), ensure_ascii=False))
    assert_no_leak(render_class_report(records_from_results(results)))

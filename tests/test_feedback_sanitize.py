"""Feedback pages hold no live student HTML, load nothing from the network and show math offline.

nbgrader's pages are rendered here in-process with nbgrader's own feedback template (as
``nbgrader generate_feedback`` renders them) from a notebook whose markdown carries the usual
script-injection tricks, then rebuilt by :func:`safe_notebook_page`; ``grader grade --feedback``
pages get hostile text in every field. Both are read back with an HTML parser.
"""

import copy
from pathlib import Path

import nbformat
import nbgrader
import pytest
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from grader import assignments
from grader.nbgrader_cells import is_grade, is_solution, is_task
from grader.reports.feedback import CSP, render_feedback
from grader.reports.sanitize import clean_html, latex_to_mathml, math_in_text, safe_notebook_page
from grader.results import SubmissionResult, TestResult
from support import CHROMIUM, HOSTILE_MARKDOWN, Page, browser, live_markup

TITLE_SCRIPTS = ("pwned-script", "pwned-img", "pwned-svg", "pwned-link")


def nbgrader_page(nb) -> str:
    """The page ``nbgrader generate_feedback`` writes for ``nb`` (its feedback template and CSS)."""
    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(base / "templates")]
    config.HTMLExporter.extra_template_paths = [str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    resources = {"nbgrader": {"notebook": "dropout", "score": 3.0, "max_score": 10.0, "late_penalty": 0}}
    nb = copy.deepcopy(nb)
    for cell in nb.cells:  # what nbgrader's GetGrades adds from the gradebook
        if is_grade(cell) or is_task(cell):
            cell.metadata.nbgrader["score"] = 0.0
    page, _ = HTMLExporter(config=config).from_notebook_node(nb, resources=resources)
    return page


@pytest.fixture(scope="module")
def hostile_notebook():
    nb = nbformat.read(str(assignments.get("dropout").notebook), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN))
    answer = next(c for c in nb.cells if is_solution(c))
    nb.cells.insert(nb.cells.index(answer) + 1, nbformat.v4.new_markdown_cell(
        "Honest prose: keep each unit with probability $p$.", metadata={"tags": ['x" onclick="alert(1)']}))
    return nb


def test_nbgraders_page_runs_student_script_and_the_safe_page_holds_none(hostile_notebook):
    raw = nbgrader_page(hostile_notebook)
    assert len(live_markup(raw)) >= 8, "the attack works on nbgrader's own page (the test can fail)"
    assert "cdn" in raw.lower() and "mathjax" in raw.lower()
    safe = safe_notebook_page(raw, "dropout")
    assert live_markup(safe) == []
    assert not any(mark in safe for mark in TITLE_SCRIPTS)  # not even as text
    page = Page(safe)
    assert page.tags("head")[:3] == ["html", "head", "meta"] and page.elements[3][1].get("content") == CSP
    assert "mathjax" not in safe.lower() and "example.com" not in safe.split("<body>", 1)[1].replace(
        'href="https://example.com/"', "")  # the only link left is a plain one, no load


def test_math_in_prose_becomes_mathml_and_code_stays_code(hostile_notebook):
    safe = safe_notebook_page(nbgrader_page(hostile_notebook), "dropout")
    page = Page(safe)
    text = "".join(page.text)
    assert "\\frac" not in text and "\\mathbb" not in text, "no raw LaTeX in the prose"
    assert page.tags("body").count("math") >= 10  # the course's own prose, and the student's
    assert "mfrac" in page.tags("body") and 'display="block"' in safe
    assert "$code is not math$" in text
    assert "honest prose: keep each unit with probability" in text.lower()


def test_the_page_keeps_the_templates_styles_and_the_checks_table_styles(hostile_notebook):
    raw = nbgrader_page(hostile_notebook)
    safe = safe_notebook_page(raw, "dropout")
    head = safe.split("<body>", 1)[0]
    assert head.count("<style>") >= raw.split("<body", 1)[0].count("<style") > 0
    assert ".grader-checks table" in head
    assert "display: none" not in head  # the student's <style> was in the body and went


def test_latex_that_cannot_be_converted_is_shown_as_code_and_links_never_become_mathml():
    assert latex_to_mathml(r"\frac{1}{p}").startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"')
    assert math_in_text(r"see $\begin{foo}$ <b>") == 'see <code class="tex">$\\begin{foo}$</code> &lt;b&gt;'
    assert latex_to_mathml(r"\href{javascript:alert(1)}{x}") is None


def test_clean_html_keeps_structure_and_drops_handlers():
    cleaned = clean_html('<div class="cell"><p id="a" onclick="x()">t</p><img src="data:image/png;base64,AAAA" '
                         'onerror="x()"><img src="https://example.com/x.png"></div>')
    assert cleaned == ('<div class="cell"><p id="a">t</p><img src="data:image/png;base64,AAAA"><img></div>')


def _hostile_result() -> SubmissionResult:
    bad = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
    return SubmissionResult(
        submission=f"sub{bad}.py", assignment="quiz", status="graded", message=bad, notes=[bad],
        tests=[TestResult(f"forward: {bad}", 0.0, 1.0, "failed", bad, "g", understood=f"x {bad}", misconception=bad)],
    )


def test_grader_grade_pages_escape_every_student_field_and_carry_the_policy():
    page = render_feedback(_hostile_result(), to_expr=lambda latex: None)
    assert live_markup(page) == []
    assert "&lt;script&gt;" in page


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium")
def test_no_student_script_runs_in_a_real_browser(hostile_notebook, tmp_path):
    for name, page in (("nbgrader", safe_notebook_page(nbgrader_page(hostile_notebook), "dropout")),
                       ("grade", render_feedback(_hostile_result(), to_expr=lambda latex: None))):
        path = tmp_path / f"{name}.html"
        path.write_text(page, encoding="utf-8")
        dom = browser(["--dump-dom", path.as_uri()], tmp_path).stdout
        assert "<body" in dom and not any(mark in dom for mark in TITLE_SCRIPTS + ("<title>pwned",))
    # the same check sees a script that does run: the test can fail
    probe = tmp_path / "probe.html"
    probe.write_text('<html><head><title>t</title></head><body><script>document.title="pwned-script"</script></body></html>')
    assert "pwned-script" in browser(["--dump-dom", probe.as_uri()], tmp_path).stdout.split("<body", 1)[0]

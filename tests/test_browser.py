"""Feedback pages and the class report as a real browser renders them (headless Chromium).

A copy of each page gets a small script that measures the laid-out page (boxes, computed
styles, SVG geometry, rendered text) and writes it into the DOM; ``--dump-dom`` returns it.
"""

from __future__ import annotations

import html
import json
import re
import struct
from pathlib import Path

import pytest
import sympy as sp

from grader.reports.class_report import records_from_results, render_class_report
from grader.reports.feedback import render_feedback
from grader.results import SubmissionResult, TestResult
from support import CHROMIUM, browser

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium is not installed at /usr/bin/chromium (Debian package 'chromium'; .ci/run installs it)",
)

MEASURE = """
<pre id="__measure"></pre>
<script>
(() => {
  const box = el => { const r = el.getBoundingClientRect(); return {w: r.width, h: r.height}; };
  const out = {
    text: document.body.innerText,
    score: (() => { const s = document.getElementById('score'); return s ? {text: s.innerText, ...box(s)} : null; })(),
    rows: [...document.querySelectorAll('tr.check')].map(tr => ({
      name: tr.querySelector('td.name').innerText, points: tr.querySelector('td.points').innerText,
      status: tr.dataset.status, badge: getComputedStyle(tr.querySelector('.badge')).backgroundColor, ...box(tr)})),
    math: [...document.querySelectorAll('math')].map(m => ({display: getComputedStyle(m).display, ...box(m)})),
    plots: [...document.querySelectorAll('svg.plot')].map(svg => ({
      id: svg.id, ...box(svg),
      bars: [...svg.querySelectorAll('g.bar')].map(g => ({
        label: g.dataset.label, value: +g.dataset.value, fill: g.querySelectorAll('rect')[1].getBBox().width})),
      bins: [...svg.querySelectorAll('g.bin')].map(g => ({
        count: +g.dataset.count, height: g.querySelector('rect').getBBox().height}))})),
  };
  document.getElementById('__measure').textContent = JSON.stringify(out);
})();
</script>
"""


def rendered(page: str, tmp: Path, name: str) -> dict:
    """Measurements of ``page`` as Chromium laid it out."""
    # The pages forbid every script; let only the measuring script in, on a copy.
    page = page.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    path = tmp / f"{name}.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = browser(["--dump-dom", path.as_uri()], tmp).stdout
    found = re.search(r'<pre id="__measure">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), "the measuring script did not run"
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: str, tmp: Path, name: str) -> bytes:
    path = tmp / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    png = tmp / f"{name}.png"
    browser([f"--screenshot={png}", "--window-size=900,1400", "--hide-scrollbars", path.as_uri()], tmp)
    return png.read_bytes()


def feedback_result() -> SubmissionResult:
    return SubmissionResult(
        "submitted/alice/dropout/dropout.ipynb", "dropout",
        tests=[
            TestResult("train mode keeps a fraction p of units", 2.0, 2.0, "passed"),
            TestResult("kept units are scaled by 1/p", 0.0, 1.5, "failed", "kept units are not scaled by 1/p"),
            TestResult("backward uses the forward mask", 0.0, 1.0, "error", "dropout_backward raised KeyError"),
            TestResult("test mode is the identity", 0.0, 0.5, "timeout", "did not return within 10 s"),
        ],
    )


def quiz_result() -> SubmissionResult:
    return SubmissionResult(
        "bob.py", "quiz",
        tests=[
            TestResult("forward_inverted: inverted dropout", 1.0, 1.0, "passed", understood=r"\frac{D Y}{p}"),
            TestResult("variance: of one unit of H", 0.0, 1.0, "failed", "not equivalent",
                       understood=r"p \left(1 - p\right)", misconception="variance of the mask, not of H"),
        ],
    )


def to_expr(latex: str):
    D, Y, p = sp.symbols("D Y p")
    return {r"\frac{D Y}{p}": D * Y / p, r"p \left(1 - p\right)": p * (1 - p)}[latex]


def test_feedback_page_renders_score_and_every_check(tmp_path):
    result = feedback_result()
    got = rendered(render_feedback(result), tmp_path, "feedback")
    assert got["score"]["text"] == "Score: 2 / 5" and got["score"]["h"] > 0
    assert [r["name"] for r in got["rows"]] == [t.name for t in result.tests]
    assert [r["points"] for r in got["rows"]] == ["2 / 2", "0 / 1.5", "0 / 1", "0 / 0.5"]
    assert all(r["h"] > 0 and r["w"] > 0 for r in got["rows"])
    colours = {r["status"]: r["badge"] for r in got["rows"]}
    assert colours["passed"] == "rgb(46, 125, 50)" and colours["failed"] == "rgb(198, 40, 40)"
    assert len(set(colours.values())) == 4  # every status looks different
    for t in result.tests[1:]:
        assert t.output in got["text"]


def test_quiz_feedback_renders_math(tmp_path):
    got = rendered(render_feedback(quiz_result(), to_expr=to_expr), tmp_path, "quiz")
    assert len(got["math"]) == 2
    for m in got["math"]:
        assert "math" in m["display"]  # laid out by Chromium's MathML engine
        assert m["w"] > 0 and m["h"] > 0
    assert got["math"][0]["h"] > got["math"][1]["h"]  # the fraction is taller than p(1-p)
    assert "Recognised misconception: variance of the mask, not of H" in got["text"]


def test_class_report_renders_plots(tmp_path):
    results = []
    for i in range(12):
        tests = [
            TestResult("keeps p", 1.0, 1.0, "passed"),
            TestResult("scales by 1/p", 0.0 if i % 3 == 0 else 1.0, 1.0, "failed" if i % 3 == 0 else "passed", "not scaled by 1/p"),
            TestResult("backward", 0.0 if i < 6 else 2.0, 2.0, "failed" if i < 6 else "passed", "mask not reused"),
        ]
        results.append(SubmissionResult(f"s{i}.py", "dropout", tests=tests))
    got = rendered(render_class_report(records_from_results(results)), tmp_path, "report")
    plots = {p["id"]: p for p in got["plots"]}
    assert set(plots) == {"histogram-dropout", "checks-dropout", "mistakes-dropout", "patterns-dropout"}
    assert all(p["w"] > 100 and p["h"] > 20 for p in plots.values())
    checks = plots["checks-dropout"]["bars"]
    assert [b["label"] for b in checks] == ["keeps p", "scales by 1/p", "backward"]
    for bar, rate in zip(checks, (1.0, 8 / 12, 0.5)):
        assert bar["fill"] == pytest.approx(500 * rate, abs=0.2)
    bins = plots["histogram-dropout"]["bins"]
    assert [b["count"] for b in bins] == [0, 0, 2, 0, 0, 4, 0, 2, 0, 4]  # 25 %, 50 %, 75 %, 100 %
    assert max(b["height"] for b in bins) == pytest.approx(160)
    assert "mask not reused" in " ".join(b["label"] for b in plots["mistakes-dropout"]["bars"])


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshots_show_content(tmp_path):
    blank = screenshot("<!DOCTYPE html><html><body></body></html>", tmp_path, "blank")
    page = screenshot(render_feedback(feedback_result()), tmp_path, "page")
    assert _png_size(page) == _png_size(blank) == (900, 1400)
    assert len(page) > 3 * len(blank)  # text, badges and rules compress far worse than white

"""Red-team regressions for the nbgrader path and the outputs (issues 13 and 16): each attack has
an honest twin and, where it once worked, a positive control. Fast unit tests; the real nbgrader
run that shows nbgrader copying a student's files into its feedback folder is in
test_nbgrader_hostile.py."""

import os
import sys

import pytest

from grader.nbgrader_bridge.feedback import keep_pages
from grader.reports.sanitize import clean_html, render_math, safe_notebook_page
from test_feedback_sanitize import Page, live_markup

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def test_only_the_pages_stay_in_a_feedback_folder(tmp_path):
    """nbgrader copies every file of a submission into its feedback folder: a student's SVG or
    XHTML there is a page of its own, with live script, beside the sanitized feedback."""
    feedback, autograded = tmp_path / "feedback" / "eve" / "dropout", tmp_path / "autograded" / "eve" / "dropout"
    (feedback / "sub").mkdir(parents=True)
    autograded.mkdir(parents=True)
    (autograded / "dropout.ipynb").write_text("{}")
    (feedback / "dropout.html").write_text("<p>the page</p>")
    (feedback / "timestamp.txt").write_text("2026-01-01 10:00:00")
    for name in ("x.svg", "x.xhtml", "x.htm", "other.html", "sub/x.svg"):
        (feedback / name).write_bytes(SVG)
    (feedback / "linked").symlink_to(tmp_path / "autograded", target_is_directory=True)
    assert keep_pages(feedback, autograded) == [feedback / "dropout.html"]
    assert sorted(p.name for p in feedback.iterdir()) == ["dropout.html", "timestamp.txt"]
    assert (autograded / "dropout.ipynb").exists(), "nothing is removed through a link"


@pytest.mark.parametrize("markup", [
    '<math><mi href="javascript:alert(1)">x</mi></math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">y</maction></math>',
    '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
    "<a href=\"jav&#x09;ascript:alert(1)\">j</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<meta http-equiv=refresh content='0;url=http://evil'><base href='http://evil/'>",
    "<form action=x><button>b</button></form>",
    '<div style="background:url(http://evil)">s</div><style>body{background:url(http://evil/)}</style>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',  # mXSS through foreign content
    '<div class="text_cell_render">$\\text{</math><img src=x onerror=alert(1)>}$ $\\href{javascript:alert(1)}{x}$</div>',
])
def test_hostile_markup_tried_on_the_feedback_page_stays_dead(markup):
    """Tried by the red team, held: each is live in the raw markup (the positive control)."""
    page = f"<html><head><title>t</title></head><body><p>honest</p>{markup}</body></html>"
    assert live_markup(page) != []
    safe = safe_notebook_page(page, "t")
    assert live_markup(safe) == [] and "<p>honest</p>" in safe
    assert not any("javascript" in (v or "") for _, attrs, _ in Page(render_math(clean_html(markup))).elements
                   for v in attrs.values())

"""Self-contained HTML feedback pages, one per graded submission.

Only student-facing fields are ever rendered: each check's name, points, status and output, the
quiz answer as understood (and the misconception recognised), and the submission's notes and
error message. Hidden inputs, expected arrays and test code are not in a
:class:`~grader.results.SubmissionResult`, so they cannot reach a page. All text is HTML-escaped
(check outputs can quote a student's exception message). Pages load nothing from the network.
"""

from __future__ import annotations

import html
import importlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Iterable

from grader import assignments
from grader.outputs import make_dir, write_text
from grader.results import SubmissionResult, TestResult

#: Turns the LaTeX of a quiz answer as understood into a SymPy expression (or ``None``).
ExprHook = Callable[[str], Any]

#: Name of the optional function in ``grader.quiz`` used as the default :data:`ExprHook`.
QUIZ_EXPR_HOOK = "understood_expr"

STATUS_TEXT = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",  # the message says what the code raised
    "timeout": "timed out",
}

PAGE_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222;
       padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
.sub { color: #555; margin-top: 0; }
.score { font-size: 2rem; font-weight: 700; margin: .5rem 0; }
code { background: #f5f5f5; padding: 0 .2rem; border-radius: .2rem; }
.notice { background: #fff4e5; border-left: 4px solid #ef6c00; padding: .6rem 1rem; }
svg.plot { display: block; margin: .5rem 0 1.5rem; }
"""

#: Styles of the checks table, shared by the pages and the notebook outputs (scoped there).
TABLE_RULES = (
    ("table", "border-collapse: collapse; width: 100%; margin: 1rem 0;"),
    ("th, td", "border-bottom: 1px solid #ddd; padding: .45rem .5rem; text-align: left; vertical-align: top;"),
    ("th", "background: #f3f3f3;"),
    ("td.points", "white-space: nowrap;"),
    (".badge", "display: inline-block; padding: .05rem .5rem; border-radius: .7rem; font-size: .85rem; "
               "font-weight: 600; color: #fff; background: #777; white-space: nowrap;"),
    (".passed .badge", "background: #2e7d32;"),
    (".failed .badge", "background: #c62828;"),
    (".error .badge", "background: #ef6c00;"),
    (".timeout .badge", "background: #6a1b9a;"),
    (".msg", "white-space: pre-wrap;"),
    (".understood, .misconception", "margin-top: .35rem; font-size: .95rem;"),
    (".misconception", "color: #8a4b00;"),
    ("math", "font-size: 1.1rem;"),
)


def table_css(scope: str = "") -> str:
    """The checks table's CSS, every selector prefixed by ``scope`` (e.g. ``.grader-checks``)."""
    lines = []
    for selectors, rules in TABLE_RULES:
        scoped = ", ".join(f"{scope} {sel.strip()}".strip() for sel in selectors.split(","))
        lines.append(f"{scoped} {{ {rules} }}")
    return "\n".join(lines)


CSS = PAGE_CSS + table_css()


# MathML elements and attributes a page may carry; anything else drops the MathML (the LaTeX
# is still shown), so a crafted answer cannot smuggle markup into the page. (No ``href``: MathML
# allows links on any element.)
MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt", "mroot", "msub",
    "msup", "msubsup", "munder", "mover", "munderover", "mfenced", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose",
}
MATHML_ATTRS = {
    "display", "mathvariant", "stretchy", "fence", "separator", "separators", "open", "close",
    "linethickness", "lspace", "rspace", "accent", "accentunder", "notation", "columnalign",
    "width", "height", "depth", "form", "columnlines", "rowlines", "frame", "rowalign",
    "columnspacing", "rowspacing", "displaystyle", "scriptlevel", "movablelimits", "minsize",
    "maxsize", "symmetric", "largeop",
}

#: Every feedback page's Content-Security-Policy: no script at all (inline, remote or in an
#: attribute), nothing loaded from the network, no form or base URL a page's content could add.
#: Pages need no script: math is MathML, rendered before the page is written.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def csp_meta() -> str:
    """The ``<meta>`` element carrying :data:`CSP` (first in ``<head>``, before any content)."""
    return f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def esc(text: object) -> str:
    """HTML-escape any value for text or attribute content."""
    return html.escape(str(text), quote=True)


def fmt_points(value: float) -> str:
    """Points without float noise: 7.5, 10, 0.333."""
    return f"{round(float(value), 3):g}"


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # No network, no script: forbid them, even if a future edit adds one by mistake.
        f"{csp_meta()}\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _default_expr_hook() -> ExprHook | None:
    try:
        quiz = importlib.import_module("grader.quiz")
    except Exception:  # the quiz package is optional for code assignments
        return None
    hook = getattr(quiz, QUIZ_EXPR_HOOK, None)
    return hook if callable(hook) else None


def _entity(match: re.Match[str]) -> str:
    # SymPy writes HTML named entities (&InvisibleTimes;) that an XML parser does not know.
    if match.group(1) in ("lt", "gt", "amp", "quot", "apos"):
        return match.group(0)
    char = html.unescape(match.group(0))
    return html.escape(char) if char != match.group(0) else ""


def safe_mathml(markup: str, display: str = "inline") -> str | None:
    """Re-serialise MathML after checking it holds only whitelisted elements and attributes.

    Returns ``None`` when the markup is not well-formed or has anything else in it.
    ``display`` is ``"inline"`` or ``"block"`` (a formula on its own line).
    """
    text = _ENTITY.sub(_entity, markup)
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for node in root.iter():
        tag = node.tag.split("}")[-1] if isinstance(node.tag, str) else ""
        if tag not in MATHML_TAGS or any(a.split("}")[-1] not in MATHML_ATTRS for a in node.attrib):
            return None
        node.tag = tag
    if root.tag != "math":
        wrapper = ET.Element("math")
        wrapper.append(root)
        root = wrapper
    root.set("display", "block" if display == "block" else "inline")
    return ET.tostring(root, encoding="unicode").replace("<math ", '<math xmlns="http://www.w3.org/1998/Math/MathML" ', 1)


def mathml_for(latex: str, to_expr: ExprHook | None) -> str | None:
    """Presentation MathML of ``latex`` via ``to_expr`` and SymPy, or ``None`` if unavailable."""
    if not latex or to_expr is None:
        return None
    try:
        from sympy.printing.mathml import mathml

        expr = to_expr(latex)
        if expr is None:
            return None
        return safe_mathml(mathml(expr, printer="presentation"))
    except Exception:  # rendering is a nicety: the LaTeX is shown either way
        return None


def _check_row(test: TestResult, to_expr: ExprHook | None) -> str:
    status = test.status if test.status in STATUS_TEXT else "error"
    extra = ""
    if test.understood:
        math = mathml_for(test.understood, to_expr)
        shown = f"{math} " if math else ""
        extra += (
            f'<div class="understood">Your answer as understood: {shown}'
            f"<code>{esc(test.understood)}</code></div>"
        )
    if test.misconception:
        extra += f'<div class="misconception">Recognised misconception: {esc(test.misconception)}</div>'
    message = test.output or ("All good." if status == "passed" else "")
    return (
        f'<tr class="check {status}" data-status="{status}">'
        f'<td><span class="badge">{esc(STATUS_TEXT[status])}</span></td>'
        f'<td class="name">{esc(test.name)}</td>'
        f'<td class="points">{fmt_points(test.score)} / {fmt_points(test.max_score)}</td>'
        f'<td><div class="msg">{esc(message)}</div>{extra}</td></tr>'
    )


def checks_table(tests: Iterable[TestResult], to_expr: ExprHook | None = None, table_id: str = "checks") -> str:
    """The table of checks: status, name, points and message, the quiz answer as understood
    (MathML) and the misconception recognised. Only student-facing fields are rendered."""
    rows = "\n".join(_check_row(t, to_expr) for t in tests)
    ident = f' id="{esc(table_id)}"' if table_id else ""
    return (
        f"<table{ident}><thead><tr><th>Status</th><th>Check</th><th>Points</th>"
        f"<th>What it means</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table>"
    )


def checks_fragment(tests: Iterable[TestResult], heading: str = "", to_expr: ExprHook | None = None) -> str:
    """The checks table as a self-styled HTML fragment, for a notebook cell's output (nbgrader's
    feedback pages show it as it is)."""
    to_expr = to_expr if to_expr is not None else _default_expr_hook()
    head = f"<p><strong>{esc(heading)}</strong></p>" if heading else ""
    return (
        f'<div class="grader-checks"><style>{table_css(".grader-checks")}</style>'
        f"{head}{checks_table(tests, to_expr, table_id='')}</div>"
    )


def _title_of(assignment: str) -> str:
    try:
        return assignments.get(assignment).title
    except ValueError:
        return assignment


def render_feedback(result: SubmissionResult, to_expr: ExprHook | None = None) -> str:
    """The HTML feedback page of one graded submission.

    ``to_expr`` turns a quiz answer's LaTeX into a SymPy expression for MathML rendering;
    by default ``grader.quiz.understood_expr`` when the quiz package provides it.
    """
    to_expr = to_expr if to_expr is not None else _default_expr_hook()
    title = f"Feedback: {_title_of(result.assignment)}"
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">Student <strong id="student">{esc(result.student)}</strong> '
        f"· submission <code>{esc(Path(result.submission).name)}</code> "
        f"· assignment <code>{esc(result.assignment)}</code></p>",
        f'<p class="score" id="score" data-score="{fmt_points(result.score)}" '
        f'data-max-score="{fmt_points(result.max_score)}">'
        f"Score: {fmt_points(result.score)} / {fmt_points(result.max_score)}</p>",
    ]
    if result.status == "error":
        parts.append(
            f'<p class="notice" id="not-graded">This submission could not be graded: {esc(result.message)}</p>'
        )
    if result.notes:  # first: a note may say why the checks below failed (code that did not load)
        items = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
        parts.append(f'<h2>Notes</h2><ul id="notes">{items}</ul>')
    if result.tests:
        failed = sum(t.status != "passed" for t in result.tests)
        parts.append(
            f"<p>{len(result.tests) - failed} of {len(result.tests)} checks passed. "
            "Each failed check says which property does not hold and its usual cause; "
            "fix that in your code or answer and submit again.</p>"
        )
        parts.append(checks_table(result.tests, to_expr))
    return page(title, "\n".join(parts))


#: A file name holds at most 255 bytes: a student folder named with 240 letters made the page's
#: name too long and stopped ``grader grade --feedback`` before the rest of the class's pages.
NAME_PART_CHARS = 100


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:NAME_PART_CHARS] or "submission"


def feedback_filename(result: SubmissionResult) -> str:
    """The page's file name, ``<student>-<assignment>.html`` (characters a file name cannot
    safely hold become ``_``): one flat folder the instructor can hand out from."""
    return f"{_safe_name(result.student)}-{_safe_name(result.assignment)}.html"


def write_feedback(results: Iterable[SubmissionResult], out_dir: Path, to_expr: ExprHook | None = None) -> list[Path]:
    """Write one page per result into ``out_dir`` (created if missing, in a folder that exists);
    returns the files written.

    Two submissions whose flattened names collide get a numeric suffix rather than one
    overwriting the other.
    """
    out_dir = make_dir(out_dir, "feedback folder")
    to_expr = to_expr if to_expr is not None else _default_expr_hook()
    written: list[Path] = []
    used: set[str] = set()
    for result in results:
        name = feedback_filename(result)
        base, n = name[: -len(".html")], 1
        while name.casefold() in used:  # Ada and ada are one file where names ignore case (macOS, Windows)
            n += 1
            name = f"{base}.{n}.html"
        used.add(name.casefold())
        path = write_text(out_dir / name, render_feedback(result, to_expr))
        written.append(path)
    return written

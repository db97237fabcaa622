"""Making a feedback page built from a student's notebook safe to open, offline.

nbgrader's feedback pages (``nbgrader generate_feedback``) render a student's markdown, raw HTML
included, as it is (a ``<script>`` or ``onerror`` in a markdown cell ran in the page), and load
MathJax from a CDN (offline, the prose showed raw ``$\\frac{1}{1-p}$``). :func:`safe_notebook_page`
rewrites such a page:

* the body goes through nh3 (the Ammonia sanitizer) with a whitelist of structural and MathML
  elements, a few attributes, and links to http(s)/mailto only; images only as ``data:image/``;
* the head is rebuilt from the template's own styles (nothing of the student's is in the head),
  with the shared Content-Security-Policy: no script at all, nothing from the network;
* math in markdown prose (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) becomes MathML
  (latex2mathml, then the same MathML whitelist as the quiz answers), or stays as code if it cannot.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

from grader.reports.feedback import MATHML_ATTRS, MATHML_TAGS, csp_meta, esc, safe_mathml, table_css

#: Elements a feedback page's body may hold: nbconvert's structure, markdown's output, MathML.
PAGE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    "var",
} | MATHML_TAGS
PAGE_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"} | MATHML_ATTRS,
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "tr": {"data-status"},
    "p": {"data-score", "data-max-score"},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}

#: Math as MathJax would find it in prose, display forms first.
_MATH = re.compile(r"\$\$(?P<d1>.+?)\$\$|\\\[(?P<d2>.+?)\\\]|\$(?P<i1>[^$\n]+?)\$|\\\((?P<i2>.+?)\\\)", re.S)
#: The classes of the element holding a markdown cell's rendered text (nbconvert's templates).
_PROSE_CLASSES = {"text_cell_render", "jp-RenderedMarkdown"}
_CHAR_REF = re.compile(r"&#x([0-9A-Fa-f]+);|&#([0-9]+);")


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src" and not value.lower().startswith("data:image/"):
        return None  # a remote image would be blocked anyway; a data: page in an image is no image
    if name == "href" and value.lower().startswith("data:"):
        return None
    return value


def clean_html(fragment: str) -> str:
    """``fragment`` with every element and attribute outside the whitelist removed (nh3)."""
    return nh3.clean(
        fragment,
        tags=PAGE_TAGS,
        attributes=PAGE_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_keep_attribute,
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def _readable(markup: str) -> str:
    # latex2mathml writes every operator as a numeric reference; the XML parser behind the
    # whitelist reads them either way, a reader of the page source reads characters better.
    return _CHAR_REF.sub(lambda m: html.escape(chr(int(m[1], 16) if m[1] else int(m[2])), quote=False), markup)


def latex_to_mathml(latex: str, display: bool = False) -> str | None:
    """Presentation MathML of ``latex`` (whitelisted), or ``None`` if it cannot be converted."""
    try:
        from latex2mathml.converter import convert

        markup = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # any LaTeX latex2mathml does not know: shown as code instead
        return None
    return safe_mathml(_readable(markup), display="block" if display else "inline")


def math_in_text(text: str) -> str:
    """Escaped ``text`` with each formula replaced by MathML (or by its LaTeX as code)."""
    out, at = [], 0
    for match in _MATH.finditer(text):
        display = match["d1"] is not None or match["d2"] is not None
        latex = next(g for g in match.groups() if g is not None)
        out.append(esc(text[at:match.start()]))
        out.append(latex_to_mathml(latex, display) or f'<code class="tex">{esc(match.group(0))}</code>')
        at = match.end()
    out.append(esc(text[at:]))
    return "".join(out)


class _MathInProse(HTMLParser):
    """Re-emits sanitized HTML as it is, with the math of markdown prose turned into MathML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, starts a prose block)
        self.verbatim = 0  # inside <pre>/<code>/<math>: no math there

    def _prose(self) -> bool:
        return any(starts for _, starts in self.stack) and not self.verbatim

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        self.out.append(self.get_starttag_text() or "")
        if tag in ("br", "hr", "img", "col", "mspace"):
            return  # void elements: no end tag comes
        self.stack.append((tag, bool(classes & _PROSE_CLASSES)))
        self.verbatim += tag in ("pre", "code", "math")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                self.verbatim -= sum(t in ("pre", "code", "math") for t, _ in self.stack[index:])
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        self.out.append(math_in_text(data) if self._prose() else esc(data))


def render_math(clean: str) -> str:
    """Sanitized HTML with the formulas in its markdown prose rendered as MathML."""
    parser = _MathInProse()
    parser.feed(clean)
    parser.close()
    return "".join(parser.out)


_BODY = re.compile(r"<body\b[^>]*>(?P<body>.*)</body\s*>", re.S | re.I)
_STYLE = re.compile(r"<style\b[^>]*>(?P<css>.*?)</style\s*>", re.S | re.I)
_TITLE_END = re.compile(r"</title\s*>", re.I)


def safe_notebook_page(page: str, title: str) -> str:
    """A feedback page rendered from a notebook, rebuilt safe (see the module docstring).

    ``title`` is the page's title (the notebook's name); the template's head (everything before
    ``<body>``) is trusted only for its ``<style>`` elements after the title, where nothing of the
    student's is (a notebook's file name cannot hold ``</title>``).
    """
    body_match = _BODY.search(page)
    head = page[: body_match.start()] if body_match else ""
    body = body_match["body"] if body_match else page
    title_end = _TITLE_END.search(head)
    styles = [m["css"] for m in _STYLE.finditer(head, title_end.end() if title_end else 0)]
    styles.append(table_css(".grader-checks"))  # the checks tables' own <style> does not survive
    css = "\n".join(f"<style>{s}</style>" for s in styles)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n{csp_meta()}\n'
        f"<title>{esc(title)}</title>\n{css}\n</head>\n<body>\n{render_math(clean_html(body))}\n</body>\n</html>\n"
    )

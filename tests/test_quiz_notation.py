"""Answers are read as students write them: every operator in LaTeX and Unicode, every
mathematical alphanumeric, and the notations the parser decided on, each with its note."""

from __future__ import annotations

import unicodedata

import pytest
import sympy

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.grade import grade_answer
from grader.quiz.parse import LATEX_TO_UNICODE, UNICODE_TO_TEXT, AnswerError, parse_answer

QUIZ = quiz_of(builtin().assignments["quiz"])
NOTATION = QUIZ.notation
S = NOTATION.symbols
D, Y, p = S["D"], S["Y"], S["p"]
PRODUCT = "D {} Y"

# Each operator in a context where it means something: (template, expected). Closing brackets
# are tested with their opening one.
CONTEXT = {
    **{op: (PRODUCT, D * Y) for op in "⊙∘⋅·×∗•⊗"},
    "÷": ("D Y {} p", D * Y / p),
    "∂": ("{0}L/{0}H D", S["dLdH"] * D),
    "√": ("D Y/{0}{{p}}^2", D * Y / p),
    "⌊": ("{0} H/stride {1}", sympy.floor(S["H"] / S["stride"])),
    "⌈": ("{0} H/stride {1}", sympy.ceiling(S["H"] / S["stride"])),
    "{": ("{0} D + Y {1} p", (D + Y) * p),
}
CLOSING = {"⌊": "⌋", "⌈": "⌉", "{": "}"}
UNICODE_TO_LATEX = {u: l for l, u in LATEX_TO_UNICODE.items()}


def _in_context(opening: str, spell) -> str:
    template, _ = CONTEXT[opening]
    return template.format(spell(opening), spell(CLOSING.get(opening, "")))


@pytest.mark.parametrize("latex,unicode", sorted(LATEX_TO_UNICODE.items()), ids=lambda v: v)
def test_every_operator_reads_alike_in_latex_and_unicode(latex, unicode):
    opening = next((o for o, c in CLOSING.items() if c == unicode), unicode)
    _, expected = CONTEXT[opening]

    def as_latex(char: str) -> str:  # this pair's command for its character, the table's for the other
        command = latex if char == unicode else UNICODE_TO_LATEX.get(char)
        return command + " " if command else char  # a space, so the command cannot glue to a name

    latex_text, unicode_text = _in_context(opening, as_latex), _in_context(opening, lambda c: c)
    assert latex in latex_text and unicode in unicode_text
    assert parse_answer(latex_text, NOTATION).expr == expected, latex_text
    assert parse_answer(unicode_text, NOTATION).expr == expected, unicode_text


def test_every_latex_spelling_of_one_character_is_read():
    """Several commands share a character (\\cdot, \\cdotp, \\centerdot): each is read."""
    for latex, unicode in LATEX_TO_UNICODE.items():
        if unicode in "⊙∘⋅·×∗•⊗":
            assert parse_answer(f"D {latex} Y", NOTATION).expr == D * Y, latex


@pytest.mark.parametrize("char,plain", [(c, t) for c, t in UNICODE_TO_TEXT.items() if c not in UNICODE_TO_LATEX])
def test_unicode_characters_without_a_latex_command(char, plain):
    if plain.strip() in "*/":
        assert parse_answer(f"D Y {char} p", NOTATION).expr == parse_answer(f"D Y {plain} p", NOTATION).expr
    elif plain == "-":
        assert parse_answer(f"Y {char} p", NOTATION).expr == Y - p
    else:  # spaces
        assert parse_answer(f"D{char}Y", NOTATION).expr == D * Y


# A template per character: every mathematical alphanumeric (bold, italic, script, double-struck,
# sans-serif, monospace, full-width) of these characters must read like the plain one.
TEMPLATES = {
    "D": "{} ⊙ Y", "Y": "D ⊙ {}", "p": "D Y / {}", "H": "dL/d{} ⊙ D", "L": "∂{}/∂H ⊙ D",
    "X": "{}11 W11", "W": "X11 {}11", "d": "{0}L/{0}H ⊙ D", "∂": "{0}L/{0}H ⊙ D",
    **{str(n): "{} Y" for n in range(10)},
    # the letters of pad and stride
    "a": "2 p{}d", "s": "{}tride", "t": "s{}ride", "r": "st{}ide", "i": "str{}de", "e": "strid{}",
}


def _variants():
    ranges = list(range(0x1D400, 0x1D800)) + list(range(0xFF01, 0xFF5F)) + list(range(0x2080, 0x208A))
    return [(chr(cp), unicodedata.normalize("NFKC", chr(cp))) for cp in ranges
            if unicodedata.normalize("NFKC", chr(cp)) in TEMPLATES]


def test_every_mathematical_alphanumeric_of_every_symbol_is_normalised():
    variants = _variants()
    assert len(variants) > 150 and {plain for _, plain in variants} == set(TEMPLATES)
    assert "\U0001D715" in {v for v, _ in variants}  # math italic ∂, as word processors paste it
    failures = []
    for variant, plain in variants:
        template = TEMPLATES[plain]
        try:
            ok = parse_answer(template.format(variant), NOTATION).expr == parse_answer(template.format(plain), NOTATION).expr
        except AnswerError as exc:
            ok = f"{exc}"
        if ok is not True:
            failures.append((f"U+{ord(variant):04X}", plain, ok))
    assert not failures, failures


@pytest.mark.parametrize("answer", ["𝜕L/𝜕H ⊙ D/p", "𝛛L/𝛛H ⊙ D/p", "𝝏L/𝝏H ⊙ 𝐃/𝑝", r"\frac{𝜕L}{𝜕H} \odot \frac{D}{p}"])
def test_pasted_partial_derivatives_get_the_point(answer):
    result = grade_answer(QUIZ, "backward_inverted", answer)
    assert (result.status, result.score) == ("passed", 1.0), result.output


@pytest.mark.parametrize("latex,plain", [
    (r"\left( D + Y \right) p", "(D + Y) p"),
    (r"\Bigl( D + Y \Bigr) p", "(D + Y) p"),
    (r"\left\lfloor \frac{H}{stride} \right\rfloor", "floor(H/stride)"),
    (r"\left\lceil \frac{H}{stride} \right\rceil", "ceil(H/stride)"),
    (r"\sqrt[3]{Y}", "Y^(1/3)"),
    (r"\sqrt{p}", "√p"),
    (r"\sqrt{p}", "√(p)"),
    ("D − Y", "D - Y"),
])
def test_latex_delimiters_and_roots_read_like_their_plain_forms(latex, plain):
    assert parse_answer(latex, NOTATION).expr == parse_answer(plain, NOTATION).expr


def test_vulgar_fractions_bind_as_numbers():
    assert parse_answer("½ D Y", NOTATION).expr == D * Y / 2
    assert parse_answer("Y/½", NOTATION).expr == 2 * Y


# (answer, expression, the note it must carry or None)
DECISIONS = [
    ("H = D ⊙ Y.", D * Y, "punctuation at the end was ignored"),
    ("D*Y;", D * Y, "punctuation at the end was ignored"),
    ("$D \\odot Y$.", D * Y, "punctuation at the end was ignored"),
    ("D*Y/p ,", D * Y / p, "punctuation at the end was ignored"),
    ("D*Y  ", D * Y, None),
    ("D*Y = H", D * Y, "the right-hand side 'H' names what is asked, so the left-hand side was graded"),
    (r"\frac{D \odot Y}{p} = H", D * Y / p, "left-hand side was graded"),
    ("dLdH*D = dL/dY", S["dLdH"] * D, "left-hand side was graded"),
    ("1 + (H + 2 pad - HH)/stride = H_{out}", 1 + (S["H"] + 2 * S["pad"] - S["HH"]) / S["stride"], "left-hand side"),
    ("H = D*Y", D * Y, None),
    ("H = D ⊙ Y = Y ⊙ D", D * Y, "only the part after the last '=' was graded"),
    (r"\begin{equation} H = D \odot Y \end{equation}", D * Y, "LaTeX environments"),
    (r"\begin{align*} H &= D \odot Y \\ \end{align*}", D * Y, "LaTeX environments"),
    (r"H = D \odot Y \label{eq:h}", D * Y, "LaTeX environments"),
    (r"\text{H} = \text{D} Y", D * Y, None),
    ("dL_dH * D", S["dLdH"] * D, "dL_dH was read as dL/dH"),
    ("dL_dY = dL_dH * D / p", S["dLdH"] * D / p, "dL_dH was read as dL/dH"),
    ("np.multiply(D, Y) / p", D * Y / p, "np.multiply(...) was read as the formula it computes"),
    ("numpy.multiply(D, Y)/p", D * Y / p, "np.multiply"),
    ("np.divide(np.multiply(D, Y), p)", D * Y / p, "np.divide"),
    ("np.square(Y) * (1 - p) / p", Y**2 * (1 - p) / p, "np.square"),
    ("np.power(Y, 2) * (1 - p) / p", Y**2 * (1 - p) / p, "np.power"),
    ("np.floor((H + 2*pad - HH)/stride) + 1", sympy.floor((S["H"] + 2 * S["pad"] - S["HH"]) / S["stride"]) + 1, "np.floor"),
    ("np.sqrt(p) * np.sqrt(p)", p, "np.sqrt"),
    ("D .* Y ./ p", D * Y / p, "MATLAB"),
    ("Y.^2 (1 - p)/p", Y**2 * (1 - p) / p, "MATLAB"),
]


@pytest.mark.parametrize("answer,expr,note", DECISIONS)
def test_decided_notations_are_read_and_noted(answer, expr, note):
    parsed = parse_answer(answer, NOTATION)
    assert parsed.expr == expr
    if note is None:
        assert parsed.notes == ()
    else:
        assert any(note in n for n in parsed.notes), parsed.notes


@pytest.mark.parametrize("answer,message", [
    ("np.dot(D, Y)", "np.dot is not understood here"),
    ("np.multiply(D)", "np.multiply takes 2 arguments here, not 1"),
    ("D @ Y", "'@' is the matrix product"),
    ("dout * D", "'dout' is not a symbol"),
    ("H = D ⊙ Y = ", "nothing after the '='"),
    ("...", "no formula"),
])
def test_refused_notations_say_why(answer, message):
    with pytest.raises(AnswerError, match=message):
        parse_answer(answer, NOTATION)


def test_notes_reach_the_student_with_the_point():
    result = grade_answer(QUIZ, "forward", "D*Y = H.")
    assert (result.status, result.score) == ("passed", 1.0)
    assert "Note: the right-hand side 'H' names what is asked" in result.output
    assert "Note: the punctuation at the end was ignored" in result.output

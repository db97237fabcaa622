"""Untrusted answer text -> validated SymPy expression, without ever executing the text.

Three steps, each with one job (after PrairieLearn's ``sympy_utils``):

1. :func:`normalise` rewrites LaTeX, Unicode and the quiz's notations (``\\odot``, ``A_{12}``,
   ``A₁₂``, ``dL/dZ``, ``\\frac{a}{b}`` ...) into plain arithmetic text and drops a left-hand side.
2. :func:`tokenize` splits that text into numbers, *known* symbols, whitelisted functions and
   operators, and makes implicit multiplication explicit (``a12 b21`` -> ``a12 * b21``). Any
   other name or character is rejected here, so ``__import__``, ``lambda`` and ``.`` never
   reach Python's parser.
3. :func:`build` parses the token text with :func:`ast.parse` (parsing only, no evaluation),
   checks every node against a whitelist and builds the SymPy expression itself, bounding depth,
   exponents, number sizes and polynomial degree so no answer can make SymPy work for long.

What a quiz's answers may name comes from its definition, as a :class:`Notation`: its symbols,
how they are shown in LaTeX, how an answer's left-hand side may be labelled. The rules here are
notation, true of every quiz: ``dL/dZ`` (and ``∂L/∂Z``, ``\\frac{\\partial L}{\\partial Z}``,
``∇_Z L``, ``dL_dZ``) is the symbol ``dLdZ`` whenever the quiz has one; ``A_{12}``, ``A_{1,2}``
and ``A₁₂`` are ``A12``.

Every rejection is an :class:`AnswerError` whose message is written for the student; every
liberty taken in reading an answer (a full stop dropped, sides taken as swapped, ``dL_dZ`` read
as dL/dZ, ...) is a note in :attr:`Parsed.notes`, shown with the answer.

Decisions on notations beyond the contract (docs/architecture.md), each with a note to the student:

* every operator is accepted in its LaTeX and its Unicode spelling (:data:`LATEX_TO_UNICODE`);
  Unicode compatibility forms (math italic 𝑌 and 𝜕, bold digits, full-width letters) are
  NFKC-normalised before anything else;
* trailing punctuation (``a = b c.``) is dropped;
* ``dL_dZ`` (a code name) is read as dL/dZ; other code names are not symbols of the quiz;
* ``\\begin{equation}``/``align`` wrappers, ``&``, ``\\\\``, ``\\label``/``\\tag`` are dropped;
  ``\\text{...}`` is read as its content;
* prose after the formula (``, where m ~ Bernoulli(q)``, ``with ...``) and ``\\text{...}`` in
  words (``\\text{ (elementwise)}``) are dropped; every font command (``\\mathcal``, ``\\mathtt``,
  ...) is read as its content; ``\\nabla_Z L`` is dL/dZ;
* other names for the quiz's symbols (abbreviations, another case, ``A[1,1]``, sums over
  indices, ``E[m]``) are "not understood", with the quiz's symbols listed, so the student's
  preview shows it before the deadline; they are never guessed at;
* sides swapped (``b c = a``): when the right side is only a label of what is asked (one of the
  quiz's declared labels) and the left side is not, the left side is graded; with several
  ``=``, the part after the last one;
* numpy spellings ``np.multiply(a, b)``, ``np.divide``, ``np.sqrt``, ``np.square``,
  ``np.power``, ``np.floor``, ``np.ceil`` and MATLAB's ``.*`` and ``./`` are read as the
  arithmetic they compute; ``@`` (matrix product) and other code are refused with a note.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property

import sympy

MAX_CHARS = 1000  # an answer is one formula; anything longer is a mistake or an attack
MAX_TOKENS = 400
MAX_NESTING = 30  # brackets or braces inside each other
MAX_AST_DEPTH = 120
MAX_EXPONENT = 10  # |n| and denominator of any exponent
MAX_ROOT = 100  # denominator of an exponent once roots of roots combine (sqrt(sqrt(Y)) = Y^(1/4))
MAX_NUMBER_DIGITS = 30
MAX_NUMBER_BITS = 4096  # size of any number the answer computes
MAX_DEGREE = 20  # polynomial degree estimate; the quiz's answers have degree <= 4

FUNCTIONS = {"floor": sympy.floor, "ceil": sympy.ceiling, "ceiling": sympy.ceiling, "sqrt": sympy.sqrt}
_GRADIENT_SYMBOL = re.compile(r"dLd([A-Za-z][A-Za-z0-9]*)")


@dataclass(frozen=True, eq=False)
class Notation:
    """What a quiz's answers may name, declared with its questions (docs/authoring.md).

    - names: every symbol of the quiz (identifiers).
    - latex: how some are shown in LaTeX ("as understood"), e.g. a gradient symbol as a fraction.
    - labels: regular expressions of what an answer's left-hand side may be (``a = ...``); a
      right-hand side matching one is taken as the sides swapped.
    - summary: the symbols as the "not a symbol of this quiz" message lists them (default: all).
    """

    names: tuple[str, ...]
    latex: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()
    summary: str = ""

    @cached_property
    def symbols(self) -> dict[str, sympy.Symbol]:
        """Each name's SymPy symbol (commuting: elementwise products commute)."""
        return {name: sympy.Symbol(name) for name in self.names}

    @cached_property
    def vocabulary(self) -> list[str]:
        return sorted([*self.names, *FUNCTIONS], key=len, reverse=True)  # longest first

    @cached_property
    def latex_names(self) -> dict[sympy.Symbol, str]:
        return {sympy.Symbol(name): shown for name, shown in self.latex}

    @cached_property
    def listed(self) -> str:
        return self.summary or ", ".join(self.names)

    @cached_property
    def label(self) -> re.Pattern | None:
        return re.compile("|".join(f"(?:{label})" for label in self.labels)) if self.labels else None

    @cached_property
    def gradients(self) -> tuple[str, ...]:
        """``Z`` of every symbol ``dLdZ``, the upstream gradient dL/dZ (longest first)."""
        found = (_GRADIENT_SYMBOL.fullmatch(name) for name in self.names)
        return tuple(sorted((m.group(1) for m in found if m), key=len, reverse=True))

    @cached_property
    def gradient(self) -> re.Pattern | None:
        """dL/dZ in every accepted spelling (the font commands are already gone, \\partial is ∂)."""
        if not self.gradients:
            return None
        z = "|".join(re.escape(g) for g in self.gradients)
        return re.compile(
            rf"\\[dt]?frac\s*\{{\s*(?:∂|d)\s*L\s*\}}\s*\{{\s*(?:∂|d)\s*({z})\s*\}}"
            rf"|(?:∂|(?<![A-Za-z])d)\s*L\s*/\s*(?:∂|d)\s*({z})(?![a-z0-9_])"
            rf"|(?:\\nabla|∇)\s*_\s*(?:\{{\s*({z})\s*\}}|({z}))\s*L(?![A-Za-z0-9_])"  # ∇_Z L, the gradient's other spelling
        )

    @cached_property
    def code_gradient(self) -> re.Pattern | None:
        if not self.gradients:
            return None
        return re.compile(r"(?<![A-Za-z0-9_])dL_d(" + "|".join(re.escape(g) for g in self.gradients) + r")(?![A-Za-z0-9_])")

    def as_dict(self) -> dict:
        """The notation as plain data (what the released notebook's preview cell embeds)."""
        return {"names": self.names, "latex": self.latex, "labels": self.labels, "summary": self.summary}


class AnswerError(ValueError):
    """The answer cannot be understood or is refused. ``str(err)`` is shown to the student."""


@dataclass(frozen=True)
class Parsed:
    """An answer as understood.

    - expr: the SymPy expression (commuting symbols: elementwise products commute).
    - names: the symbols it uses.
    - degree: an upper estimate of its polynomial degree (numerator plus denominator).
    - terms: an upper estimate of the number of terms once expanded.
    - has_floor: whether it uses floor/ceiling (integer division).
    - notes: how the answer was read where that was not literal (for the student).
    """

    expr: sympy.Expr
    names: frozenset[str]
    degree: int
    terms: int
    has_floor: bool
    notes: tuple[str, ...] = ()

    @cached_property
    def text(self) -> str:
        """Plain-text form, e.g. ``a*b/c``."""
        return sympy.sstr(self.expr)

    latex_names: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def latex(self) -> str:
        """LaTeX form, e.g. ``\\frac{a b}{c}``; :func:`parse_answer` reads it back."""
        return sympy.latex(self.expr, symbol_names=self.latex_names)


def _quote(fragment: str) -> str:
    """A short, printable quote of part of an answer for an error message."""
    fragment = fragment if len(fragment) <= 20 else fragment[:20] + "..."
    return repr(fragment)


# ---------------------------------------------------------------- step 1: normalise
#: Every operator the parser knows, as LaTeX command -> the Unicode character that means the same
#: (both spellings are read alike; tests enumerate this table).
LATEX_TO_UNICODE: dict[str, str] = {
    r"\odot": "⊙", r"\circ": "∘", r"\cdot": "⋅", r"\cdotp": "·", r"\centerdot": "·", r"\times": "×",
    r"\ast": "∗", r"\bullet": "•", r"\otimes": "⊗", r"\div": "÷", r"\partial": "∂", r"\sqrt": "√",
    r"\lfloor": "⌊", r"\rfloor": "⌋", r"\lceil": "⌈", r"\rceil": "⌉", r"\lbrace": "{", r"\rbrace": "}",
}
#: Unicode operators -> their plain-text reading (after NFKC, which maps their compatibility forms).
UNICODE_TO_TEXT: dict[str, str] = {
    "⊙": "*", "∘": "*", "·": "*", "⋅": "*", "×": "*", "∗": "*", "•": "*", "⊗": "*",
    "−": "-", "–": "-", "—": "-", "÷": "/", "⁄": "/", "∕": "/",
    "⌊": " floor(", "⌋": ") ", "⌈": " ceiling(", "⌉": ") ",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": " ",
}
_TO_TEXT = str.maketrans(UNICODE_TO_TEXT)
_LATEX_OPERATOR = re.compile("(?:" + "|".join(re.escape(c) for c in sorted(LATEX_TO_UNICODE, key=len, reverse=True))
                             + r")(?![A-Za-z])")
_SUPERSCRIPT = str.maketrans({"⁻": "-", "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4",
                              "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9"})
_SUPERSCRIPT_RUN = re.compile("[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_WRAPPERS = re.compile(r"\\(?:begin|end)\s*\{\s*[A-Za-z]+\*?\s*\}|\\(?:label|tag)\s*\{[^{}]*\}|\\no(?:number|tag)\b"
                       r"|\\\\|&")
_DELIMITERS = re.compile(r"\$|\\\(|\\\)|\\\[|\\\]|\\left\b|\\right\b|\\[bB]igg?[lr]?\b|\\displaystyle\b")
_SPACING = re.compile(r"\\[,;:!> ]|\\q?quad\b")
_FONT = re.compile(r"\\(?:mathbf|boldsymbol|bm|pmb|mathrm|mathit|mathsf|mathtt|mathcal|mathscr|mathnormal"
                   r"|text|textrm|textit|textbf|textsf|texttt|textnormal|textup|operatorname)"
                   r"\s*\{([^{}]*)\}")
_SUBSCRIPT = re.compile(r"(?<![A-Za-z])([A-Za-z])\s*_\s*(?:\{\s*(\d)\s*,?\s*(\d)\s*\}|(\d)(\d))")
_NUMPY = re.compile(r"(?<![A-Za-z0-9_])(?:np|numpy)\s*\.\s*([A-Za-z_]+)")
_NUMPY_FUNCTIONS = {  # name -> (number of arguments, template)
    "multiply": (2, "(({0})*({1}))"), "divide": (2, "(({0})/({1}))"), "true_divide": (2, "(({0})/({1}))"),
    "power": (2, "(({0})^({1}))"), "square": (1, "(({0})^2)"), "sqrt": (1, "√({0})"),
    "floor": (1, "floor({0})"), "ceil": (1, "ceiling({0})"),
}
_MATLAB = re.compile(r"\.\s*([*/^])")
_TRAILING = re.compile(r"\s*[.,;:!][\s.,;:!]*$")
# Prose after a formula: "..., where m ~ Bernoulli(q)", "\text{ (elementwise)}" (a \text{...}
# holding a bracket or words, unlike \text{k}). Dropped with a note; "if"/"for" are not, since
# "a if m = 1 else 0" read without them would be a different formula.
_PROSE = re.compile(r"[\s,;]*(?:\\text[a-z]*\s*\{\s*)?(?<![A-Za-z])(?:where|with)(?![A-Za-z]).*$", re.I | re.S)
_PROSE_TEXT = re.compile(r"\\text[a-z]*\s*\{(?=[^{}]*(?:\(|[A-Za-z]\s+[A-Za-z]))[^{}]*\}")
_FRAC = re.compile(r"\\[dt]?frac(?![A-Za-z])")
_COMMAND = re.compile(r"\\([A-Za-z]+|.?)")


def _brace_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")}]":
            depth -= 1
    return deepest


def _group(text: str, i: int) -> tuple[str, int]:
    """The argument of a LaTeX command at ``text[i:]``: a ``{...}`` group or one character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        raise AnswerError(r"\frac needs two arguments, as in \frac{1}{p}")
    if text[i] != "{":
        if text[i] == "\\":
            m = _COMMAND.match(text, i)
            return m.group(0), m.end()
        return text[i], i + 1
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j], j + 1
    raise AnswerError("a '{' is never closed")


def _bracketed(text: str, i: int, opening: str = "(") -> tuple[str, int]:
    """The text inside the brackets opening at ``text[i]`` and the index after them."""
    closing = {"(": ")", "[": "]", "{": "}"}[opening]
    depth = 0
    for j in range(i, len(text)):
        depth += {opening: 1, closing: -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j], j + 1
    raise AnswerError(f"a '{opening}' is never closed")


def _fracs(text: str) -> str:
    """``\\frac{a}{b}`` -> ``((a)/(b))``, innermost arguments included (depth is bounded)."""
    out, i = [], 0
    while True:
        m = _FRAC.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out)
        num, j = _group(text, m.end())
        den, k = _group(text, j)
        out.append(text[i:m.start()])
        out.append(f"(({_fracs(num)})/({_fracs(den)}))")
        i = k


_ROOT_OPERAND = re.compile(r"\s*(\d+(?:\.\d+)?|[A-Za-z][A-Za-z0-9]*)")


def _roots(text: str) -> str:
    """``√x``, ``√(a)``, ``√{a}`` (``\\sqrt{a}``) and ``√[n]{a}`` -> ``((a)^(1/(n)))``."""
    out, i = [], 0
    while True:
        j = text.find("√", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k = j + 1
        while k < len(text) and text[k] == " ":
            k += 1
        degree = "2"
        if text.startswith("[", k):
            degree, k = _bracketed(text, k, "[")
            while k < len(text) and text[k] == " ":
                k += 1
        if text.startswith("(", k) or text.startswith("{", k):
            operand, k = _bracketed(text, k, text[k])
        else:
            m = _ROOT_OPERAND.match(text, k)
            if not m:
                raise AnswerError("a square root needs its argument, as in √(Y) or \\sqrt{Y}")
            operand, k = m.group(1), m.end()
        out.append(f"(({_roots(operand)})^(1/({degree})))")
        i = k


def _numpy_calls(text: str, notes: list[str]) -> str:
    """``np.multiply(a, b)`` and friends -> the arithmetic they compute (with a note)."""
    while True:
        m = _NUMPY.search(text)
        if not m:
            return text
        name = m.group(1)
        if name not in _NUMPY_FUNCTIONS:
            raise AnswerError(f"np.{name} is not understood here: write the answer as a formula, e.g. a*b for np.multiply(a, b)")
        arity, template = _NUMPY_FUNCTIONS[name]
        k = m.end()
        while k < len(text) and text[k] == " ":
            k += 1
        if not text.startswith("(", k):
            raise AnswerError(f"np.{name} must be followed by its arguments in brackets")
        inside, end = _bracketed(text, k)
        args, depth, start = [], 0, 0
        for pos, ch in enumerate(inside):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                args.append(inside[start:pos])
                start = pos + 1
        args.append(inside[start:])
        if len(args) != arity:
            raise AnswerError(f"np.{name} takes {arity} argument{'s' * (arity > 1)} here, not {len(args)}")
        note = f"np.{name}(...) was read as the formula it computes"
        if note not in notes:
            notes.append(note)
        text = text[:m.start()] + template.format(*args) + text[end:]


def _is_label(side: str, notation: Notation) -> bool:
    bare = re.sub(r"\s+", "", _FONT.sub(r"\1", side))
    return bool(notation.label and notation.label.fullmatch(bare))


def _right_hand_side(text: str, notes: list[str], notation: Notation) -> str:
    """The part of ``text`` that is the answer: after the (last) ``=``, or before it when the
    sides are swapped (``b*c = a``: the right side only names what is asked)."""
    parts = text.split("=")
    if len(parts) == 1:
        return text
    if len(parts) == 2 and parts[0].strip() and _is_label(parts[1], notation) and not _is_label(parts[0], notation):
        notes.append(f"the right-hand side {_quote(parts[1].strip())} names what is asked, so the "
                     "left-hand side was graded")
        return parts[0]
    if len([p for p in parts if p.strip()]) > 2:
        notes.append("only the part after the last '=' was graded")
    return parts[-1]


def _vulgar_fractions(text: str) -> str:
    """``½`` -> ``(1/2)``: NFKC would write it as ``1⁄2``, which binds wrongly in ``Y/½``."""
    return "".join(
        f"({unicodedata.normalize('NFKC', ch).replace(chr(0x2044), '/')})"
        if unicodedata.decomposition(ch).startswith("<fraction>") else ch
        for ch in text
    )


def _substitute(pattern: re.Pattern, replacement: str, text: str, note: str, notes: list[str]) -> str:
    new = pattern.sub(replacement, text)
    if new != text and note not in notes:
        notes.append(note)
    return new


def _gradient_name(match: re.Match) -> str:
    return " dLd" + next(g for g in match.groups() if g) + " "


def read(text: str, notation: Notation) -> tuple[str, list[str]]:
    """:func:`normalise` plus the notes on how the answer was read (for the student)."""
    notes: list[str] = []
    if not isinstance(text, str):
        raise AnswerError(f"the answer must be a string, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise AnswerError(f"the answer is {len(text)} characters long; answers are limited to {MAX_CHARS}")
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPT) + "}", text)
    # Compatibility forms (math italic 𝑌 and 𝜕, bold 𝟏, full-width Ｙ, subscript ₁) -> plain,
    # before any table is applied; superscripts are done above because NFKC turns Y² into Y2.
    text = unicodedata.normalize("NFKC", _vulgar_fractions(text))
    if len(text) > 2 * MAX_CHARS:  # a few characters expand a lot under NFKC
        raise AnswerError(f"the answer is too long once its symbols are spelled out (over {2 * MAX_CHARS})")
    text = _substitute(_WRAPPERS, " ", text, "LaTeX environments, '&' and '\\\\' were ignored", notes)
    text = _LATEX_OPERATOR.sub(lambda m: LATEX_TO_UNICODE[m.group(0)], text)
    text = _DELIMITERS.sub(" ", text)
    text = _SPACING.sub(" ", text)
    if "@" in text:
        raise AnswerError("'@' is the matrix product; the elementwise product is written *, ⊙ or \\odot")
    text = _numpy_calls(text, notes)
    text = _substitute(_MATLAB, r"\1", text, "MATLAB's .* ./ .^ were read as * / ^", notes)
    if notation.code_gradient:
        for z in sorted(set(notation.code_gradient.findall(text)), key=notation.gradients.index):
            note = f"dL_d{z} was read as dL/d{z}"
            if note not in notes:
                notes.append(note)
        text = notation.code_gradient.sub(lambda m: f" dLd{m.group(1)} ", text)
    text = _substitute(_PROSE, "", text, "the words from 'where' or 'with' on were not graded", notes)
    text = _substitute(_PROSE_TEXT, " ", text, "text in words was not graded", notes)
    text = _substitute(_TRAILING, "", text, "the punctuation at the end was ignored", notes)
    if not text.strip():
        raise AnswerError("the answer has no formula")
    # A left-hand side (a = ..., dL/dZ = ..., E[a] = ...) is allowed and ignored.
    text = _right_hand_side(text, notes, notation)
    if not text.strip():
        raise AnswerError("there is nothing after the '='")
    if _brace_depth(text) > MAX_NESTING:
        raise AnswerError(f"brackets are nested more than {MAX_NESTING} deep")
    for _ in range(3):  # \mathbf{\text{m}}: fonts inside fonts
        text = _FONT.sub(r" \1 ", text)
    text = _SUBSCRIPT.sub(lambda m: m.group(1) + "".join(g for g in m.groups()[1:] if g), text)
    if notation.gradient:
        text = notation.gradient.sub(_gradient_name, text)
    text = _roots(text)
    text = text.translate(_TO_TEXT)
    text = _fracs(text)
    leftover = _COMMAND.search(text)
    if leftover:
        raise AnswerError(f"the LaTeX command {_quote(leftover.group(0))} is not understood here")
    if "∂" in text:
        if not notation.gradients:
            raise AnswerError("∂ is not understood here")
        spelled = " and ".join(f"dL/d{z} (∂L/∂{z})" for z in notation.gradients)
        raise AnswerError(f"∂ is understood only in {spelled}")
    if "[" in text or "]" in text:
        raise AnswerError("square brackets [ ] are not understood: use round brackets ( ) for grouping")
    text = text.replace("^", "**")
    return text.translate(str.maketrans("{}", "()")), notes


def normalise(text: str, notation: Notation) -> str:
    """Rewrite an answer's LaTeX/Unicode notation as plain arithmetic text; drop any LHS.

    With a symbol ``dLdZ`` in ``notation``,
    ``r"\\frac{\\partial L}{\\partial a} = \\frac{\\partial L}{\\partial Z} \\odot \\frac{m}{q}"``
    becomes ``" dLdZ  *  ((m)/(q))"``. Raises :class:`AnswerError` for what it cannot read.
    """
    return read(text, notation)[0]


# ---------------------------------------------------------------- step 2: tokenize
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|//|[-+*/(),]))"
)


def _split_name(name: str, notation: Notation) -> list[str]:
    """``a12b21`` -> ``["a12", "b21"]`` using only known names (longest match first)."""
    parts, i = [], 0
    while i < len(name):
        for word in notation.vocabulary:
            if name.startswith(word, i):
                parts.append(word)
                i += len(word)
                break
        else:
            raise AnswerError(f"{_quote(name)} is not a symbol of this quiz "
                              f"(its symbols: {notation.listed})")
    return parts


def tokenize(text: str, notation: Notation) -> list[tuple[str, str]]:
    """Normalised text -> ``[(kind, token)]`` with kind ``num``/``name``/``func``/``op`` and
    implicit multiplication made explicit. Unknown names and characters raise AnswerError."""
    raw: list[tuple[str, str]] = []
    i = 0
    text = text.rstrip()
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            ch = text[i:].lstrip()[:1]
            raise AnswerError(f"the character {ch!r} is not understood")
        i = m.end()
        if m.group("num"):
            if len(m.group("num")) > MAX_NUMBER_DIGITS:
                raise AnswerError(f"numbers are limited to {MAX_NUMBER_DIGITS} digits")
            raw.append(("num", m.group("num")))
        elif m.group("name"):
            if text[i:].lstrip().startswith("(") and m.group("name") not in FUNCTIONS:
                try:
                    _split_name(m.group("name"), notation)
                except AnswerError:  # Max(...), exp(...): say it is the function that is unknown
                    raise AnswerError(f"{m.group('name')[:20]}(...) is not a function this quiz knows "
                                      f"(it knows {', '.join(sorted(FUNCTIONS))})") from None
            raw += [("func" if w in FUNCTIONS else "name", w) for w in _split_name(m.group("name"), notation)]
        else:
            raw.append(("op", m.group("op")))
        if len(raw) > MAX_TOKENS:
            raise AnswerError(f"the answer is too long ({MAX_TOKENS} symbols and operators at most)")
    for (kind, tok), (_, following) in zip(raw, raw[1:] + [("", "")]):
        if kind == "func" and following != "(":
            raise AnswerError(f"{tok} must be followed by brackets, as in floor(x)")
    tokens: list[tuple[str, str]] = []
    for kind, tok in raw:
        if tokens:
            prev_kind, prev = tokens[-1]
            ends_operand = prev_kind in ("num", "name") or prev == ")"
            starts_operand = kind in ("num", "name", "func") or tok == "("
            if ends_operand and starts_operand:
                tokens.append(("op", "*"))  # implicit multiplication: "2 a", "a12 b21", ")("
        tokens.append((kind, tok))
    if not tokens:
        raise AnswerError("the answer is empty")
    return tokens


def _python_text(tokens: list[tuple[str, str]]) -> str:
    out = []
    for kind, tok in tokens:
        if kind == "num" and "." in tok:
            whole, frac = tok.split(".")
            tok = f"({int(whole + frac)}/1{'0' * len(frac)})"  # exact: 0.25 -> (25/100)
        out.append(tok)
    return " ".join(out)


# ---------------------------------------------------------------- step 3: build
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow)
_CAP = 10**9


def _ast_depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)]
    return deepest


def _bits(number: sympy.Rational) -> int:
    return int(abs(number.p)).bit_length() + int(number.q).bit_length()


def _roots_bounded(expr: sympy.Expr) -> sympy.Expr:
    if any(power.exp.is_Rational and power.exp.q > MAX_ROOT for power in expr.atoms(sympy.Pow)):
        raise AnswerError(f"roots are limited to degree {MAX_ROOT} (square roots of square roots, ...)")
    return expr


def _checked(expr: sympy.Expr) -> sympy.Expr:
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise AnswerError("the answer divides by zero")
    if expr.is_Rational and _bits(expr) > MAX_NUMBER_BITS:
        raise AnswerError("a number in the answer is too large")
    return expr


def _pow(base, exp) -> tuple[sympy.Expr, int, int]:
    (b, bdeg, bterms), (e, _, _) = base, exp
    if not e.is_Rational or abs(e.p) > MAX_EXPONENT or e.q > MAX_EXPONENT:
        raise AnswerError(f"exponents must be plain numbers between -{MAX_EXPONENT} and {MAX_EXPONENT}")
    if b.is_Rational and _bits(b) * abs(e) > MAX_NUMBER_BITS:
        raise AnswerError("a number in the answer is too large")
    n = int(abs(e.p) // e.q) + 1 if e.q > 1 else abs(e.p)
    return _roots_bounded(_checked(b**e)), bdeg * n, min(bterms**n, _CAP)


def _node(node: ast.AST, symbols: dict[str, sympy.Symbol]) -> tuple[sympy.Expr, int, int]:
    """(expression, degree estimate, expanded-terms estimate) of a whitelisted AST node."""
    if isinstance(node, ast.Expression):
        return _node(node.body, symbols)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sympy.Integer(node.value), 0, 1
    if isinstance(node, ast.Name) and node.id in symbols:
        return symbols[node.id], 1, 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        expr, deg, terms = _node(node.operand, symbols)
        return (-expr if isinstance(node.op, ast.USub) else expr), deg, terms
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        left, right = _node(node.left, symbols), _node(node.right, symbols)
        (a, adeg, aterms), (b, bdeg, bterms) = left, right
        if isinstance(node.op, ast.Pow):
            return _pow(left, right)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            expr = a + b if isinstance(node.op, ast.Add) else a - b
            return _checked(expr), max(adeg, bdeg), min(aterms + bterms, _CAP)
        if isinstance(node.op, ast.Mult):
            return _checked(a * b), adeg + bdeg, min(aterms * bterms, _CAP)
        if b == 0:
            raise AnswerError("the answer divides by zero")
        expr = a / b if isinstance(node.op, ast.Div) else sympy.floor(a / b)
        return _checked(expr), adeg + bdeg, min(aterms * bterms, _CAP)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
    ):
        expr, deg, terms = _node(node.args[0], symbols)
        return _roots_bounded(_checked(FUNCTIONS[node.func.id](expr))), deg, terms
    # The tokenizer lets nothing else through; this is the second line of defence.
    raise AnswerError("the answer contains something other than numbers, symbols and arithmetic")


def build(tokens: list[tuple[str, str]], notation: Notation) -> Parsed:
    """Validated tokens -> :class:`Parsed`, checking every AST node against the whitelist."""
    source = _python_text(tokens)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise AnswerError("this could not be read as a formula: check the brackets and operators") from None
    if _ast_depth(tree) > MAX_AST_DEPTH:
        raise AnswerError("the formula is nested too deeply")
    try:
        expr, degree, terms = _node(tree, notation.symbols)
    except AnswerError:
        raise
    except RecursionError:
        raise AnswerError("the formula is nested too deeply") from None
    except Exception:  # anything SymPy raises on odd input is a "not understood", never a crash
        raise AnswerError("this could not be read as a formula") from None
    if degree > MAX_DEGREE:
        raise AnswerError(f"the answer is too complicated (its degree is above {MAX_DEGREE})")
    names = frozenset(s.name for s in expr.free_symbols)
    return Parsed(expr, names, degree, terms, expr.has(sympy.floor, sympy.ceiling), latex_names=notation.latex_names)


def parse_answer(text: str, notation: Notation) -> Parsed:
    """Untrusted answer text (plain or LaTeX, optionally with a left-hand side) -> Parsed, in the
    quiz's ``notation``.

    Raises :class:`AnswerError` with a student-facing message when it is not understood or is
    refused. Never evaluates the text.
    """
    normalised, notes = read(text, notation)
    parsed = build(tokenize(normalised, notation), notation)
    return replace(parsed, notes=tuple(notes)) if notes else parsed

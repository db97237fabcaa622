"""Student-facing exception text, built by the judge from the student's raw words.

An exception's type name and text come from the student's process, so they are the student's
word: the code could put the hidden inputs there, as digits, floats, base64 or hex of
``x.tobytes()``, or a printed array. The judge therefore rebuilds every message here, never in
the worker (where student code could switch the masking off): only values the student may see
survive, i.e. the case's public parameters (:func:`public_values`, derived from the call's
arguments); every other number, long digit run, hex or base64-like run and printed array
becomes "...", control characters go, and the text is bounded in length and lines.

A seed is a hidden input (it decides the mask a check expects), so its value is masked like
any other. What survives is words and public numbers; a hostile submission can still spell a
few bits with words (e.g. "yes"/"no" on the sign of one input), at most what fits in
:data:`MAX_TEXT` characters, never an array.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from grader.plain import MAX_STR

MAX_TEXT = 300  # characters of the student's text kept in a message
MAX_LINES = 4
MAX_RAW = MAX_STR  # of the raw text the worker sends and the judge reads: the wire refuses longer strings
MAX_TYPE_NAME = 40
MAX_NUMBERS = 12  # public numbers kept per message; real errors name two shapes and an index or so
MASK = "..."
SECRET_KEYS = frozenset({"seed"})  # dict parameters whose values are hidden inputs

# whitespace but space and newline; control, invisible and bidi characters; lone surrogates (no UTF-8)
_CONTROL = re.compile(r"[^\S\n ]|[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")
# No pattern backtracks over more than one short run (the runs of 32+ characters go first, as
# _ENCODED), so the time to mask is linear in the text and no text makes the judge slow.
# ASCII classes: any other digit (Arabic-Indic, fullwidth, ...) is caught by the last pass.
_A = re.ASCII
_ARRAY_CALL = re.compile(r"array\((?:[^()]|\([^()]*\))*\)")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")  # the innermost [...]
_ENCODED = re.compile(r"[A-Za-z0-9+/=_\-]{12,}")  # base64, urlsafe base64, hex, long mixed runs
_HEX = re.compile(r"\b0[xX][0-9a-fA-F]+|\b[0-9a-fA-F]{6,}\b", _A)
_SLASHED = re.compile(r"[\w+/]*[+/][\w+/]*", _A)  # base64 chunks: words glued with + or /
_WORD = re.compile(r"[\w+/]+", _A)
_NAME_WITH_DIGITS = re.compile(r"(?:[a-z_]+|[A-Z][a-z_]*)(?:\d|16|32|64|128|[123]d)", _A)  # float64, Conv2d, x1
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w|\.\d)|\b(?:nan|inf)\b", re.I | _A)
_ANY_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"[\w+/.\-]+")
MAX_DIGIT_RUNS = 64  # more numbers than any real error names: every one of them is masked, quickly
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Public:
    """Numbers a message may show: integers (shapes, sizes, dims, indices within them, public
    integer parameters) and floats (public float parameters such as a rate or a step size)."""

    ints: frozenset[int] = frozenset()
    max_index: int = 0  # 0 <= n < max_index: an index within one of the shapes
    floats: frozenset[float] = frozenset()

    def allows(self, token: str) -> bool:
        """Whether the numeric ``token`` names a public value."""
        try:
            value = float(token)
        except ValueError:
            return False
        if not math.isfinite(value):
            return False
        if value == int(value) and re.fullmatch(r"[-+]?\d+", token):
            n = int(token)
            return n in self.ints or 0 <= n < self.max_index
        return value in self.floats


NO_PUBLIC = Public()


def public_values(args: Iterable[Any], extra: Iterable[int] = ()) -> Public:
    """The numbers a call's arguments make public: each array argument's shape, dims, size and
    number of dimensions (and every index within the shape), and the int/float values of its
    dict parameters except :data:`SECRET_KEYS`, and the ``extra`` integers the judge itself
    knows (e.g. the tuple size a call expects). Scalars passed on their own and every array's
    contents stay hidden."""
    ints: set[int] = {0, 1, *extra}
    floats: set[float] = set()
    max_index = 0
    for arg in args:
        if isinstance(arg, np.ndarray):
            ints.update(arg.shape)
            ints.update((arg.ndim, arg.size, -1))
            ints.update(-k for k in range(1, arg.ndim + 1))  # negative axes
            max_index = max(max_index, *arg.shape, arg.ndim, 0)
        elif type(arg) is dict:
            for key, value in arg.items():
                if key in SECRET_KEYS or type(value) is bool:
                    continue
                if type(value) is int:
                    ints.add(value)
                elif type(value) is float and math.isfinite(value):
                    floats.add(value)
                    if value == int(value):
                        ints.add(int(value))
    return Public(frozenset(ints), max_index, frozenset(floats))


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` without control or invisible characters, at most ``MAX_LINES`` lines and
    ``limit`` characters (then "...")."""
    text = _CONTROL.sub(" ", text[:MAX_RAW].replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    text = "\n".join(lines[:MAX_LINES])
    return text if len(text) <= limit else text[:limit] + MASK


def mask_text(text: str, public: Public = NO_PUBLIC) -> str:
    """The student's raw exception ``text`` as a student may see it: printed arrays, encoded runs
    and every number that is not ``public`` replaced by "...", then bounded (:func:`clean`)."""
    text = _CONTROL.sub(" ", text[:MAX_RAW])
    text = _ARRAY_CALL.sub("[...]", text)
    for _ in range(8):  # nested lists: the innermost go first
        masked = _BRACKETS.sub(lambda m: "[...]" if _ANY_DIGITS.search(m.group()) else m.group(), text)
        if masked == text:
            break
        text = masked
    text = _cut_off_dump(text)
    text = _ENCODED.sub(lambda m: m.group() if len(m.group()) < 32 and not _ANY_DIGITS.search(m.group()) else MASK, text)
    text = _HEX.sub(lambda m: MASK if re.search(r"[0-9].*[a-fA-F]|[a-fA-F].*[0-9]|^0[xX]", m.group()) else m.group(), text)
    text = _SLASHED.sub(lambda m: MASK if len(m.group()) >= 4 and re.search("[A-Za-z]", m.group()) else m.group(), text)
    if len(_ANY_DIGITS.findall(text)) > MAX_DIGIT_RUNS:  # a dump in some other form: no number is kept
        return clean(_TOKEN.sub(lambda m: MASK if _ANY_DIGITS.search(m.group()) else m.group(), text))
    kept: list[str] = []  # tokens that stay, each held out of the text until the end

    def hold(token: str) -> str:
        kept.append(token)
        return f"\x00{chr(0xE000 + len(kept) - 1)}"

    def word(match: re.Match) -> str:  # "float64", "int32", "conv2d", "x1" name things; "x12345" may be data
        token = match.group()
        if not _ANY_DIGITS.search(token) or token.isdigit():
            return token
        return hold(token) if _NAME_WITH_DIGITS.fullmatch(token) else MASK

    numbers = 0

    def number(match: re.Match) -> str:
        nonlocal numbers
        if numbers >= MAX_NUMBERS or not public.allows(match.group()):
            return MASK
        numbers += 1
        return hold(match.group())

    text = _NUMBER.sub(number, _WORD.sub(word, text))
    text = _ANY_DIGITS.sub(MASK, text)  # any digit left ("1.2.3", "3.5.", "١٢٣") is no public number
    text = re.sub("\x00(.)", lambda m: kept[ord(m.group(1)) - 0xE000], text, flags=re.S)
    return clean(text)


def _cut_off_dump(text: str) -> str:
    """``text`` without a printed array that the length cap cut off (its end is lost)."""
    start = text.find("array(")
    if start >= 0:  # every whole one was replaced already
        text = text[:start] + "[...]"
    start = text.find("[", text.rfind("]") + 1)
    if start >= 0 and _ANY_DIGITS.search(text, start):
        text = text[:start] + "[...]"
    return text


def type_name(raw: Any) -> str:
    """A validated exception type name: an identifier of at most ``MAX_TYPE_NAME`` characters
    with at most two digits (so it carries no number), else "Exception"."""
    if (type(raw) is str and len(raw) <= MAX_TYPE_NAME and _TYPE_NAME.fullmatch(raw)
            and sum(c.isdigit() for c in raw) <= 2):
        return raw
    return "Exception"


def raised_message(name: str, exc_type: Any, text: Any, public: Public = NO_PUBLIC) -> str:
    """Student-facing text for an exception of type ``exc_type`` (its name, the student's word)
    with message ``text`` raised by the student's function ``name``."""
    kind = type_name(exc_type)
    if kind == "NotImplementedError":
        return f"{name} is not implemented yet (it raised NotImplementedError)"
    masked = mask_text(text, public) if type(text) is str else ""
    return f"{name} raised {kind}: {masked}" if masked else f"{name} raised {kind}"


def exception_text(exc: BaseException, limit: int = MAX_RAW) -> tuple[str, str]:
    """(type name, text) of an exception, raw and cut to ``limit`` characters: what the worker
    sends (the judge masks it). Never raises, whatever the exception's ``__str__`` does."""
    try:
        kind = type(exc).__name__
        kind = kind if type(kind) is str else ""
    except BaseException:
        kind = ""
    try:
        text = str(exc)
        text = text[:limit] if type(text) is str else ""
    except BaseException:
        text = ""
    return kind[:MAX_TYPE_NAME + 1], text


MAX_SHOWN_DIMS = 8


def shape_shown(shape: tuple[int, ...], *public: tuple[int, ...]) -> str:
    """A shape the student's code returned, as a message may show it.

    The returned shape is the student's word like an exception text: an empty array of shape
    (0, v1, v2, ...) would carry hidden values into the feedback. A dimension is shown when it is
    small (at most twice the largest dimension of the ``public`` shapes, the call's and the
    expected ones, which explains every real mistake: a missing pad, a transposed axis, a
    dropped batch); any other becomes ``...``, and more than :data:`MAX_SHOWN_DIMS` axes are only
    counted."""
    if len(shape) > MAX_SHOWN_DIMS:
        return f"(an array with {len(shape)} axes)"
    bound = _shown_bound(public)
    shown = [str(d) if 0 <= d <= bound else MASK for d in shape]
    return "(" + ", ".join(shown) + ("," if len(shown) == 1 else "") + ")"


def difference_shown(diff: int, *public: tuple[int, ...]) -> str:
    """``abs(diff)`` between a returned and an expected dimension, masked like :func:`shape_shown`."""
    return str(abs(diff)) if abs(diff) <= _shown_bound(public) else "far"


def _shown_bound(public: tuple[tuple[int, ...], ...]) -> int:
    """The largest dimension a message may show: twice the largest public one."""
    return 2 * max((d for s in public for d in s), default=1)


def axes_shown(ndim: int) -> str:
    """A returned array's number of axes, as a message may show it (see :func:`shape_shown`)."""
    return str(ndim) if ndim <= MAX_SHOWN_DIMS else f"more than {MAX_SHOWN_DIMS}"

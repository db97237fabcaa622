"""Answer keys derived from the reference code and SymPy, never typed.

* ``forward``: the quiz's definition of dropout, H = D * Y (elementwise products commute, so
  they are scalar products here).
* ``forward_inverted``: the scale c that makes E[c * D * Y] = Y with D ~ Bernoulli(p)
  (``sympy.stats``), cross-checked against the reference ``solutions.dropout.dropout_forward``.
* ``backward``/``backward_inverted``: the chain rule, dL/dH * dH/dY, by SymPy differentiation.
* ``O11``..``O22``: the reference ``solutions.conv.conv_forward_naive`` run on object arrays of
  SymPy symbols.
* ``Hout``/``Wout``: fitted to the reference convolution's output shape over integer tuples
  (ansatz a0 + (a1*H + a2*pad + a3*HH)/stride, solved exactly, then checked on every tuple).
* ``expectation``/``variance``: of the inverted forward answer, with ``sympy.stats``.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Callable

import numpy as np
import sympy
from sympy import stats

from grader.quiz import ANSWER_NAMES
from grader.quiz.equivalence import Comparison, seed_for
from grader.quiz.parse import SYMBOLS, AnswerError, parse_answer
from grader.quiz.questions import QUESTIONS

D, Y, p, dLdH = SYMBOLS["D"], SYMBOLS["Y"], SYMBOLS["p"], SYMBOLS["dLdH"]


class KeyDerivationError(RuntimeError):
    """The references and the derivation disagree: the quiz cannot be graded."""


def mask_moment(expr: sympy.Expr, moment: str) -> sympy.Expr:
    """``E`` or ``variance`` of ``expr`` with the mask D ~ Bernoulli(p) and Y fixed."""
    mask = stats.Bernoulli("D", p)
    fn = stats.E if moment == "E" else stats.variance
    return sympy.factor(fn(expr.xreplace({D: mask})))


def _check_reference_scale(scale: sympy.Expr) -> None:
    """The reference dropout keeps a fraction ~p of units and multiplies them by ``scale``."""
    from solutions.dropout import dropout_forward

    state = np.random.get_state()  # the reference seeds numpy's global generator
    try:
        for keep in (0.25, 0.5, 0.8):
            out, _ = dropout_forward(np.ones(4000), {"p": keep, "mode": "train", "seed": 1})
            kept = out[out != 0]
            # Seeded, so deterministic; 0.05 is > 10 standard deviations of the kept fraction.
            if abs(kept.size / out.size - keep) > 0.05 or not np.allclose(kept, float(scale.subs(p, keep))):
                raise KeyDerivationError(f"solutions.dropout does not scale kept units by {scale} at p={keep}")
    finally:
        np.random.set_state(state)


def _dropout_keys() -> dict[str, sympy.Expr]:
    c = sympy.Symbol("c")
    forward = D * Y
    scales = sympy.solve(sympy.Eq(mask_moment(c * forward, "E"), Y), c)
    if len(scales) != 1:
        raise KeyDerivationError(f"no unique inverted-dropout scale: {scales}")
    forward_inverted = scales[0] * forward
    _check_reference_scale(scales[0])
    return {
        "forward": forward,
        "backward": dLdH * sympy.diff(forward, Y),
        "forward_inverted": forward_inverted,
        "backward_inverted": dLdH * sympy.diff(forward_inverted, Y),
        "expectation": mask_moment(forward_inverted, "E"),
        "variance": mask_moment(forward_inverted, "variance"),
    }


def conv_outputs(filter_transform: Callable[[np.ndarray], np.ndarray] = lambda w: w) -> dict[str, sympy.Expr]:
    """``O11``..``O22`` from the reference convolution on symbols (optionally of a changed
    filter, e.g. flipped, to derive the misconceptions' formulas the same way)."""
    from solutions.conv import conv_forward_naive

    x = np.array([[SYMBOLS[f"X{i}{j}"] for j in (1, 2, 3)] for i in (1, 2, 3)], dtype=object)
    w = np.array([[SYMBOLS[f"W{i}{j}"] for j in (1, 2)] for i in (1, 2)], dtype=object)
    w = np.array(filter_transform(w), dtype=object)
    out, _ = conv_forward_naive(
        x.reshape(1, 1, 3, 3), w.reshape(1, 1, 2, 2), np.zeros(1, dtype=object), {"stride": 1, "pad": 0}
    )
    if out.shape != (1, 1, 2, 2):
        raise KeyDerivationError(f"the reference convolution gave shape {out.shape}, not (1, 1, 2, 2)")
    return {f"O{i + 1}{j + 1}": sympy.expand(out[0, 0, i, j]) for i in (0, 1) for j in (0, 1)}


def _size_tuples():
    for stride in (1, 2, 3):
        for pad in (0, 1, 2):
            for kernel in (1, 2, 3):
                for k in range(4):
                    size = kernel - 2 * pad + stride * k
                    if size >= 1:
                        yield size, kernel, pad, stride


def _fit_output_size(axis: int) -> sympy.Expr:
    """Hout (axis 2) or Wout (axis 3) fitted to the reference convolution's output shape."""
    from solutions.conv import conv_forward_naive

    size_name, kernel_name = ("H", "HH") if axis == 2 else ("W", "WW")
    size_s, kernel_s, pad_s, stride_s = (SYMBOLS[n] for n in (size_name, kernel_name, "pad", "stride"))
    a = sympy.symbols("a0:4")
    equations, observed = [], []
    for size, kernel, pad, stride in _size_tuples():
        x_shape, w_shape = [1, 1, 1, 1], [1, 1, 1, 1]
        x_shape[axis], w_shape[axis] = size, kernel
        out, _ = conv_forward_naive(np.zeros(x_shape), np.zeros(w_shape), np.zeros(1), {"stride": stride, "pad": pad})
        observed.append(((size, kernel, pad, stride), out.shape[axis]))
        equations.append(a[0] * stride + a[1] * size + a[2] * pad + a[3] * kernel - out.shape[axis] * stride)
    solutions = sympy.linsolve(equations, a)
    if len(solutions) != 1 or any(v.free_symbols for v in next(iter(solutions))):
        raise KeyDerivationError(f"the reference's output size fits no unique formula ({solutions})")
    a0, a1, a2, a3 = next(iter(solutions))
    key = a0 + (a1 * size_s + a2 * pad_s + a3 * kernel_s) / stride_s
    for (size, kernel, pad, stride), got in observed:
        if key.subs({size_s: size, kernel_s: kernel, pad_s: pad, stride_s: stride}) != got:
            raise KeyDerivationError("the fitted output-size formula disagrees with the reference")
    return key


@lru_cache(maxsize=1)
def _derived() -> dict[str, sympy.Expr]:
    keys = {**_dropout_keys(), **conv_outputs(), "Hout": _fit_output_size(2), "Wout": _fit_output_size(3)}
    return {name: keys[name] for name in ANSWER_NAMES}


def derive_keys() -> dict[str, sympy.Expr]:
    """Every answer's key, derived (once per process) from the references and SymPy."""
    return dict(_derived())


def check_typed_keys(typed: dict[str, str]) -> list[str]:
    """Problems with typed answer keys (e.g. ``solutions/quiz.py``); empty when all agree.

    Names absent from ``typed`` are not reported (the caller knows which copies must be complete).
    """
    keys, problems = derive_keys(), []
    for name in ANSWER_NAMES:
        if name not in typed:
            continue
        try:
            parsed = parse_answer(typed[name])
        except AnswerError as exc:
            problems.append(f"{name}: typed key not understood: {exc}")
            continue
        question = QUESTIONS[name]
        if not Comparison(parsed, question.domain, question.symbols, random.Random(seed_for(name, typed[name]))).matches(
                keys[name], symbolic=True):
            problems.append(f"{name}: typed key {parsed.text} disagrees with the derived key {sympy.sstr(keys[name])}")
    return problems

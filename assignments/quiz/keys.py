"""Quiz 8's answer keys, derived from the reference code and SymPy, never typed.

Each function receives the references named in questions.toml (``references.dropout``,
``references.conv``) and the quiz's symbols, and returns named SymPy expressions: the keys of
the questions named alike, and expressions the misconceptions refer to.

* ``forward``: the quiz's definition of dropout, H = D * Y (elementwise products commute, so
  they are scalar products here).
* ``forward_inverted``: the scale c that makes E[c * D * Y] = Y with D ~ Bernoulli(p)
  (``sympy.stats``), cross-checked against the reference ``dropout_forward``.
* ``backward``/``backward_inverted``: the chain rule, dL/dH * dH/dY, by SymPy differentiation.
* ``expectation``/``variance``: of the inverted forward answer, with ``sympy.stats``.
* ``O11``..``O22``: the reference ``conv_forward_naive`` run on object arrays of SymPy symbols
  (and on the flipped and the transposed filter, for two misconceptions).
* ``Hout``/``Wout``: fitted to the reference convolution's output shape over integer tuples
  (ansatz a0 + (a1*H + a2*pad + a3*HH)/stride, solved exactly, then checked on every tuple).
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import stats


class KeyDerivationError(RuntimeError):
    """The references and the derivation disagree: update one of them."""


def mask_moment(expr: sympy.Expr, moment: str, D: sympy.Symbol, p: sympy.Symbol) -> sympy.Expr:
    """``E`` or ``variance`` of ``expr`` with the mask D ~ Bernoulli(p) and Y fixed."""
    mask = stats.Bernoulli("D", p)
    fn = stats.E if moment == "E" else stats.variance
    return sympy.factor(fn(expr.xreplace({D: mask})))


def _check_reference_scale(dropout_forward, scale: sympy.Expr, p: sympy.Symbol) -> None:
    """The reference dropout keeps a fraction ~p of units and multiplies them by ``scale``."""
    state = np.random.get_state()  # the reference seeds numpy's global generator
    try:
        for keep in (0.25, 0.5, 0.8):
            out, _ = dropout_forward(np.ones(4000), {"p": keep, "mode": "train", "seed": 1})
            kept = out[out != 0]
            # Seeded, so deterministic; 0.05 is > 10 standard deviations of the kept fraction.
            if abs(kept.size / out.size - keep) > 0.05 or not np.allclose(kept, float(scale.subs(p, keep))):
                raise KeyDerivationError(f"the reference dropout_forward does not scale kept units by {scale} at p={keep}")
    finally:
        np.random.set_state(state)


def dropout(references, s) -> dict[str, sympy.Expr]:
    """The dropout keys and the moments the misconceptions name."""
    D, Y, p, dLdH = s["D"], s["Y"], s["p"], s["dLdH"]
    c = sympy.Symbol("c")
    forward = D * Y
    scales = sympy.solve(sympy.Eq(mask_moment(c * forward, "E", D, p), Y), c)
    if len(scales) != 1:
        raise KeyDerivationError(f"no unique inverted-dropout scale: {scales}")
    forward_inverted = scales[0] * forward
    _check_reference_scale(references.dropout.dropout_forward, scales[0], p)
    return {
        "forward": forward,
        "backward": dLdH * sympy.diff(forward, Y),
        "forward_inverted": forward_inverted,
        "backward_inverted": dLdH * sympy.diff(forward_inverted, Y),
        "expectation": mask_moment(forward_inverted, "E", D, p),
        "variance": mask_moment(forward_inverted, "variance", D, p),
        "E_vanilla": mask_moment(forward, "E", D, p),
        "Var_vanilla": mask_moment(forward, "variance", D, p),
        "E_mask": mask_moment(D, "E", D, p),
        "Var_mask": mask_moment(D, "variance", D, p),
    }


def _outputs(conv_forward_naive, s, transform=lambda w: w) -> dict[str, sympy.Expr]:
    x = np.array([[s[f"X{i}{j}"] for j in (1, 2, 3)] for i in (1, 2, 3)], dtype=object)
    w = np.array(transform(np.array([[s[f"W{i}{j}"] for j in (1, 2)] for i in (1, 2)], dtype=object)), dtype=object)
    out, _ = conv_forward_naive(
        x.reshape(1, 1, 3, 3), w.reshape(1, 1, 2, 2), np.zeros(1, dtype=object), {"stride": 1, "pad": 0}
    )
    if out.shape != (1, 1, 2, 2):
        raise KeyDerivationError(f"the reference convolution gave shape {out.shape}, not (1, 1, 2, 2)")
    return {f"O{i + 1}{j + 1}": sympy.expand(out[0, 0, i, j]) for i in (0, 1) for j in (0, 1)}


def convolution(references, s) -> dict[str, sympy.Expr]:
    """``O11``..``O22`` from the reference convolution on symbols, and the same with the filter
    flipped (``O11_flipped``, ...) and transposed (``O11_transposed``, ...)."""
    conv = references.conv.conv_forward_naive
    keys = _outputs(conv, s)
    keys.update({f"{k}_flipped": v for k, v in _outputs(conv, s, lambda w: w[::-1, ::-1]).items()})
    keys.update({f"{k}_transposed": v for k, v in _outputs(conv, s, lambda w: w.T).items()})
    return keys


def _size_tuples():
    for stride in (1, 2, 3):
        for pad in (0, 1, 2):
            for kernel in (1, 2, 3):
                for k in range(4):
                    size = kernel - 2 * pad + stride * k
                    if size >= 1:
                        yield size, kernel, pad, stride


def _fit_output_size(conv_forward_naive, s, axis: int) -> sympy.Expr:
    """Hout (axis 2) or Wout (axis 3) fitted to the reference convolution's output shape."""
    size_name, kernel_name = ("H", "HH") if axis == 2 else ("W", "WW")
    size_s, kernel_s, pad_s, stride_s = (s[n] for n in (size_name, kernel_name, "pad", "stride"))
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


def output_sizes(references, s) -> dict[str, sympy.Expr]:
    """``Hout`` and ``Wout`` fitted to the reference convolution."""
    conv = references.conv.conv_forward_naive
    return {"Hout": _fit_output_size(conv, s, 2), "Wout": _fit_output_size(conv, s, 3)}

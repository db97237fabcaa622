"""The usual wrong answers, named (STACK's partial response trees, flattened).

Each :class:`Misconception` gives, from the derived keys, the expressions that a student with
that misconception writes; :mod:`grader.quiz.grade` checks them in order after the key. Messages
say what is wrong and why, without giving the right formula away.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy

from grader.quiz.keys import conv_outputs, derive_keys, mask_moment
from grader.quiz.parse import SYMBOLS

D, Y, p, dLdH = SYMBOLS["D"], SYMBOLS["Y"], SYMBOLS["p"], SYMBOLS["dLdH"]
Keys = dict[str, sympy.Expr]


@dataclass(frozen=True)
class Misconception:
    """A named wrong answer.

    - slug: stable id (tests name it).
    - label: the short name students see ("vanilla dropout where inverted is asked").
    - message: what is wrong and the usual cause.
    - credit: fraction of the point it still earns (the work is right up to this one slip).
    - candidates: from the keys and the answer name, the expressions that show it.
    """

    slug: str
    label: str
    message: str
    credit: float
    candidates: Callable[[Keys, str], list[sympy.Expr]]


def _drop_probability(expr: sympy.Expr) -> sympy.Expr:
    return expr.xreplace({p: 1 - p})


def _other_positions(keys: Keys, name: str) -> list[sympy.Expr]:
    return [keys[o] for o in ("O11", "O12", "O21", "O22") if o != name]


def _missing_term(keys: Keys, name: str) -> list[sympy.Expr]:
    terms = sympy.Add.make_args(keys[name])
    return [keys[name] - t for t in terms]


INVERTED_WHERE_VANILLA = Misconception(
    "inverted_where_vanilla", "inverted dropout where the lecture's dropout is asked",
    "this is inverted dropout (it rescales by 1/p); this question asks for dropout as the lecture "
    "defines it, H = D ⊙ Y, with no rescaling", 0.5,
    lambda k, n: [k[n + "_inverted"]],
)
VANILLA_WHERE_INVERTED = Misconception(
    "vanilla_where_inverted", "vanilla dropout where inverted dropout is asked",
    "this is vanilla dropout: the inverted form scales the kept units by 1/p during training", 0.5,
    lambda k, n: [k[n.replace("_inverted", "")]],
)
BACKWARD_WITHOUT_SCALE = Misconception(
    "backward_without_scale", "backward pass without the 1/p",
    "this is the gradient of vanilla dropout: the inverted forward pass multiplies by 1/p, so by "
    "the chain rule the gradient is multiplied by 1/p too", 0.5,
    lambda k, n: [k["backward"]],
)
SCALE_P_NOT_INVERSE = Misconception(
    "scale_p_not_inverse", "p instead of 1/p",
    "multiplies by p: inverted dropout divides by the keep probability, so that the expected "
    "output equals Y (scaling by p is what vanilla dropout does at test time)", 0.0,
    lambda k, n: [k[n] * p**2],
)
SCALED_BY_P = Misconception(
    "scaled_by_p", "test-time scaling during training",
    "multiplies by p: in the lecture's dropout the training pass only masks (scaling by p "
    "belongs to test time)", 0.0,
    lambda k, n: [k[n] * p],
)
DROP_PROBABILITY = Misconception(
    "drop_probability", "p used as the drop probability",
    "uses 1 − p where p belongs: some texts call p the probability of dropping a unit, but in "
    "this course p is the probability of keeping it", 0.5,
    lambda k, n: [_drop_probability(k[n])],
)
MASK_LEFT_OUT = Misconception(
    "mask_left_out", "the mask D is missing",
    "the mask D is missing: without it nothing is dropped (that is the layer at test time)", 0.0,
    lambda k, n: [k[n].xreplace({D: 1})],
)
GRADIENT_NOT_MASKED = Misconception(
    "gradient_not_masked", "gradient not masked",
    "the gradient reaches every unit, but units dropped in the forward pass (D = 0) do not "
    "affect L, so their gradient is zero", 0.0,
    lambda k, n: [k[n].xreplace({D: 1})],
)
FORWARD_NOT_BACKWARD = Misconception(
    "forward_not_backward", "forward pass given for the backward pass",
    "this is the forward pass (H); the backward pass gives dL/dY in terms of the upstream "
    "gradient dL/dH", 0.0,
    lambda k, n: [k[n.replace("backward", "forward")]],
)
TIMES_ACTIVATION = Misconception(
    "times_activation", "multiplied by Y",
    "also multiplies by Y: H is linear in Y, so ∂H/∂Y does not contain Y", 0.0,
    lambda k, n: [k[n] * Y],
)
FLIPPED_FILTER = Misconception(
    "flipped_filter", "true convolution (flipped filter)",
    "this flips the filter (X11 meets W22): that is convolution as in signal processing; "
    "deep-learning layers compute a cross-correlation, with no flip", 0.0,
    lambda k, n: [conv_outputs(lambda w: w[::-1, ::-1])[n]],
)
TRANSPOSED_FILTER = Misconception(
    "transposed_filter", "transposed filter",
    "this uses the transposed filter (W12 where W21 belongs): W_ij, like X_ij, is row i, column j", 0.0,
    lambda k, n: [conv_outputs(lambda w: w.T)[n]],
)
WRONG_POSITION = Misconception(
    "wrong_position", "formula of another output position",
    "this is the formula of a different output position: O_ij is row i, column j, and the window "
    "moves one step right per column and one step down per row", 0.0,
    _other_positions,
)
MISSING_TERM = Misconception(
    "missing_term", "a term is missing",
    "one of the products is missing: the 2×2 filter covers four inputs, so each output has four terms", 0.5,
    _missing_term,
)
MISSING_PADDING = Misconception(
    "missing_padding", "padding left out",
    "leaves out the padding: zero padding makes the input 2·pad larger before the filter slides", 0.5,
    lambda k, n: [k[n].xreplace({SYMBOLS["pad"]: 0})],
)
ONE_SIDED_PADDING = Misconception(
    "one_sided_padding", "padding on one side only",
    "pads only one side: pad zeros are added on both sides (top and bottom, left and right)", 0.5,
    lambda k, n: [k[n].xreplace({SYMBOLS["pad"]: SYMBOLS["pad"] / 2})],
)
MISSING_PLUS_ONE = Misconception(
    "missing_plus_one", "the +1 is missing",
    "counts the steps but not the first window position: add one for the window at the start", 0.5,
    lambda k, n: [k[n] - 1],
)
STRIDE_LEFT_OUT = Misconception(
    "stride_left_out", "stride left out",
    "ignores the stride: the window moves stride positions at a time", 0.5,
    lambda k, n: [k[n].xreplace({SYMBOLS["stride"]: 1})],
)
HEIGHT_WIDTH_SWAPPED = Misconception(
    "height_width_swapped", "height and width swapped",
    "uses the other dimension: the output height depends on H and HH, the width on W and WW", 0.5,
    lambda k, n: [k["Wout" if n == "Hout" else "Hout"]],
)
VANILLA_EXPECTATION = Misconception(
    "vanilla_expectation", "expectation of vanilla dropout",
    "this is E[H] for vanilla dropout H = D ⊙ Y; inverted dropout also divides by p", 0.0,
    lambda k, n: [mask_moment(k["forward"], "E")],
)
MASK_EXPECTATION = Misconception(
    "mask_expectation", "expectation of the mask",
    "this is E[D], the expectation of the mask, not of the output H", 0.0,
    lambda k, n: [mask_moment(D, "E")],
)
MASK_VARIANCE = Misconception(
    "mask_variance", "variance of the mask D",
    "this is Var[D], the variance of the Bernoulli mask, not of the output H = D ⊙ Y / p", 0.0,
    lambda k, n: [mask_moment(D, "variance")],
)
VANILLA_VARIANCE = Misconception(
    "vanilla_variance", "variance of vanilla dropout",
    "this is the variance of vanilla dropout's output D ⊙ Y; the 1/p of inverted dropout scales "
    "the variance too (by 1/p²)", 0.0,
    lambda k, n: [mask_moment(k["forward"], "variance")],
)
SECOND_MOMENT = Misconception(
    "second_moment", "second moment instead of variance",
    "this is E[H²]; the variance is E[H²] − E[H]²", 0.0,
    lambda k, n: [k["variance"] + k["expectation"] ** 2],
)

MISCONCEPTIONS: dict[str, tuple[Misconception, ...]] = {
    "forward": (INVERTED_WHERE_VANILLA, SCALED_BY_P, MASK_LEFT_OUT),
    "backward": (INVERTED_WHERE_VANILLA, GRADIENT_NOT_MASKED, FORWARD_NOT_BACKWARD, TIMES_ACTIVATION),
    "forward_inverted": (VANILLA_WHERE_INVERTED, SCALE_P_NOT_INVERSE, DROP_PROBABILITY, MASK_LEFT_OUT),
    "backward_inverted": (BACKWARD_WITHOUT_SCALE, SCALE_P_NOT_INVERSE, DROP_PROBABILITY, GRADIENT_NOT_MASKED,
                          FORWARD_NOT_BACKWARD, TIMES_ACTIVATION),
    **{o: (FLIPPED_FILTER, TRANSPOSED_FILTER, WRONG_POSITION, MISSING_TERM) for o in ("O11", "O12", "O21", "O22")},
    **{s: (MISSING_PADDING, ONE_SIDED_PADDING, MISSING_PLUS_ONE, STRIDE_LEFT_OUT, HEIGHT_WIDTH_SWAPPED)
       for s in ("Hout", "Wout")},
    "expectation": (VANILLA_EXPECTATION, MASK_EXPECTATION),
    "variance": (MASK_VARIANCE, VANILLA_VARIANCE, SECOND_MOMENT, DROP_PROBABILITY),
}


@lru_cache(maxsize=None)
def candidates(name: str) -> tuple[tuple[Misconception, tuple[sympy.Expr, ...]], ...]:
    """Each misconception of answer ``name`` with its expressions (derived once per process)."""
    keys = derive_keys()
    return tuple((m, tuple(m.candidates(keys, name))) for m in MISCONCEPTIONS[name])

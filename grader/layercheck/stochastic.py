"""Check blocks for a layer whose forward pass draws random numbers (:class:`RandomLayer`).

Such a layer is ``forward(x, param) -> (out, cache)`` and ``backward(dout, cache) -> dx``, with
``out`` and ``dx`` shaped like ``x``; ``param`` is a dict that may hold a seed (``seed_key``) and
selects, say, a training mode that draws and a test mode that must not. The blocks cover seeding
(same seed, same output; different seeds or none, different outputs), a deterministic mode that
must equal a reference, rates and means of the draw within bounds computed here, independence of
the draws across entries, and a backward pass that must follow its own forward call's draw.

False failures. Statistical blocks compute their false-failure bound for a correct layer from
their sizes and tolerances (:func:`hoeffding`, :func:`discordance_bound`,
:func:`permutation_bound`, :func:`miss_bound`) and refuse, when the battery is built, any configuration whose bound
is not below :data:`FALSE_FAILURE_MAX` (1e-9 per check): an instructor cannot declare a check
that fails correct code more often. Hoeffding's inequality: for n independent values in an
interval of width w, P(|mean - E[mean]| >= t) <= 2 exp(-2 n t^2 / w^2) (one-sided: without the 2).

Same code, same score: a wrong submission must lose the same points on every run. A draw that
depends on only some axes (one per row, one per sample shared along the others) keeps each entry
at the right rate but averages only a few draws; rate and mean blocks therefore use inputs of a
single row or a single column (:func:`line_shapes`), where such a draw is either independent per
entry or one draw for the whole input (decisively wrong), never a few hundred correlated draws
landing near the target or not at random. A definition states, in its checks' docstrings, why
its catalogued mistakes get the same verdict every run.

Properties of the draw (seeding, means, the backward pass's reuse) are only credited to a layer
whose draw visibly acts (:meth:`RandomLayer.require_effect`): a layer that never draws has them
vacuously and must not collect their points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from grader.checks.base import Check, CheckFailed, Steps, value_in_case
from grader.layercheck import blocks
from grader.masking import shape_shown
from grader.plain import describe as describe_value
from grader.student import RNG_FINGERPRINT, Call, Reply

#: The largest false-failure probability a statistical block may have, per check.
FALSE_FAILURE_MAX = 1e-9

Entries = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, out) -> bool array shaped like x
Explain = Callable[..., str]


# ----------------------------------------------------------------------------------------------
# Bounds (each a function, so tests and docstrings can quote the number)
# ----------------------------------------------------------------------------------------------


def hoeffding(n: int, tol: float, width: float = 1.0, two_sided: bool = True) -> float:
    """P(|mean - E[mean]| >= tol) for n independent values in an interval of ``width``:
    at most 2 exp(-2 n tol^2 / width^2) (without the 2 for one side)."""
    return (2.0 if two_sided else 1.0) * math.exp(-2.0 * n * tol**2 / width**2)


def discordance_bound(pairs: int, target: float, ratio: float) -> float:
    """False-failure bound of :func:`entries_independent` on one axis: ``pairs`` disjoint pairs of
    independent entries, each with the property at rate ``target``.

    The check fails when the fraction of differing pairs is at most ``ratio`` times 2r(1-r), r the
    observed rate; 2r(1-r) <= 1/2 for every r, so failing needs that fraction <= ratio / 2 while
    its mean is 2 target (1 - target): one-sided Hoeffding over the pairs.
    """
    gap = 2.0 * target * (1.0 - target) - ratio / 2.0
    return 1.0 if gap <= 0 else hoeffding(pairs, gap, two_sided=False)


def permutation_bound(calls: int) -> float:
    """Chance of guessing which of ``calls // 2`` distinct draws belongs to which backward call
    when the order is uniform and hidden: 1/(calls // 2)!."""
    return 1.0 / math.factorial(calls // 2)


def miss_bound(count: int, rate: float) -> float:
    """Chance that none of ``count`` independent entries has a property that each has with
    probability at least ``rate``: (1 - rate)^count."""
    return (1.0 - rate) ** count


def require_bound(bound: float, what: str) -> float:
    """``bound`` if it is below :data:`FALSE_FAILURE_MAX`; else a ValueError for the instructor."""
    if not bound < FALSE_FAILURE_MAX:
        raise ValueError(f"{what}: false-failure bound {bound:.3g} is not below {FALSE_FAILURE_MAX:g}; "
                         "use more entries or a wider tolerance")
    return bound


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------


def signed(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """Values with |v| uniform in [0.5, 2] and random signs: never 0, so the draw's effect on an
    entry is visible. One uniform draw per value (v in [-1.5, 1.5) moved 0.5 away from 0),
    cheaper than a separate draw for the sign on the large inputs of the statistical blocks."""
    v = rng.uniform(-1.5, 1.5, size=shape)
    return (v + np.copysign(0.5, v)).astype(dtype, copy=False)


def line_shapes(n: int, count: int) -> list[tuple[tuple[int, int], str]]:
    """``count`` shapes of ``n`` entries alternating (1, n) and (n, 1), with their descriptions.

    A draw that depends on only some axes of a 2-D input (one per row; one per column shared by
    every row; one in all) is, on a one-row input and on a one-column input, either one
    independent draw per entry or a single draw for the whole input: its rate and mean are those
    of an independent draw, or decisively wrong, on every call. Only a draw that is one per entry
    on both kinds of input, at the right rate, passes.
    """
    return [((1, n), "a single row") if i % 2 == 0 else ((n, 1), "a single column") for i in range(count)]


def near(a: np.ndarray, b: np.ndarray | float, rtol: float) -> np.ndarray:
    """Entrywise ``|a - b| <= rtol |b|`` (so only exactly 0 is near 0); NaN is never near."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b) <= rtol * np.abs(b)


def close(a: np.ndarray, b: np.ndarray | float, rtol: float) -> bool:
    """``|a - b| <= rtol |b|`` everywhere (np.allclose with atol = 0, without its overhead); NaN is never close."""
    return bool(np.all(near(a, b, rtol)))


@dataclass(frozen=True)
class ZeroInputs:
    """``count`` entries of a backward check's input set to exactly 0, at hidden random places.

    At an input of 0 the output is the same whether the draw acted or not, so a backward pass
    that rebuilds the draw from ``out`` (instead of keeping it in the cache) gets those entries
    wrong. A correct layer's gradient there is dout times the check's factor where its draw gave
    the entry the property (independently, with probability at least ``rate(param)``) and dout
    times ``otherwise(param)`` elsewhere (0 for a mask). ``explain(param, ratio)`` is the message:
    ``ratio`` is the median dx / dout of the entries that got neither factor, or None when none
    got the check's factor.
    """

    count: int
    rate: Callable[[dict], float]
    explain: Explain
    otherwise: Callable[[dict], float] = lambda param: 0.0


# ----------------------------------------------------------------------------------------------
# The layer
# ----------------------------------------------------------------------------------------------


class RandomLayer:
    """An elementwise layer whose forward pass draws random numbers.

    - ``forward``, ``backward``: the function names (``forward(x, param)``, ``backward(dout, cache)``).
    - ``param``: the name of the parameter dict, e.g. ``"noise_param"``; ``seed_key``: its seed's key.
    - ``describe``: a format string over a call's parameters, shown to students, e.g. ``"{mode} mode, sigma = {sigma:g}"``.
    - ``affected(x, out)``: the entries the draw visibly acted on (e.g. flipped signs).
    - ``no_effect``: the message when a check's calls show no affected entry at all; a format
      string over the call's parameters and ``what`` (the property that could not be checked).
    - ``draw_word``: what the draw is called in messages (e.g. ``"noise"``).
    - ``nonfinite(param)``: what to add when ``out`` or ``dx`` holds NaN or infinities (the usual cause).
    - ``rtol``: relative tolerance of "exactly" equal values (float32 rounding is correct).
    """

    def __init__(
        self, *, forward: str, backward: str, param: str, describe: str, affected: Entries, no_effect: str,
        seed_key: str = "seed", input: str = "x", draw_word: str = "draw",
        nonfinite: Callable[[dict], str] | None = None, rtol: float = 1e-6, seed_bound: int = 2**31,
    ) -> None:
        self.forward, self.backward, self.param_name = forward, backward, param
        self.description, self.affected, self.no_effect = describe, affected, no_effect
        self.seed_key, self.input, self.draw_word = seed_key, input, draw_word
        self.nonfinite = nonfinite or (lambda param: "(usually a division by zero or an overflow)")
        self.rtol, self.seed_bound = rtol, seed_bound

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
        """A fresh input (:func:`signed`)."""
        return signed(rng, shape, dtype)

    def seed(self, rng: np.random.Generator) -> int:
        """A random seed (never 0: blocks try 0 on purpose)."""
        return int(rng.integers(1, self.seed_bound))

    def seeded(self, param: dict[str, Any], seed: int | None) -> dict[str, Any]:
        """A copy of ``param`` with ``seed`` (none if ``seed`` is None)."""
        param = dict(param)
        if seed is not None:
            param[self.seed_key] = int(seed)
        return param

    def words(self, param: dict[str, Any], shape: tuple[int, ...], backward: bool = False) -> str:
        """Student-facing words for a call's public parameters (never its data)."""
        words = f"{self.description.format(**param)}, {self.input} of shape {shape}"
        if self.seed_key in param:
            words += ", with a seed"
        return f"(in the backward pass after {words})" if backward else f"({words})"

    def close(self, a: np.ndarray, b: np.ndarray | float) -> bool:
        """:func:`close` with the layer's tolerance."""
        return close(a, b, self.rtol)

    # ------------------------------------------------------------------ calls and replies

    def forward_call(self, x: np.ndarray, param: dict[str, Any], echo: bool = False, cache: bool = False) -> Call:
        """``forward(x, param)``; with ``cache`` the cache stays with the student's code as a Handle."""
        return Call(self.forward, (x, param), keep=(1,) if cache else (), drop=() if cache else (1,), echo=echo)

    def forward_reply(self, reply: Reply, shape: tuple[int, ...], param: dict[str, Any]) -> tuple[np.ndarray, Any]:
        """The validated ``out`` (finite, shaped like the input) and the cache Handle of a forward
        call; a student error names the call's parameters."""
        value = value_in_case(reply, self.words(param, shape))
        if type(value) not in (tuple, list) or len(value) != 2:
            got = f"a tuple of {len(value)} items" if type(value) in (tuple, list) else f"a {describe_value(value)}"
            raise CheckFailed(f"{self.forward} should return (out, cache), got {got}")
        return self._array(self.forward, value[0], shape, "out", param), value[1]

    def backward_call(self, dout: np.ndarray, cache: Any) -> Call:
        """``backward(dout, cache)``, ``cache`` a Handle from an earlier yield."""
        return Call(self.backward, (dout, cache))

    def backward_reply(self, reply: Reply, shape: tuple[int, ...], param: dict[str, Any]) -> np.ndarray:
        """The validated ``dx`` of a backward call after a forward call with ``param``."""
        return self._array(self.backward, value_in_case(reply, self.words(param, shape, backward=True)),
                           shape, "dx", param)

    def _array(self, name: str, value: Any, shape: tuple[int, ...], what: str, param: dict) -> np.ndarray:
        if not isinstance(value, np.ndarray):
            raise CheckFailed(f"{name} returned a {describe_value(value)} as {what}, expected a numpy array")
        if value.shape != shape:
            raise CheckFailed(f"{name} returned {what} of shape {shape_shown(value.shape, shape)} for an input of "
                              f"shape {shape}; it must have the input's shape")
        if not np.all(np.isfinite(value)):
            raise CheckFailed(f"{name} returned NaN or infinite values in {what} {self.nonfinite(param)}")
        return value

    def require_effect(self, param: dict[str, Any], what: str, *pairs: tuple[np.ndarray, np.ndarray]) -> None:
        """Fail unless some ``(x, out)`` of the check has an entry the draw acted on: a property of
        the draw is credited only to a layer that draws."""
        if not any(np.any(self.affected(x, out)) for x, out in pairs):
            raise CheckFailed(self.no_effect.format(what=what, **param))


def _check(id: str, name: str, points: float, cell: str, fn, block: Callable, bound: float | None = None) -> Check:
    """The check, its function named ``id`` and documented by its ``block`` (and computed ``bound``)."""
    doc = block.__doc__ + (f"\n\n    Computed false-failure bound of this check: {bound:.3g}." if bound is not None else "")
    return blocks.as_check(id, name, points, cell, fn, doc)


# ----------------------------------------------------------------------------------------------
# Blocks: shapes and inputs
# ----------------------------------------------------------------------------------------------


def keeps_shape_and_dtype(layer: RandomLayer, id: str, name: str, points: float, cell: str,
                          shapes: Sequence[tuple[int, ...]], dtypes: Sequence[Any], params: Sequence[dict],
                          hint: str = "") -> Check:
    """For every shape, dtype and parameter dict: ``out`` has the input's shape and dtype."""

    def fn(rng: np.random.Generator) -> Steps:
        cases = [(layer.draw(rng, shape, dtype), param) for shape in shapes for dtype in dtypes for param in params]
        replies = yield [layer.forward_call(x, param) for x, param in cases]
        for (x, param), reply in zip(cases, replies):
            out, _ = layer.forward_reply(reply, x.shape, param)
            if out.dtype != x.dtype:
                raise CheckFailed(f"{layer.forward} turned a {x.dtype} input into a {out.dtype} output "
                                  f"{layer.words(param, x.shape)}; keep the input's dtype {hint}".strip())

    return _check(id, name, points, cell, fn, keeps_shape_and_dtype)


def input_unchanged(layer: RandomLayer, id: str, name: str, points: float, cell: str,
                    params: Sequence[dict], shape: tuple[int, ...], hint: str = "") -> Check:
    """The caller's input is the same after the call, for every parameter dict."""

    def fn(rng: np.random.Generator) -> Steps:
        cases = [(param, layer.draw(rng, shape)) for param in params]
        replies = yield [layer.forward_call(x, param, echo=True) for param, x in cases]
        for (param, x), reply in zip(cases, replies):
            value_in_case(reply, layer.words(param, x.shape))  # not graded here, but a student error ends the check
            after = reply.after[0]
            if not (isinstance(after, np.ndarray) and after.shape == x.shape and np.array_equal(after, x)):
                raise CheckFailed(f"{layer.forward} changed its input {layer.input} {layer.words(param, x.shape)}; "
                                  f"{hint or 'compute a new array instead of updating the input in place'}")

    return _check(id, name, points, cell, fn, input_unchanged)


# ----------------------------------------------------------------------------------------------
# Blocks: a deterministic mode
# ----------------------------------------------------------------------------------------------


def matches_reference(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                      shape: tuple[int, ...], reference: Callable[[np.ndarray, dict], np.ndarray],
                      explain: Explain) -> Check:
    """With ``param`` (e.g. a test mode, or a rate that draws nothing), ``out`` equals
    ``reference(x, param)`` (within the layer's tolerance); otherwise the message is
    ``explain(out, expected, param, words)``. Not statistical."""

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, shape)
        out, _ = layer.forward_reply((yield layer.forward_call(x, param)), x.shape, param)
        expected = reference(x, param)
        if not layer.close(out, expected):
            raise CheckFailed(explain(out, expected, param, layer.words(param, x.shape)))

    return _check(id, name, points, cell, fn, matches_reference)


def backward_matches_reference(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                               shape: tuple[int, ...], reference: Callable[[np.ndarray, np.ndarray, dict], np.ndarray],
                               explain: Explain) -> Check:
    """After a forward call with ``param``, ``dx`` equals ``reference(dout, x, param)``; otherwise
    the message is ``explain(dx, expected, param, words)``."""

    def fn(rng: np.random.Generator) -> Steps:
        x, dout = layer.draw(rng, shape), layer.draw(rng, shape)
        _, cache = layer.forward_reply((yield layer.forward_call(x, param, cache=True)), x.shape, param)
        dx = layer.backward_reply((yield layer.backward_call(dout, cache)), dout.shape, param)
        expected = reference(dout, x, param)
        if not layer.close(dx, expected):
            raise CheckFailed(explain(dx, expected, param, layer.words(param, x.shape, backward=True)))

    return _check(id, name, points, cell, fn, backward_matches_reference)


def draws_nothing(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                  shape: tuple[int, ...], message: str) -> Check:
    """numpy's global random state is the same before and after a call with ``param``."""

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, shape)
        # One list: its calls are made in order, with nothing of another check in between.
        before, reply, after = yield [RNG_FINGERPRINT, layer.forward_call(x, param), RNG_FINGERPRINT]
        fingerprint = before.get()
        layer.forward_reply(reply, x.shape, param)
        if after.get() != fingerprint:
            raise CheckFailed(message)

    return _check(id, name, points, cell, fn, draws_nothing)


# ----------------------------------------------------------------------------------------------
# Blocks: seeds
# ----------------------------------------------------------------------------------------------


def same_seed_same_output(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                          shape: tuple[int, ...], message: str) -> Check:
    """Two calls with equal seeds (0, then a random one) give identical outputs, the draw visibly
    acting. False failure: only if the draw acts on no entry of a call (a definition states that
    probability for its ``shape``)."""

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, shape)
        params = [layer.seeded(param, seed) for seed in (0, layer.seed(rng))]
        replies = yield [layer.forward_call(x, p) for p in params for _ in range(2)]
        for i, p in enumerate(params):
            first, _ = layer.forward_reply(replies[2 * i], x.shape, p)
            layer.require_effect(p, "seeding", (x, first))
            second, _ = layer.forward_reply(replies[2 * i + 1], x.shape, p)
            if not np.array_equal(first, second):
                raise CheckFailed(message)

    return _check(id, name, points, cell, fn, same_seed_same_output)


def different_seeds_differ(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                           shape: tuple[int, ...], message: str) -> Check:
    """Two distinct random seeds give different outputs, the draw visibly acting. False failure:
    the streams of two seeds behave as independent; a definition states the chance that two
    independent draws agree on ``shape``, or that the draw acts on no entry."""

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, shape)
        seed = layer.seed(rng)
        params = [layer.seeded(param, s) for s in (seed, seed + int(rng.integers(1, 1000)))]
        replies = yield [layer.forward_call(x, p) for p in params]
        outs = [layer.forward_reply(reply, x.shape, p)[0] for reply, p in zip(replies, params)]
        layer.require_effect(params[0], "dependence on the seed", *((x, out) for out in outs))
        if np.array_equal(*outs):
            raise CheckFailed(message)

    return _check(id, name, points, cell, fn, different_seeds_differ)


def unseeded_calls_differ(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                          shape: tuple[int, ...], message: str) -> Check:
    """Two calls without a seed give different outputs (a fresh draw on every call), the draw
    visibly acting. False failure: as for :func:`different_seeds_differ`."""

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, shape)
        replies = yield [layer.forward_call(x, param) for _ in range(2)]
        outs = [layer.forward_reply(reply, x.shape, param)[0] for reply in replies]
        layer.require_effect(param, "fresh draws", *((x, out) for out in outs))
        if np.array_equal(*outs):
            raise CheckFailed(message)

    return _check(id, name, points, cell, fn, unseeded_calls_differ)


# ----------------------------------------------------------------------------------------------
# Blocks: statistics of the draw
# ----------------------------------------------------------------------------------------------


def rate_near(layer: RandomLayer, id: str, name: str, points: float, cell: str, entries: Entries,
              target: Callable[[dict], float], params: Sequence[dict], n: int, tol: float, explain: Explain) -> Check:
    """For each parameter dict, the fraction of entries with the property ``entries(x, out)`` is
    within ``tol`` of ``target(param)``, on an input of ``n`` entries in a single row or column
    (:func:`line_shapes`); otherwise the message is ``explain(param, rate, described)``.

    False failure: the n indicators are independent Bernoulli(target), so per call
    P(|rate - target| >= tol) <= :func:`hoeffding` (n, tol), summed over the calls; the block
    refuses a configuration where that sum is not below 1e-9.
    """
    bound = require_bound(len(params) * hoeffding(n, tol), f"rate check {id}")

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, (n,))  # one draw, reshaped: the random draws are what must be fresh
        shapes = line_shapes(n, len(params))
        replies = yield [layer.forward_call(x.reshape(shape), param) for param, (shape, _) in zip(params, shapes)]
        for param, (shape, described), reply in zip(params, shapes, replies):
            out, _ = layer.forward_reply(reply, shape, param)
            rate = np.count_nonzero(entries(x.reshape(shape), out)) / out.size
            if abs(rate - target(param)) > tol:
                raise CheckFailed(explain(param, rate, described))

    return _check(id, name, points, cell, fn, rate_near, bound)


def mean_preserved(layer: RandomLayer, id: str, name: str, points: float, cell: str, params: Sequence[dict],
                   n: int, tol: float, width: Callable[[dict], float], explain: Explain) -> Check:
    """For a constant input c (uniform in [1, 2]) of ``n`` entries in a single row or column, the
    mean output is within ``tol`` c of c, for each parameter dict, and the draw visibly acts;
    otherwise the message is ``explain(param, ratio, out, c, described)`` (ratio = mean / c).

    False failure: out_i / c are independent with mean 1 in an interval of ``width(param)``, so per
    call P(|ratio - 1| >= tol) <= :func:`hoeffding` (n, tol, width), summed over the calls (the
    block refuses a sum not below 1e-9); a definition adds the chance its draw acts on no entry.
    """
    bound = require_bound(sum(hoeffding(n, tol, width(p)) for p in params), f"mean check {id}")

    def fn(rng: np.random.Generator) -> Steps:
        cases = [(param, shape, described, float(rng.uniform(1.0, 2.0)))
                 for param, (shape, described) in zip(params, line_shapes(n, len(params)))]
        xs = [np.full(shape, c) for _, shape, _, c in cases]
        replies = yield [layer.forward_call(x, param) for x, (param, *_) in zip(xs, cases)]
        for x, (param, shape, described, c), reply in zip(xs, cases, replies):
            out, _ = layer.forward_reply(reply, shape, param)
            ratio = float(np.mean(out)) / c
            if abs(ratio - 1.0) > tol:
                raise CheckFailed(explain(param, ratio, out, c, described))
            layer.require_effect(param, "effect on the expected value", (x, out))

    return _check(id, name, points, cell, fn, mean_preserved, bound)


def entries_independent(layer: RandomLayer, id: str, name: str, points: float, cell: str, entries: Entries,
                        param: dict, target: float, shapes: Sequence[tuple[int, ...]], explain: Explain,
                        ratio: float = 0.8) -> Check:
    """Neighbouring entries along every axis of every shape differ in ``entries(x, out)`` at least
    ``ratio`` times as often as independent draws at the observed rate r would (2r(1-r)).

    Pairs (even index, next odd index) along one axis are disjoint. A draw made per row, column or
    sample makes pairs along the axes it ignores never differ (0 <= ratio 2r(1-r)), so it fails
    with certainty whatever its rate; measuring against the observed rate keeps this about
    independence only (a wrong rate is another check's). Otherwise the message is
    ``explain(param, shape, axis, differ, expected, rate)``, with ``expected`` 0 when every entry
    or none has the property (``rate`` 1 or 0). False failure: :func:`discordance_bound` per axis with ``target`` the true
    rate, summed; the block refuses a sum not below 1e-9. Every axis length must be even.
    """
    if any(length % 2 for shape in shapes for length in shape):
        raise ValueError(f"independence check {id}: every axis needs an even length")
    bound = require_bound(sum(discordance_bound(math.prod(shape) // 2, target, ratio) for shape in shapes for _ in shape),
                  f"independence check {id}")

    def fn(rng: np.random.Generator) -> Steps:
        values = layer.draw(rng, (math.prod(shapes[0]),))
        inputs = [layer.draw(rng, shape) if math.prod(shape) != values.size else values.reshape(shape) for shape in shapes]
        replies = yield [layer.forward_call(x, param) for x in inputs]
        for x, reply in zip(inputs, replies):
            out, _ = layer.forward_reply(reply, x.shape, param)
            marked = entries(x, out)
            rate = float(np.mean(marked))
            expected = 2.0 * rate * (1.0 - rate)
            for axis in range(marked.ndim):
                along = np.moveaxis(marked, axis, 0)
                differ = float(np.mean(along[0::2] != along[1::2]))
                if differ <= ratio * expected:
                    raise CheckFailed(explain(param, x.shape, axis, differ, expected, rate))

    return _check(id, name, points, cell, fn, entries_independent, bound)


# ----------------------------------------------------------------------------------------------
# Blocks: the backward pass and the forward pass's own draw
# ----------------------------------------------------------------------------------------------


def scaled_where(layer: RandomLayer, id: str, name: str, points: float, cell: str, entries: Entries,
                 factor: Callable[[dict], float], params: Sequence[dict], shape: tuple[int, ...],
                 explain: Explain) -> Check:
    """Where ``entries(x, out)`` holds, out / x is ``factor(param)`` (within the layer's
    tolerance), for each parameter dict; otherwise the message is ``explain(param, median)``,
    with ``median`` None when no entry has the property. Not statistical."""

    def fn(rng: np.random.Generator) -> Steps:
        x = layer.draw(rng, shape)
        replies = yield [layer.forward_call(x, param) for param in params]
        for param, reply in zip(params, replies):
            out, _ = layer.forward_reply(reply, x.shape, param)
            where = entries(x, out)
            if not where.any():
                raise CheckFailed(explain(param, None))
            ratios = out[where] / x[where]
            if not layer.close(ratios, factor(param)):
                raise CheckFailed(explain(param, float(np.median(ratios))))

    return _check(id, name, points, cell, fn, scaled_where)


def backward_scaled_where(layer: RandomLayer, id: str, name: str, points: float, cell: str, entries: Entries,
                          factor: Callable[[dict], float], param: dict, shape: tuple[int, ...],
                          explain: Explain, zeros: ZeroInputs | None = None) -> Check:
    """After one forward call whose draw visibly acts, where ``entries(x, out)`` holds and dx is
    nonzero, dx / dout is ``factor(param)``: judged against the declared factor, never against
    the forward pass's own (a submission could pick that on the one call whose cache the backward
    pass gets). The message is ``explain(param, median)``, ``median`` None when dx is 0 at every
    such entry. False failure: only if the draw acts on no entry, or on every entry of ``shape``
    (a definition states how likely that is).

    With ``zeros`` (:class:`ZeroInputs`), that many entries of x are exactly 0; the judgement
    above skips them, and at them every dx / dout must be ``factor(param)`` or
    ``zeros.otherwise(param)``, and some must be ``factor(param)``. False failure of this part:
    :func:`miss_bound` (count, rate(param)), the computed bound below (refused if not below 1e-9).
    """
    bound = None
    if zeros is not None:
        if not 0 < zeros.count < math.prod(shape):
            raise ValueError(f"backward check {id}: zero inputs need 0 < count < {math.prod(shape)} entries")
        bound = require_bound(miss_bound(zeros.count, zeros.rate(param)), f"zero-input check {id}")

    def fn(rng: np.random.Generator) -> Steps:
        x, dout = layer.draw(rng, shape), layer.draw(rng, shape)
        zero = np.zeros(shape, dtype=bool)
        if zeros is not None:
            zero.flat[rng.choice(zero.size, zeros.count, replace=False)] = True
            x[zero] = 0.0
        out, cache = layer.forward_reply((yield layer.forward_call(x, param, cache=True)), x.shape, param)
        layer.require_effect(param, "scale in the backward pass", (x[~zero], out[~zero]))
        dx = layer.backward_reply((yield layer.backward_call(dout, cache)), dout.shape, param)
        where = entries(x, out) & (dx != 0) & ~zero
        if not where.any():
            raise CheckFailed(explain(param, None))
        ratios = dx[where] / dout[where]
        if not layer.close(ratios, factor(param)):
            raise CheckFailed(explain(param, float(np.median(ratios))))
        if zeros is not None:
            ratios = dx[zero] / dout[zero]  # dout is never 0
            scaled = near(ratios, factor(param), layer.rtol)
            wrong = ~(scaled | near(ratios, zeros.otherwise(param), layer.rtol))
            if wrong.any():
                raise CheckFailed(zeros.explain(param, float(np.median(ratios[wrong]))))
            if not scaled.any():
                raise CheckFailed(zeros.explain(param, None))

    return _check(id, name, points, cell, fn, backward_scaled_where, bound)


def own_draws(layer: RandomLayer, rng: np.random.Generator, param: dict, shape: tuple[int, ...], what: str,
              calls: int) -> Steps:
    """``calls`` look-alike forward calls with ``param`` on inputs of ``shape`` (one yield), half
    unseeded and half with distinct random seeds, then one backward call per cache in a hidden
    random order (a second yield); returns ``[(x, out, dout, dx, param)]`` in forward order.

    Why: a backward pass is judged on what ITS forward call drew, so it must not be able to get
    that from anything but its cache. The calls look alike, each must get a draw of its own (half
    seeded, half not, so a layer whose draws repeat only without a seed, or only with one, still
    gives ``calls // 2`` calls a draw of their own), and the backward calls come in an order drawn
    here: a backward pass that ignores its cache (a draw kept in a global, the k-th forward call's
    draw, a draw its forward pass could predict) must guess which of the M >= calls // 2 distinct
    draws belongs to which backward call, and guesses all of them right with probability at most
    :func:`permutation_bound` (calls) = 1/(calls // 2)!.
    """
    seeds = [layer.seed(rng) for _ in range(calls // 2)]
    params = [dict(param) for _ in range(calls - len(seeds))]
    params += [layer.seeded(param, seed) for seed in sorted(set(seeds))]
    xs = [layer.draw(rng, shape) for _ in params]
    douts = [layer.draw(rng, shape) for _ in params]  # out has x's shape once validated
    replies = yield [layer.forward_call(x, p, cache=True) for x, p in zip(xs, params)]
    passes = [layer.forward_reply(reply, shape, p) for reply, p in zip(replies, params)]
    outs = [out for out, _ in passes]
    layer.require_effect(param, what, *zip(xs, outs))
    patterns = [layer.affected(x, out).tobytes() for x, out in zip(xs, outs)]
    own = sum(patterns.count(m) == 1 for m in patterns)
    if own < calls // 2:
        d = layer.draw_word
        raise CheckFailed(
            f"{layer.forward} gave the same {d} to different calls ({own} of {len(outs)} calls "
            f"{layer.words(param, shape)} had a {d} of their own), so no backward pass could show it uses its "
            f"own call's {d}; this check counts once every call draws a fresh {d}, whether or not "
            f"{layer.param_name} has a {layer.seed_key}"
        )
    order = rng.permutation(len(params))
    replies = yield [layer.backward_call(douts[i], passes[i][1]) for i in order]
    dxs: list[Any] = [None] * len(params)
    for i, reply in zip(order, replies):  # judged in forward order by the caller, validated here in call order
        dxs[i] = layer.backward_reply(reply, shape, params[i])
    return list(zip(xs, outs, douts, dxs, params))


def backward_follows_draw(layer: RandomLayer, id: str, name: str, points: float, cell: str, param: dict,
                          shape: tuple[int, ...], judge: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict], None],
                          what: str = "use in the backward pass", calls: int = 26) -> Check:
    """:func:`own_draws`, then ``judge(x, out, dout, dx, param)`` (raising :class:`CheckFailed`)
    for each call in forward order. False failure: a backward pass that follows its cache is
    judged on the right draw with certainty; one that does not, and guesses the pairing, passes
    with probability at most 1/(calls // 2)! (the block refuses a bound not below 1e-9); a
    definition adds the chance its draw acts on no entry of ``shape`` or repeats."""
    bound = require_bound(permutation_bound(calls), f"backward check {id}")

    def fn(rng: np.random.Generator) -> Steps:
        for x, out, dout, dx, p in (yield from own_draws(layer, rng, param, shape, what, calls)):
            judge(x, out, dout, dx, p)

    return _check(id, name, points, cell, fn, backward_follows_draw, bound)


__all__ = [
    "FALSE_FAILURE_MAX", "RandomLayer", "ZeroInputs", "backward_follows_draw", "backward_matches_reference", "backward_scaled_where",
    "close", "different_seeds_differ", "discordance_bound", "draws_nothing", "entries_independent", "hoeffding",
    "input_unchanged", "keeps_shape_and_dtype", "line_shapes", "matches_reference", "mean_preserved", "miss_bound", "near", "own_draws",
    "permutation_bound", "rate_near", "require_bound", "same_seed_same_output", "scaled_where", "signed",
    "unseeded_calls_differ",
]

"""Check blocks: each function builds one :class:`~grader.checks.base.Check` of a :class:`Layer`.

Every block takes the check's ``id`` (mutant tables cite it), ``name`` (the sentence students
read: say exactly what passing means), ``points`` and ``cell`` (the nbgrader autograder cell
whose points it adds to), then the cases it runs. Calls of all cases go out in one yield (two
for forward-then-backward), and cases are judged in order, so the first failing one is reported.

Expected values come from the layer's trusted reference forward pass, gradients from its central
differences (or its trusted ``gradient``): never from the student's code, and no verdict depends
on two of the student's replies agreeing (a submission could fit one to the other; see
tests/test_checks_cross_call.py). A check may judge one property apart from others that other
checks grade: ``accept`` lists further trusted forward functions whose output also passes,
``apart`` is applied to both outputs before they are compared (what it removes is not judged).
Messages may place the case's description with ``{case}`` (default: at the end).

Nothing here is statistical: correct float64 code agrees with the reference to rounding whatever
the draw; the draws decide only how a wrong submission is caught, and a layer's draw must make
that the same every run (see :mod:`grader.layercheck.draws`).
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from grader.checks.base import Check, CheckFailed, Steps
from grader.checks.gradients import numeric_gradient as central_gradient
from grader.checks.gradients import rel_error
from grader.layercheck.layer import Case, Layer
from grader.masking import shape_shown

Draw = Callable[[np.random.Generator, Case], dict]
#: A trusted function of the forward pass's arguments returning an output (a usual mistake, or
#: another output that is also accepted).
Forward = Callable[..., np.ndarray]


def as_check(id: str, name: str, points: float, cell: str, fn, doc: str | None = None) -> Check:
    """The check, its function named ``id`` and documented by ``doc`` (default: its ``name``,
    since the declaration is the documentation)."""
    fn.__name__ = fn.__qualname__ = id
    fn.__doc__ = name if doc is None else doc
    return Check(id, name, float(points), cell, fn)


def worded(layer: Layer, case: Case, text: str) -> str:
    """``text`` with the case's description where ``{case}`` stands (default: at the end), as a sentence."""
    where = layer.describe(case)
    text = text.replace("{case}", where) if "{case}" in text else f"{text} {where}".rstrip()
    return text if text.endswith(".") else text + "."


def agrees(layer: Layer, out: np.ndarray, args: tuple, answers: Sequence[Forward | None] = (None,),
           apart: Callable[[np.ndarray], np.ndarray] | None = None) -> bool:
    """Whether ``out`` equals one of ``answers`` on ``args`` (None: the reference) within the
    layer's ``rtol``, both sides passed through ``apart`` first if given."""
    same = apart or (lambda value: value)
    for answer in answers:
        want = layer.expected(args, answer)
        if want.shape == out.shape and rel_error(same(out), same(want)) <= layer.rtol:
            return True
    return False


def output_shape(layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case],
                 hint: str = "") -> Check:
    """The forward pass returns ``(out, cache)`` with ``out`` shaped by the layer's rule, in every
    case. ``hint`` ends the message when the student's code raises on one of these cases (what is
    special about them, e.g. a stride that does not divide evenly)."""

    def fn(rng: np.random.Generator) -> Steps:
        replies = yield [layer.forward_call(layer.draw(rng, case)) for case in cases]
        for case, reply in zip(cases, replies):
            layer.forward_out(reply, case, finite=False, hint=hint)

    return as_check(id, name, points, cell, fn)


def known_answers(
    layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case],
    draws: Sequence[Draw | None] = (None,), wrong: str | Callable[..., str] = "",
    diagnose: Mapping[str, Forward] | None = None, accept: Sequence[Forward] = (),
    apart: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Check:
    """The forward output equals the reference's (or an ``accept``-ed one's, compared through
    ``apart``), for every case and every draw.

    ``wrong`` is the generic hint (what each output entry must be), or ``wrong(out, *args)``
    returning it; ``diagnose`` maps a specific message (a usual mistake) to a function computing
    that mistake's output from the same arguments: if the student's output matches it (through
    ``apart``), that message is shown instead.
    """

    def fn(rng: np.random.Generator) -> Steps:
        runs = [(case, layer.draw(rng, case, how)) for case in cases for how in draws]
        replies = yield [layer.forward_call(args) for _, args in runs]
        for (case, args), reply in zip(runs, replies):
            out = layer.forward_out(reply, case)
            if agrees(layer, out, args, (None, *accept), apart):
                continue
            for message, mistake in (diagnose or {}).items():
                if agrees(layer, out, args, (mistake,), apart):
                    raise CheckFailed(f"{layer.forward} {worded(layer, case, message)}")
            hint = wrong(out, *args) if callable(wrong) else wrong
            raise CheckFailed(f"{layer.forward} output values are wrong {layer.describe(case)}. {hint}".strip())

    return as_check(id, name, points, cell, fn)


def leaves_inputs_unchanged(layer: Layer, id: str, name: str, points: float, cell: str, case: Case,
                            accept: Sequence[Forward] = (), apart: Callable[[np.ndarray], np.ndarray] | None = None) -> Check:
    """The forward pass leaves its arrays and parameter dict as they were, and its output is right
    (as in :func:`known_answers` with ``accept`` and ``apart``): a stub changes nothing either,
    so it earns nothing here."""

    def fn(rng: np.random.Generator) -> Steps:
        args = layer.draw(rng, case)
        reply = yield layer.forward_call(args, echo=True)
        value, after = layer.value(reply, case), reply.after
        for input_name, before, now in zip(layer.inputs, args[:-1], after[:-1]):
            if not (isinstance(now, np.ndarray) and now.shape == before.shape and np.array_equal(now, before)):
                raise CheckFailed(f"{layer.forward} changed its input {input_name} in place; work on a copy")
        if after[-1] != args[-1]:
            raise CheckFailed(f"{layer.forward} changed {layer.param_name} (for example with pop); read it with "
                              f"{layer.param_name}[key] and leave the dict as it was")
        out = layer.forward_out(value, case)
        if not agrees(layer, out, args, (None, *accept), apart):
            raise CheckFailed(f"{layer.forward} leaves its inputs unchanged, but this only counts once its output "
                              f"values are right {layer.describe(case)}; see the known-answer tests")

    return as_check(id, name, points, cell, fn)


def forward_backward(layer: Layer, rng: np.random.Generator, cases: Sequence[Case], draw: Draw | None) -> Steps:
    """Arguments, douts, and for each case ``(forward reply, backward reply or None)``."""
    inputs = [layer.draw(rng, case, draw) for case in cases]
    douts = [layer.draw_dout(rng, case) for case in cases]
    forwards, backwards = yield from layer.forward_then_backward(inputs, douts)
    pairs = [(f, backwards[i] if i < len(backwards) else None) for i, f in enumerate(forwards)]
    return inputs, douts, pairs


def grads_of(layer: Layer, forward, backward, case: Case | None = None) -> dict[str, np.ndarray]:
    """The gradients of a (forward, backward) pair of replies by name; the student's errors name ``case``."""
    layer.forward_value(forward, case)  # its error (or a reply without a cache) is the case's problem
    return layer.backward_grads(backward, case)


def gradient_shapes(layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case]) -> Check:
    """The backward pass returns each gradient shaped like the input it belongs to."""

    def fn(rng: np.random.Generator) -> Steps:
        inputs, _, pairs = yield from forward_backward(layer, rng, cases, None)
        for case, args, (forward, backward) in zip(cases, inputs, pairs):
            grads = grads_of(layer, forward, backward, case)
            for grad_name, input_name in layer.grads.items():
                want = args[list(layer.inputs).index(input_name)].shape
                if grads[grad_name].shape != want:
                    raise CheckFailed(f"{layer.backward} returned {grad_name} of shape {shape_shown(grads[grad_name].shape, want)} "
                                      f"{layer.describe(case)}; it must have the shape of {input_name}, {want}"
                                      f"{_empty_axis(grads[grad_name].shape, want)}")

    return as_check(id, name, points, cell, fn)


def reference_gradient(layer: Layer, args: tuple, dout: np.ndarray, input_name: str,
                       forward: Forward | None = None) -> np.ndarray:
    """Central differences of ``sum(reference(args) * dout)`` (or ``forward``'s) with respect to one
    input; without ``forward``, the layer's trusted ``gradient`` instead if it has one."""
    k = list(layer.inputs).index(input_name)
    if forward is None and layer.gradient is not None:
        grads = layer.gradient(dout.copy(), *[a.copy() if isinstance(a, np.ndarray) else dict(a) for a in args])
        grads = grads if isinstance(grads, (tuple, list)) else (grads,)
        return np.asarray(grads[list(layer.grads.values()).index(input_name)])

    def loss(value: np.ndarray) -> float:
        moved = list(args)
        moved[k] = value
        return float(np.sum(layer.expected(tuple(moved), forward) * dout))

    return central_gradient(loss, args[k], layer.step)


def numeric_gradient(
    layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case],
    grad: str = "", hint: str = "", draw: Draw | None = None, diagnose: Mapping[str, Forward] | None = None,
    own_forward: Sequence[Forward] = (),
) -> Check:
    """Gradient ``grad`` (default: the first) matches central differences of the reference
    forward pass at the same inputs, for the same upstream gradient. A forward-only bug does not
    cost these points; the layer's draw must keep the reference smooth within ``step`` there.
    ``diagnose`` maps a message to a usual mistake's forward pass: if the gradient is that
    forward's (its central differences), the message (after the gradient's name) is shown.

    ``own_forward`` is the own-forward fallback, as cs231n's notebooks grade a backward pass
    (against the numeric gradient of the student's own forward): trusted forward passes with a
    usual mistake whose consistent backward pass also earns these points, so that mistake is
    charged once, by the forward checks. A case passes through it when the forward reply of the
    very call whose cache the backward pass got equals such a mistake on its arguments, and the
    gradient equals that mistake's central differences. Both are judged against the judge's own
    computation of the mistake: the student's forward pass is never called at probe inputs, so
    a submission cannot fit its answers across calls (tests/test_checks_cross_call.py)."""
    grad = grad or next(iter(layer.grads))

    def fn(rng: np.random.Generator) -> Steps:
        inputs, douts, pairs = yield from forward_backward(layer, rng, cases, draw)
        for case, args, dout, (forward, backward) in zip(cases, inputs, douts, pairs):
            got = grads_of(layer, forward, backward, case)[grad]
            want = reference_gradient(layer, args, dout, layer.grads[grad])
            if got.shape != want.shape:
                raise CheckFailed(f"{layer.backward} returned {grad} of shape {shape_shown(got.shape, want.shape)} {layer.describe(case)}; "
                                  f"expected {want.shape}{_empty_axis(got.shape, want.shape)}")
            if got.dtype.kind not in "biuf" or not np.all(np.isfinite(got)):
                raise CheckFailed(f"{layer.backward} returned NaN, infinite or non-numeric values in {grad} {layer.describe(case)}")
            if rel_error(got, want) <= layer.grad_rtol or _follows_own_forward(layer, args, dout, grad, forward, got, own_forward):
                continue
            for message, mistake in (diagnose or {}).items():
                if rel_error(got, reference_gradient(layer, args, dout, layer.grads[grad], mistake)) <= layer.grad_rtol:
                    raise CheckFailed(f"{grad} {worded(layer, case, message)}")
            scaled = _scaled(got, want, layer.grad_rtol)
            raise CheckFailed(f"{grad} is wrong {layer.describe(case)}: it does not match the numeric gradient "
                              f"of a correct {layer.forward}. {hint}".strip() + scaled)

    return as_check(id, name, points, cell, fn)


def _follows_own_forward(layer: Layer, args: tuple, dout: np.ndarray, grad: str, forward, got: np.ndarray,
                         mistakes: Sequence[Forward]) -> bool:
    """Whether this call's forward output is one of ``mistakes`` and ``got`` is its gradient."""
    if not mistakes:
        return False
    out = layer.forward_value(forward)
    for mistake in mistakes:
        if agrees(layer, out, args, (mistake,)):
            want = reference_gradient(layer, args, dout, layer.grads[grad], mistake)
            if want.shape == got.shape and rel_error(got, want) <= layer.grad_rtol:
                return True
    return False


def _empty_axis(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """The usual cause of an empty axis where the input has none, or nothing."""
    if len(got) == len(want) and any(g == 0 < w for g, w in zip(got, want)):
        return (". An axis of length 0 usually comes from a slice such as [pad:-pad], which is empty when "
                "pad = 0: stop at pad + H instead")
    return ""


def _scaled(got: np.ndarray, want: np.ndarray, rtol: float) -> str:
    """What to add when ``got`` is ``want`` times a constant other than 1 (its value is the
    student's word, so it is not shown: only that a constant factor is wrong)."""
    norm = float(np.sum(want * want))
    factor = float(np.sum(got * want)) / norm if norm > 0 else 0.0
    if factor == 0.0 or rel_error(got, factor * want) > rtol:
        return ""
    return (" It is the right gradient times a constant: a stray factor, e.g. dividing by the number of samples "
            "(as a loss averaged over the batch would) or a scale left out.")

"""Check blocks: each function builds one :class:`~grader.checks.base.Check` of a :class:`Layer`.

Every block takes the check's ``id`` (mutant tables cite it), ``name`` (the sentence students
read: say exactly what passing means), ``points`` and ``cell`` (the nbgrader autograder cell
whose points it adds to), then the cases it runs. Calls of all cases go out in one yield (two
for forward-then-backward), and cases are judged in order, so the first failing one is reported.

Expected values come from the layer's trusted reference forward pass, gradients from its central
differences: never from the student's code. Nothing here is statistical: correct float64 code
agrees with the reference to rounding whatever the draw; the draws decide only how a wrong
submission is caught, and a layer's draw must make that the same every run (see
:mod:`grader.layercheck.draws`).
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


def _check(id: str, name: str, points: float, cell: str, fn) -> Check:
    fn.__name__ = id
    return Check(id, name, float(points), cell, fn)


def output_shape(layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case]) -> Check:
    """The forward pass returns ``(out, cache)`` with ``out`` shaped by the layer's rule, in every case."""

    def fn(rng: np.random.Generator) -> Steps:
        replies = yield [layer.forward_call(layer.draw(rng, case)) for case in cases]
        for case, reply in zip(cases, replies):
            layer.forward_out(reply, case, finite=False)

    return _check(id, name, points, cell, fn)


def known_answers(
    layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case],
    draws: Sequence[Draw | None] = (None,), wrong: str = "",
    diagnose: Mapping[str, Callable[..., np.ndarray]] | None = None,
) -> Check:
    """The forward output equals the reference's, for every case and every draw.

    ``wrong`` is the generic hint (what each output entry must be); ``diagnose`` maps a
    specific message (a usual mistake) to a function computing that mistake's output from the
    same arguments: if the student's output matches it, that message is shown instead.
    """

    def fn(rng: np.random.Generator) -> Steps:
        runs = [(case, layer.draw(rng, case, how)) for case in cases for how in draws]
        replies = yield [layer.forward_call(args) for _, args in runs]
        for (case, args), reply in zip(runs, replies):
            out = layer.forward_out(reply, case)
            if rel_error(out, layer.expected(args)) <= layer.rtol:
                continue
            for message, mistake in (diagnose or {}).items():
                if rel_error(out, np.asarray(mistake(*args))) <= layer.rtol:
                    raise CheckFailed(f"{layer.forward} {message} {layer.describe(case)}.")
            raise CheckFailed(f"{layer.forward} output values are wrong {layer.describe(case)}. {wrong}".strip())

    return _check(id, name, points, cell, fn)


def leaves_inputs_unchanged(layer: Layer, id: str, name: str, points: float, cell: str, case: Case) -> Check:
    """The forward pass leaves its arrays and parameter dict as they were, and its output is right
    (a stub changes nothing either, so it earns nothing here)."""

    def fn(rng: np.random.Generator) -> Steps:
        args = layer.draw(rng, case)
        reply = yield layer.forward_call(args, echo=True)
        value, after = reply.get(), reply.after
        for input_name, before, now in zip(layer.inputs, args[:-1], after[:-1]):
            if not (isinstance(now, np.ndarray) and now.shape == before.shape and np.array_equal(now, before)):
                raise CheckFailed(f"{layer.forward} changed its input {input_name} in place; work on a copy")
        if after[-1] != args[-1]:
            raise CheckFailed(f"{layer.forward} changed {layer.param_name} (for example with pop); read it with "
                              f"{layer.param_name}[key] and leave the dict as it was")
        out = layer.forward_out(value, case)
        if rel_error(out, layer.expected(args)) > layer.rtol:
            raise CheckFailed(f"{layer.forward} leaves its inputs unchanged, but this only counts once its output "
                              f"values are right {layer.describe(case)}; see the known-answer tests")

    return _check(id, name, points, cell, fn)


def forward_backward(layer: Layer, rng: np.random.Generator, cases: Sequence[Case], draw: Draw | None) -> Steps:
    """Arguments, douts, and for each case ``(forward reply, backward reply or None)``."""
    inputs = [layer.draw(rng, case, draw) for case in cases]
    douts = [layer.draw_dout(rng, case) for case in cases]
    forwards, backwards = yield from layer.forward_then_backward(inputs, douts)
    pairs = [(f, backwards[i] if i < len(backwards) else None) for i, f in enumerate(forwards)]
    return inputs, douts, pairs


def grads_of(layer: Layer, forward, backward) -> dict[str, np.ndarray]:
    layer.forward_value(forward)  # its error (or a reply without a cache) is the case's problem
    return layer.backward_grads(backward)


def gradient_shapes(layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case]) -> Check:
    """The backward pass returns each gradient shaped like the input it belongs to."""

    def fn(rng: np.random.Generator) -> Steps:
        inputs, _, pairs = yield from forward_backward(layer, rng, cases, None)
        for case, args, (forward, backward) in zip(cases, inputs, pairs):
            grads = grads_of(layer, forward, backward)
            for grad_name, input_name in layer.grads.items():
                want = args[list(layer.inputs).index(input_name)].shape
                if grads[grad_name].shape != want:
                    raise CheckFailed(f"{layer.backward} returned {grad_name} of shape {shape_shown(grads[grad_name].shape, want)} "
                                      f"{layer.describe(case)}; it must have the shape of {input_name}, {want}")

    return _check(id, name, points, cell, fn)


def reference_gradient(layer: Layer, args: tuple, dout: np.ndarray, input_name: str) -> np.ndarray:
    """Central differences of ``sum(reference(args) * dout)`` with respect to one input."""
    k = list(layer.inputs).index(input_name)

    def loss(value: np.ndarray) -> float:
        moved = list(args)
        moved[k] = value
        return float(np.sum(layer.expected(tuple(moved)) * dout))

    return central_gradient(loss, args[k], layer.step)


def numeric_gradient(
    layer: Layer, id: str, name: str, points: float, cell: str, cases: Sequence[Case],
    grad: str = "", hint: str = "", draw: Draw | None = None,
) -> Check:
    """Gradient ``grad`` (default: the first) matches central differences of the reference
    forward pass at the same inputs, for the same upstream gradient. A forward-only bug does not
    cost these points; the layer's draw must keep the reference smooth within ``step`` there."""
    grad = grad or next(iter(layer.grads))

    def fn(rng: np.random.Generator) -> Steps:
        inputs, douts, pairs = yield from forward_backward(layer, rng, cases, draw)
        for case, args, dout, (forward, backward) in zip(cases, inputs, douts, pairs):
            got = grads_of(layer, forward, backward)[grad]
            want = reference_gradient(layer, args, dout, layer.grads[grad])
            if got.shape != want.shape:
                raise CheckFailed(f"{layer.backward} returned {grad} of shape {shape_shown(got.shape, want.shape)} {layer.describe(case)}; "
                                  f"expected {want.shape}")
            if rel_error(got, want) > layer.grad_rtol:
                raise CheckFailed(f"{grad} is wrong {layer.describe(case)}: it does not match the numeric gradient "
                                  f"of a correct {layer.forward}. {hint}".strip())

    return _check(id, name, points, cell, fn)

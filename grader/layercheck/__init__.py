"""The layer-check library: declare a layer once, compose its checks from blocks.

See docs/authoring.md for a walk-through (max pooling). A definition's checks module writes::

    LAYER = Layer(forward=..., backward=..., dims=..., inputs=..., param=..., out_shape=..., reference=...)
    BATTERY = battery(output_shape(LAYER, "id", "name", 1, "cell", LAYER.cases(...)), ...)

and may add hand-written checks with ``@BATTERY.check(name, points, cell)`` using the same
:class:`Layer` helpers. Check ids are the names mutant tables cite.
"""

from grader.checks.base import Battery, Check, CheckFailed, Steps
from grader.layercheck.blocks import (
    agrees,
    forward_backward,
    gradient_shapes,
    grads_of,
    known_answers,
    leaves_inputs_unchanged,
    numeric_gradient,
    output_shape,
    reference_gradient,
    worded,
)
from grader.layercheck.draws import all_negative, all_positive, distinct, plant_peak
from grader.layercheck.layer import Case, Layer


def battery(*checks: Check) -> Battery:
    """A :class:`Battery` of the given checks, in order (more can be added with ``@BATTERY.check``)."""
    result = Battery()
    for check in checks:
        result.add(check)
    return result


__all__ = [
    "Battery", "Case", "Check", "CheckFailed", "Layer", "Steps", "agrees", "all_negative", "all_positive", "battery", "distinct",
    "forward_backward", "grads_of",
    "gradient_shapes", "known_answers", "leaves_inputs_unchanged", "numeric_gradient", "output_shape",
    "plant_peak", "reference_gradient", "worded",
]

# Layers whose forward pass draws random numbers: seeds, a deterministic mode, rates and means
# with computed false-failure bounds, backward passes that must follow their own draw.
from grader.layercheck.stochastic import (  # noqa: E402
    RandomLayer, backward_follows_draw, backward_matches_reference, backward_scaled_where, different_seeds_differ,
    draws_nothing, entries_independent, input_unchanged, keeps_shape_and_dtype, matches_reference, mean_preserved,
    rate_near, same_seed_same_output, scaled_where, unseeded_calls_differ, ZeroInputs,
)

__all__ += [
    "RandomLayer", "backward_follows_draw", "backward_matches_reference", "backward_scaled_where",
    "different_seeds_differ", "draws_nothing", "entries_independent", "input_unchanged", "keeps_shape_and_dtype",
    "matches_reference", "mean_preserved", "rate_near", "same_seed_same_output", "scaled_where",
    "unseeded_calls_differ", "ZeroInputs",
]

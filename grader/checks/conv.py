"""Hidden checks for the convolution assignment (zero padding, stride, cross-correlation).

Checks never hold the submission: each is a generator of the hidden-input ``rng`` that yields
lists of :class:`grader.student.Call` and judges the :class:`~grader.student.Reply` objects sent
back (see :mod:`grader.checks.base`). ``conv_forward_naive`` returns ``(out, Handle)`` (the cache
stays with the student's code) and a later yield passes the Handle to ``conv_backward_naive``.
Every call one step of a check needs goes out in one yield, so a forward check costs one round
trip and a backward check two. Replies are validated here, never trusted, and judged in case
order, so the first failing case is the one reported; when the student's code raises, the
message names the case (shapes, pad, stride) that made it raise.
Expected values come from the small vectorised reference below (unit-tested against
``solutions.conv``), never from the student's code.

Nothing here is statistical: correct float64 code agrees with the reference to rounding
(~1e-15 relative) whatever the random draw, and :data:`RTOL` leaves nine orders of margin, so
the false-failure probability is 0 up to floating point. Fresh random inputs on every run only
decide how surely a wrong submission is caught (with probability 1 for continuous draws).

One property, one check. Every case divides evenly (``(H + 2*pad - HH) % stride == 0``, as
cs231n's own code asserts) except in :func:`output_shape_rounds_down`, so code that assumes it
loses that check only. The padding and stride checks judge the output apart from the bias (both
sides centred over the output positions of each image and filter) and accept either orientation
of the filter, so a bias or flip mistake costs the cross-correlation check, not those too.

No cross-call verdicts. Each reply is judged against the trusted reference on that call's own
inputs; no verdict depends on two of the student's replies agreeing. In particular a gradient is
judged against the gradient of the correct layer only: an earlier version also accepted a
gradient matching numeric derivatives of the student's *own* forward pass (probe calls made
after the backward call), and a stateful submission recognised those probe calls and answered
them with a forward pass built to match its wrong backward pass (+4 of 10 with no convolution at
all); a stateless pair of a trivial linear map and its gradient earned the same. Making probes
indistinguishable cannot fix that: whichever of the two passes answers later can be fitted to
the other, and a submission may choose the function its gradient is compared with. So a
misunderstanding shared by both passes (a flipped kernel everywhere) costs the forward and the
backward checks, while a forward-only bug costs forward points only (the backward pass is judged
on the cache's inputs, not on the forward's output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.checks.base import Battery, CheckFailed, Steps, value_in_case
from grader.checks.gradients import rel_error
from grader.masking import axes_shown, difference_shown, shape_shown
from grader.plain import describe
from grader.student import Call, Handle, Reply, StudentError

BATTERY = Battery()

FORWARD = "conv_forward_naive"
BACKWARD = "conv_backward_naive"
#: Relative tolerance (``rel_error``); float32 arithmetic inside a submission still passes.
RTOL = 1e-6
GRAD_NAMES = ("dx", "dw", "db")

#: ``(x, w, b, conv_param)`` as :meth:`Case.draw` returns them.
Inputs = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]


# ----------------------------------------------------------------------------------------------
# Configurations and the trusted reference
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One layer configuration: x (N, C, H, W), w (F, C, HH, WW), stride and pad."""

    N: int
    C: int
    H: int
    W: int
    F: int
    HH: int
    WW: int
    pad: int
    stride: int

    @property
    def divides(self) -> bool:
        """Whether the stride divides ``H + 2*pad - HH`` and ``W + 2*pad - WW`` evenly."""
        return (self.H + 2 * self.pad - self.HH) % self.stride == 0 == (self.W + 2 * self.pad - self.WW) % self.stride

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.F, 1 + (self.H + 2 * self.pad - self.HH) // self.stride,
                1 + (self.W + 2 * self.pad - self.WW) // self.stride)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """Fresh float64 inputs ``(x, w, b, conv_param)``."""
        x = rng.standard_normal((self.N, self.C, self.H, self.W))
        w = rng.standard_normal((self.F, self.C, self.HH, self.WW))
        # |b| in [1, 2] with random signs: a missing or misindexed bias is never hidden by a tiny b
        b = rng.uniform(1.0, 2.0, self.F) * rng.choice((-1.0, 1.0), self.F)
        return x, w, b, {"stride": self.stride, "pad": self.pad}

    def describe(self) -> str:
        """Student-facing words for the configuration: its public parameters, never the data."""
        return (f"(x of shape {(self.N, self.C, self.H, self.W)}, w of shape {(self.F, self.C, self.HH, self.WW)}, "
                f"pad {self.pad}, stride {self.stride})")


def _windows(x: np.ndarray, HH: int, WW: int, pad: int, stride: int) -> np.ndarray:
    """View of the zero-padded input's windows, shape (N, C, Hout, Wout, HH, WW)."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]


def reference_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int, stride: int) -> np.ndarray:
    """Correct layer output (N, F, Hout, Wout): cross-correlation with zero padding, plus bias."""
    win = _windows(x, w.shape[2], w.shape[3], pad, stride)
    return np.einsum("nchwij,fcij->nfhw", win, w) + b[None, :, None, None]


def reference_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, pad: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Correct ``(dx, dw, db)`` for upstream gradient ``dout`` of shape (N, F, Hout, Wout)."""
    N, C, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, Hout, Wout = dout.shape
    dw = np.einsum("nchwij,nfhw->fcij", _windows(x, HH, WW, pad, stride), dout)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for i in range(HH):  # one strided scatter per filter tap: HH * WW small steps, no Python loop over n, f
        for j in range(WW):
            rows = slice(i, i + stride * (Hout - 1) + 1, stride)
            cols = slice(j, j + stride * (Wout - 1) + 1, stride)
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


# ----------------------------------------------------------------------------------------------
# Talking to the student and validating replies
# ----------------------------------------------------------------------------------------------


def _forward_call(x: np.ndarray, w: np.ndarray, b: np.ndarray, param: dict[str, int], echo: bool = False,
                  cache: bool = False) -> Call:
    """The forward pass on these inputs. With ``cache`` its cache stays with the student's code
    as a Handle (for a backward call); without, it is thrown away there at once (None)."""
    return Call(FORWARD, (x, w, b, param), keep=(1,) if cache else (), drop=() if cache else (1,), echo=echo)


def _forward_reply(reply: Reply, case: Case, hint: str = "") -> tuple[np.ndarray, Handle | None]:
    """``out`` (any shape, validated as a float array) and the cache Handle of a forward reply
    (None if it was dropped); a student error names the case (and ends with ``hint``)."""
    value = value_in_case(reply, case.describe(), hint)
    return _out_array(value), value[1]


def _out_array(reply: Any) -> np.ndarray:
    if len(reply) != 2:
        raise CheckFailed(f"{FORWARD} should return (out, cache), got a tuple of {len(reply)} items")
    out = reply[0]
    if not isinstance(out, np.ndarray):
        raise CheckFailed(f"{FORWARD} returned a {describe(out)} as out, expected a numpy array")
    return out


def _check_out_shape(out: np.ndarray, case: Case) -> None:
    expected = case.out_shape
    if out.shape == expected:
        return
    if out.ndim != 4:
        raise CheckFailed(
            f"{FORWARD} returned out with {axes_shown(out.ndim)} dimensions {case.describe()}; "
            "expected 4: (N, F, Hout, Wout)"
        )
    problems = []
    for axis, label in ((0, "N (number of images)"), (1, "F (number of filters)")):
        if out.shape[axis] != expected[axis]:
            problems.append(f"axis {axis} should be {label}")
    for axis, label in ((2, "height Hout"), (3, "width Wout")):
        diff = out.shape[axis] - expected[axis]
        if diff:
            problems.append(f"the {label} is {difference_shown(diff, expected)} too {'large' if diff > 0 else 'small'}")
    raise CheckFailed(
        f"{FORWARD} output has the wrong shape {case.describe()}: {'; '.join(problems)}. "
        "Expected (N, F, Hout, Wout) with Hout = 1 + (H + 2*pad - HH) // stride and "
        "Wout = 1 + (W + 2*pad - WW) // stride (integer division; H with HH, W with WW)."
    )


def _finite(name: str, what: str, value: np.ndarray, case: Case) -> None:
    if value.dtype.kind not in "biuf" or not np.all(np.isfinite(value)):
        raise CheckFailed(f"{name} returned NaN or infinite values in {what} {case.describe()}")


def _backward_call(dout: np.ndarray, handle: Handle) -> Call:
    """The backward pass for upstream gradient ``dout`` and the cache of an earlier forward call."""
    return Call(BACKWARD, (dout, handle))


def _backward_reply(reply: Reply, case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dw, db)`` of a backward reply, as arrays of any shape; a student error names the case."""
    reply = value_in_case(reply, case.describe())
    if type(reply) not in (tuple, list) or len(reply) != 3:
        raise CheckFailed(f"{BACKWARD} should return (dx, dw, db), got {_reply_kind(reply)}")
    for name, value in zip(GRAD_NAMES, reply):
        if not isinstance(value, np.ndarray):
            raise CheckFailed(f"{BACKWARD} returned a {describe(value)} as {name}, expected a numpy array")
    return tuple(reply)


def _reply_kind(reply: Any) -> str:
    if type(reply) in (tuple, list):
        return f"a {type(reply).__name__} of {len(reply)} items"
    return f"a {describe(reply)}"


def _forward_then_backward(cases: tuple[Case, ...], inputs: list[Inputs], douts: list[np.ndarray]) -> Steps:
    """Forward calls for every case in one yield, then backward calls in a second; returns both
    lists of replies.

    Backward calls are made only for the cases before the first unusable forward reply (no
    Handle to pass), so fewer backward replies than cases come back then. Judging each case in
    order, forward reply first, reaches that forward reply before the missing backward ones.
    """
    forwards = yield [_forward_call(*args, cache=True) for args in inputs]
    handles = []
    for case, reply in zip(cases, forwards):
        try:
            handles.append(_forward_reply(reply, case)[1])
        except (CheckFailed, StudentError):
            break
    # a yield with no call would still cost a round trip
    backwards = (yield [_backward_call(d, h) for d, h in zip(douts, handles)]) if handles else []
    return forwards, backwards


def _check_grad_shape(name: str, grad: np.ndarray, expected: tuple[int, ...], of: str, case: Case) -> None:
    if grad.shape != expected:
        raise CheckFailed(
            f"{BACKWARD} returned {name} of shape {shape_shown(grad.shape, expected)} {case.describe()}; "
            f"it must have the shape of {of}, {expected}"
        )


# ----------------------------------------------------------------------------------------------
# Forward shape
# ----------------------------------------------------------------------------------------------

# Every case but ROUNDING_CASES divides evenly (test_checks_conv asserts it).
SQUARE_SHAPE_CASES = (
    Case(2, 3, 5, 5, 2, 3, 3, pad=0, stride=1),
    Case(1, 2, 6, 6, 3, 3, 3, pad=1, stride=1),
    Case(2, 1, 7, 7, 2, 3, 3, pad=0, stride=2),
    Case(1, 2, 6, 6, 2, 2, 2, pad=0, stride=2),
    Case(1, 1, 7, 7, 1, 3, 3, pad=1, stride=2),
    Case(1, 2, 4, 4, 2, 2, 2, pad=2, stride=3),
    Case(2, 1, 5, 5, 1, 5, 5, pad=0, stride=1),  # one window covers the whole input
)
NON_SQUARE_SHAPE_CASES = (
    Case(1, 2, 5, 7, 2, 3, 2, pad=0, stride=1),
    Case(2, 1, 7, 4, 3, 3, 2, pad=1, stride=2),
    Case(1, 1, 7, 5, 1, 3, 4, pad=1, stride=3),
    Case(1, 3, 6, 4, 2, 3, 3, pad=2, stride=1),
)
#: (H + 2*pad - HH) / stride is not whole: the output size rounds down. Square inputs and filters,
#: so that a height/width mix-up costs the non-square check only.
ROUNDING_CASES = (
    Case(1, 1, 6, 6, 1, 3, 3, pad=1, stride=2),  # 2.5
    Case(1, 2, 4, 4, 2, 1, 1, pad=2, stride=3),  # 7/3
    Case(2, 1, 7, 7, 3, 2, 2, pad=1, stride=2),  # 3.5
    Case(1, 2, 5, 5, 3, 2, 2, pad=0, stride=2),  # 1.5
)


def _shapes(rng: np.random.Generator, cases: tuple[Case, ...], hint: str = "") -> Steps:
    """Forward calls for ``cases``; each output must have the formula's shape. ``hint`` ends the
    message when the student's code fails on a case (its own error, not a wrong shape)."""
    replies = yield [_forward_call(*case.draw(rng)) for case in cases]
    for case, reply in zip(cases, replies):
        out, _ = _forward_reply(reply, case, hint)
        _check_out_shape(out, case)


@BATTERY.check("output shape follows Hout = 1 + (H + 2*pad - HH) // stride", 0.75, "test_forward_shape")
def output_shape_matches_formula(rng: np.random.Generator) -> Steps:
    """Square inputs and filters over a grid of pad and stride, including pad 0 and stride 2."""
    yield from _shapes(rng, SQUARE_SHAPE_CASES)


@BATTERY.check("output shape is right for non-square inputs and filters", 0.75, "test_forward_shape")
def output_shape_non_square(rng: np.random.Generator) -> Steps:
    """H != W and HH != WW: catches height and width swapped."""
    yield from _shapes(rng, NON_SQUARE_SHAPE_CASES)


ROUNDING_HINT = (
    "Here the stride does not divide H + 2*pad - HH evenly: do not assume it does; the output size "
    "rounds down, Hout = 1 + (H + 2*pad - HH) // stride, leaving out the last partial window"
)


@BATTERY.check("output size rounds down when the stride does not divide evenly", 0.5, "test_forward_shape")
def output_shape_rounds_down(rng: np.random.Generator) -> Steps:
    """The only check whose cases do not divide evenly: the forward pass must accept them and
    return Hout = 1 + (H + 2*pad - HH) // stride (the last partial window is left out). Code that
    assumes an even division (as cs231n's asserts) loses these points and no others."""
    yield from _shapes(rng, ROUNDING_CASES, ROUNDING_HINT)


# ----------------------------------------------------------------------------------------------
# Forward values (known answers)
# ----------------------------------------------------------------------------------------------

PLAIN_CASE = Case(2, 3, 5, 6, 3, 3, 2, pad=0, stride=1)  # N < F: b[n] instead of b[f] runs, wrongly
PAD_CASES = (Case(2, 2, 5, 4, 3, 3, 3, pad=1, stride=1), Case(1, 3, 4, 5, 2, 2, 3, pad=2, stride=1))
# pad 0: a padding mistake costs the padding check only (and a stride mistake the stride check only)
STRIDE_CASES = (Case(2, 2, 7, 5, 3, 3, 3, pad=0, stride=2), Case(1, 2, 7, 5, 2, 1, 2, pad=0, stride=3))
UNCHANGED_CASE = Case(2, 2, 6, 6, 2, 3, 3, pad=0, stride=1)  # square: a shape mix-up costs the shape checks only

WRONG_VALUES = (
    f"{FORWARD} output values are wrong {{case}}. out[n, f, i, j] must be the sum over c, a, b of "
    "x_pad[n, c, i*stride + a, j*stride + b] * w[f, c, a, b], plus b[f]."
)
FLIPPED = (
    f"{FORWARD} computes a true convolution (the filter flipped) {{case}}. This course, like every "
    "deep-learning library, uses cross-correlation: multiply each window by w[f] as it is, unflipped."
)
NO_BIAS = f"{FORWARD} output values are off by the bias {{case}}: add b[f] to every output of filter f."
WRONG_BIAS = (
    f"{FORWARD} output values are the cross-correlation plus a wrong constant {{case}}: the sums over "
    "the windows are right, the bias is not; add b[f], once, to every output of filter f."
)
BORDER = (
    f"{FORWARD} output values are right in the middle but wrong near the border {{case}}: pad the "
    "input with pad zeros on all four sides (np.pad with mode='constant')."
)
#: What the padding and stride checks judge, for their messages.
APART = "(judged apart from the bias and from the filter's orientation, which the cross-correlation check grades)"
WRONG_PADDING = (
    f"{FORWARD} output values are wrong with padding {{case}} {APART}: pad the input with pad zeros on "
    "all four sides (np.pad with mode='constant'), then slide the windows over the padded input."
)
#: The stride and inputs-unchanged checks also judge apart from the amount of padding (pad 0 is
#: still graded by the cross-correlation check, pad > 0 by the padding check): a padding bug that
#: shows at pad 0 too (np.pad with pad + 1) is one bug, charged there, not again here.
APART_PADDING = (
    "(judged apart from the bias, the filter's orientation and the amount of zero padding, which the "
    "cross-correlation and padding checks grade)"
)
WRONG_STRIDE = (
    f"{FORWARD} output values are wrong with stride {{case}} {APART_PADDING}: window (i, j) starts at row "
    "i*stride and column j*stride of the padded input."
)


def _diagnose(out: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray, case: Case) -> str:
    """The most specific message for a wrong output of the right shape."""
    pad, stride = case.pad, case.stride
    if rel_error(out, reference_forward(x, w[:, :, ::-1, ::-1], b, pad, stride)) < RTOL:
        return FLIPPED.format(case=case.describe())
    if rel_error(out, reference_forward(x, w, np.zeros_like(b), pad, stride)) < RTOL:
        return NO_BIAS.format(case=case.describe())
    if rel_error(_centred(out), _centred(reference_forward(x, w, np.zeros_like(b), pad, stride))) <= RTOL:
        return WRONG_BIAS.format(case=case.describe())  # b[n], b[0], b added once per channel, ...
    return WRONG_VALUES.format(case=case.describe())


def _centred(out: np.ndarray) -> np.ndarray:
    """``out`` minus its mean over the output positions of each image and filter: what is left
    does not depend on any bias that is constant over positions (b[f], b[n], none at all)."""
    return out - out.mean(axis=(2, 3), keepdims=True)


def _convolves(out: np.ndarray, x: np.ndarray, w: np.ndarray, case: Case, any_padding: bool = False) -> bool:
    """Is ``out`` a cross-correlation of the zero-padded ``x`` with ``w``, or with ``w`` flipped,
    at the case's pad and stride, whatever its bias? (What the padding, stride and inputs-unchanged
    checks need: bias and orientation are graded by the cross-correlation check alone.)

    With ``any_padding``, also when ``x`` padded with up to two zeros more than the case's pad
    gives ``out`` as the top-left corner of its output (the stride and inputs-unchanged checks:
    the amount of padding is graded elsewhere).
    """
    zero = np.zeros(w.shape[0])
    rows, cols = out.shape[2:]
    for q in range(case.pad, case.pad + 3) if any_padding else (case.pad,):
        for kernel in (w, w[:, :, ::-1, ::-1]):
            ref = reference_forward(x, kernel, zero, q, case.stride)
            if ref.shape[2] >= rows and ref.shape[3] >= cols and \
                    rel_error(_centred(out), _centred(ref[:, :, :rows, :cols])) <= RTOL:
                return True
    return False


def _interior_convolves(out: np.ndarray, x: np.ndarray, w: np.ndarray, case: Case) -> bool:
    """:func:`_convolves` on the output positions whose windows hold no padding (for the message)."""
    pad, stride = case.pad, case.stride
    rows = [i for i in range(out.shape[2]) if pad <= i * stride and i * stride + case.HH <= pad + case.H]
    cols = [j for j in range(out.shape[3]) if pad <= j * stride and j * stride + case.WW <= pad + case.W]
    if len(rows) * len(cols) < 2:  # one position: centring leaves nothing to compare
        return False
    inner = Case(case.N, case.C, case.H, case.W, case.F, case.HH, case.WW, 0, stride)
    x_rows = slice(rows[0] * stride - pad, rows[-1] * stride - pad + case.HH)
    x_cols = slice(cols[0] * stride - pad, cols[-1] * stride - pad + case.WW)
    return _convolves(out[:, :, rows][..., cols], x[:, :, x_rows, x_cols], w, inner)


def _forward_outputs(rng: np.random.Generator, cases: tuple[Case, ...]) -> Steps:
    """One forward call per case (one yield); returns ``[(case, inputs, out)]`` with every ``out``
    of the right shape and finite, judged in case order."""
    inputs = [case.draw(rng) for case in cases]
    replies = yield [_forward_call(*args) for args in inputs]
    outs = []
    for case, args, reply in zip(cases, inputs, replies):
        out, _ = _forward_reply(reply, case)
        _check_out_shape(out, case)
        _finite(FORWARD, "out", out, case)
        outs.append((case, args, out))
    return outs


@BATTERY.check("output is the cross-correlation of x with each filter, plus its bias", 1, "test_forward_values")
def forward_computes_cross_correlation(rng: np.random.Generator) -> Steps:
    """pad 0, stride 1, several images, channels and filters, non-square filter, nonzero biases."""
    for case, (x, w, b, _), out in (yield from _forward_outputs(rng, (PLAIN_CASE,))):
        if rel_error(out, reference_forward(x, w, b, case.pad, case.stride)) > RTOL:
            raise CheckFailed(_diagnose(out, x, w, b, case))


@BATTERY.check("input is zero-padded by pad on every side", 0.75, "test_forward_values")
def forward_zero_pads_every_side(rng: np.random.Generator) -> Steps:
    """pad 1 and 2 at stride 1: catches one-sided, edge or reflect padding. Judged apart from the
    bias and the filter's orientation (:func:`_convolves`)."""
    for case, (x, w, _, _), out in (yield from _forward_outputs(rng, PAD_CASES)):
        if not _convolves(out, x, w, case):
            message = BORDER if _interior_convolves(out, x, w, case) else WRONG_PADDING
            raise CheckFailed(message.format(case=case.describe()))


@BATTERY.check("windows move by stride", 0.75, "test_forward_values")
def forward_applies_stride(rng: np.random.Generator) -> Steps:
    """Stride 2 with overlapping windows and stride 3, at pad 0. Judged apart from the bias, the
    filter's orientation and the amount of padding (:func:`_convolves` with ``any_padding``)."""
    for case, (x, w, _, _), out in (yield from _forward_outputs(rng, STRIDE_CASES)):
        if not _convolves(out, x, w, case, any_padding=True):
            raise CheckFailed(WRONG_STRIDE.format(case=case.describe()))


@BATTERY.check("conv_forward_naive leaves its inputs unchanged", 0.5, "test_forward_values")
def forward_leaves_inputs_unchanged(rng: np.random.Generator) -> Steps:
    """x, w, b and conv_param must be the same after the call (the caller still owns them).

    Only a forward pass that really convolves earns this (a stub changes nothing either), judged
    like the stride check, apart from the bias, the filter's orientation and the amount of padding,
    at pad 0 and stride 1.
    """
    case = UNCHANGED_CASE
    x, w, b, param = case.draw(rng)
    reply = yield _forward_call(x, w, b, param, echo=True)
    out, after = _out_array(value_in_case(reply, case.describe())), reply.after
    for name, before, now in zip(("x", "w", "b"), (x, w, b), after[:3]):
        if not (isinstance(now, np.ndarray) and now.shape == before.shape and np.array_equal(now, before)):
            raise CheckFailed(
                f"{FORWARD} changed its input {name} in place; work on copies "
                "(np.pad already returns a new array)"
            )
    if after[3] != param:
        raise CheckFailed(
            f"{FORWARD} changed conv_param (for example with pop); read it with "
            "conv_param['stride'] and leave the dict as it was"
        )
    _check_out_shape(out, case)
    _finite(FORWARD, "out", out, case)
    if not _convolves(out, x, w, case, any_padding=True):
        raise CheckFailed(
            f"{FORWARD} leaves its inputs unchanged, but this only counts once its output is a "
            f"convolution of x with w (bias and padding aside) {case.describe()}; see the known-answer tests"
        )


# ----------------------------------------------------------------------------------------------
# Backward
# ----------------------------------------------------------------------------------------------

BACKWARD_SHAPE_CASES = (Case(2, 3, 5, 6, 3, 3, 2, pad=0, stride=2), Case(1, 2, 6, 5, 3, 3, 3, pad=1, stride=1))
GRADIENT_CASES = (
    Case(2, 2, 5, 6, 3, 3, 2, pad=0, stride=1),
    Case(2, 3, 7, 5, 2, 3, 3, pad=1, stride=2),  # overlapping windows: HH > stride
    Case(1, 2, 7, 5, 3, 3, 3, pad=0, stride=2),
)

GRADIENT_HINTS = {
    "dx": "Usual causes: '=' instead of '+=' where windows overlap, ignoring the stride, or cropping "
    "the padding from the wrong place (keep rows pad to pad + H and columns pad to pad + W).",
    "dw": "Usual causes: '=' instead of '+=' (dw must sum over every image and window), ignoring the "
    "stride, or using the unpadded input.",
    "db": "db[f] is the sum of dout[:, f] over images, rows and columns.",
}
FLIPPED_GRADIENT = (
    "{name} is the gradient of a true convolution (the filter flipped) {case}; the layer is a "
    "cross-correlation (w[f] as it is, unflipped), in the forward pass and in its gradient."
)


@BATTERY.check("conv_backward_naive returns dx, dw, db shaped like x, w, b", 1, "test_backward_shapes")
def backward_shapes_match_inputs(rng: np.random.Generator) -> Steps:
    """pad 0 (catches cropping with [pad:-pad]) and pad 1; N != F so a db over the wrong axes shows."""
    cases = BACKWARD_SHAPE_CASES
    inputs = [case.draw(rng) for case in cases]
    douts = [rng.standard_normal(case.out_shape) for case in cases]
    forwards, backwards = yield from _forward_then_backward(cases, inputs, douts)
    for i, (case, (x, w, b, _)) in enumerate(zip(cases, inputs)):
        _forward_reply(forwards[i], case)
        grads = _backward_reply(backwards[i], case)
        for name, grad, like, of in zip(GRAD_NAMES, grads, (x, w, b), ("x", "w", "b")):
            _check_grad_shape(name, grad, like.shape, of, case)


def _gradient(rng: np.random.Generator, which: int) -> Steps:
    """Forward and backward for every case (two yields); the gradient ``which`` (0: dx, 1: dw,
    2: db) must be the reference's for that call's inputs and dout, judged in case order."""
    name = GRAD_NAMES[which]
    cases = GRADIENT_CASES
    inputs = [case.draw(rng) for case in cases]
    douts = [rng.standard_normal(case.out_shape) for case in cases]  # distinct entries: an index mix-up shows
    forwards, backwards = yield from _forward_then_backward(cases, inputs, douts)
    for i, (case, (x, w, _, _), dout) in enumerate(zip(cases, inputs, douts)):
        _forward_reply(forwards[i], case)
        grad = _backward_reply(backwards[i], case)[which]
        expected = reference_backward(dout, x, w, case.pad, case.stride)[which]
        _check_grad_shape(name, grad, expected.shape, "xwb"[which], case)
        _finite(BACKWARD, name, grad, case)
        if rel_error(grad, expected) <= RTOL:
            continue
        flipped = reference_backward(dout, x, w[:, :, ::-1, ::-1], case.pad, case.stride)[which]
        if which == 1:
            flipped = flipped[:, :, ::-1, ::-1]  # the gradient with respect to w itself
        if which < 2 and rel_error(grad, flipped) <= RTOL:
            raise CheckFailed(FLIPPED_GRADIENT.format(name=name, case=case.describe()))
        raise CheckFailed(
            f"{name} is wrong {case.describe()}: it is not the gradient of the layer's output "
            f"(judged on the inputs of the forward call whose cache it got). {GRADIENT_HINTS[name]}"
        )


@BATTERY.check("dx is the gradient of the layer with respect to x", 1.5, "test_backward_values")
def dx_matches_numeric_gradient(rng: np.random.Generator) -> Steps:
    """pad 0; pad 1 with stride 2 and overlapping windows; stride 2 at pad 0."""
    yield from _gradient(rng, 0)


@BATTERY.check("dw is the gradient of the layer with respect to w", 1.5, "test_backward_values")
def dw_matches_numeric_gradient(rng: np.random.Generator) -> Steps:
    """Same configurations as dx."""
    yield from _gradient(rng, 1)


@BATTERY.check("db is the gradient of the layer with respect to b", 1, "test_backward_values")
def db_matches_numeric_gradient(rng: np.random.Generator) -> Steps:
    """Same configurations as dx."""
    yield from _gradient(rng, 2)

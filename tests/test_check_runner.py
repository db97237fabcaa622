"""The battery runner: checks advance in step, one batch of calls per round, verdicts per check."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.base import MAX_RESTARTS, Check, CheckBug, CheckFailed, run_battery
from grader.student import Call, Handle, HandleLost, InProcessStudent, Reply
from support import RecordingStudent

SOURCE = """
def forward(x):
    return 2 * x, {"x": x}
def backward(d, cache):
    return d * 2
def boom(x):
    raise ValueError("no")
"""


def forward_then_backward(rng):
    out, cache = (yield Call("forward", (3.0,), keep=(1,))).get()
    if out != 6.0:
        raise CheckFailed("forward is wrong")
    if (yield Call("backward", (1.0, cache))).get() != 2.0:
        raise CheckFailed("backward is wrong")


def three_at_once(rng):
    replies = yield [Call("forward", (1.0,), keep=(1,)), Call("boom", (1.0,)), Call("forward", (2.0,), keep=(1,))]
    replies[0].get()
    replies[1].get()  # raises the student's error: the check ends in "error"


def judged_false(rng):
    yield Call("forward", (1.0,), keep=(1,))
    raise CheckFailed("the property does not hold")


def needs_no_call(rng):
    return None


def check(fn) -> Check:
    return Check(fn.__name__, fn.__name__.replace("_", " "), 1.0, "g", fn)


def test_checks_advance_in_step_with_one_batch_per_round():
    student = RecordingStudent.from_source(SOURCE)
    checks = [check(forward_then_backward), check(three_at_once), check(judged_false), check(needs_no_call)]
    results = run_battery(checks, student, np.random.default_rng(0))
    assert [(r.status, r.score) for r in results] == [("passed", 1.0), ("error", 0.0), ("failed", 0.0), ("passed", 1.0)]
    assert results[1].output == "boom raised ValueError: no"
    assert results[2].output == "the property does not hold"
    # round 1: the first calls of the three checks that make calls; round 2: the one backward call
    assert [[len(g) for g in batch] for batch in student.batches] == [[1, 3, 1], [1]]


def test_a_check_yielding_something_else_is_a_bug_of_the_check():
    def bad(rng):
        yield "forward"

    with pytest.raises(CheckBug, match="other than Call"):
        run_battery([check(bad)], InProcessStudent.from_source(SOURCE))


def test_a_check_that_fails_itself_names_the_check_and_its_line():
    def indexes_a_scalar(rng):
        out, _ = (yield Call("forward", (3.0,), keep=(1,))).get()
        return out[0, 0]  # a reply the check did not validate

    with pytest.raises(CheckBug) as raised:
        run_battery([check(indexes_a_scalar)], InProcessStudent.from_source(SOURCE))
    line = indexes_a_scalar.__code__.co_firstlineno + 2
    assert str(raised.value).startswith(f"check indexes_a_scalar raised TypeError at {__file__}:{line} (")
    assert "raise CheckFailed for a wrong one" in str(raised.value)


def test_a_check_without_yield_that_raises_is_a_bug_of_the_check_or_a_failure():
    def forgot_the_yield(rng):
        return {}["out"]  # no yield: the whole check runs when it is started

    def fails_at_once(rng):
        raise CheckFailed("no call needed to see this")

    with pytest.raises(CheckBug, match="check forgot_the_yield raised KeyError at "):
        run_battery([check(forgot_the_yield)], InProcessStudent.from_source(SOURCE))
    [result] = run_battery([check(fails_at_once)], InProcessStudent.from_source(SOURCE))
    assert (result.status, result.output) == ("failed", "no call needed to see this")


class LosesHandles(InProcessStudent):
    """Says a handle was lost (as the sandbox does after another check's call crashed its worker)
    the first ``losses`` times a handle is passed."""

    def __init__(self, namespace, losses: int):
        super().__init__(namespace)
        self.losses = losses
        self.forward_calls = 0

    def run(self, chains):
        out = []
        for chain in chains:
            if self.losses and any(isinstance(a, Handle) for c in chain for a in c.args):
                self.losses -= 1
                out.append([Reply(error=HandleLost("lost")) for _ in chain])
                continue
            self.forward_calls += sum(c.name == "forward" for c in chain)
            out.append(super().run([chain])[0])
        return out


def test_a_check_whose_handle_was_lost_starts_over_in_the_fresh_process():
    student = LosesHandles(InProcessStudent.from_source(SOURCE).namespace, losses=1)
    (result,) = run_battery([check(forward_then_backward)], student)
    assert (result.status, result.score) == ("passed", 1.0)
    assert student.forward_calls == 2  # its forward pass was made again


def test_restarts_are_bounded():
    student = LosesHandles(InProcessStudent.from_source(SOURCE).namespace, losses=MAX_RESTARTS + 5)
    (result,) = run_battery([check(forward_then_backward)], student)
    assert result.status == "error" and "lost" in result.output
    assert student.forward_calls == MAX_RESTARTS + 1

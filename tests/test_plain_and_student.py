"""Plain data rules and the in-process student (the trusted twin of the sandboxed one)."""

import re

import numpy as np
import pytest

from grader.plain import NotPlain, to_plain
from grader.results import SubmissionResult, TestResult
from grader.student import BadReply, Call, Handle, InProcessStudent, MissingFunction, StudentRaised
from support import TOY_SOURCE


class FakeArray(np.ndarray):
    def __eq__(self, other):  # lies in comparisons
        return True


@pytest.mark.parametrize("value", [1, 2.5, True, None, "s", [1, (2, 3)], {"a": np.zeros(2)}])
def test_plain_values_pass(value):
    to_plain(value)


def test_arrays_are_copied_into_base_class():
    sub = np.zeros(3).view(FakeArray)
    out = to_plain(sub)
    assert type(out) is np.ndarray and out is not sub
    assert type(to_plain(np.float32(1.5))) is float


@pytest.mark.parametrize(
    "value",
    [np.array([object()]), np.array([1 + 2j]), b"bytes", {1: 2}, object(), type("S", (float,), {})(1.0)],
)
def test_non_plain_values_are_rejected(value):
    with pytest.raises(NotPlain):
        to_plain(value)


def test_deep_nesting_is_rejected():
    value = []
    for _ in range(20):
        value = [value]
    with pytest.raises(NotPlain, match="nested"):
        to_plain(value)


def test_in_process_student_keeps_handles_and_copies_arguments():
    student = InProcessStudent.from_source(TOY_SOURCE)
    x = np.ones(3)
    reply = student.run([[Call("forward", (x,), keep=(1,), echo=True)]])[0][0]
    (_, handle), after = reply.get(), reply.after
    assert isinstance(handle, Handle)
    np.testing.assert_array_equal(x, np.ones(3))  # the judge's array is untouched
    np.testing.assert_array_equal(after[0], 2 * np.ones(3))  # the modification is visible
    np.testing.assert_array_equal(student.call("backward", np.zeros(2), handle), np.ones(2))


@pytest.mark.parametrize(
    "name, keep, error, text",
    [
        ("missing", (), MissingFunction, "does not define a function named missing"),
        ("boom", (), StudentRaised, "boom raised ValueError: bad shape"),
        ("liar", (), BadReply, "cannot use"),
        ("boom_free", (), MissingFunction, "boom_free"),
    ],
)
def test_student_errors_are_student_facing(name, keep, error, text):
    student = InProcessStudent.from_source(TOY_SOURCE)
    with pytest.raises(error, match=text):
        student.call(name, np.zeros(2), keep=keep)


def test_tuple_reply_required_when_keeping():
    student = InProcessStudent.from_source("def f(x):\n    return x\n")
    with pytest.raises(BadReply, match="tuple of 2 items"):
        student.call("f", np.zeros(2), keep=(1,))


def test_result_record_matches_the_contract():
    result = SubmissionResult("a.ipynb", "dropout", tests=[TestResult("t", 1.0, 2.0, "failed", "why", "g")])
    record = result.to_dict()
    assert list(record)[:5] == ["submission", "assignment", "score", "max_score", "status"]
    assert record["tests"] == [{"name": "t", "score": 1.0, "max_score": 2.0, "status": "failed", "output": "why"}]
    assert result.cell_scores() == {"g": (1.0, 2.0)}


def test_in_process_student_reports_exit_and_odd_arguments_like_the_sandbox():
    student = InProcessStudent.from_source(
        "import sys\n"
        "def leave(x):\n    sys.exit(0)\n"
        "def spoil(d):\n    d['p'] = object()\n    return 1.0\n"
    )
    with pytest.raises(StudentRaised, match="SystemExit"):
        student.call("leave", 1.0)
    with pytest.raises(BadReply, match="left an argument in a form the grader cannot use"):
        student.run([[Call("spoil", ({"p": 0.5},), echo=True)]])[0][0].get()


def test_a_students_exception_cannot_carry_the_hidden_inputs_into_feedback():
    """Student code can put its arguments into an exception message; the values are masked,
    the shapes that explain most real errors are kept."""
    from grader import assignments
    from grader.checks.base import run_battery

    leaky = (
        "def dropout_forward(x, dropout_param):\n"
        "    raise ValueError(repr(dropout_param), x.shape, x.ravel()[:3], x.ravel()[:2].tolist())\n"
        "def dropout_backward(dout, cache):\n"
        "    raise ValueError(str(dout))\n"
    )
    results = run_battery(assignments.get("dropout").battery().checks, InProcessStudent.from_source(leaky), np.random.default_rng())
    outputs = [r.output for r in results if r.status == "error"]
    assert outputs and all("raised ValueError" in o for o in outputs)
    assert any("'mode': 'train'" in o for o in outputs)  # the message itself is kept
    assert any(re.search(r"'p': 0\.\d", o) for o in outputs)  # p is a public parameter: kept
    for output in outputs:
        # the checks end it with the call's public parameters, "(train mode, p = 0.6, x of shape ...)"
        student_text = re.split(r" \((?:train|test) mode, | \(in the backward pass after ", output)[0]
        # no other number with a fraction, no array or list of numbers
        assert not re.search(r"(?<!'p': )\d\.\d|array\(|\[\s*-?\d", student_text), output
    student = InProcessStudent.from_source("def f(a, b):\n    return a + b\n")  # shapes of the inputs: public
    with pytest.raises(StudentRaised, match=r"shapes \(4,5\) \(5,4\)"):
        student.call("f", np.ones((4, 5)), np.ones((5, 4)))


def test_to_plain_without_copy_keeps_base_arrays_and_still_drops_subclasses():
    base = np.arange(6.0).reshape(2, 3)
    assert to_plain(base, copy=False) is base  # written to the channel at once: no copy needed
    strided = to_plain(base.T, copy=False)
    assert strided.flags.c_contiguous and np.array_equal(strided, base.T)
    assert to_plain(np.array(3.5), copy=False).shape == ()
    sub = to_plain(np.zeros(3).view(FakeArray), copy=False)
    assert type(sub) is np.ndarray
    assert to_plain(base) is not base

"""A judge that trusts nothing the worker says: masking, notes, bounded reads (issue 13, item 2).

The worker sends only raw words (an exception's type name and text, a failure report per block,
reply frames); the judge words every message, keeps only public numbers, accepts at most one
report per block it sent, and reads no reply beyond what the call can legitimately return.
Attacks on this channel are in tests/attacks/judge_*.py (scored against their honest twins in
test_attack_scores.py); here each is driven directly, with a positive control where the attack
would work without the judge's checks: the raw words on the wire (recorded by wrapping the
judge's ``recv_message``) do carry the secret, the judge's message does not.
"""

from __future__ import annotations

import base64
import json
import os
import re
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader import masking
from grader.checks.base import run_battery
from grader.masking import MASK, mask_text, public_values, raised_message, type_name
from grader.paths import REPO_ROOT
from grader.sandbox import judge, protocol
from grader.sandbox.judge import SandboxedStudent, reply_budget
from grader.sandbox.limits import MIB, Limits
from grader.student import BadReply, Call, Handle, InProcessStudent, StudentCrashed, StudentError, StudentRaised, StudentTimeout
from support import ATTACKS, FAST, TEST, attack, wait_no_strays

TRAIN = {"p": 0.6, "mode": "train", "seed": 987654}


def x_input(shape=(4, 5)) -> np.ndarray:
    return np.random.default_rng().standard_normal(shape) * 1000 + 5000  # every value has 4+ digits


@pytest.fixture
def wire(monkeypatch):
    """Every message the judge decodes from a worker, as decoded (the worker's raw words)."""
    seen: list[dict] = []
    real = judge.recv_message

    def recording(*args, **kwargs):
        message = real(*args, **kwargs)
        seen.append(message)
        return message

    monkeypatch.setattr(judge, "recv_message", recording)
    return seen


def raw_errors(wire: list[dict]) -> str:
    """The text of every error the worker sent."""
    return " ".join(str(m.get(protocol.Key.MSG)) for m in wire if protocol.Key.ERR in m)


def digit_runs(text: str, n: int = 3) -> list[str]:
    return re.findall(r"\d{%d,}" % n, text)


# ---------------------------------------------------------------- masking (unit)


def test_public_values_are_shapes_dims_and_parameters_but_not_seeds_or_contents():
    public = public_values([np.zeros((4, 7)), {"p": 0.6, "stride": 2, "pad": 1, "seed": 1234, "mode": "train"}, 99])
    text = mask_text("shapes (4,7) (7,4), p = 0.6, stride 2, pad 1, axis -1, index 3, seed 1234, scalar 99, 0.61", public)
    assert text == "shapes (4,7) (7,4), p = 0.6, stride 2, pad 1, axis -1, index 3, seed ..., scalar ..., ..."


@pytest.mark.parametrize("leak", [
    "123456", "-42424242", "3.14159", "1e-05", "12,345", "1.2.3.4", "3.5.", "x12345", "0x7f3a", "deadbeef99",
    "QUJDREVGR0hJSktMTU5PUA==", "aGVsbG8gd29ybGQ", "Qx3fA9", "[1, 2, 3]", "array([1., 2.])", "[[1 2]\n [3 4]]",
    "array([1., 2., 3.", "[1, 2, 3", "ab" * 20, "\u0661\u0662\u0663\u0664", "\uff11\uff12\uff13", "-1." * 100,
])
def test_every_other_number_and_encoded_run_is_masked(leak):
    masked = mask_text(f"value: {leak}", public_values([np.zeros((2, 2))]))
    assert masked.startswith("value: ") and MASK in masked, masked
    assert not digit_runs(masked, 2) and leak not in masked


def test_messages_are_bounded_and_printable():
    text = "\ud800 \x1b[2J \u202e \x00 bell\x07" + "line\n" * 10_000 + "word " * 10_000
    masked = mask_text(text)
    assert len(masked) <= masking.MAX_TEXT + len(MASK)
    assert masked.count("\n") < masking.MAX_LINES
    assert masked.isprintable() or set(masked) - set(c for c in masked if c.isprintable()) == {"\n"}
    masked.encode("utf-8")  # no lone surrogate


def test_at_most_a_few_public_numbers_survive():
    masked = mask_text(" ".join(["1"] * 50), public_values([np.zeros((2, 2))]))
    assert masked.split().count("1") == masking.MAX_NUMBERS


@pytest.mark.parametrize("raw, shown", [
    ("ValueError", "ValueError"), ("float64Error", "float64Error"), ("E1234", "Exception"), ("E" * 100, "Exception"),
    ("not an identifier", "Exception"), ("Ünicode", "Exception"), (["ValueError"], "Exception"), (None, "Exception"),
])
def test_exception_type_names_are_validated(raw, shown):
    assert type_name(raw) == shown


def test_the_message_format_is_kept():
    assert raised_message("f", "ValueError", "bad shape") == "f raised ValueError: bad shape"
    assert raised_message("f", "KeyError", "") == "f raised KeyError"
    assert raised_message("f", "NotImplementedError", "x = 12345") == "f is not implemented yet (it raised NotImplementedError)"


# ---------------------------------------------------------------- leaks through exception text


@pytest.mark.parametrize("variant", ["sum", "tolist", "tuple", "words"])
def test_integers_in_exception_text_are_masked_by_the_judge(variant, wire):
    x = x_input()
    with attack("judge_int_leak") as student:
        with pytest.raises(StudentRaised) as info:
            student.call("dropout_forward", x, {**TEST, "variant": variant}, keep=(1,))
    shown = str(info.value)
    assert digit_runs(raw_errors(wire), 4), "positive control: the worker's raw text carries the input's digits"
    assert shown.startswith("dropout_forward raised ValueError") and not digit_runs(shown, 2), shown


@pytest.mark.parametrize("variant", ["base64", "hex", "base32", "urlsafe", "spaced", "type"])
def test_encoded_inputs_in_exception_text_are_masked(variant, wire):
    x = x_input((2, 3))
    raw = np.ascontiguousarray(x).tobytes()
    encodings = [base64.b64encode(raw).decode(), raw.hex(), base64.b32encode(raw).decode(),
                 base64.urlsafe_b64encode(raw).decode()]
    with attack("judge_encoded_leak") as student:
        with pytest.raises(StudentRaised) as info:
            student.call("dropout_forward", x, {**TEST, "variant": variant}, keep=(1,))
    shown = str(info.value)
    sent = raw_errors(wire) + " ".join(str(m.get(protocol.Key.TYPE)) for m in wire)
    chunks = {e[i:i + 8] for e in encodings for i in range(0, len(e) - 8, 4)}
    assert any(c in sent.replace(" ", "") for c in chunks), "positive control: the raw words carry the encoded input"
    assert not any(c in shown for c in chunks), shown
    assert not re.search(r"\d", shown.split(": ", 1)[1]), shown
    # what may be left is short letters-only chunks (a channel of words, which no masking of
    # numbers can close), bounded by the message's length
    survivors = [w for w in shown.split(": ", 1)[1].split() if w != MASK and any(w in e for e in encodings)]
    assert all(w.isalpha() for w in survivors), survivors
    assert len(shown) <= len("dropout_forward raised Exception: ") + masking.MAX_TEXT + len(MASK)


def test_switching_the_masking_off_in_the_worker_makes_no_difference(wire):
    x = x_input()
    with attack("judge_unmask_worker") as student:
        with pytest.raises(StudentRaised) as info:
            student.call("dropout_forward", x, TEST, keep=(1,))
    shown = str(info.value)
    assert digit_runs(raw_errors(wire), 4), "positive control: the worker sent the input unmasked"
    assert "dropout_forward raised ValueError" in shown and not digit_runs(shown, 2), shown


def test_without_the_judge_the_unmasked_text_would_reach_the_student():
    """Positive control for the old design: masking in the student's process is switched off
    by the student's code (here in a separate interpreter, as the worker would be)."""
    script = textwrap.dedent(f"""
        import runpy, numpy as np
        from grader import masking
        attack = runpy.run_path({str(ATTACKS / 'judge_unmask_worker.py')!r})
        try:
            attack["dropout_forward"](np.array([[12345.678]]), {{}})
        except ValueError as exc:
            print(masking.exception_text(exc)[1])
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env=env)
    assert "12345.678" in done.stdout, done.stderr


def test_masked_text_keeps_what_explains_a_real_error():
    source = "def f(a, b, param):\n    return a + b\n"
    with SandboxedStudent([("cell", source)], FAST) as student:
        with pytest.raises(StudentRaised, match=r"shapes \(4,5\) \(5,4\)"):
            student.call("f", np.ones((4, 5)), np.ones((5, 4)), {"p": 0.5})
    assert InProcessStudent.from_source(source).run([[Call("f", (np.ones((4, 5)), np.ones((5, 4)), {}))]])[0][0].error


@pytest.mark.parametrize("variant", ["text", "huge", "weird", "nottext", "type"])
def test_exception_text_no_record_may_carry_is_cleaned(variant):
    with attack("judge_bad_text") as student:
        with pytest.raises(StudentError) as info:
            student.call("dropout_forward", np.ones(3), {**TEST, "variant": variant}, keep=(1,))
    shown = str(info.value)
    shown.encode("utf-8")
    assert shown.count("\n") < masking.MAX_LINES and len(shown) < 400, shown
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u202e]", shown), shown
    assert "12345678" not in shown


def test_load_notes_carry_no_control_characters_or_hidden_values():
    bad = (ATTACKS / "judge_bad_text.py").read_text().split("\n\nclass")[0]
    blocks = [("cell 'a'", bad + "\nraise ValueError(BAD + ' 1234567')"), ("cell 'b'", "x = 1 +")]
    with SandboxedStudent(blocks, FAST) as student:
        notes = student.load_notes
    assert len(notes) == 2 and notes[0].startswith("cell 'a' could not run: ValueError on line ")
    assert notes[1] == "cell 'b' could not run: SyntaxError on line 1: invalid syntax"
    for note in notes:
        note.encode("utf-8")
        assert "\x1b" not in note and "\u202e" not in note and "1234567" not in note and note.count("\n") < masking.MAX_LINES


# ---------------------------------------------------------------- notes: the judge's own observations


def test_a_forged_load_report_gives_at_most_one_note_per_block(wire):
    with attack("judge_forged_notes") as student:
        notes = student.load_notes
        out, _ = student.call("dropout_forward", np.ones(3), TEST, keep=(1,))  # the channel is in step
    report = wire[2][protocol.Key.FAILURES]
    assert len(report) == 1000, "positive control: the worker's report held 1,000 forged notes"
    assert len(notes) <= 1 and all(n.startswith("judge_forged_notes could not run: ") for n in notes), notes
    np.testing.assert_array_equal(out, np.ones(3))


FORGE_REPORT_ON_BLOCK_0 = """
import sys
_worker, _protocol = sys.modules["grader.sandbox.worker"], sys.modules["grader.sandbox.protocol"]
_protocol.send_frame(3, _protocol.encode({"notes": [{"block": 0, "type": "ValueError", "msg": "forged"}]}))
_real, _done = _worker.send_frame, []
def _swallow_first(fd, frame, *args, **kwargs):
    if not _done:
        _done.append(1)
        return None
    return _real(fd, frame, *args, **kwargs)
_worker.send_frame = _swallow_first
def g():
    return 2
"""


def test_syntax_errors_are_reported_before_any_student_code_runs(wire, monkeypatch):
    """The worker compiles every block before it runs any (so that report is trusted, and the
    compiling costs the worker's time, not the judge's); a later report on the same block,
    written by the student's code, does not replace it."""
    compiled = []
    real = compile

    def recording(source, *args, **kwargs):
        compiled.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr("builtins.compile", recording)
    with SandboxedStudent([("cell 'a'", "def f(:\n"), ("cell 'b'", FORGE_REPORT_ON_BLOCK_0)], FAST) as student:
        assert student.load_notes == ["cell 'a' could not run: SyntaxError on line 1: invalid syntax"]
        assert student.call("g") == 2
    assert wire[1] == {protocol.Key.SYNTAX: [{"block": 0, "line": 1, "msg": "invalid syntax"}]}
    assert wire[2][protocol.Key.FAILURES][0]["msg"] == "forged", "positive control: the forged report arrived"
    assert not any(isinstance(c, str) and "def f(:" in c for c in compiled)  # the judge compiles no student code


def test_load_reports_are_checked_field_by_field():
    student = SandboxedStudent.__new__(SandboxedStudent)
    student.blocks = [("cell 'a'", "x = 1\ny = 2\n"), ("cell 'b'", "z = 3\n")]
    reports = [
        {"block": 5, "type": "ValueError", "msg": "never sent"},
        {"block": -1, "type": "ValueError", "msg": "never sent"},
        {"block": True, "type": "ValueError", "msg": "a bool is no index"},
        {"block": 0, "type": "E" * 200, "line": 99, "msg": "x = 123456"},
        {"block": 0, "type": "ValueError", "line": 1, "msg": "a second report on block 0"},
        "a string note",
        {"block": 1, "type": "KeyError", "line": 1, "msg": ["not", "text"]},
    ]
    assert student._load_notes(reports, {}) == ["cell 'a' could not run: Exception: x = ...",
                                            "cell 'b' could not run: KeyError on line 1"]
    with pytest.raises(protocol.ProtocolError):
        student._load_notes({"notes": "not a list"}, {})
    with pytest.raises(protocol.ProtocolError):
        student._syntax_notes([{"block": 7, "line": 1, "msg": "a block never sent"}])


# ---------------------------------------------------------------- bounded reads


def test_every_reply_budget_covers_the_references_and_mutants_replies():
    """The default budget (a few times the call's arrays) holds what every reference and mutant
    of the built-in assignments legitimately returns; measured on the wire format itself."""
    import inspect

    from grader import assignments

    for name in ("dropout", "conv"):
        assignment = assignments.get(name)
        reference = assignment.reference()
        sources = [inspect.getsource(reference)] + [m.source(reference) for m in assignment.mutants().MUTANTS]
        measured = 0
        for source in sources:
            student = BudgetedStudent.from_source(source)
            run_battery(assignment.battery().checks, student, np.random.default_rng())
            assert not student.over, (name, student.over[:3])
            measured += student.measured
        assert measured > 20 * len(sources)


class BudgetedStudent(InProcessStudent):
    """An in-process student that measures each reply's frame against its call's budget."""

    measured = 0

    def run(self, chains):
        replies = super().run(chains)
        self.over = getattr(self, "over", [])
        self.sizes = getattr(self, "sizes", {})
        for chain, got in zip(chains, replies):
            for call, reply in zip(chain, got):
                arg_bytes = sum(judge._array_bytes(a, self.sizes) for a in call.args)
                budget = reply_budget(call, self.sizes)
                if reply.error is not None:
                    continue
                value = reply.value
                message = {"id": 1, "ok": value, "after": list(reply.after) if reply.after else None}
                frame = protocol.encode_parts(message, lambda h: h.id if isinstance(h, Handle) else None)
                size = sum(memoryview(part).nbytes for part in frame)
                for item in value if type(value) is tuple else ():
                    if isinstance(item, Handle):
                        self.sizes[item.id] = arg_bytes
                self.measured += 1
                if size > budget:
                    self.over.append((call.name, size, budget))
        return replies


def test_a_reply_over_its_budget_is_refused_unread_and_the_next_call_goes_on(wire):
    source = "import numpy as np\ndef grow(x):\n    return np.repeat(x, 100)\ndef same(x):\n    return x\n"
    x = np.ones(10_000)
    with SandboxedStudent([("cell", source)], FAST) as student:
        replies = student.run([[Call("grow", (x,))], [Call("same", (x,))]])
        with pytest.raises(BadReply, match="returned more data than the layer's output can be"):
            replies[0][0].get()
        np.testing.assert_array_equal(replies[1][0].get(), x)  # a fresh worker
        grown = student.call("same", np.repeat(x, 100))  # legitimately large: the budget follows the inputs
        assert grown.size == 1_000_000
        big = student.run([[Call("grow", (x,), reply_bytes=101 * x.nbytes)]])[0][0].get()  # a check may allow more
        assert big.size == 1_000_000


@pytest.mark.parametrize("variant, error, match", [
    ("huge", BadReply, "more data than the layer's output can be"),
    ("negative", BadReply, "more data than the layer's output can be"),
    ("small", StudentTimeout, "did not finish within"),
])
def test_a_frame_header_then_a_stall_is_refused_or_times_out(variant, error, match):
    limits = Limits(**{**FAST.to_json(), "call_seconds": 0.5})
    with attack("judge_stalling_header", limits) as student:
        with pytest.raises(error, match=match):
            student.call("dropout_forward", np.ones(3), {**TEST, "variant": variant}, keep=(1,))
        with pytest.raises(StudentRaised, match="not implemented"):  # the next call: a fresh worker
            student.call("dropout_backward", np.ones(3), None)
    wait_no_strays()


RAW_FRAMES = len(list(runpy.run_path(str(ATTACKS / "judge_raw_frames.py"))["_frames"](1)))  # defines, runs nothing


@pytest.mark.parametrize("variant", range(RAW_FRAMES))
def test_hand_made_frames_are_bad_replies_and_the_batch_goes_on(variant):
    with attack("judge_raw_frames") as student:
        replies = student.run([[Call("dropout_forward", (np.ones(3), {**TEST, "variant": variant}), keep=(1,))],
                               [Call("dropout_forward", (np.ones(3), TEST), keep=(1,))]])
        assert isinstance(replies[0][0].error, (BadReply, StudentCrashed)), replies[0][0]
        again = student.run([[Call("dropout_forward", (np.ones(3), {**TEST, "variant": variant}), keep=(1,))]])
        assert isinstance(again[0][0].error, (BadReply, StudentCrashed))


@pytest.mark.parametrize("variant", ["duplicate", "future", "out_of_order"])
def test_forged_reply_ids_put_the_worker_out_of_step_not_the_judge(variant):
    with attack("judge_forged_replies") as student:
        chains = [[Call("dropout_forward", (np.ones(3), {**TEST, "variant": variant}), keep=(1,))] for _ in range(4)]
        replies = student.run(chains)
        for (reply,) in replies:
            assert reply.error is None or isinstance(reply.error, (BadReply, StudentCrashed)), reply
            if reply.error is None:  # a reply in turn is the worker's answer, checked as any other
                assert type(reply.value) is tuple


@pytest.mark.parametrize("variant", range(7))
def test_forged_error_replies_are_worded_by_the_judge(variant, wire):
    x = x_input()
    with attack("judge_forged_errors") as student:
        reply = student.run([[Call("dropout_forward", (x, {**TEST, "variant": variant}), keep=(1,))]])[0][0]
    assert isinstance(reply.error, StudentError)
    shown = str(reply.error)
    shown.encode("utf-8")
    assert not digit_runs(shown, 4) and len(shown) < 400 and shown.count("\n") < masking.MAX_LINES, shown


#: A judge in its own process making 8 calls in one round; prints the peak of what it allocated
#: meanwhile (tracemalloc counts numpy's arrays too: exact, unlike RSS) and its RSS growth.
JUDGE_MEMORY = """
import json, resource, sys, tracemalloc
import numpy as np
from grader.sandbox.judge import SandboxedStudent
from grader.sandbox.limits import MIB, Limits
from grader.student import Call
limits = Limits(call_seconds=20.0, load_seconds=10.0, submission_seconds=60.0, cpu_seconds=60.0, memory_bytes=512 * MIB)
with SandboxedStudent([("cell", open(sys.argv[1]).read())], limits) as student:
    x = np.ones((100, 100))
    chains = [[Call("dropout_forward", (x, {"p": 0.5, "mode": "train"}), keep=(1,))] for _ in range(8)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    replies = student.run(chains)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    errors = [str(r.error) for (r,) in replies if r.error is not None]
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kib": peak >> 10, "rss_growth_kib": after - before, "errors": errors}))
"""


def _judge_memory(tmp_path: Path, source: str, script: str = JUDGE_MEMORY) -> dict:
    path = tmp_path / "submission.py"
    path.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_oversized_replies_do_not_grow_the_judge(tmp_path):
    """8 calls each answered by a frame announcing 512 MiB: a judge reading them would hold
    4 GiB (the positive control: each frame's header says so); this one reads none of them and
    grows no more than with the honest twin's replies."""
    from support import HONEST

    hostile = _judge_memory(tmp_path, (ATTACKS / "judge_oversized_reply.py").read_text())
    honest = _judge_memory(tmp_path, HONEST["judge_oversized_reply"].code)
    assert len(hostile["errors"]) == 8 and all("more data than" in e for e in hostile["errors"]), hostile
    assert honest["errors"] == []
    assert hostile["peak_kib"] <= 2 * honest["peak_kib"] + 1024, (hostile, honest)
    assert hostile["rss_growth_kib"] <= honest["rss_growth_kib"] + 32 * 1024, (hostile, honest)


def test_oversized_frames_announce_what_an_unbounded_judge_would_have_read(monkeypatch):
    """Positive control for the test above: the frames really announce 512 MiB each."""
    announced = []
    real = judge.recv_message

    def spying(fd, max_bytes, *args, **kwargs):
        try:
            return real(fd, max_bytes, *args, **kwargs)
        except protocol.TooLarge as exc:
            announced.append(int(re.search(r"announces (\d+)", str(exc)).group(1)))
            raise

    monkeypatch.setattr(judge, "recv_message", spying)
    with attack("judge_oversized_reply") as student:
        with pytest.raises(BadReply):
            student.call("dropout_forward", np.ones((10, 10)), {"p": 0.5, "mode": "train"}, keep=(1,))
    assert announced and announced[0] >= 512 * MIB


def test_padding_within_the_budget_is_read_and_the_reply_still_checked():
    with attack("judge_oversized_reply") as student:
        out = student.call("dropout_forward", np.ones((10, 10)), {"p": 0.5, "mode": "test", "variant": "padded"}, keep=(1,))
    assert len(out) == 3 and out[2].shape == (300,)  # the extra item is the check's problem: it uses out[0]


def test_a_round_reads_no_more_than_its_cap_in_all():
    """Each reply within its own budget, but the round's total capped by ``Limits.reply_bytes``:
    the replies past the cap are refused unread, the earlier ones kept."""
    source = "def same(x):\n    return x\n"
    x = np.ones(50_000)  # 400 KB per reply
    limits = Limits(**{**FAST.to_json(), "reply_bytes": 1 * MIB})
    with SandboxedStudent([("cell", source)], limits) as student:
        replies = student.run([[Call("same", (x,))] for _ in range(4)])
    got = [r.error is None for (r,) in replies]
    assert got[:2] == [True, True] and not any(got[2:]), replies
    assert all("more data than" in str(r.error) for (r,) in replies[2:])


def test_the_memory_measure_can_fail(tmp_path):
    """Positive control for test_oversized_replies_do_not_grow_the_judge: a judge that does
    hold big replies shows it in the measure (8 legitimate 16 MB replies, allowed by the calls)."""
    source = "import numpy as np\ndef dropout_forward(x, p):\n    return np.ones(2_000_000), None\n"
    script = JUDGE_MEMORY.replace('keep=(1,))', 'keep=(1,), reply_bytes=20_000_000)')
    measured = _judge_memory(tmp_path, source, script)
    assert measured["errors"] == [] and measured["peak_kib"] > 120 * 1024, measured  # 128 MB held


def test_syntax_notes_survive_a_load_that_then_hangs():
    """The compile report arrives before any student code runs, so a later block that never
    ends loading does not lose it."""
    limits = Limits(**{**FAST.to_json(), "load_seconds": 0.5})
    with SandboxedStudent([("cell 'a'", "def f(:\n"), ("cell 'b'", "while True:\n    pass\n")], limits) as student:
        notes = student.load_notes
    assert notes[0] == "cell 'a' could not run: SyntaxError on line 1: invalid syntax"
    assert len(notes) == 2 and "did not finish within 0.5 s" in notes[1]


def test_a_returned_shape_cannot_carry_hidden_values_into_a_message():
    """An empty array's other dimensions are free for the student's code to choose: only small
    ones (at most twice the largest public dimension) are shown, and a count of axes past 8 is not."""
    from grader.masking import axes_shown, difference_shown, shape_shown

    assert shape_shown((3, 4), (4, 3)) == "(3, 4)"  # a transposed output: shown whole
    assert shape_shown((0, 918273, 5), (4, 3)) == "(0, ..., 5)"  # 918273 could be a hidden value
    assert shape_shown((7,), (2, 2)) == "(...,)"
    assert shape_shown(tuple([1] * 20), (4,)) == "(an array with 20 axes)"
    assert difference_shown(-2, (1, 3, 5, 5)) == "2" and difference_shown(123456, (1, 3, 5, 5)) == "far"
    assert axes_shown(3) == "3" and axes_shown(31) == "more than 8"


def test_the_checks_show_returned_shapes_masked():
    from grader import assignments
    from grader.checks.base import run_battery
    from grader.student import InProcessStudent

    leaky = ("import numpy as np\n"
             "def dropout_forward(x, dropout_param):\n"
             "    return np.zeros((0, 987654321)), None\n"
             "def dropout_backward(dout, cache):\n"
             "    return np.zeros((0, 987654321))\n"
             "def conv_forward_naive(x, w, b, conv_param):\n"
             "    return np.zeros((x.shape[0], w.shape[0], 987654, 3)), None\n")
    student = InProcessStudent.from_source(leaky)
    rng = np.random.default_rng(0)
    outputs = [r.output for r in run_battery(assignments.get("dropout").battery().checks, student, rng)]
    outputs += [r.output for r in run_battery(assignments.get("conv").battery().checks, student, rng)]
    assert any("of shape (0, ...)" in o for o in outputs) and any("far too large" in o for o in outputs)
    assert not any("987654" in o for o in outputs)

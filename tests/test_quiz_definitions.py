"""Quizzes as data: the questions format, the engine on a small quiz that is not Quiz 8, and
check-solutions' one-line surprises."""

from __future__ import annotations

import random

import pytest

from grader.definition import DefinitionError, load
from grader.quiz.check import check_quiz
from grader.quiz.grade import grade_answer, grade_answers
from grader.quiz.questions import load_quiz, quiz_of

QUESTIONS = '''
[[question]]
name = "out_size"
title = "output size"
symbols = ["H", "K", "S"]
domain = "sizes"
divides = ["S", "H - K"]
key = "(H - K) / S + 1"
misconceptions = [{ answer = "H / S", message = "the kernel size matters", credit = 0.25 }]

[[question]]
name = "scaled"
symbols = ["x", "p"]
key = "x / p"
points = 2
'''


def _definition(tmp_path, questions=QUESTIONS, answers='out_size = "1 + (H-K)/S"\nscaled = "x/p"\n', files=None):
    (tmp_path / "questions.toml").write_text(questions)
    (tmp_path / "answers.py").write_text(answers)
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "course.toml").write_text(
        '[[assignment]]\nname = "q"\nkind = "quiz"\nreference = "answers.py"\nquestions = "questions.toml"\n')
    return load(tmp_path).assignments["q"]


def test_questions_load_with_their_defaults(tmp_path):
    first, second = quiz_of(_definition(tmp_path)).questions.values()
    assert (first.cell, first.points, first.domain.kind) == ("test_out_size", 1.0, "sizes")
    assert [(str(d), target, str(solved)) for d, target, solved in first.domain.divides] == [("S", "H", "K + S*k0")]
    assert first.misconceptions[0].label == "the kernel size matters"  # a label defaults to the message
    assert (second.title, second.domain.kind, second.points) == ("scaled", "real", 2.0)


@pytest.mark.parametrize("text, words", [
    ("[[question]]\nname = 'a'\n", "question 'a' needs symbols"),
    ("[[question]]\nname = 'a b'\nsymbols = ['x']\nkey = 'x'\n", "needs a name that is a Python identifier"),
    ("[[question]]\nname = 'a'\nsymbols = ['x y']\nkey = 'x'\n", "symbols must be identifiers"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nkey = 'x'\ndomain = 'complex'\n", "domain must be real, sizes or a declared"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nkey = 'x'\nanswer = 'x'\n", "unknown key(s) answer"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nmisconceptions = [{ answer = 'x' }]\n", "needs a message"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nmisconceptions = [{ message = 'm', credit = 1.5 }]\n", "credit must be"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nmisconceptions = ['nowhere']\n", "[misconception.nowhere]"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\nmisconceptions = [{ use = ['m'] }]\n", "['m'] is not declared"),
    ("[misconception]\nm = 3\n[[question]]\nname = 'a'\nsymbols = ['x']\nmisconceptions = ['m']\n",
     "[misconception.m] must be a table"),
    ("[[question]]\nname = 'a'\nsymbols = ['n', 's']\ndomain = 'sizes'\ndivides = ['s', 'q']\n", "names something that is not"),
    ("[[question]]\nname = 'a'\nsymbols = ['x']\n[[question]]\nname = 'a'\nsymbols = ['x']\n", "question 'a' twice"),
    ("[quiz]\nderive = ['keys.py']\n[[question]]\nname = 'a'\nsymbols = ['x']\n", "\"file.py:function\""),
    ("[quiz]\nderive = ['none.py:f']\n[[question]]\nname = 'a'\nsymbols = ['x']\n", "does not exist"),
    ("[notation]\nlabels = ['(']\n[[question]]\nname = 'a'\nsymbols = ['x']\n", "is not a regular expression"),
    ("[notation]\nlatex = { y = 'y' }\n[[question]]\nname = 'a'\nsymbols = ['x']\n", "latex must map symbols"),
    ("[questions]\n", "unknown table(s) questions"),
    ("[[question]\n", "cannot read the quiz questions"),
    ("", "declares no [[question]]"),
])
def test_a_malformed_questions_file_is_one_definition_error_sentence(tmp_path, text, words):
    (tmp_path / "questions.toml").write_text(text)
    with pytest.raises(DefinitionError) as raised:
        load_quiz(tmp_path / "questions.toml")
    message = str(raised.value)
    assert words in message and "\n" not in message.strip(), message
    assert "questions.toml" in message


@pytest.mark.parametrize("answer, score", [
    ("(H - K)//S + 1", 1.0), ("(H - K + S)/S", 1.0), ("H/S", 0.25), ("(H - K)/S", 0.0), ("H - K + 1", 0.0),
])
def test_size_answers_are_compared_where_the_stride_divides(tmp_path, answer, score):
    quiz = quiz_of(_definition(tmp_path))
    for _ in range(5):  # fresh, unseeded points each time: the verdict must not change
        assert grade_answer(quiz, "out_size", answer, random.Random()).score == score
    seeded = {grade_answer(quiz, "out_size", answer).output for _ in range(3)}
    assert len(seeded) == 1  # seeded by the answer: the same verdict and message every run


def test_real_answers_and_unknown_symbols(tmp_path):
    quiz = quiz_of(_definition(tmp_path))
    assert grade_answer(quiz, "scaled", r"\frac{x}{p}").score == 2.0
    assert grade_answer(quiz, "scaled", "x*p").score == 0.0
    result = grade_answer(quiz, "scaled", "x/q")
    assert result.status == "error" and "its symbols: H, K, S, x, p" in result.output
    partial = grade_answer(quiz, "out_size", "H/S")
    assert partial.output.endswith("Partial credit: 0.25 of 1 point.") and partial.misconception == "the kernel size matters"


def test_validation_names_what_to_update(tmp_path):
    questions = QUESTIONS.replace('answer = "H / S"', 'answer = "(H - K + S) / S"')
    assignment = _definition(tmp_path, questions, answers='out_size = "H/S"\n')
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) == 2, lines
    assert any("question out_size: the misconception misconception_1 is equivalent to the key" in line for line in lines)
    typed = next(line for line in lines if "keys in answers.py" in line)
    assert typed.startswith("SURPRISE q keys in answers.py: out_size: typed key H/S disagrees with the given key")
    assert "scaled: no typed answer" in typed and typed.endswith("(update answers.py or the key in questions.toml)")
    lines.clear()
    assert check_quiz(_definition(tmp_path), lines.append) == 0 and lines[0].startswith("ok"), lines


def test_a_given_key_that_disagrees_with_the_reference_answers_is_a_surprise(tmp_path):
    assignment = _definition(tmp_path, QUESTIONS.replace('key = "x / p"', 'key = "x * p"'))
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) == 1
    assert len(lines) == 1 and lines[0].startswith("SURPRISE q keys in answers.py: scaled: typed key x/p disagrees "
                                                   "with the given key p*x"), lines


def test_an_unreadable_key_is_a_surprise_and_its_question_an_error(tmp_path):
    assignment = _definition(tmp_path, QUESTIONS.replace('key = "x / p"', 'key = "x / pp"'))
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) >= 1
    assert any(line.startswith("SURPRISE q question scaled: its given key cannot be read") for line in lines), lines
    result = grade_answer(quiz_of(assignment), "scaled", "x/p")
    assert result.status == "error" and "no answer key" in result.output


# ---------------------------------------------------------------- a small quiz that is not Quiz 8

LAYER = "def scale(a, m, q):\n    return m * a / q\n"
DERIVE = '''
import sympy


def keys(references, s):
    out = references.layer.scale(s["a"], s["m"], s["q"])
    return {"out": out, "grad": s["dLdZ"] * sympy.diff(out, s["a"]), "out_unmasked": out.subs(s["m"], 1)}
'''
MASKED = '''
[quiz]
derive = ["derive.py:keys"]
references = { layer = "layer.py" }
masks = ["m"]
probabilities = ["q"]

[notation]
latex = { dLdZ = '\\frac{\\partial L}{\\partial Z}' }
labels = ['Z', '(?:∂|d)L/(?:∂|d)[A-Za-z]']

[misconception.no_mask]
label = "mask left out"
message = "the mask m is missing"
subs = { m = "1" }

[[question]]
name = "out"
title = "masked, scaled output"
cell = "test_layer"
symbols = ["m", "a", "q"]
misconceptions = ["no_mask", { slug = "drop_rate", label = "q as drop rate", message = "q is the keep rate", credit = 0.5, subs = { q = "1 - q" } }]

[[question]]
name = "grad"
title = "gradient"
cell = "test_layer"
symbols = ["dLdZ", "m", "a", "q"]
misconceptions = [{ use = "no_mask" }, { slug = "forward", label = "forward pass", message = "this is the forward pass", answer = "out" }]

[[question]]
name = "size"
title = "windows"
symbols = ["n", "k", "s"]
domain = "sizes"
divides = ["s", "n - k"]
key = "(n - k)/s + 1"
misconceptions = [{ slug = "no_plus_one", label = "no +1", message = "count the first window", answer = "key - 1" }]
'''
ANSWERS = 'out = "m a / q"\ngrad = "dL/dZ ⊙ m / q"\nsize = "1 + (n - k)//s"\n'


def _masked(tmp_path, layer=LAYER, derive=DERIVE):
    return _definition(tmp_path, MASKED, ANSWERS, {"layer.py": layer, "derive.py": derive})


def test_a_declared_quiz_with_derived_keys_grades_like_quiz_8(tmp_path):
    assignment = _masked(tmp_path)
    quiz = quiz_of(assignment)
    assert quiz.keys.derived == {"out", "grad"} and quiz.keys.problems == []
    right = grade_answers(quiz, {"out": "Z = a ⊙ m / q.", "grad": r"\frac{\partial L}{\partial Z} \odot \frac{m}{q}",
                                 "size": "ceil((n - k)/s) + 1"})
    assert [(r.name, r.score, r.status, r.cell) for r in right] == [
        ("out: masked, scaled output", 1.0, "passed", "test_layer"), ("grad: gradient", 1.0, "passed", "test_layer"),
        ("size: windows", 1.0, "passed", "test_size")]
    assert "Note: the punctuation at the end was ignored." in right[0].output
    assert r"\frac{\partial L}{\partial Z}" in right[1].understood
    assert grade_answer(quiz, "out", "m**2 a/q").score == 1.0  # m is a mask: m² = m
    wrong = {name: grade_answer(quiz, *name_answer) for name, name_answer in {
        "no_mask": ("out", "a/q"), "drop_rate": ("out", "m a/(1 - q)"), "grad_no_mask": ("grad", "dL_dZ / q"),
        "forward": ("grad", "m a / q"), "no_plus_one": ("size", "(n - k)/s")}.items()}
    assert {k: (r.score, r.misconception) for k, r in wrong.items()} == {
        "no_mask": (0.0, "mask left out"), "drop_rate": (0.5, "q as drop rate"), "grad_no_mask": (0.0, "mask left out"),
        "forward": (0.0, "forward pass"), "no_plus_one": (0.0, "no +1")}
    assert "Note: dL_dZ was read as dL/dZ." in wrong["grad_no_mask"].output
    absolute = grade_answer(quiz, "out", "sqrt((m a)^2)/q")  # |m a|/q: refuted at a negative a
    assert (absolute.status, absolute.score) == ("failed", 0.0)
    assert grade_answer(quiz, "grad", "∂L/∂Y m").output.startswith("Not understood: ∂ is understood only in dL/dZ (∂L/∂Z)")
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) == 0, lines


def test_a_changed_reference_is_a_surprise_naming_the_question(tmp_path):
    assignment = _masked(tmp_path, layer="def scale(a, m, q):\n    return 1.01 * m * a / q\n")
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) == 1
    assert len(lines) == 1 and lines[0].startswith("SURPRISE q keys in answers.py: out: typed key a*m/q disagrees with "
                                                   "the derived key"), lines
    assert "grad: typed key" in lines[0]


def test_a_failing_derivation_is_one_line_per_question_and_no_traceback(tmp_path):
    assignment = _masked(tmp_path, derive=DERIVE.replace("return {", "raise ValueError('the layer changed')\n    return {"))
    lines: list[str] = []
    assert check_quiz(assignment, lines.append) == 2, lines
    surprises = [line for line in lines if line.startswith("SURPRISE")]
    assert [line.split(":")[0] for line in surprises] == ["SURPRISE q question out", "SURPRISE q question grad"]
    assert all("derive.py:keys failed (ValueError: the layer changed)" in line and "update the reference" in line
               for line in surprises)
    assert any(line.startswith("ok ") for line in lines)  # the given key of size still checks out
    results = grade_answers(quiz_of(assignment), {"out": "m a/q", "size": "(n - k)/s + 1"})
    assert [(r.status, r.score) for r in results] == [("error", 0.0), ("failed", 0.0), ("passed", 1.0)]


def test_a_generated_quiz_notebook_previews_answers_in_its_own_notation(monkeypatch, capsys):
    """examples/maxpool's pool_quiz notebook is generated from prose: its setup cell is the answer
    reader with the quiz's symbols (no key), and its preview cell shows every answer as read."""
    import sys

    from grader import assignments
    from grader.notebooks import build_notebook
    from grader.paths import REPO_ROOT
    from grader.quiz.student_cell import cell_source

    with assignments.use(REPO_ROOT / "examples" / "maxpool"):
        assignment = assignments.get("pool_quiz")
        quiz = quiz_of(assignment)
        cells = {c.metadata["nbgrader"]["grade_id"]: c for c in build_notebook(assignment).cells}
    ids = list(cells)
    assert ids.index("setup") < ids.index("answer_pool_Hout") < ids.index("preview") < ids.index("test_pool_Hout")
    assert cells["setup"].source == cell_source(quiz) and cells["setup"].metadata["nbgrader"]["locked"]
    assert "1 + (H - pool_height) / stride" not in cells["setup"].source  # no key
    for name in ("grader", "solutions"):  # the notebook runs without the grader
        monkeypatch.setitem(sys.modules, name, None)
    namespace: dict = {}
    exec(cells["setup"].source, namespace)
    namespace["pool_Hout"] = "H_{out} = (H - pool_height) // stride + 1."
    exec(cells["preview"].source, namespace)
    out = capsys.readouterr().out
    assert "pool_Hout: understood as floor((H - pool_height)/stride) + 1" in out, out
    assert "punctuation at the end was ignored" in out
    namespace["pool_Hout"] = "pool_width"
    exec(cells["preview"].source, namespace)
    assert "'pool_width' is not a symbol of this quiz (its symbols: H, pool_height, stride)" in capsys.readouterr().out


def test_a_generated_quiz_notebook_checks_in_public_that_each_answer_is_given_and_read(monkeypatch):
    """Like the built-in quiz notebook, each autograder cell of a generated one runs
    check_answered (nbgrader's Validate): it fails on a missing or unreadable answer, never says
    whether an answer is right."""
    import sys

    from grader import assignments
    from grader.notebooks import build_notebook
    from grader.paths import REPO_ROOT

    with assignments.use(REPO_ROOT / "examples" / "maxpool"):
        cells = {c.metadata["nbgrader"]["grade_id"]: c for c in build_notebook(assignments.get("pool_quiz")).cells}
    public = cells["test_pool_Hout"].source.split("### BEGIN HIDDEN TESTS")[0]
    assert 'check_answered("pool_Hout")' in public
    for name in ("grader", "solutions"):  # the released notebook runs without the grader
        monkeypatch.setitem(sys.modules, name, None)
    namespace: dict = {}
    exec(cells["setup"].source, namespace)
    exec(cells["answer_pool_Hout"].source.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), namespace)
    exec(public, namespace)  # the reference answer is given and read
    namespace["pool_Hout"] = "H / stride"  # wrong, but given and readable: the public check passes
    exec(public, namespace)
    for unanswered, words in (("", "pool_Hout: no answer yet"), ("1 + (H - pool_width)/stride", "not understood")):
        namespace["pool_Hout"] = unanswered
        with pytest.raises(AssertionError, match=words):
            exec(public, namespace)


def test_quiz_prose_places_only_its_questions_and_every_question_gets_an_answer_cell(tmp_path):
    from grader.notebooks import build_notebook

    assignment = _definition(tmp_path)
    (tmp_path / "q.md").write_text("# Quiz\n\n<!-- answer: out_size -->\n")
    (tmp_path / "course.toml").write_text((tmp_path / "course.toml").read_text() + 'prose = "q.md"\n')
    assignment = load(tmp_path).assignments["q"]
    ids = [c.metadata["nbgrader"]["grade_id"] for c in build_notebook(assignment).cells]
    assert {"answer_out_size", "answer_scaled"} <= set(ids)  # scaled is not placed by the prose, yet answerable
    (tmp_path / "q.md").write_text("# Quiz\n\n<!-- answer: out_sise -->\n")
    with pytest.raises(DefinitionError, match=r"q.md line 3: <!-- answer: out_sise --> names no answer of the "
                                              r"quiz \(out_size, scaled\)"):
        build_notebook(assignment)


def test_a_reference_that_is_not_python_is_a_definition_error_of_the_generated_notebook(tmp_path):
    import dataclasses

    from grader.notebooks import build_notebook

    (tmp_path / "q.md").write_text("# Quiz\n<!-- answer: out_size -->\n")
    assignment = dataclasses.replace(_definition(tmp_path, answers='out_size = "1 + (H-K)/S"\nb = (\n'),
                                     notebook_prose=tmp_path / "q.md")
    with pytest.raises(DefinitionError, match=r"answers.py cannot be read as Python \('\(' was never closed\)"):
        build_notebook(assignment)

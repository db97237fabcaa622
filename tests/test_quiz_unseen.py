"""Quiz answers the project had not seen (tests/quiz_unseen_answers.py), typed the ways students
type them: graded through the command line as .py answer files and as a filled, released quiz
notebook. Every right one earns its point, no wrong one does (named misconceptions may earn
partial credit), and the verdicts are the same in another process with another hash seed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.paths import REPO_ROOT
from grader.quiz.grade import grade_answer
from quiz_unseen_answers import NOT_UNDERSTOOD, UNSEEN

from grader.assignments import builtin
from grader.quiz import quiz_of

QUIZ = quiz_of(builtin().assignments["quiz"])


def _files(folder: Path) -> dict[tuple[str, str], tuple[str, str, bool]]:
    """Answer files, one answer per name each: (file stem, name) -> the answer."""
    by_name = defaultdict(list)
    for answer in UNSEEN:
        by_name[answer[0]].append(answer)
    index = {}
    for k in range(max(len(v) for v in by_name.values())):
        chosen = {name: answers[k] for name, answers in by_name.items() if k < len(answers)}
        (folder / f"s{k:02d}.py").write_text("".join(f"{name} = {a[1]!r}\n" for name, a in chosen.items()))
        index.update({(f"s{k:02d}", name): a for name, a in chosen.items()})
    return index


def _verdicts(jsonl: Path) -> dict[tuple[str, str], dict]:
    verdicts = {}
    for line in jsonl.read_text().splitlines():
        record = json.loads(line)
        for test in record["tests"]:
            verdicts[(Path(record["submission"]).stem, test["name"].split(":")[0])] = test
    return verdicts


def _misgraded(index, verdicts) -> list[str]:
    wrongly = []
    for key, (name, text, right) in index.items():
        test = verdicts[key]
        full = test["status"] == "passed" and test["score"] == test["max_score"]
        if full != right:
            wrongly.append(f"{name}: {text!r} ({'right' if right else 'wrong'}) -> {test['status']}: {test['output']}")
    return wrongly


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("answers")
    index = _files(folder)
    out = folder.parent / "results.jsonl"
    assert main(["grade", "--assignment", "quiz", str(folder), "--json", str(out)]) == 0
    return folder, index, _verdicts(out)


def test_every_unseen_answer_is_graded_right(graded):
    _, index, verdicts = graded
    assert len(index) == len(UNSEEN) >= 60
    assert not _misgraded(index, verdicts)
    for name in {a[0] for a in UNSEEN}:  # each answer name has right and wrong unseen answers
        assert {right for n, _, right in UNSEEN if n == name} == {True, False}, name


def test_a_wrong_answer_earns_at_most_partial_credit_and_says_why(graded):
    _, index, verdicts = graded
    for key, (_, _, right) in index.items():
        if not right:
            output = verdicts[key]["output"]
            assert verdicts[key]["score"] <= 0.5, verdicts[key]
            assert "Not right" in output or "not equivalent" in output, verdicts[key]


def test_the_same_verdicts_in_another_process(graded, tmp_path):
    folder, _, verdicts = graded
    out = tmp_path / "again.jsonl"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-m", "grader.cli", "grade", "--assignment", "quiz", str(folder), "--json", str(out)],
                   check=True, env=env, cwd=REPO_ROOT, capture_output=True, timeout=300)
    again = _verdicts(out)
    assert {k: (t["status"], t["score"]) for k, t in again.items()} == \
        {k: (t["status"], t["score"]) for k, t in verdicts.items()}


def test_unseen_answers_in_a_released_quiz_notebook(tmp_path):
    course = tmp_path / "course"
    assert main(["release", "--course", str(course)]) == 0
    nb = nbformat.read(str(course / "release" / "quiz" / "quiz.ipynb"), as_version=4)
    # the first right and the first wrong unseen answer of each name, in two notebooks
    for right in (True, False):
        chosen = {}
        for name, text, is_right in UNSEEN:
            if is_right == right:
                chosen.setdefault(name, text)
        filled = nbformat.from_dict(json.loads(json.dumps(nb)))
        for cell in filled.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = re.sub(r'^(\w+) = r""$', lambda m: f"{m.group(1)} = {chosen[m.group(1)]!r}",
                                     cell.source, flags=re.M)
        path = tmp_path / f"{'right' if right else 'wrong'}.ipynb"
        nbformat.write(filled, str(path))
        out = tmp_path / f"{path.stem}.jsonl"
        assert main(["grade", "--assignment", "quiz", str(path), "--json", str(out)]) == 0
        tests = json.loads(out.read_text())["tests"]
        assert len(tests) == 12
        if right:
            assert all(t["status"] == "passed" for t in tests), [t["output"] for t in tests if t["status"] != "passed"]
        else:
            assert all(t["score"] < t["max_score"] for t in tests), [t["output"] for t in tests if t["score"]]


@pytest.mark.parametrize("name,text", NOT_UNDERSTOOD)
def test_undefined_notations_are_not_understood_never_judged(name, text):
    result = grade_answer(QUIZ, name, text)
    assert result.status == "error" and result.score == 0 and result.output.startswith("Not understood"), result.output

"""The Gradescope bundle: its contents, and run_autograder against a temporary autograder root."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import assignments
from grader.paths import REPO_ROOT
from grader.platforms import PlatformError
from grader.platforms.gradescope import (
    ROOT_ENV,
    SubmissionNotFound,
    build_gradescope_bundle,
    find_submission,
    gradescope_results,
)
from grader.results import SubmissionResult, TestResult


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles")
    return {a: build_gradescope_bundle(a, out / f"{a}.zip") for a in ("dropout", "quiz")}


def test_bundle_holds_scripts_and_project(bundles):
    with zipfile.ZipFile(bundles["dropout"]) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        run = zf.read("run_autograder").decode()
    for needed in ("setup.sh", "run_autograder", "pyproject.toml", "README.md", "grader/grading.py",
                   "grader/platforms/gradescope.py", "solutions/dropout.py", "assignments/dropout/dropout.ipynb"):
        assert needed in names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert not any("__pycache__" in n or n.startswith(("tests/", ".git")) or n.endswith(".pyc") for n in names)
    assert "--assignment dropout" in run and "--hidden-visibility after_published" in run


def test_scripts_are_valid_bash(bundles, tmp_path):
    with zipfile.ZipFile(bundles["quiz"]) as zf:
        for name in ("setup.sh", "run_autograder"):
            (tmp_path / name).write_bytes(zf.read(name))
            subprocess.run(["bash", "-n", str(tmp_path / name)], check=True)
    setup = (tmp_path / "setup.sh").read_text()
    assert "pip install -e /autograder/source" in setup and "python3.11" in setup


def test_bundles_are_reproducible(tmp_path):
    a = build_gradescope_bundle("conv", tmp_path / "a.zip").read_bytes()
    b = build_gradescope_bundle("conv", tmp_path / "b.zip").read_bytes()
    assert a == b


def test_unknown_assignment_is_a_clear_error(tmp_path):
    with pytest.raises(PlatformError, match="unknown assignment 'pool'; choose one of"):
        build_gradescope_bundle("pool", tmp_path / "x.zip")
    with pytest.raises(PlatformError, match="unknown visibility"):
        build_gradescope_bundle("quiz", tmp_path / "x.zip", hidden_visibility="secret")


def test_find_submission(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(SubmissionNotFound, match="no notebook found"):
        find_submission(tmp_path, "dropout")
    (tmp_path / "scratch.ipynb").write_text("{}")
    assert find_submission(tmp_path, "dropout").name == "scratch.ipynb"
    (tmp_path / "other.ipynb").write_text("{}")
    with pytest.raises(SubmissionNotFound, match="several .ipynb files"):
        find_submission(tmp_path, "dropout")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dropout.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "dropout.ipynb").write_text("{}")
    assert find_submission(tmp_path, "dropout") == tmp_path / "sub" / "dropout.ipynb"


def test_results_json_format():
    result = SubmissionResult(
        "dropout.ipynb", "dropout",
        tests=[
            TestResult("shape", 1.0, 1.0, "passed"),
            TestResult("scale", 0.0, 2.0, "failed", "not scaled by 1/p"),
            TestResult("slow", 0.0, 1.0, "timeout", "took too long"),
            TestResult("crash", 0.0, 1.0, "error", "raised KeyError"),
        ],
        notes=["cell 9 was not graded"],
    )
    data = gradescope_results(result, visible_names={"shape"})
    assert data["score"] == 1.0 and data["stdout_visibility"] == "hidden"
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "failed", "failed"]
    assert [t["visibility"] for t in data["tests"]] == ["visible"] + ["after_published"] * 3
    assert data["tests"][2]["output"] == "Timed out: took too long"
    assert data["tests"][3]["output"] == "Error: raised KeyError"
    assert data["tests"][1]["max_score"] == 2.0 and "cell 9 was not graded" in data["output"]
    error = gradescope_results(SubmissionResult("x", "quiz", status="error", message="not a notebook"))
    assert error["score"] == 0 and error["tests"] == [] and "could not be graded: not a notebook" in error["output"]



def test_students_see_their_total_and_failed_properties_at_once_details_later():
    result = SubmissionResult(
        "dropout.py", "dropout",
        tests=[TestResult("keep rate matches p", 1.0, 1.0, "passed"),
               TestResult("scales kept units by 1/p", 0.0, 2.0, "failed", "multiplied kept units by 1"),
               TestResult("test mode is the identity", 0.0, 1.0, "error", "raised KeyError")],
    )
    data = gradescope_results(result)
    lines = data["output"].splitlines()
    assert "Total: 1 / 4." in lines
    assert "  - scales kept units by 1/p" in lines and "  - test mode is the identity" in lines
    assert "keep rate" not in data["output"] and "multiplied" not in data["output"]  # details stay hidden
    assert {t["visibility"] for t in data["tests"]} == {"after_published"}
    score_only = gradescope_results(result, summary="score")["output"]
    assert "Total: 1 / 4." in score_only and "scales kept units" not in score_only
    # everything visible at once: no summary needed
    assert "Total" not in gradescope_results(result, hidden_visibility="visible")["output"]
    with pytest.raises(PlatformError, match="unknown summary"):
        build_gradescope_bundle("dropout", Path("x.zip"), summary="all")


# --- running the bundle's run_autograder (needs the grading engine) --------------------------------


def run_bundle(bundle: Path, root: Path, files: dict[str, str]) -> dict:
    """Unpack like Gradescope does (zip in <root>/source), add a submission, run run_autograder."""
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    env = {**os.environ, ROOT_ENV: str(root), "GRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert "autograder itself failed" not in data["output"], proc.stderr[-3000:]
    return data


def test_run_autograder_quiz(bundles, tmp_path):
    answers = 'forward_inverted = "H = D * Y / p"\nexpectation = "Y"\nvariance = "p * (1 - p)"\n'
    data = run_bundle(bundles["quiz"], tmp_path / "root", {"answers.py": answers})
    by_answer = {t["name"].split(":")[0]: t for t in data["tests"]}
    assert by_answer["forward_inverted"]["status"] == "passed"
    assert by_answer["expectation"]["status"] == "passed"
    assert by_answer["variance"]["status"] == "failed" and by_answer["forward"]["status"] == "failed"
    assert data["score"] == sum(t["score"] for t in data["tests"]) >= 2
    assert {t["visibility"] for t in data["tests"]} == {"after_published"}


def test_run_autograder_dropout(bundles, tmp_path):
    reference = (REPO_ROOT / "solutions" / "dropout.py").read_text()
    good = run_bundle(bundles["dropout"], tmp_path / "good", {"dropout.py": reference})
    assert good["tests"] and good["score"] == sum(t["max_score"] for t in good["tests"])
    assert all(t["status"] == "passed" for t in good["tests"])
    broken = reference + "\n\ndef dropout_forward(x, dropout_param):\n    raise ValueError('unfinished')\n"
    bad = run_bundle(bundles["dropout"], tmp_path / "bad", {"dropout.py": broken, "notes.txt": ""})
    assert bad["score"] < good["score"] and any(t["status"] == "failed" for t in bad["tests"])
    empty = run_bundle(bundles["dropout"], tmp_path / "empty", {"readme.txt": "hi"})
    assert empty["score"] == 0 and "no notebook found" in empty["output"]


def test_grader_fault_still_writes_results(tmp_path, monkeypatch):
    import grader.grading
    from grader.platforms.gradescope import run_autograder

    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(grader.grading, "grade_submission", broken)
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "quiz.py").write_text("forward = 'H = D*Y'\n")
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    run_autograder("quiz")
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    assert data["score"] == 0 and "autograder itself failed" in data["output"]
    assert "engine bug" not in json.dumps(data)  # internals stay out of what students see


# --- a released-style notebook through run_autograder ----------------------------------------------

ARRAY_REPR = re.compile(r"array\(|\[\s*\[|\[\s*[-+]?\d*\.\d")  # np.array repr / str of a float array


def released_dropout(source: str) -> str:
    """The notebook a student hands in: the source notebook released with nbgrader's own
    ClearSolutions and ClearHiddenTests (in process), its solution cells then filled from ``source``."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    from grader.nbgrader_bridge.fill import fill_solutions

    a = assignments.get("dropout")
    nb = nbformat.read(str(a.notebook), as_version=4)
    for preprocessor in (ClearSolutions(), ClearHiddenTests()):
        nb, _ = preprocessor.preprocess(nb, {})
    text = "\n".join(cell.source for cell in nb.cells)
    assert "NotImplementedError" in text and "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    return nbformat.writes(fill_solutions(nb, source, a.functions))


def _hidden_code_lines() -> set[str]:
    """Lines of hidden-test code a student must never see: the checks' code (lines without string
    literals, which hold the messages students are meant to read) and the source notebook's
    hidden-test regions."""
    lines = {
        line.strip() for line in assignments.get("dropout").checks_path.read_text().splitlines()
        if len(line.strip()) > 20 and not line.strip().startswith("#") and not set("\"'") & set(line)
    }
    source = nbformat.read(str(assignments.get("dropout").notebook), as_version=4)
    for cell in source.cells:
        for region in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", cell.source, re.S):
            lines |= {line.strip() for line in region.splitlines() if len(line.strip()) > 8}
    return lines


def _dropout_variants() -> dict[str, str]:
    import solutions.dropout as reference
    mutants = assignments.get("dropout").mutants()

    right = inspect.getsource(reference)
    no_rescale = next(m for m in mutants.MUTANTS if m.name == "no_rescale").source(reference)
    # puts the hidden input and p into its exception text: feedback must mask them
    leaky = right.replace("mask = (np.random.rand", 'raise ValueError(f"x = {x!r}, p = {p}, x.shape = {x.shape}")\n        mask = (np.random.rand', 1)
    assert leaky != right
    return {"reference": right, "no_rescale": no_rescale, "leaky": leaky}


def run_notebook(bundle: Path, root: Path, source: str, visibility: str) -> dict:
    """Run ``bundle`` on the released notebook filled with ``source`` and check what every
    results.json must satisfy; returns it."""
    from grader.grading import grade_submission

    battery = assignments.get("dropout").battery()
    hidden = {c.name for c in battery.checks if not getattr(c, "visible", False)}
    assert hidden
    data = run_bundle(bundle, root, {"dropout.ipynb": released_dropout(source)})
    # the same score, check by check, as the grading engine gives the same notebook
    direct = grade_submission(root / "submission" / "dropout.ipynb", "dropout")
    assert direct.status == "graded"
    assert data["score"] == pytest.approx(direct.score, abs=1e-6)
    assert {t["name"]: t["score"] for t in data["tests"]} == pytest.approx({t.name: t.score for t in direct.tests}, abs=1e-6)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-6)
    # one entry per check, the hidden ones with the visibility the bundle was built with
    assert [t["name"] for t in data["tests"]] == [c.name for c in battery.checks]
    for t in data["tests"]:
        assert t["visibility"] == (visibility if t["name"] in hidden else "visible"), t
    # nothing of the hidden inputs or the hidden tests' code reaches the student
    secret = _hidden_code_lines()
    assert secret
    for text in [data["output"]] + [t["output"] for t in data["tests"]]:
        assert not ARRAY_REPR.search(text), text
        assert not [line for line in secret if line in text], text
    assert data["stdout_visibility"] == "hidden"
    return data


def test_run_autograder_dropout_notebook(bundles, tmp_path):
    battery = assignments.get("dropout").battery()
    total = sum(c.points for c in battery.checks)
    variants = _dropout_variants()
    good = run_notebook(bundles["dropout"], tmp_path / "good", variants["reference"], "after_published")
    assert good["score"] == total and all(t["status"] == "passed" for t in good["tests"])

    buggy = run_notebook(bundles["dropout"], tmp_path / "buggy", variants["no_rescale"], "after_published")
    assert buggy["score"] < total
    assert battery.by_id("expectation_is_preserved").name in {t["name"] for t in buggy["tests"] if t["status"] == "failed"}

    leaky = run_notebook(bundles["dropout"], tmp_path / "leaky", variants["leaky"], "after_published")
    errors = [t["output"] for t in leaky["tests"] if t["output"].startswith("Error: ") and "ValueError" in t["output"]]
    assert leaky["score"] < total and errors
    # the exception text is shown, with its arrays masked, its public values (p, shapes) kept
    assert all(re.search(r"x = \[\.\.\.\], p = [01]\.\d+, x\.shape = \(\d", text) for text in errors), errors


def test_run_autograder_dropout_notebook_hidden_visibility(tmp_path):
    bundle = build_gradescope_bundle("dropout", tmp_path / "hidden.zip", hidden_visibility="hidden")
    data = run_notebook(bundle, tmp_path / "root", _dropout_variants()["no_rescale"], "hidden")
    assert 0 < data["score"] < sum(t["max_score"] for t in data["tests"])


def test_a_check_marked_visible_is_shown_at_once(monkeypatch):
    """Battery.check(..., visible=True) is how an instructor shows a check's details at once."""
    from grader.checks.base import Battery
    from grader.platforms import gradescope

    battery = Battery()

    @battery.check("output has the input's shape", 1.0, "test_shapes", visible=True)
    def shape(rng):
        yield []

    @battery.check("train mode keeps a fraction p of units", 1.0, "test_train")
    def keep(rng):
        yield []

    fake = assignments.Assignment(name="dropout", title="t", kind="code")
    monkeypatch.setattr(assignments, "get", lambda name: fake)
    monkeypatch.setattr(type(fake), "battery", lambda self: battery)
    assert gradescope._visible_check_names("dropout") == {"output has the input's shape"}

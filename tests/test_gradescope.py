"""The Gradescope bundle: its contents, and run_autograder against a temporary autograder root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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

"""Submissions are files, not links, within the size limit, in safely named student folders.

Each hostile submission is graded next to its honest twin (the same content as a plain file, or
in a plainly named folder): the twin is graded, the attack gets an error record that says why and
scores no more than the twin. Grading is the real engine (sandboxed judge), on .py modules.
"""

import os
import threading
from pathlib import Path

import pytest

from grader import assignments
from grader.batch import _digest, collect
from grader.executors import _read
from grader.extract import MAX_SUBMISSION_BYTES, ExtractionError, read_submission
from grader.grading import grade_submission
from grader.nbgrader_bridge.student_ids import refusal, student_folder, student_id_problem

REFERENCE = Path(assignments.get("dropout").reference_module.replace(".", "/") + ".py").resolve()
SOURCE_NOTEBOOK = assignments.get("dropout").notebook


def _within(seconds, fn, *args):
    """Run ``fn`` in a thread; fail (rather than hang the suite) if it blocks."""
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # handed to the test's thread
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} blocked"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_link_to_a_correct_solution_is_refused_and_its_copy_is_graded(tmp_path):
    twin = tmp_path / "twin" / "dropout.py"
    twin.parent.mkdir()
    twin.write_bytes(REFERENCE.read_bytes())
    link = tmp_path / "attack" / "dropout.py"
    link.parent.mkdir()
    link.symlink_to(REFERENCE)
    honest = grade_submission(twin, "dropout")
    attack = grade_submission(link, "dropout")
    assert honest.status == "graded" and honest.score == honest.max_score > 0
    assert attack.status == "error" and attack.score == 0 <= honest.score
    assert attack.message == "dropout.py is a symbolic link, not a file: submissions must be files, not links"


def test_a_link_to_the_course_source_notebook_found_in_a_folder_is_refused(tmp_path):
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "dropout.ipynb").symlink_to(SOURCE_NOTEBOOK)
    (tmp_path / "linked-folder").symlink_to(SOURCE_NOTEBOOK.parent, target_is_directory=True)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "notes.txt").symlink_to(SOURCE_NOTEBOOK)  # not a submission's name: not graded
    items = collect([str(tmp_path)], "dropout")
    labels = sorted(Path(i.label).relative_to(tmp_path).as_posix() for i in items)
    assert labels == ["dangling.py", "linked-folder", "mallory/dropout.ipynb"]
    for item in items:
        result = grade_submission(item.path, "dropout", label=item.label)
        assert result.status == "error" and result.score == 0
        assert "is a symbolic link, not a file" in result.message


def test_pipes_and_folders_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "dropout.py"
    os.mkfifo(fifo)
    with pytest.raises(ExtractionError, match="dropout.py is not a regular file"):
        _within(10, read_submission, fifo)
    assert [i.path for i in collect([str(tmp_path)])] == [fifo]
    assert _within(10, _digest, fifo) == ""  # the results file's resume check must not block either
    result = _within(30, grade_submission, fifo, "dropout")
    assert result.status == "error" and "not a regular file" in result.message
    with pytest.raises(ExtractionError, match="is a folder"):
        read_submission(tmp_path)


def test_size_limit_refuses_without_reading_it_all(tmp_path):
    big = tmp_path / "big.py"
    with big.open("wb") as fh:
        fh.truncate(MAX_SUBMISSION_BYTES + 1)  # sparse: nothing to read, the size alone refuses it
    with pytest.raises(ExtractionError, match=r"big.py is too large \(5.0 MB; submissions are limited to 5 MB\)"):
        read_submission(big)
    ok = tmp_path / "ok.py"
    ok.write_bytes(b"#" * MAX_SUBMISSION_BYTES)
    assert len(read_submission(ok)) == MAX_SUBMISSION_BYTES


def test_the_dask_client_never_ships_a_link_as_its_target(tmp_path):
    from grader.batch import Item

    link = tmp_path / "dropout.py"
    link.symlink_to(REFERENCE)
    assert _read(Item(str(link), link)) is None  # graded where it is, and refused there
    plain = tmp_path / "plain.py"
    plain.write_bytes(REFERENCE.read_bytes())
    assert _read(Item(str(plain), plain)) == REFERENCE.read_bytes()


REFUSED_IDS = ["*", "a*", "?", "[ab]", "..", "a..b", "a\\b", " ", "\t", "", "ada ", "a\x00b", "a\x1bb",
               "a\u202eb", "=2+5", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://x","y")']
ACCEPTED_IDS = ["ada", "Ben Smith", "o'brien", "zoë", "a-b", "a,b", "a=b", "1234", "mutant-dropout"]


@pytest.mark.parametrize("name", REFUSED_IDS, ids=repr)
def test_unsafe_student_ids_are_refused_in_one_sentence_naming_the_folder(name):
    assert student_id_problem(name)
    message = refusal(name)
    assert message.startswith(f"the student folder submitted/{name!r} was not graded: its name ")
    assert message.count(". ") == 0 and message.endswith("run again")


@pytest.mark.parametrize("name", ACCEPTED_IDS)
def test_ordinary_student_ids_pass(name):
    assert student_id_problem(name) is None and refusal(name) is None


def test_student_folder_is_found_only_below_submitted(tmp_path):
    assert student_folder(tmp_path / "submitted" / "ada" / "dropout" / "dropout.ipynb") == "ada"
    assert student_folder(tmp_path / "submitted" / "ada" / "dropout.py") == "ada"
    assert student_folder(tmp_path / "submitted" / "dropout.py") is None
    assert student_folder(tmp_path / "elsewhere" / "ada" / "dropout.py") is None


def test_grade_on_a_submitted_tree_refuses_unsafe_folders_and_grades_the_rest(tmp_path):
    for student in ("*", "=2+5", "ada"):
        folder = tmp_path / "submitted" / student / "dropout"
        folder.mkdir(parents=True)
        (folder / "dropout.py").write_bytes(REFERENCE.read_bytes())
    results = {Path(i.label).parts[-3]: grade_submission(i.path, "dropout", label=i.label)
               for i in collect([str(tmp_path / "submitted")], "dropout")}
    assert results["ada"].status == "graded" and results["ada"].score == results["ada"].max_score
    for student in ("*", "=2+5"):
        assert results[student].status == "error" and results[student].score == 0
        assert results[student].message == refusal(student)

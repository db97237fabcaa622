"""The sandboxed autograde step writes scores nbgrader reads back; grader faults go to nbgrader as failures.

The grading engine is replaced by fixed results here; the end-to-end tests use the real one.
"""

import copy
import importlib

import nbformat
import pytest
from nbgrader.converters.autograde import Autograde
from nbgrader.converters.generate_feedback import GenerateFeedback
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.utils import compute_checksum, determine_grade, has_failed

from grader import assignments
from grader.grading import fault_result
from grader.nbgrader_bridge import preprocessor, sanitize
from grader.nbgrader_bridge.course import AUTOGRADE_PREPROCESSORS, FEEDBACK_PREPROCESSORS, SANITIZE_PREPROCESSORS, config_text
from grader.nbgrader_bridge.preprocessor import SandboxGrade, autograder_cells, write_result
from grader.nbgrader_bridge.sanitize import TrustedCell, repair
from grader.nbgrader_cells import grade_id, is_grade, is_solution
from grader.results import SubmissionResult, TestResult
from support import hostile_cells


def _notebook():
    return nbformat.read(str(assignments.get("dropout").notebook), as_version=4)


def _ids(nb):
    return [grade_id(c) for c in autograder_cells(nb)]


def _grades(nb):
    return {grade_id(c): determine_grade(c)[0] for c in autograder_cells(nb)}


def _text(cell):
    return "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs if o.output_type == "display_data")


def _result(nb, passing_first: int):
    """Two checks per autograder cell; the first ``passing_first`` checks pass."""
    tests, n = [], 0
    for cell in autograder_cells(nb):
        gid, points = grade_id(cell), float(cell.metadata.nbgrader["points"])
        for k in range(2):
            ok = n < passing_first
            tests.append(TestResult(f"{gid} check {k}", points / 2 if ok else 0.0, points / 2,
                                    "passed" if ok else "failed", "" if ok else f"why {gid} {k} failed", gid))
            n += 1
    return SubmissionResult("s/dropout", "dropout", tests=tests, notes=["cell 7 was added and was not graded"])


def _default(cls, trait):
    return [f"{c.__module__.rsplit('.', 1)[0]}.{c.__name__}" for c in cls.class_traits()[trait].default()]


def test_config_is_nbgraders_default_lists_with_execute_replaced():
    names = _default(Autograde, "autograde_preprocessors")
    assert names[0] == "nbgrader.preprocessors.Execute"
    assert list(AUTOGRADE_PREPROCESSORS) == ["grader.nbgrader_bridge.preprocessor.SandboxGrade"] + names[1:]
    sanitize = _default(Autograde, "sanitize_preprocessors")
    assert list(SANITIZE_PREPROCESSORS) == ["grader.nbgrader_bridge.sanitize.RestoreGradeCells"] + sanitize
    feedback = _default(GenerateFeedback, "preprocessors")
    ours = ("nbgrader.preprocessors.ClearHiddenTests", "grader.nbgrader_bridge.clean_feedback.DropScoreOutputs")
    assert [n for n in FEEDBACK_PREPROCESSORS if n not in ours] == feedback
    for name in SANITIZE_PREPROCESSORS + AUTOGRADE_PREPROCESSORS + FEEDBACK_PREPROCESSORS:  # every entry imports
        module, cls = name.rsplit(".", 1)
        assert getattr(importlib.import_module(module), cls)
        assert repr(name) in config_text()


def test_partial_scores_per_cell_are_what_nbgrader_reads_back():
    nb = _notebook()
    write_result(nb, _result(nb, passing_first=3))
    cells = autograder_cells(nb)
    grades = _grades(nb)
    first, second = cells[0].metadata.nbgrader, cells[1].metadata.nbgrader
    assert grades[first["grade_id"]] == pytest.approx(float(first["points"]))
    assert grades[second["grade_id"]] == pytest.approx(float(second["points"]) / 2)
    assert all(grades[gid] == 0 for gid in _ids(nb)[2:])
    for cell in cells:
        assert not has_failed(cell), "stderr or error output makes nbgrader give zero"
    assert "why test_train_mode 1 failed" in _text(cells[1])
    assert "FAIL" in _text(cells[1]) and "PASS" in _text(cells[1])
    assert "cell 7 was added" in _text(cells[0]) and "cell 7" not in _text(cells[1])


def test_full_marks_give_every_cell_its_points():
    nb = _notebook()
    write_result(nb, _result(nb, passing_first=10**6))
    assert _grades(nb) == {grade_id(c): float(c.metadata.nbgrader["points"]) for c in autograder_cells(nb)}


def test_score_never_exceeds_the_cell_points_nor_goes_negative():
    nb = _notebook()
    gid = _ids(nb)[0]
    tests = [TestResult("a", 0.1, 0.1, "passed", "", gid), TestResult("b", 0.2, 0.2, "passed", "", gid)]
    write_result(nb, SubmissionResult("s", "dropout", tests=tests))
    assert _grades(nb)[gid] == pytest.approx(float(autograder_cells(nb)[0].metadata.nbgrader["points"]))


def test_error_record_gives_zero_everywhere_with_the_message():
    nb = _notebook()
    write_result(nb, SubmissionResult("s", "dropout", status="error", message="x.ipynb is not a valid notebook"))
    assert set(_grades(nb).values()) == {0}
    assert all("x.ipynb is not a valid notebook" in _text(c) for c in autograder_cells(nb))


def test_cell_without_checks_and_orphan_checks_score_nothing_and_say_so():
    nb = _notebook()
    write_result(nb, SubmissionResult("s", "dropout", tests=[TestResult("lost", 1.0, 1.0, "passed", "", "nowhere")]))
    assert set(_grades(nb).values()) == {0}
    cells = autograder_cells(nb)
    assert "lost" in _text(cells[0]) and "no checks are defined" in _text(cells[1])


@pytest.mark.parametrize("failure", ["exception", "fault record"])
def test_grader_faults_are_raised_for_nbgrader_not_scored_zero(monkeypatch, failure):
    def boom(nb, assignment, label, limits=None):
        if failure == "exception":
            raise RuntimeError("engine exploded")
        return fault_result(label, assignment, "could not start a sandbox worker")

    monkeypatch.setattr(preprocessor, "grade_submission", boom)
    nb = _notebook()
    before = copy.deepcopy(nb)
    resources = {"nbgrader": {"student": "s1", "assignment": "dropout"}}
    with pytest.raises(preprocessor.GraderFault, match="s1/dropout: .*(engine exploded|sandbox worker)"):
        SandboxGrade().preprocess(nb, resources)
    assert nb == before  # no zero written anywhere


def test_preprocessor_grades_a_copy_and_labels_it(monkeypatch):
    seen = {}

    def fake(nb, assignment, label, limits=None):
        seen.update(nb=nb, assignment=assignment, label=label)
        nb.cells.clear()  # whatever the engine does to its input must not reach nbgrader
        return SubmissionResult(label, assignment)

    monkeypatch.setattr(preprocessor, "grade_submission", fake)
    nb = _notebook()
    out, _ = SandboxGrade().preprocess(nb, {"nbgrader": {"student": "s1", "assignment": "dropout"}})
    assert seen["label"] == "s1/dropout" and seen["assignment"] == "dropout"
    assert len(out.cells) > 0


# --- RestoreGradeCells: the sanitizing step before nbgrader's own metadata checks ---------------


def _known(source):
    """The source notebook's nbgrader cells, as the gradebook would record them."""
    known = {}
    for cell in source.cells:
        m = cell.metadata.nbgrader
        known[m["grade_id"]] = TrustedCell(m["grade_id"], cell.cell_type, cell.source, compute_checksum(cell), m["locked"],
                                           m["grade"], m["solution"], points=float(m.get("points", 0)))
    return known


def _gids(nb):
    return [grade_id(c) for c in nb.cells if "nbgrader" in c.metadata]


def test_repair_restores_one_of_each_cell_in_order_and_says_what_it_did():
    source = _notebook()
    known = _known(source)
    tests = _ids(source)
    nb = copy.deepcopy(source)
    by_id = {grade_id(c): c for c in nb.cells}
    answer = by_id["dropout_forward"]
    nb.cells.insert(nb.cells.index(answer) + 1, copy.deepcopy(answer))  # a second answer cell
    nb.cells.append(copy.deepcopy(by_id[tests[0]]))  # a pasted autograder cell...
    nb.cells[-1].metadata.nbgrader = {}  # ...emptied as nbgrader's DeduplicateIds would
    nb.cells.append(copy.deepcopy(by_id[tests[-1]]))
    nb.cells.remove(by_id[tests[2]])  # a deleted autograder cell
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "made_up", "solution": True}}))
    nb.cells.append(nbformat.v4.new_code_cell("y = 2", metadata={"nbgrader": "garbled"}))
    by_id[tests[1]].metadata.nbgrader["points"] = 100.0  # trusted metadata comes back
    with pytest.raises(Exception):  # what stops stock nbgrader
        MetadataValidator().validate_nb(nb)

    notes = repair(nb, known, list(known))

    MetadataValidator().validate_nb(nb)
    assert _gids(nb) == _gids(source)
    assert [c.metadata.nbgrader for c in nb.cells if "nbgrader" in c.metadata] == [known[g].metadata() for g in _gids(source)]
    copies = [c for c in nb.cells if c.source == answer.source]
    assert len(copies) == 2 and "nbgrader" not in copies[1].metadata, "the student's second answer cell stays"
    restored = nb.cells[[grade_id(c) for c in nb.cells].index(tests[2])]
    assert restored.source == known[tests[2]].source and restored.outputs == []
    assert len(notes) == 3
    assert f"autograder cell {tests[-1]!r} appears 2 times" in notes[0]
    assert f"autograder cell {tests[2]!r} was missing" in notes[1]
    # the pasted copy whose metadata was emptied is the student's cell now: its markers are text
    defused = [i for i, c in enumerate(nb.cells, start=1) if "BEGIN_HIDDEN TESTS" in c.source]
    assert len(defused) == 1 and "nbgrader" not in nb.cells[defused[0] - 1].metadata
    assert f"cell(s) {defused[0]} hold nbgrader's hidden-test markers" in notes[2]


def test_repair_leaves_a_sound_notebook_as_it_is():
    source = _notebook()
    nb = copy.deepcopy(source)
    assert repair(nb, _known(source), list(_known(source))) == []
    assert [c.source for c in nb.cells] == [c.source for c in source.cells]


def test_sandbox_grade_grades_the_notebook_as_submitted_with_the_repair_notes(monkeypatch):
    seen = {}

    def fake(nb, assignment, label, limits=None):
        seen["nb"] = nb
        return SubmissionResult(label, assignment, notes=["from the engine"])

    monkeypatch.setattr(preprocessor, "grade_submission", fake)
    resources = {"nbgrader": {"student": "s1", "assignment": "dropout", "notebook": "dropout"}}
    as_submitted = _notebook()
    sanitize.remember(resources, sanitize.Submitted(as_submitted, ["autograder cell 'x' was missing"]))
    out, _ = SandboxGrade().preprocess(_notebook(), resources)
    assert seen["nb"] is as_submitted
    first = _text(autograder_cells(out)[0])
    assert first.index("autograder cell 'x' was missing") < first.index("from the engine")
    assert sanitize.take(resources) is None, "handed over once"


# --- student-added cells with nbgrader markers or claimed points never break autograde/feedback --


def _feedback_steps(nb):
    """nbgrader's own checks that stopped a run on such cells: metadata validation and the
    feedback step's ClearHiddenTests (run as generate_feedback runs them)."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearHiddenTests

    MetadataValidator().validate_nb(nb)
    CheckCellMetadata().preprocess(nb, {})
    ClearHiddenTests().preprocess(copy.deepcopy(nb), {})


def test_student_cells_with_markers_or_claimed_points_never_break_nbgrader():
    source = _notebook()
    known = _known(source)
    nb = copy.deepcopy(source)
    for cell in nb.cells:  # as released: no solution in the answer cells
        if is_solution(cell):
            cell.source = "# YOUR CODE HERE"
    hostile_cells(nb, _ids(source))
    with pytest.raises(Exception):  # what stopped stock nbgrader (and grader feedback) for the class
        _feedback_steps(copy.deepcopy(nb))

    notes = repair(nb, known, list(known))

    _feedback_steps(nb)
    graded = [c.metadata.nbgrader for c in nb.cells if is_grade(c)]
    assert sum(m["points"] for m in graded) == sum(k.points for k in known.values() if k.grade), "no claimed points"
    assert [m["grade_id"] for m in graded] == [g for g in known if known[g].grade]
    assert [c.cell_type for c in nb.cells if grade_id(c) == _ids(source)[0]] == ["code"]
    assert any("hidden-test markers" in n for n in notes)
    assert not any("BEGIN HIDDEN TESTS" in c.source for c in nb.cells if "nbgrader" not in c.metadata
                   or not is_grade(c))


def test_a_refused_submission_scores_zero_in_nbgrader_with_grader_grades_message(tmp_path, monkeypatch):
    """Run by nbgrader itself (no ``grader autograde`` before it): a linked or oversized notebook,
    or an unsafe student id, gets 0 and the sentence ``grader grade`` gives for the same file."""
    from grader.extract import MAX_SUBMISSION_BYTES
    from grader.grading import grade_submission as real_grade
    from grader.nbgrader_bridge.student_ids import refusal

    monkeypatch.setattr(preprocessor, "grade_submission", lambda *a, **k: pytest.fail("a refused notebook was graded"))
    folder = tmp_path / "submitted" / "mallory" / "dropout"
    folder.mkdir(parents=True)
    (folder / "dropout.ipynb").symlink_to(assignments.get("dropout").notebook)
    big = tmp_path / "big"
    big.mkdir()
    with (big / "dropout.ipynb").open("wb") as fh:
        fh.truncate(MAX_SUBMISSION_BYTES + 1)
    cases = [
        (folder, "mallory", real_grade(folder / "dropout.ipynb", "dropout").message),
        (big, "big", real_grade(big / "dropout.ipynb", "dropout").message),
        (tmp_path, "=2+5", refusal("=2+5")),
    ]
    for where, student, message in cases:
        resources = {"nbgrader": {"student": student, "assignment": "dropout", "notebook": "dropout",
                                  "db_url": "unused"}, "metadata": {"path": str(where)}}
        assert sanitize.refusal(resources) == message and message
        sanitize.remember(resources, sanitize.Submitted(_notebook(), refused=sanitize.refusal(resources)))
        out, _ = SandboxGrade().preprocess(_notebook(), resources)
        assert set(_grades(out).values()) == {0.0}
        assert all(message in _text(c) for c in autograder_cells(out))
    plain = {"nbgrader": {"student": "ada", "notebook": "dropout"}, "metadata": {"path": str(tmp_path)}}
    (tmp_path / "dropout.ipynb").write_text("{}")
    assert sanitize.refusal(plain) == ""

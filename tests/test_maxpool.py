"""examples/maxpool grades max-pool implementations it has never seen, written the ways students
write them (tests/maxpool_students/), through the command line and the nbgrader path."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from grader import assignments
from grader.cli import main
from grader.paths import REPO_ROOT
from support import records

MAXPOOL = REPO_ROOT / "examples" / "maxpool"
STUDENTS = Path(__file__).parent / "maxpool_students"
CHECKS = ("output_shape_matches_formula", "output_shape_non_square", "output_is_the_window_maximum",
          "windows_move_by_stride", "forward_leaves_inputs_unchanged", "backward_shape_matches_x",
          "dx_matches_numeric_gradient", "tied_maxima_share_dout")

#: student -> (checks it must fail, check whose message must carry the words, the words)
EXPECTED = {
    "four_loops": (set(), None, ""),
    "mask_first_max": (set(), None, ""),
    "average_pooling": ({"output_is_the_window_maximum", "windows_move_by_stride", "forward_leaves_inputs_unchanged"},
                        "output_is_the_window_maximum", "computes the mean of each window (average pooling)"),
    "running_max_from_zero": ({"output_is_the_window_maximum"}, "output_is_the_window_maximum",
                              "start a running maximum at -inf, not 0"),
    "stride_as_window": ({"windows_move_by_stride", "dx_matches_numeric_gradient"}, "windows_move_by_stride",
                         "starts at row i * stride"),
    "assigns_dx": ({"dx_matches_numeric_gradient"}, "dx_matches_numeric_gradient", "'=' instead of '+='"),
    "grad_to_every_tied_max": ({"tied_maxima_share_dout"}, "tied_maxima_share_dout", "must add up to dout once"),
    "hout_without_window": ({"output_shape_matches_formula", "output_shape_non_square", "windows_move_by_stride"},
                            "output_shape_matches_formula",
                            "Hout = 1 + (H - pool_height) // stride"),
    # written later, without looking at the ones above or the mutant table
    "right_as_strided_dict_cache": (set(), None, ""),
    "right_einsum_onehot": (set(), None, ""),
    "right_float32_buffers": (set(), None, ""),
    "right_im2col_switches": (set(), None, ""),
    "right_reshape_fast_path": (set(), None, ""),  # the last of tied maxima gets dout
    "right_six_loops_running_max": (set(), None, ""),
    "right_sliding_window_mask_first": (set(), None, ""),
    "right_split_among_ties": (set(), None, ""),
    "right_random_tie_break": (set(), None, ""),  # a random one of tied maxima; 1x1 windows return a view of x
    # raises IndexError at the right border: every backward check that reaches it
    "wrong_argmax_unravelled_with_image_width": ({"backward_shape_matches_x", "dx_matches_numeric_gradient"},
                                                 "backward_shape_matches_x", "raised IndexError"),
    "wrong_backward_forgets_stride": ({"dx_matches_numeric_gradient", "tied_maxima_share_dout"},
                                      "dx_matches_numeric_gradient", "ignoring the stride"),
    "wrong_cache_in_global": ({"backward_shape_matches_x", "dx_matches_numeric_gradient", "tied_maxima_share_dout"},
                              "dx_matches_numeric_gradient", "raised IndexError"),
    # a rounding mistake costs the shape checks only: the other checks' cases divide evenly
    "wrong_ceil_mode": ({"output_shape_matches_formula", "output_shape_non_square"}, "output_shape_matches_formula",
                        "Hout rounds down"),
    "wrong_ceil_mode_both_passes": ({"output_shape_matches_formula", "output_shape_non_square"},
                                    "output_shape_non_square", "axis 2 (Hout) is 1 too large"),
    "wrong_gradient_to_window_corner": ({"dx_matches_numeric_gradient"}, "dx_matches_numeric_gradient", "dx is wrong"),
    "wrong_max_of_abs": ({"output_is_the_window_maximum"}, "output_is_the_window_maximum", "must be the largest x"),
    "wrong_pool_width_ignored": ({"output_shape_non_square", "dx_matches_numeric_gradient"}, "output_shape_non_square",
                                 "axis 3 (Wout) is 1 too small"),
    "wrong_shifts_x_in_place": ({"forward_leaves_inputs_unchanged"}, "forward_leaves_inputs_unchanged",
                                "changed its input x in place"),
    "wrong_slice_assignment_in_backward": ({"dx_matches_numeric_gradient"}, "dx_matches_numeric_gradient",
                                           "'=' instead of '+='"),
    "wrong_switch_mask_shaped_like_x": ({"dx_matches_numeric_gradient"}, "dx_matches_numeric_gradient", "dx is wrong"),
    "wrong_ties_divided_by_window_size": ({"dx_matches_numeric_gradient", "tied_maxima_share_dout"},
                                          "tied_maxima_share_dout", "must add up to dout once"),
    "wrong_window_one_too_tall": ({"output_is_the_window_maximum", "windows_move_by_stride",
                                   "forward_leaves_inputs_unchanged", "dx_matches_numeric_gradient"},
                                  "windows_move_by_stride", "starts at row i * stride"),
}


def _names() -> dict[str, str]:
    with assignments.use(MAXPOOL):
        return {c.name: c.id for c in assignments.get("maxpool").battery().checks}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("maxpool") / "results.jsonl"
    assert main(["grade", "--definition", str(MAXPOOL), "--assignment", "maxpool", str(STUDENTS),
                 "--json", str(out), "--jobs", "2"]) == 0
    ids = _names()
    by_stem = {}
    for record in records(out):
        by_stem[Path(record["submission"]).stem] = {ids[t["name"]]: t for t in record["tests"]} | {"": record}
    return by_stem


def test_every_sample_student_is_graded(graded):
    assert sorted(graded) == sorted(EXPECTED)
    assert sorted(STUDENTS.glob("*.py")) == sorted(STUDENTS / f"{name}.py" for name in EXPECTED)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_implementation_loses_exactly_the_points_of_what_it_breaks(graded, student):
    must_fail, where, words = EXPECTED[student]
    tests = graded[student]
    failed = {check for check in CHECKS if tests[check]["status"] != "passed"}
    assert failed == must_fail, {c: tests[c]["output"] for c in failed}
    record = tests[""]
    assert record["max_score"] == 10
    assert record["score"] == pytest.approx(10 - sum(tests[c]["max_score"] for c in must_fail))
    if where:
        assert words in tests[where]["output"]


def test_the_tied_maxima_rule_is_stated_where_students_read_it():
    from grader.notebooks import build_notebook

    with assignments.use(MAXPOOL):
        nb = build_notebook(assignments.get("maxpool"))
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Tied maxima" in prose and "add up to its `dout` exactly once" in prose


def test_the_generated_notebook_follows_the_notebook_rules():
    """Solution cells are the reference's functions verbatim, a setup cell holds its imports, and
    each autograder cell carries its checks' points and lists them."""
    import inspect

    from grader.notebooks import build_notebook

    with assignments.use(MAXPOOL):
        a = assignments.get("maxpool")
        nb, battery, reference = build_notebook(a), a.battery(), a.reference()
    meta = [c.metadata["nbgrader"] for c in nb.cells]
    assert len({m["grade_id"] for m in meta}) == len(meta)
    solutions = {m["grade_id"]: c.source for m, c in zip(meta, nb.cells) if m["solution"]}
    assert solutions == {f: inspect.getsource(getattr(reference, f)).strip("\n") for f in a.functions}
    assert [c.source for m, c in zip(meta, nb.cells) if m["grade_id"] == "setup"] == ["import numpy as np"]
    graded = {m["grade_id"]: (m["points"], c.source) for m, c in zip(meta, nb.cells) if m["grade"]}
    assert {k: v[0] for k, v in graded.items()} == battery.cells()
    for check in battery.checks:
        assert f"# - {check.name} (" in graded[check.cell][1]
        assert "file=sys.stderr" in graded[check.cell][1].split("### BEGIN HIDDEN TESTS")[1]


@pytest.mark.e2e
def test_release_and_autograde_through_nbgrader_give_the_same_scores_as_grade(tmp_path, capsys):
    from grader.nbgrader_bridge.fill import fill_solutions

    course = tmp_path / "course"
    assert main(["release", "--course", str(course), "--definition", str(MAXPOOL)]) == 0
    released = nbformat.read(str(course / "release" / "maxpool" / "maxpool.ipynb"), as_version=4)
    functions = ("max_pool_forward_naive", "max_pool_backward_naive")
    quiz = nbformat.read(str(course / "release" / "pool_quiz" / "pool_quiz.ipynb"), as_version=4)
    public = [c.source for c in quiz.cells if c.metadata["nbgrader"].get("grade")]
    assert public and all('check_answered("pool_Hout")' in c and "HIDDEN" not in c for c in public)
    for cell in quiz.cells:
        if cell.metadata["nbgrader"].get("solution"):
            cell.source = 'pool_Hout = "(H - pool_height) / stride"'  # a named misconception: half a point
    (course / "submitted" / "four_loops" / "pool_quiz").mkdir(parents=True)
    nbformat.write(quiz, str(course / "submitted" / "four_loops" / "pool_quiz" / "pool_quiz.ipynb"))
    for student in ("four_loops", "grad_to_every_tied_max"):
        folder = course / "submitted" / student / "maxpool"
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(fill_solutions(released, (STUDENTS / f"{student}.py").read_text(), functions),
                       str(folder / "maxpool.ipynb"))
    capsys.readouterr()
    assert main(["autograde", "--course", str(course)]) == 2  # the definition forgotten: the fix is named
    assert f"it was released with --definition {MAXPOOL}; add --definition {MAXPOOL}" in capsys.readouterr().err
    assert main(["autograde", "--course", str(course), "--definition", str(MAXPOOL)]) == 0
    rows = [row.split(",") for row in (course / "grades.csv").read_text().splitlines()[1:]]
    scores = {row[3]: float(row[9]) for row in rows if row[0] == "maxpool"}
    assert scores == {"four_loops": 10.0, "grad_to_every_tied_max": 9.0}
    assert [float(row[9]) for row in rows if row[0] == "pool_quiz" and row[3] == "four_loops"] == [0.5]
    shutil.rmtree(course / "submitted" / "four_loops")
    capsys.readouterr()
    assert main(["grade", "--definition", str(MAXPOOL), "--assignment", "maxpool", str(course / "submitted"),
                 "--json", "-"]) == 0
    (record,) = records(capsys.readouterr().out)
    assert record["score"] == 9.0


@pytest.mark.parametrize("answer, score, words", [
    (r"H_{out} = \frac{H - pool_height}{stride} + 1", 1.0, "Right."),
    ("(H - pool_height) // stride + 1", 1.0, "Right."),
    ("(H + stride - pool_height) / stride", 1.0, "Right."),
    ("(H - pool_height) / stride", 0.5, "the first window also counts: add 1"),
    ("H / stride", 0.0, "the window's height matters"),
    ("1 + (H - pool_width) / stride", 0.0, "'pool_width' is not a symbol of this quiz (its symbols: H, pool_height, stride)"),
    ("__import__('os')", 0.0, "Not understood"),
])
def test_the_declared_quiz_grades_answers_as_text(tmp_path, capsys, answer, score, words):
    path = tmp_path / "pool_quiz.py"
    path.write_text(f"pool_Hout = {answer!r}\n")
    assert main(["grade", "--definition", str(MAXPOOL), "--assignment", "pool_quiz", str(path), "--json", "-"]) == 0
    (record,) = records(capsys.readouterr().out)
    (test,) = record["tests"]
    assert test["name"].startswith("pool_Hout: ") and record["max_score"] == 1.0
    assert test["score"] == score and words in test["output"], test

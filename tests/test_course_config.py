"""The course's nbgrader configuration: the grader's generated part apart from the instructor's
own settings, which survive every `grader release`, and an older grader's one-file config
migrated without losing anything."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.nbgrader_bridge.clean_feedback import DropScoreOutputs
from grader.nbgrader_bridge.commands import run_nbgrader
from grader.nbgrader_bridge.course import (
    AUTOGRADE_PREPROCESSORS,
    CONFIG_NAME,
    GENERATED_NAME,
    GENERATED_SETTINGS,
    config_text,
    write_config,
)
from grader.nbgrader_bridge.gradebook import db_url
from grader.nbgrader_bridge.instructor_config import config_status, load
from grader.nbgrader_bridge.preprocessor import set_outputs

#: What the instructor adds for nbgrader's exchange (issue: these were dropped by `grader release`).
EXCHANGE_SETTINGS = (
    'c.CourseDirectory.course_id = "dl101"\n'
    'c.Exchange.root = "{root}"\n'
    'c.LateSubmissionPlugin.penalty_method = "zero"\n'
)

#: The one-file nbgrader_config.py the grader wrote before the split (verbatim).
OLD_ONE_FILE_CONFIG = '''\
# nbgrader configuration written by `grader release`. Run every nbgrader command from this folder.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# Sanitizing: duplicated, deleted or garbled nbgrader cells of a submission are restored from the
# gradebook by grade_id before nbgrader checks them (stock nbgrader stops the whole run instead).
c.Autograde.sanitize_preprocessors = [
    'grader.nbgrader_bridge.sanitize.RestoreGradeCells',
    'nbgrader.preprocessors.ClearOutput',
    'nbgrader.preprocessors.DeduplicateIds',
    'nbgrader.preprocessors.OverwriteKernelspec',
    'nbgrader.preprocessors.OverwriteCells',
    'nbgrader.preprocessors.CheckCellMetadata',
]

# Grading: the Execute step (which runs hidden tests inside the student's own kernel, where
# student code can defeat them) is replaced by the course grader's sandboxed judge.
c.Autograde.autograde_preprocessors = [
    'grader.nbgrader_bridge.preprocessor.SandboxGrade',
    'nbgrader.preprocessors.IgnorePattern',
    'nbconvert.preprocessors.ClearMetadataPreprocessor',
    'nbgrader.preprocessors.LimitOutput',
    'nbgrader.preprocessors.SaveAutoGrades',
    'nbgrader.preprocessors.AssignLatePenalties',
    'nbgrader.preprocessors.CheckCellMetadata',
]

# Feedback: nbgrader's default, without the hidden-test region in the students' pages.
c.GenerateFeedback.preprocessors = [
    'nbgrader.preprocessors.GetGrades',
    'nbgrader.preprocessors.ClearHiddenTests',
    'nbconvert.preprocessors.CSSHTMLHeaderPreprocessor',
]
'''


def settings(course: Path) -> dict:
    """What nbgrader's config loader gets from the course's nbgrader_config.py."""
    config = load(course / CONFIG_NAME)
    return {(s, k): v for s, values in config.items() for k, v in values.items()}


def assert_generated_in_force(course: Path) -> None:
    loaded = settings(course)
    for key, names in GENERATED_SETTINGS.items():
        assert list(loaded[key]) == list(names), key


def test_release_writes_both_files_and_keeps_the_instructors_settings(tmp_path):
    course = tmp_path / "course"
    write_config(course)
    assert (course / GENERATED_NAME).read_text() == config_text()
    assert_generated_in_force(course)
    assert config_status(course) == (None, [])
    with (course / CONFIG_NAME).open("a") as fh:
        fh.write(EXCHANGE_SETTINGS.format(root=tmp_path / "exchange"))
    mine = (course / CONFIG_NAME).read_text()
    write_config(course)  # what `grader release` does again
    assert (course / CONFIG_NAME).read_text() == mine
    loaded = settings(course)
    assert loaded[("CourseDirectory", "course_id")] == "dl101"
    assert loaded[("Exchange", "root")] == str(tmp_path / "exchange")
    assert loaded[("LateSubmissionPlugin", "penalty_method")] == "zero"
    assert_generated_in_force(course)
    assert config_status(course) == (None, [])  # the instructor's settings are never warned about


def test_nbgrader_itself_reads_the_instructors_exchange_settings_after_release(tmp_path):
    """The real nbgrader command line, in the course folder: release_assignment puts the
    assignment in the instructor's exchange under the instructor's course id."""
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    write_config(course)
    with (course / CONFIG_NAME).open("a") as fh:
        fh.write(EXCHANGE_SETTINGS.format(root=exchange))
    write_config(course)
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    (course / "release" / "dropout").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), str(course / "release" / "dropout" / "dropout.ipynb"))
    proc = run_nbgrader(["release_assignment", "dropout"], course, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (exchange / "dl101" / "outbound" / "dropout" / "dropout.ipynb").is_file()


def test_an_old_one_file_config_is_migrated_without_losing_a_setting(tmp_path, capsys):
    course = tmp_path
    old = OLD_ONE_FILE_CONFIG.replace(
        "# Grading:", 'c.CourseDirectory.course_id = "dl101"  # between the grader\'s lines\n\n# Grading:'
    ) + EXCHANGE_SETTINGS.format(root="/srv/exchange")
    (course / CONFIG_NAME).write_text(old)
    problem, warnings = config_status(course)
    assert problem is None and len(warnings) == 1 and "grader release" in warnings[0]
    write_config(course)
    assert (course / f"{CONFIG_NAME}.bak").read_text() == old  # the old file, byte for byte
    assert "saved as nbgrader_config.py.bak" in capsys.readouterr().err
    new = (course / CONFIG_NAME).read_text()
    assert "grader.nbgrader_bridge" not in new and "Sanitizing:" not in new  # the grader's part moved out
    loaded = settings(course)
    assert loaded[("CourseDirectory", "course_id")] == "dl101"
    assert loaded[("Exchange", "root")] == "/srv/exchange"
    assert loaded[("LateSubmissionPlugin", "penalty_method")] == "zero"
    assert_generated_in_force(course)  # the current lists, not the old ones
    assert config_status(course) == (None, [])
    write_config(course)  # a second release changes nothing more
    assert (course / CONFIG_NAME).read_text() == new and not (course / f"{CONFIG_NAME}.bak1").exists()


def test_an_instructors_edit_of_a_grader_setting_is_kept_and_warned_about(tmp_path):
    course = tmp_path
    edited = OLD_ONE_FILE_CONFIG.replace("    'nbgrader.preprocessors.LimitOutput',\n", "    'mycourse.Extra',\n")
    (course / CONFIG_NAME).write_text(edited)
    write_config(course)
    loaded = settings(course)
    assert "mycourse.Extra" in loaded[("Autograde", "autograde_preprocessors")]  # theirs, kept
    assert list(loaded[("Autograde", "sanitize_preprocessors")]) == list(GENERATED_SETTINGS[("Autograde", "sanitize_preprocessors")])
    problem, (warning,) = config_status(course)
    assert problem is None and "c.Autograde.autograde_preprocessors" in warning and "sets them itself" in warning


def test_an_existing_config_of_the_instructors_gets_the_loading_line(tmp_path):
    """e.g. one written by `nbgrader quickstart` or by hand before the first `grader release`."""
    course = tmp_path
    mine = "c = get_config()\n" + EXCHANGE_SETTINGS.format(root="/srv/exchange")
    (course / CONFIG_NAME).write_text(mine)
    assert config_status(course)[0] and "not written by grader release" in config_status(course)[0]
    write_config(course)
    assert (course / CONFIG_NAME).read_text().endswith(mine)
    assert settings(course)[("CourseDirectory", "course_id")] == "dl101"
    assert_generated_in_force(course)
    assert config_status(course) == (None, [])


def test_a_config_that_cannot_be_loaded_is_left_alone(tmp_path, capsys):
    course = tmp_path
    (course / CONFIG_NAME).write_text("c = get_config()\nc.Exchange.root = \n")
    write_config(course)
    assert (course / CONFIG_NAME).read_text() == "c = get_config()\nc.Exchange.root = \n"
    assert "left as it is" in capsys.readouterr().err
    problem, (warning,) = config_status(course)
    assert problem is None and "cannot be loaded" in warning


def test_only_the_generated_part_is_reported_stale(tmp_path):
    course = tmp_path
    write_config(course)
    with (course / CONFIG_NAME).open("a") as fh:
        fh.write(EXCHANGE_SETTINGS.format(root="/srv/exchange"))
    assert config_status(course) == (None, [])
    (course / GENERATED_NAME).write_text(config_text().replace(AUTOGRADE_PREPROCESSORS[-1], "nbgrader.preprocessors.Old"))
    problem, (warning,) = config_status(course)
    assert problem is None and GENERATED_NAME in warning and "your nbgrader_config.py is kept" in warning
    (course / GENERATED_NAME).unlink()
    assert "is missing" in config_status(course)[1][0]


def test_cli_commands_warn_only_about_the_generated_part(tmp_path, capsys, monkeypatch):
    """A released course whose instructor added exchange settings: no warning; a stale
    generated file: one warning naming it."""
    from grader.nbgrader_bridge import feedback as bridge

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    course = tmp_path / "course"
    write_config(course)
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course)) as gb:
        gb.add_assignment("dropout")
    with (course / CONFIG_NAME).open("a") as fh:
        fh.write(EXCHANGE_SETTINGS.format(root="/srv/exchange"))
    monkeypatch.setattr(bridge, "run_nbgrader", lambda *a, **k: pytest.fail("nothing autograded: nbgrader must not run"))
    assert main(["feedback", "--course", str(course)]) == 0
    assert "warning" not in capsys.readouterr().err
    (course / GENERATED_NAME).write_text("c = get_config()\n")
    assert main(["feedback", "--course", str(course)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and GENERATED_NAME in err


def test_feedback_pages_lose_the_score_output_but_keep_the_check_table():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("# autograder")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 2}
    solution = nbformat.v4.new_code_cell("x = 1")
    solution.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "s", "points": 1}
    solution.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1)]
    nb.cells = [cell, solution]
    set_outputs(cell, "Course grader: 2 / 2 points", 2.0, "<table>checks</table>")
    assert [o.output_type for o in cell.outputs] == ["display_data", "execute_result"]
    DropScoreOutputs().preprocess(nb, {})
    assert [o.output_type for o in cell.outputs] == ["display_data"]
    assert cell.outputs[0].data["text/html"] == "<table>checks</table>"
    assert [o.output_type for o in solution.outputs] == ["execute_result"]  # a student's own output stays


def test_a_config_the_loading_line_would_break_is_put_back(tmp_path, capsys):
    course = tmp_path
    mine = 'from __future__ import annotations\nc = get_config()\nc.Exchange.root = "/srv/exchange"\n'
    (course / CONFIG_NAME).write_text(mine)
    write_config(course)
    assert (course / CONFIG_NAME).read_text() == mine
    assert "was left as it is" in capsys.readouterr().err

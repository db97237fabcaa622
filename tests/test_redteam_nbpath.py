"""Red-team regressions for the nbgrader path and the outputs (issues 13 and 16): each attack has
an honest twin and, where it once worked, a positive control. Fast unit tests; the real nbgrader
run that shows nbgrader copying a student's files into its feedback folder is in
test_nbgrader_hostile.py."""

import os
import sys

import nbformat
import pytest

from grader.nbgrader_bridge.feedback import keep_pages
from grader.reports.sanitize import clean_html, render_math, safe_notebook_page
from support import Page, live_markup, nested

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def test_only_the_pages_stay_in_a_feedback_folder(tmp_path):
    """nbgrader copies every file of a submission into its feedback folder: a student's SVG or
    XHTML there is a page of its own, with live script, beside the sanitized feedback."""
    feedback, autograded = tmp_path / "feedback" / "eve" / "dropout", tmp_path / "autograded" / "eve" / "dropout"
    (feedback / "sub").mkdir(parents=True)
    autograded.mkdir(parents=True)
    (autograded / "dropout.ipynb").write_text("{}")
    (feedback / "dropout.html").write_text("<p>the page</p>")
    (feedback / "timestamp.txt").write_text("2026-01-01 10:00:00")
    for name in ("x.svg", "x.xhtml", "x.htm", "other.html", "sub/x.svg"):
        (feedback / name).write_bytes(SVG)
    (feedback / "linked").symlink_to(tmp_path / "autograded", target_is_directory=True)
    assert keep_pages(feedback, autograded) == [feedback / "dropout.html"]
    assert sorted(p.name for p in feedback.iterdir()) == ["dropout.html", "timestamp.txt"]
    assert (autograded / "dropout.ipynb").exists(), "nothing is removed through a link"


@pytest.mark.parametrize("markup", [
    '<math><mi href="javascript:alert(1)">x</mi></math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">y</maction></math>',
    '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
    "<a href=\"jav&#x09;ascript:alert(1)\">j</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<meta http-equiv=refresh content='0;url=http://evil'><base href='http://evil/'>",
    "<form action=x><button>b</button></form>",
    '<div style="background:url(http://evil)">s</div><style>body{background:url(http://evil/)}</style>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',  # mXSS through foreign content
    '<div class="text_cell_render">$\\text{</math><img src=x onerror=alert(1)>}$ $\\href{javascript:alert(1)}{x}$</div>',
])
def test_hostile_markup_tried_on_the_feedback_page_stays_dead(markup):
    """Tried by the red team, held: each is live in the raw markup (the positive control)."""
    page = f"<html><head><title>t</title></head><body><p>honest</p>{markup}</body></html>"
    assert live_markup(page) != []
    safe = safe_notebook_page(page, "t")
    assert live_markup(safe) == [] and "<p>honest</p>" in safe
    assert not any("javascript" in (v or "") for _, attrs, _ in Page(render_math(clean_html(markup))).elements
                   for v in attrs.values())


def test_a_timestamp_that_is_a_fifo_or_a_link_never_blocks_nor_leaves_the_submission(tmp_path):
    """``grader autograde`` reads ``submitted/<student>/<assignment>/timestamp.txt`` before staging
    to tell a re-submission: a FIFO there blocked the whole class's run (a link to /dev/zero would
    have been read without end)."""
    import threading
    from pathlib import Path

    from grader.nbgrader_bridge.rerun import timestamp

    honest, fifo, linked = (tmp_path / n for n in ("honest", "fifo", "linked"))
    for folder in (honest, fifo, linked):
        folder.mkdir()
    (honest / "timestamp.txt").write_text("2026-01-10 10:00:00.000000 UTC")
    os.mkfifo(fifo / "timestamp.txt")
    outside = tmp_path / "outside.txt"
    outside.write_text("2030-01-01 00:00:00 UTC")
    (linked / "timestamp.txt").symlink_to(outside)
    assert str(timestamp(honest)) == "2026-01-10 10:00:00"
    assert timestamp(fifo) is None and timestamp(linked) is None
    # Positive control: reading the FIFO as the code did blocks until a writer comes.
    reader = threading.Thread(target=lambda: Path(fifo / "timestamp.txt").read_text(), daemon=True)
    reader.start()
    reader.join(0.2)
    blocked = reader.is_alive()
    os.close(os.open(fifo / "timestamp.txt", os.O_WRONLY | os.O_NONBLOCK)) if blocked else None  # release it
    reader.join()
    assert blocked


def test_a_timestamp_nbgrader_cannot_read_is_named_in_one_sentence(tmp_path):
    from grader.nbgrader_bridge.autograde import unreadable

    for student, text in [("honest", "2026-01-10 10:00:00.000000 UTC"), ("garbage", "not a date at all")]:
        folder = tmp_path / "submitted" / student / "dropout"
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(text)
        nbformat.write(nbformat.v4.new_notebook(), str(folder / "dropout.ipynb"))  # a notebook that reads
    assert unreadable(tmp_path, "honest", "dropout") is None
    assert unreadable(tmp_path, "garbage", "dropout").startswith("timestamp.txt is not a date nbgrader can read")


def test_grader_grade_walks_a_folder_nested_past_the_recursion_limit(tmp_path):
    """``rglob`` recursed once per folder level: one student's 1,100 nested folders stopped
    ``grader grade submitted/`` for the class with RecursionError."""
    from grader.batch import MAX_DEPTH, collect

    for student in ("ada", "deep"):
        (tmp_path / student / "dropout").mkdir(parents=True)
        (tmp_path / student / "dropout" / "dropout.py").write_text("x = 1\n")
    with nested(tmp_path / "deep" / "dropout", sys.getrecursionlimit() + 100):
        if sys.version_info < (3, 12):  # positive control: what collect used breaks on it
            with pytest.raises(RecursionError):
                list(tmp_path.rglob("*"))
        found = [item.path.relative_to(tmp_path).as_posix() for item in collect([str(tmp_path)], "dropout")]
    assert found == ["ada/dropout/dropout.py", "deep/dropout/dropout.py"]
    assert MAX_DEPTH >= 8, "an honest nbgrader tree (submitted/<student>/<assignment>/<file>) is searched"


def test_feedback_pages_of_long_and_case_folded_names_are_all_written(tmp_path):
    """A student folder of 240 letters made its page's name longer than a file name may be:
    ``grader grade --feedback`` stopped with a traceback before the rest of the class's pages.
    ``Ada`` and ``ada`` are one file where names ignore case: the second overwrote the first."""
    from grader.reports.feedback import feedback_filename, write_feedback
    from grader.results import SubmissionResult

    long = "L" * 240
    results = [SubmissionResult(f"sub/{s}/dropout/dropout.ipynb", "dropout") for s in (long, "Ada", "ada", "zoe")]
    assert len(f".{long}-dropout.html.0123456789ab.tmp".encode()) > 255  # positive control: the old names
    pages = write_feedback(results, tmp_path / "fb")
    assert [p.name for p in pages][1:] == ["Ada-dropout.html", "ada-dropout.2.html", "zoe-dropout.html"]
    assert all(len(p.name.encode()) <= 255 and p.is_file() for p in pages)
    assert pages[0].name == feedback_filename(results[0]) and pages[0].name.startswith("LLLL")
    assert len({p.name.casefold() for p in pages}) == len(pages)


def test_an_output_file_with_a_long_name_is_written_through_its_temporary_file(tmp_path):
    from grader.outputs import write_text

    name = "r" * 250 + ".csv"  # 254 bytes: a valid name, whose old temporary name (+19) was not
    assert write_text(tmp_path / name, "a,b\n").read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_gradescope_finds_the_notebook_beside_folders_nested_past_the_recursion_limit(tmp_path):
    from grader.platforms.gradescope import find_submission

    (tmp_path / "dropout.ipynb").write_text("{}")
    (tmp_path / "deep").mkdir()
    with nested(tmp_path / "deep", sys.getrecursionlimit() + 100):
        assert find_submission(tmp_path, "dropout") == tmp_path / "dropout.ipynb"


def test_a_hard_link_in_a_submission_is_staged_as_a_copy_and_never_written_through(tmp_path):
    """Tried, held: a hard link shares its inode with a file outside the submission (the student
    could only make one to a file it may read and write anyway, so it leaks nothing a copy would
    not); the staged file is a fresh file, so nothing nbgrader writes there reaches the original."""
    from grader.nbgrader_bridge.staging import staged

    outside = tmp_path / "outside.txt"
    outside.write_text("the original")
    folder = tmp_path / "course" / "submitted" / "eve" / "dropout"
    folder.mkdir(parents=True)
    (folder / "dropout.ipynb").write_text("{}")
    os.link(outside, folder / "data.txt")
    assert os.stat(folder / "data.txt").st_ino == os.stat(outside).st_ino  # positive control: one file
    with staged(tmp_path / "course", {"dropout": ["eve"]}) as stage:
        copy = stage.folder / "eve" / "dropout" / "data.txt"
        assert stage.accepted == {"dropout": ["eve"]} and os.stat(copy).st_ino != os.stat(outside).st_ino
        copy.write_text("written by nbgrader")
    assert outside.read_text() == "the original"


def test_a_file_name_with_a_line_break_cannot_forge_a_line_in_the_log(tmp_path):
    """A link named ``x\\ngrader: the student ada was not graded`` made its refusal two
    lines, the second one saying that an honest student was refused."""
    from grader.extract import ExtractionError, read_submission
    from grader.nbgrader_bridge.staging import staged

    forged = "x\ngrader: the student ada was not graded (forged)"  # no "/" in a file name
    course = tmp_path / "course"
    for student in ("ada", "eve"):
        folder = course / "submitted" / student / "dropout"
        folder.mkdir(parents=True)
        (folder / "dropout.ipynb").write_text("{}")
    (course / "submitted" / "eve" / "dropout" / forged).symlink_to(tmp_path)
    with staged(course, {"dropout": ["ada", "eve"]}) as stage:
        assert stage.accepted == {"dropout": ["ada"]}
        assert stage.refused == [f"submitted/eve/dropout was not graded: {forged!r} is a symbolic link, not a "
                                 "file: submissions must be files, not links"]
        assert all("\n" not in line for line in stage.refused)
    honest = course / "submitted" / "ada" / "dropout" / "notes é.txt"  # the twin: printable names stay as they are
    honest.symlink_to(tmp_path)
    with pytest.raises(ExtractionError, match="^notes é.txt is a symbolic link"):
        read_submission(honest)


def test_one_notebook_nbconvert_cannot_render_leaves_no_page_of_the_class_unsafe(tmp_path, monkeypatch):
    """``"widgets": 5`` in one student's notebook metadata (valid nbformat) fails nbconvert's HTML
    template: ``nbgrader generate_feedback`` exits 1, and ``grader feedback`` stopped before making
    any page safe, leaving the class's pages as nbgrader wrote them, script live."""
    import subprocess

    import nbformat
    from nbconvert.exporters import HTMLExporter

    from grader.nbgrader_bridge import feedback as feedback_module
    from grader.nbgrader_bridge.commands import NbgraderFailed

    widgets = nbformat.v4.new_notebook(metadata={"widgets": 5})
    with pytest.raises(TypeError):  # positive control: the real exporter fails on it
        HTMLExporter(template_name="lab").from_notebook_node(widgets)
    raw = "<html><head><title>dropout</title></head><body><img src=x onerror=alert(1)></body></html>"
    for student in ("ada", "widgets"):
        (tmp_path / "autograded" / student / "dropout").mkdir(parents=True)
        (tmp_path / "autograded" / student / "dropout" / "dropout.ipynb").write_text("{}")

    def generate_feedback(args, course_dir, check=True, **_):
        page = tmp_path / "feedback" / "ada" / "dropout" / "dropout.html"
        page.parent.mkdir(parents=True)
        page.write_text(raw)
        stderr = "[GenerateFeedbackApp | ERROR] There was an error processing assignment 'dropout' for student 'widgets'\n"
        if check:
            raise NbgraderFailed("nbgrader generate_feedback failed (exit 1)")
        return subprocess.CompletedProcess(args, 1, "", stderr)

    monkeypatch.setattr(feedback_module, "run_nbgrader", generate_feedback)
    assert live_markup(raw) != []
    with pytest.raises(NbgraderFailed, match=r"^nbgrader could not write the feedback of widgets/dropout \("):
        feedback_module.feedback(tmp_path)
    assert live_markup((tmp_path / "feedback" / "ada" / "dropout" / "dropout.html").read_text()) == []

"""The sample class files parse, and fit the current notebooks."""

import nbformat
import pytest

from grader import assignments
from grader.nbgrader_bridge.sample_class import CLASS_DIR, SampleClassError, fill_notebook, parse_sections, students

RELEASED_CELL = '''def f(x):
    y = 1
    if x:
        # YOUR CODE HERE
        raise NotImplementedError()
    else:
        # YOUR CODE HERE
        raise NotImplementedError()
    return y'''


def _released():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(RELEASED_CELL)
    cell.metadata["nbgrader"] = {"grade_id": "f", "solution": True, "grade": False, "locked": False}
    locked = nbformat.v4.new_code_cell("import numpy as np")
    locked.metadata["nbgrader"] = {"grade_id": "setup", "solution": False, "grade": False, "locked": True}
    nb.cells = [locked, cell]
    return nb


def test_sections_fill_placeholders_in_order_with_their_indentation():
    text = "# who this is\n# %% f\ny = 2\nif y:\n    y = 3\n# %% f\ny = 4\n"
    assert [(g, w) for g, w, _ in parse_sections(text)] == [("f", False), ("f", False)]
    nb = fill_notebook(_released(), text, "t")
    src = nb.cells[1].source
    assert "        y = 2\n        if y:\n            y = 3\n    else:\n        y = 4\n" in src
    assert "NotImplementedError" not in src
    assert "NotImplementedError" in _released().cells[1].source  # the input is not modified


def test_whole_cell_section_and_errors():
    nb = fill_notebook(_released(), "# %% f cell\ndef f(x):\n    return 5\n", "t")
    assert nb.cells[1].source == "def f(x):\n    return 5"
    with pytest.raises(SampleClassError, match="no solution cell 'g'"):
        fill_notebook(_released(), "# %% g\nx = 1\n", "t")
    with pytest.raises(SampleClassError, match="no solution cell 'setup'"):
        fill_notebook(_released(), "# %% setup\nx = 1\n", "t")
    with pytest.raises(SampleClassError, match="no placeholder left"):
        fill_notebook(_released(), "# %% f\na = 1\n# %% f\nb = 1\n# %% f\nc = 1\n", "t")


def _solution_regions(name):
    nb = nbformat.read(str(assignments.get(name).notebook), as_version=4)
    return {
        c.metadata.nbgrader["grade_id"]: c.source.count("### BEGIN SOLUTION")
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


@pytest.mark.parametrize("student", students())
def test_every_sample_file_fits_the_source_notebooks(student):
    files = sorted((CLASS_DIR / student).iterdir())
    assert files
    for path in files:
        name, kind = path.stem, path.suffix
        assert name in assignments.ASSIGNMENTS and kind in (".py", ".untouched"), path.name
        if kind == ".py":
            regions = _solution_regions(name)
            sections = parse_sections(path.read_text(encoding="utf-8"))
            assert sections, path
            for gid, whole, _ in sections:
                assert gid in regions, f"{path.name}: no solution cell {gid}"
                if not whole:
                    assert sum(g == gid for g, w, _ in sections if not w) <= regions[gid]

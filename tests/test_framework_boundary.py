"""The framework holds no course content: nothing under grader/ names the built-in unit's
functions, its quiz's answers or its quiz's symbols (issue "From a kit to a framework", item 1).

The names are read from the built-in definition itself (assignments/course.toml and the quiz's
questions), so a unit that grows a function or a question is covered without editing this test.
"""

from __future__ import annotations

import re

from grader import assignments
from grader.paths import REPO_ROOT
from grader.quiz import quiz_of

#: Ordinary words of the field that the framework's own vocabulary uses (a layer's forward and
#: backward pass, a statistic's expectation and variance, a window's stride and padding). Every
#: other answer name and symbol of three characters or more must not occur under grader/.
FIELD_WORDS = {"forward", "backward", "expectation", "variance", "stride", "pad"}
SHORTEST = 3  # one- and two-letter symbols (p, D, H, HH) are ordinary variable names in any code


def unit_names() -> set[str]:
    """The built-in unit's function names, quiz answer names and quiz symbols."""
    unit = assignments.builtin()
    names: set[str] = set()
    for assignment in unit.assignments.values():
        names |= set(assignment.functions)
        if assignment.kind == "quiz":
            for question in quiz_of(assignment).questions.values():
                names |= {question.name, *question.symbols}
    return {n for n in names if len(n) >= SHORTEST and n not in FIELD_WORDS}


def occurrences(names: set[str]) -> dict[str, list[str]]:
    """name -> files under grader/ where it occurs as a whole identifier."""
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, sorted(names))) + r")(?![A-Za-z0-9_])")
    found: dict[str, list[str]] = {}
    for path in sorted((REPO_ROOT / "grader").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".toml", ".md", ".txt", ".json"):
            for name in set(pattern.findall(path.read_text(encoding="utf-8"))):
                found.setdefault(name, []).append(str(path.relative_to(REPO_ROOT)))
    return found


def test_the_unit_has_names_to_look_for():
    names = unit_names()
    # the guard below is only as good as this list: functions of both code assignments and
    # distinctive answers and symbols of the quiz must be in it
    assert {"dropout_forward", "conv_backward_naive", "forward_inverted", "O11", "Hout", "dLdH", "X11"} <= names


def test_no_file_under_grader_names_the_units_content():
    assert occurrences(unit_names()) == {}


def test_the_search_finds_a_planted_name(tmp_path, monkeypatch):
    """The control: the same search over a copy with one planted mention finds it."""
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "x.py").write_text('EXAMPLE = "see dropout_forward(x, param)"\n')
    monkeypatch.setitem(globals(), "REPO_ROOT", tmp_path)
    assert occurrences(unit_names()) == {"dropout_forward": ["grader/x.py"]}


def test_grader_modules_do_not_import_the_units_modules():
    """The unit's references and checks reach the framework only through the definition."""
    importing = [str(path.relative_to(REPO_ROOT)) for path in sorted((REPO_ROOT / "grader").rglob("*.py"))
                 if re.search(r"^\s*(from|import)\s+(solutions|assignments)\b", path.read_text(encoding="utf-8"), re.M)]
    assert importing == []

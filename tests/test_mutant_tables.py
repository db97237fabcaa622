"""Mutant tables: one line per variant, bad lines and stale edits are one-line problems."""

from __future__ import annotations

import pytest

from grader.mutants import MutantError, parse_table, read_table

REFERENCE = "def f(x):\n    y = x + 1\n    return y * 2\n"


def test_lines_become_mutants_and_alternatives(tmp_path):
    (tmp_path / "alt.py").write_text("def f(x):\n    return 2 * x + 2\n")
    catalogue = parse_table(
        "# comment\n\n"
        "plus_two | y = x + 1 -> y = x + 2 | value_check\n"
        "two_edits | y = x + 1 -> y = x ;; y * 2 -> y * 3 | other_check\n"
        "split_line | y = x + 1 -> y = x\\n    y = y + 1 | value_check\n"
        "rewritten | file:alt.py | correct\n",
        "t.txt", tmp_path,
    )
    assert catalogue.problems == []
    plus, two, split = catalogue.MUTANTS
    assert (plus.name, plus.caught_by) == ("plus_two", "value_check")
    assert plus.source(REFERENCE) == REFERENCE.replace("x + 1", "x + 2")
    assert two.source(REFERENCE) == "def f(x):\n    y = x\n    return y * 3\n"
    assert split.source(REFERENCE) == "def f(x):\n    y = x\n    y = y + 1\n    return y * 2\n"
    (alt,) = catalogue.ALTERNATIVES
    assert alt.caught_by is None and alt.source(REFERENCE) == "def f(x):\n    return 2 * x + 2\n"


@pytest.mark.parametrize("line, words", [
    ("only | two fields", "expected 'name | old -> new | check'"),
    ("bad name | a -> b | c", "must be an identifier"),
    ("no_arrow | a b | c", "each edit must be 'old -> new'"),
    ("missing | file:nowhere.py | c", "cannot be read; fix its file: path"),
])
def test_a_malformed_line_is_a_problem_and_the_others_still_load(tmp_path, line, words):
    catalogue = parse_table(f"{line}\nfine | y = x + 1 -> y = x | check\n", "t.txt", tmp_path)
    assert len(catalogue.problems) == 1 and words in catalogue.problems[0]
    assert "t.txt line 1" in catalogue.problems[0]
    assert [m.name for m in catalogue.MUTANTS] == ["fine"]


def test_a_name_listed_twice_is_a_problem(tmp_path):
    catalogue = parse_table("a | y -> z | c\na | x -> z | c\n", "t.txt", tmp_path)
    assert catalogue.problems == ["t.txt line 2: mutant a is listed twice"]


@pytest.mark.parametrize("old, words", [("y = x + 7", "no longer occurs"), ("y", "occurs 2 times")])
def test_an_edit_that_no_longer_applies_names_the_mutant(old, words):
    (mutant,) = parse_table(f"stale | {old} -> z | c\n", "m.txt").MUTANTS
    with pytest.raises(MutantError) as info:
        mutant.source(REFERENCE)
    message = str(info.value)
    assert message.startswith("mutant stale (m.txt line 1)") and words in message and "\n" not in message


def test_an_unreadable_table_is_a_problem(tmp_path):
    assert "cannot read the mutant table" in read_table(tmp_path / "none.txt").problems[0]


def test_a_module_of_its_own_is_edited_like_the_reference(tmp_path):
    """``file:PATH ;; old -> new``: a variant of a whole-module variant, without a second copy of it."""
    (tmp_path / "alt.py").write_text("def f(x):\n    return 2 * x + 2\n")
    catalogue = parse_table("checked | file:alt.py ;; def f(x):\\n -> def f(x):\\n    assert x > 0\\n | guard\n"
                            "stale | file:alt.py ;; return 3 -> return 4 | guard2\n", "t.txt", tmp_path)
    assert catalogue.problems == []
    checked, stale = catalogue.MUTANTS
    assert checked.source(REFERENCE) == "def f(x):\n    assert x > 0\n    return 2 * x + 2\n"
    with pytest.raises(MutantError) as info:
        stale.source(REFERENCE)
    assert str(info.value).startswith("mutant stale (t.txt line 2)") and "no longer occurs in its module" in str(info.value)

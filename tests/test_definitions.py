"""Course definitions: the loader's one-sentence errors, selecting a definition, `grader new`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import assignments
from grader.cli import main
from grader.definition import DefinitionError, builtin, load, load_module
from grader.paths import REPO_ROOT

MAXPOOL = REPO_ROOT / "examples" / "maxpool"

GOOD = '''
[[assignment]]
name = "layer"
functions = ["f"]
reference = "solution.py"
checks = "checks.py"
'''


def _definition(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "solution.py").write_text("def f():\n    return 1\n")
    (tmp_path / "checks.py").write_text("from grader.checks.base import Battery\nBATTERY = Battery()\n")
    (tmp_path / "course.toml").write_text(toml)
    return tmp_path


def test_a_definition_loads_its_modules_from_file_paths(tmp_path):
    definition = load(_definition(tmp_path, GOOD))
    a = definition.assignments["layer"]
    assert a.kind == "code" and a.functions == ("f",) and a.title == "layer"
    assert a.reference().f() == 1 and a.battery().checks == []
    assert a.notebook == tmp_path.resolve() / "layer" / "layer.ipynb"
    assert a.mutants().MUTANTS == []


@pytest.mark.parametrize("toml, words", [
    ("[[assignment]\n", "not valid TOML"),
    ("[course]\ntitle = 'x'\n", "declares no assignment"),
    (GOOD.replace('name = "layer"', 'name = "my layer"'), "Python identifier"),
    (GOOD + 'kind = "essay"\n', "kind must be one of code, quiz"),
    (GOOD.replace('functions = ["f"]', "functions = []"), "needs functions"),
    (GOOD.replace('reference = "solution.py"\n', ""), "has no 'reference'"),
    (GOOD.replace("checks.py", "nowhere.py"), "'nowhere.py' does not exist"),
    (GOOD + 'refrence = "solution.py"\n', "unknown key(s) refrence"),
    (GOOD.replace('checks = "checks.py"', 'check = "checks.py"'), "unknown key(s) check (known: "),
    (GOOD + GOOD, "declares assignment 'layer' twice"),
    ('[[assignment]]\nname = "q"\nkind = "quiz"\n', "assignment 'q' has no 'questions'"),
])
def test_a_bad_definition_is_one_sentence(tmp_path, toml, words):
    with pytest.raises(DefinitionError) as info:
        load(_definition(tmp_path, toml))
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("prose, functions, words", [
    ("# Layer\n<!-- solution: g -->\n", '["f"]', "layer.md line 2: <!-- solution: g --> names none of the "
                                                  "functions of assignment 'layer' (f)"),
    ("# Layer\n", '["f", "g"]', "defines no function g, which the functions of assignment 'layer' in course.toml list"),
])
def test_a_notebook_that_cannot_be_generated_is_one_sentence(tmp_path, prose, functions, words):
    from grader.notebooks import build_notebook

    _definition(tmp_path, GOOD.replace('functions = ["f"]', f"functions = {functions}") + 'prose = "layer.md"\n')
    (tmp_path / "layer.md").write_text(prose)
    with pytest.raises(DefinitionError) as info:
        build_notebook(load(tmp_path).assignments["layer"])
    assert words in str(info.value) and "\n" not in str(info.value)


def test_check_solutions_says_when_a_notebook_cannot_be_generated(tmp_path):
    from grader.check_solutions import check_assignment

    _definition(tmp_path, GOOD.replace('functions = ["f"]', 'functions = ["f", "g"]') + 'prose = "layer.md"\n')
    (tmp_path / "layer.md").write_text("# Layer\n")
    lines: list[str] = []
    assert check_assignment(load(tmp_path).assignments["layer"], 1, lines.append) == 1
    assert lines[-1].startswith("SURPRISE layer notebook: ") and "defines no function g" in lines[-1]


def test_a_folder_without_course_toml_is_refused(tmp_path):
    with pytest.raises(DefinitionError, match="holds no course.toml"):
        load(tmp_path)


def test_checks_without_a_battery_is_one_sentence_saying_what_to_define(tmp_path):
    _definition(tmp_path, GOOD)
    (tmp_path / "checks.py").write_text("from grader.checks.base import Battery\nBATERY = Battery()\n")
    with pytest.raises(DefinitionError, match=r"checks.py defines no BATTERY; the checks of assignment 'layer' "
                                              r"must define it$"):
        load(tmp_path).assignments["layer"].battery()


def test_a_module_that_fails_to_import_is_one_sentence(tmp_path):
    _definition(tmp_path, GOOD)
    (tmp_path / "checks.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(DefinitionError, match="cannot be loaded: RuntimeError: boom"):
        load(tmp_path).assignments["layer"].battery()


def test_the_builtin_unit_is_a_definition_like_any_other():
    unit = builtin()
    assert list(unit.assignments) == ["dropout", "conv", "quiz"]
    conv = unit.assignments["conv"]
    assert conv.functions == ("conv_forward_naive", "conv_backward_naive")
    # the checks from the definition's folder, the reference once under its package name (not a second copy)
    import solutions.conv

    assert conv.checks_path == REPO_ROOT / "assignments" / "conv" / "checks.py"
    assert conv.battery() is load_module(conv.checks_path).BATTERY and conv.reference() is solutions.conv
    assert conv.notebook == REPO_ROOT / "assignments" / "conv" / "conv.ipynb"


def test_use_selects_a_definition_and_restores_the_previous_one():
    ours = assignments.ASSIGNMENTS  # modules that imported the dict see the switch
    with assignments.use(MAXPOOL) as definition:
        assert list(ours) == ["maxpool", "pool_quiz"] and assignments.current() is definition
        assert assignments.get("maxpool").functions[0] == "max_pool_forward_naive"
        with pytest.raises(assignments.UnknownAssignment, match="choose one of: maxpool, pool_quiz"):
            assignments.get("conv")
    assert list(ours) == ["dropout", "conv", "quiz"]


def test_every_command_takes_definition(capsys):
    assert main(["grade", "--definition", "no/such/folder", "--assignment", "maxpool", "x.py"]) == 2
    assert "course definition no/such/folder is not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # the --assignment choices are the definition's
        main(["grade", "--definition", str(MAXPOOL), "--assignment", "conv", "x.py"])
    assert exc.value.code == 2 and "invalid choice: 'conv' (choose from 'maxpool', 'pool_quiz')" in capsys.readouterr().err
    assert list(assignments.ASSIGNMENTS) == ["dropout", "conv", "quiz"]  # main restored the built-in unit
    from grader.cli import build_parser

    for command, parser in build_parser()._subparsers._group_actions[0].choices.items():
        assert "--definition" in parser.format_help(), command


def test_grade_with_broken_questions_is_one_sentence_before_anything_is_graded(tmp_path, capsys):
    (tmp_path / "questions.toml").write_text("[[question]]\nname = 'a'\n")
    (tmp_path / "course.toml").write_text('[[assignment]]\nname = "q"\nkind = "quiz"\nquestions = "questions.toml"\n')
    (tmp_path / "sub.py").write_text('a = "1"\n')
    results = tmp_path / "results.jsonl"
    assert main(["grade", "--definition", str(tmp_path), "--assignment", "q", str(tmp_path / "sub.py"),
                 "--json", str(results)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "grader: questions.toml, question 'a' needs symbols = [...], the symbols its answer is written in"
    assert not results.exists()


def test_grader_new_scaffolds_an_assignment_that_passes_its_own_validation(tmp_path, capsys):
    from grader.check_solutions import check_code_assignment

    assert main(["new", "scale_layer", "--definition", str(tmp_path)]) == 0
    assert main(["new", "scale_layer", "--definition", str(tmp_path)]) == 2
    assert "already declares an assignment 'scale_layer'" in capsys.readouterr().err
    assert main(["new", "second", "--definition", str(tmp_path)]) == 0
    definition = load(tmp_path)
    assert list(definition.assignments) == ["scale_layer", "second"]
    lines: list[str] = []
    assert check_code_assignment(definition.assignments["second"], 2, lines.append) == 0, lines
    assert sum(line.startswith("ok       second mutant") for line in lines) == 5


def test_a_check_that_fails_itself_is_one_surprise_and_the_run_goes_on(tmp_path):
    from grader.check_solutions import check_code_assignment

    assert main(["new", "scale_layer", "--definition", str(tmp_path)]) == 0
    checks = tmp_path / "scale_layer" / "checks.py"
    checks.write_text(checks.read_text() + """
from grader.layercheck import CheckFailed, forward_backward, grads_of

@BATTERY.check("dx is dout times scale, entry by entry", 1, "test_backward")
def dx_entries(rng):
    inputs, douts, pairs = yield from forward_backward(LAYER, rng, CASES, None)
    for case, dout, (forward, backward) in zip(CASES, douts, pairs):
        dx = grads_of(LAYER, forward, backward, case)["dx"]
        if dx[0, 1] != dout[0, 1] * case.scale:  # a 1-D dx (mutant dx_summed_over_rows) raises IndexError
            raise CheckFailed("dx is not dout times scale")
""")
    lines: list[str] = []
    surprises = check_code_assignment(load(tmp_path).assignments["scale_layer"], 1, lines.append, mutant_repeats=1)
    bad = [line for line in lines if line.startswith("SURPRISE")]
    assert surprises == len(bad) == 1, lines
    assert bad[0].startswith("SURPRISE scale_layer mutant dx_summed_over_rows: check dx_entries raised IndexError at ")
    assert sum(line.startswith("ok       scale_layer mutant") for line in lines) == 4  # the others still ran


def test_a_mutant_naming_an_unknown_check_lists_the_checks(tmp_path):
    from grader.check_solutions import check_code_assignment

    assert main(["new", "scale_layer", "--definition", str(tmp_path)]) == 0
    table = tmp_path / "scale_layer" / "mutants.txt"
    table.write_text(table.read_text().replace("| output_is_scaled_input", "| output_is_scaled"))
    lines: list[str] = []
    check_code_assignment(load(tmp_path).assignments["scale_layer"], 1, lines.append, mutant_repeats=1)
    assert ("SURPRISE scale_layer mutant adds_scale (mutants.txt line 3) names unknown check 'output_is_scaled'; "
            "its checks: output_shape_matches_input, output_is_scaled_input, ") in "\n".join(lines)


def test_a_changed_reference_names_the_mutant_to_update_and_the_run_goes_on(tmp_path):
    from grader.check_solutions import check_code_assignment

    copy = shutil.copytree(MAXPOOL, tmp_path / "maxpool", ignore=shutil.ignore_patterns("maxpool"))
    solution = copy / "solution.py"
    solution.write_text(solution.read_text().replace("hs, ws = i * stride, j * stride", "hs, ws = stride * i, stride * j"))
    (copy / "mutants.txt").write_text((copy / "mutants.txt").read_text() + "not a line of the table\n")
    lines: list[str] = []
    surprises = check_code_assignment(load(copy).assignments["maxpool"], 1, lines.append, mutant_repeats=1)
    bad = [line for line in lines if line.startswith("SURPRISE")]
    assert surprises == len(bad) == 2, lines
    assert any("mutant stride_ignored_backward (mutants.txt line" in line and "no longer occurs" in line for line in bad)
    assert any("expected 'name | old -> new | check'" in line for line in bad)
    assert any(line.startswith("ok       maxpool mutant dx_assigned_not_accumulated") for line in lines)


def test_a_check_no_mutant_fails_is_a_surprise(tmp_path):
    from grader.check_solutions import check_code_assignment

    copy = shutil.copytree(MAXPOOL, tmp_path / "maxpool", ignore=shutil.ignore_patterns("maxpool"))
    table = copy / "mutants.txt"
    table.write_text("".join(line for line in table.read_text().splitlines(keepends=True)
                             if line.startswith("average_pooling |")))
    lines: list[str] = []
    assert check_code_assignment(load(copy).assignments["maxpool"], 1, lines.append, mutant_repeats=1) == 5
    uncaught = {line.split()[3] for line in lines if line.startswith("SURPRISE")}
    assert uncaught == {"output_shape_matches_formula", "output_shape_non_square", "backward_shape_matches_x",
                        "dx_matches_numeric_gradient", "tied_maxima_share_dout"}

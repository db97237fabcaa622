"""Generated nbgrader source notebooks: the instructor writes prose, the rest comes from the
reference and the battery.

The prose is a Markdown file (``prose = "maxpool.md"`` in ``course.toml``). It becomes markdown
cells, split where it says ``<!-- solution: FUNCTION -->`` (that function's solution cell, the
reference's source with its ``### BEGIN/END SOLUTION`` markers, goes there) and around fenced
```` ```python ```` blocks (locked sanity-check cells students can run). Before the first cell
that needs it comes a setup cell with the reference's imports; at ``<!-- autograder -->`` (or at
the end) one autograder cell per battery cell name, with its points and the list of checks
behind them. So the rules tests/test_notebooks.py enforces hold by construction.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import re
import tempfile
import threading
from pathlib import Path

from grader.definition import Assignment, DefinitionError
from grader.extract import nbformat
from grader.nbgrader_cells import grade_id

SOLUTION = re.compile(r"^<!--\s*solution:\s*(\w+)\s*-->\s*$")
ANSWER = re.compile(r"^<!--\s*answer:\s*(\w+)\s*-->\s*$")  # a declared quiz question's answer cell
AUTOGRADER = re.compile(r"^<!--\s*autograder\s*-->\s*$")
FENCE = "```python"

HIDDEN = '''\
### BEGIN HIDDEN TESTS
# Scores for this cell come from the sandboxed judge (our autograde preprocessor). Output on
# stderr makes stock nbgrader, run without the course's nbgrader_config.py, give zero, never full marks.
import sys
print("graded by the course grader (grader autograde), not in this kernel", file=sys.stderr)
### END HIDDEN TESTS'''


#: A quiz autograder cell's public part, as in the built-in quiz notebook: ``check_answered`` is
#: defined by the setup cell (grader/quiz/student_cell.py) and asserts each answer is given and read.
PUBLIC_QUIZ_CHECK = """\
# Public check (run this cell, or nbgrader's Validate): each answer is given and can be read;
# it says nothing about whether an answer is right (the hidden grading does).
check_answered({names})"""


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _cell(kind: str, source: str, grade_id: str, solution: bool = False, points: float | None = None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(source.strip("\n"), metadata={"nbgrader": meta})
    cell["id"] = grade_id.replace("_", "-")  # stable ids: a rebuilt notebook is byte-identical
    return cell


def _graded(assignment: Assignment) -> list[tuple[str, str, float]]:
    """(cell, name students read, points) of every check or declared question, in order."""
    if assignment.kind == "quiz":
        from grader.quiz import quiz_of

        return [(q.cell, f"{q.name}: {q.title}", q.points) for q in quiz_of(assignment).questions.values()]
    return [(c.cell, c.name, c.points) for c in assignment.battery().checks]


def autograder_cells(assignment: Assignment) -> list:
    """One autograder cell per cell name of the battery (or questions), listing what it grades."""
    by_cell: dict[str, list[tuple[str, float]]] = {}
    for cell, name, points in _graded(assignment):
        by_cell.setdefault(cell, []).append((name, points))
    answers: dict[str, list[str]] = {}  # a quiz cell's answer names, for its public check
    if assignment.kind == "quiz":
        from grader.quiz import quiz_of

        for q in quiz_of(assignment).questions.values():
            answers.setdefault(q.cell, []).append(q.name)
    cells = []
    for grade_id, items in by_cell.items():
        total = sum(points for _, points in items)
        lines = [f"# Autograder cell ({_points(total)}), graded by the course grader in a sandbox, not in this notebook.",
                 "# It checks:"] + [f"# - {name} ({_points(points)})" for name, points in items]
        if grade_id in answers:
            lines.append(PUBLIC_QUIZ_CHECK.format(names=", ".join(f'"{name}"' for name in answers[grade_id])))
        cells.append(_cell("code", "\n".join(lines) + "\n" + HIDDEN, grade_id, points=total))
    return cells


def _answer_cell(assignment: Assignment, name: str):
    """A quiz answer's solution cell: the reference answer between the solution markers."""
    from grader.extract import extract_answers

    typed = extract_answers(assignment.reference_path, (name,)).answers if assignment.reference_path else {}
    source = f"# {name}: assign your answer as a string\n### BEGIN SOLUTION\n{name} = {typed.get(name, '')!r}\n### END SOLUTION"
    return _cell("code", source, f"answer_{name}", solution=True)


def _add_preview(assignment: Assignment, cells: list, first_code: int) -> None:
    """A quiz's answer reader (its notation, no keys) as the setup cell, and a cell after the last
    answer that previews every answer (how it was read, never whether it is right)."""
    from grader.quiz import quiz_of
    from grader.quiz.student_cell import cell_source

    quiz = quiz_of(assignment)
    last_answer = max((i for i, c in enumerate(cells) if (grade_id(c) or "").startswith("answer_")),
                      default=len(cells) - 1)
    preview = f"for _name in {list(quiz.names)!r}:\n    preview(globals().get(_name), _name)"
    cells.insert(last_answer + 1, _cell("code", preview, "preview"))
    cells.insert(first_code, _cell("code", cell_source(quiz), "setup"))


def _setup_source(reference) -> str:
    tree = ast.parse(inspect.getsource(reference))
    return "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))


def _solution_cell(assignment: Assignment, reference, name: str):
    function = getattr(reference, name, None)
    if not callable(function):
        raise DefinitionError(f"{assignment.reference_path} defines no function {name}, which the functions of "
                              f"assignment {assignment.name!r} in course.toml list; define it or fix the list")
    return _cell("code", inspect.getsource(function), name, solution=True)


def build_notebook(assignment: Assignment):
    """The source notebook of an assignment with ``prose`` (a code assignment, or a quiz with
    declared questions: ``<!-- answer: NAME -->`` places an answer cell)."""
    quiz = assignment.kind == "quiz"
    reference = None if quiz else assignment.reference()
    if quiz:
        from grader.quiz import quiz_of

        names = tuple(quiz_of(assignment).names)
    else:
        names = assignment.functions
    prose = assignment.notebook_prose.read_text(encoding="utf-8")
    cells, text, code, placed = [], [], None, set()

    def flush_markdown() -> None:
        if "".join(text).strip():
            cells.append(_cell("markdown", "".join(text), f"md_{len(cells) + 1}"))
        text.clear()

    for number, line in enumerate(prose.splitlines(keepends=True), 1):
        if code is not None:  # inside a fenced sanity-check block
            if line.strip() == "```":
                cells.append(_cell("code", "".join(code), f"sanity_{len(cells) + 1}"))
                code = None
            else:
                code.append(line)
        elif line.strip() == FENCE:
            flush_markdown()
            code = []
        elif ANSWER.match(line) and quiz:
            flush_markdown()
            name = ANSWER.match(line).group(1)
            if name not in names:
                raise DefinitionError(f"{assignment.notebook_prose} line {number} places an answer cell for {name}, "
                                      f"which is not a question of assignment {assignment.name!r} ({', '.join(names)})")
            cells.append(_answer_cell(assignment, name))
            placed.add(name)
        elif SOLUTION.match(line) or AUTOGRADER.match(line):
            flush_markdown()
            name = SOLUTION.match(line).group(1) if SOLUTION.match(line) else None
            if name is None:
                cells += autograder_cells(assignment)
                placed.add("<autograder>")
            elif name in assignment.functions:
                cells.append(_solution_cell(assignment, reference, name))
                placed.add(name)
            else:
                raise DefinitionError(f"{assignment.notebook_prose} line {number} places a solution cell for {name}, "
                                      f"which is not one of the functions of assignment {assignment.name!r} "
                                      f"({', '.join(assignment.functions)})")
        else:
            text.append(line)
    flush_markdown()
    unplaced = [name for name in names if name not in placed]
    for k, name in enumerate(unplaced):  # functions or answers the prose does not place go after its first cell
        cells.insert(1 + k, _answer_cell(assignment, name) if quiz else _solution_cell(assignment, reference, name))
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    if quiz:
        _add_preview(assignment, cells, first_code)
    else:
        cells.insert(first_code, _cell("code", _setup_source(reference), "setup"))
    if "<autograder>" not in placed:
        cells += autograder_cells(assignment)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


_lock = threading.Lock()
_built: dict[str, tuple] = {}  # notebook -> (mtimes of its inputs when last found up to date, where it is)


def ensure_notebook(assignment: Assignment) -> Path:
    """Write the generated notebook of ``assignment`` if it has prose and the file is missing or
    out of date; return the notebook's path either way."""
    path = assignment.notebook
    if assignment.notebook_prose is None or (assignment.kind == "quiz" and assignment.questions_path is None):
        return path
    with _lock:
        key = assignment.name + str(path)
        stamp = tuple(_mtime(p) for p in (assignment.notebook_prose, path, *assignment.files()))
        if key in _built and _built[key][0] == stamp:
            return _built[key][1]
        text = nbformat.writes(build_notebook(assignment)) + "\n"
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            try:
                _write(path, text)
            except OSError:  # a read-only definition: the generated notebook goes to a temporary folder
                folder = hashlib.sha256(str(path).encode()).hexdigest()[:12]
                path = Path(tempfile.gettempdir()) / "grader-notebooks" / folder / path.name
                _write(path, text)
        _built[key] = (tuple(_mtime(p) for p in (assignment.notebook_prose, assignment.notebook, *assignment.files())), path)
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # readers see the old or the new notebook, never half of one


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0

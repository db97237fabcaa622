"""Generated nbgrader source notebooks: the instructor writes prose, the rest comes from the
reference and the battery.

The prose is a Markdown file (``prose = "maxpool.md"`` in ``course.toml``). It becomes markdown
cells, split where it says ``<!-- solution: FUNCTION -->`` (that function's solution cell, the
reference's source with its ``### BEGIN/END SOLUTION`` markers, goes there) and around fenced
```` ```python ```` blocks (locked sanity-check cells students can run). Before the first cell
that needs it comes a setup cell with the reference's imports; at ``<!-- autograder -->`` (or at
the end) one autograder cell per battery cell name, with its points and the list of checks
behind them. More markers (docs/authoring.md, "More markers") name markdown cells' grade ids,
place the setup, preview and single autograder cells, give an autograder cell its public checks
or an answer cell its first lines (the fenced block right after the marker), put several quiz
answers in one cell, and keep a block in the Markdown. So the rules tests/test_notebooks.py
enforces hold by construction.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import tempfile
import textwrap
import threading
from pathlib import Path

from grader import outputs
from grader.definition import Assignment, DefinitionError
from grader.extract import nbformat
from grader.nbgrader_cells import grade_id

# A marker line: <!-- KIND -->, <!-- KIND: ARGUMENT --> or <!-- KIND ID: ARGUMENT --> (docs/authoring.md).
MARKER = re.compile(r"^<!--\s*(solution|answer|autograder|markdown|setup|preview|listing)(?:\s+(\w+))?\s*(?::\s*(.*?))?\s*-->\s*$")
TAKES_BODY = ("autograder", "answer")  # markers whose cell takes the fenced block right after them
FENCE = "```python"
PREVIEW_WIDTH = 110  # the preview cell lists the answer names in lines of at most this width

HIDDEN = '''\
### BEGIN HIDDEN TESTS
# Scores for this cell come from the sandboxed judge (our autograde preprocessor). Output on
# stderr makes stock nbgrader, run without the course's nbgrader_config.py, give zero, never full marks.
import sys
print("graded by the course grader (grader autograde), not in this kernel", file=sys.stderr)
### END HIDDEN TESTS'''

QUIZ_PUBLIC_CHECK = """\
# Public check (run this cell, or nbgrader's Validate): each answer is given and can be read;
# it says nothing about whether an answer is right (the hidden grading does)."""


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _cell(kind: str, source: str, grade_id: str, solution: bool = False, points: float | None = None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(source, metadata={"nbgrader": meta})
    cell["id"] = grade_id.replace("_", "-")  # stable ids: a rebuilt notebook is byte-identical
    return cell


def _graded(assignment: Assignment) -> list[tuple[str, str, float]]:
    """(cell, name students read, points) of every check or declared question, in order."""
    if assignment.kind == "quiz":
        return [(q.cell, f"{q.name}: {q.title}", q.points) for q in _quiz_of(assignment).questions.values()]
    return [(c.cell, c.name, c.points) for c in assignment.battery().checks]


def _by_cell(assignment: Assignment) -> dict[str, list[tuple[str, float]]]:
    """Autograder cell name -> (name students read, points) of the checks behind it, in order."""
    by_cell: dict[str, list[tuple[str, float]]] = {}
    for cell, name, points in _graded(assignment):
        by_cell.setdefault(cell, []).append((name, points))
    return by_cell


def _autograder_cell(grade_id: str, items: list[tuple[str, float]], body: str | None = None):
    """The autograder cell ``grade_id``: its points and checks, the instructor's public checks
    (``body``, code students can run), then the hidden region."""
    total = sum(points for _, points in items)
    lines = [f"# Autograder cell ({_points(total)}), graded by the course grader in a sandbox, not in this notebook.",
             "# It checks:"] + [f"# - {name} ({_points(points)})" for name, points in items]
    if body and body.strip():
        lines.append(body.strip("\n"))
    return _cell("code", "\n".join(lines) + "\n" + HIDDEN, grade_id, points=total)


def autograder_cells(assignment: Assignment) -> list:
    """One autograder cell per cell name of the battery (or questions), listing what it grades."""
    return [_autograder_cell(name, items) for name, items in _by_cell(assignment).items()]


def _literal(assignment: Assignment, name: str) -> str:
    """``name = "..."`` as the quiz's reference writes it (its own quotes and r-prefix)."""
    if assignment.reference_path is None:
        return f'{name} = ""'
    try:
        text = assignment.reference_path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise DefinitionError(f"{assignment.reference_path} cannot be read as Python "
                              f"({getattr(exc, 'msg', None) or exc}); fix the reference answers") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.get_source_segment(text, node)
    return f'{name} = ""'


def _answer_cell(assignment: Assignment, names: list[str], cell_id: str | None, body: str | None):
    """A quiz answer cell holding ``names``: the instructor's lines (``body``) or a generated
    comment, then the reference's answers between the solution markers."""
    if body and body.strip():
        head = body.strip("\n")
    elif len(names) == 1:
        head = f"# {names[0]}: assign your answer as a string"
    else:
        head = f"# assign strings to {', '.join(names[:-1])} and {names[-1]}"
    answers = "\n".join(_literal(assignment, name) for name in names)
    source = f"{head}\n### BEGIN SOLUTION\n{answers}\n### END SOLUTION\n"
    return _cell("code", source, cell_id or "answer_" + "_".join(names), solution=True)


def _preview_cell(names: tuple[str, ...]):
    """The cell that previews every answer (how it was read, never whether it is right)."""
    listed = textwrap.wrap(", ".join(f'"{name}"' for name in names), width=PREVIEW_WIDTH,
                           initial_indent="for _name in [", subsequent_indent=" " * len("for _name in ["),
                           break_long_words=False, break_on_hyphens=False)
    source = "\n".join(listed) + ("]:\n    if _name in globals():\n        preview(globals()[_name], _name)\n"
                                  "    else:\n        print(f\"{_name}: not answered yet\")")
    return _cell("code", source, "preview")


def _quiz_setup_cell(assignment: Assignment):
    """A quiz's setup cell: its answer reader (its notation, no keys), collapsed in JupyterLab."""
    from grader.quiz.student_cell import cell_source

    cell = _cell("code", cell_source(_quiz_of(assignment)), "setup")
    cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def _setup_source(reference) -> str:
    tree = ast.parse(inspect.getsource(reference))
    return "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))


def _solution_cell(assignment: Assignment, reference, name: str):
    """The solution cell of function ``name``: its source in the reference (markers included)."""
    function = getattr(reference, name, None)
    if not callable(function):
        raise DefinitionError(f"{assignment.reference_path} defines no function {name}, which the functions of "
                              f"assignment {assignment.name!r} in course.toml list; define it or fix the list")
    return _cell("code", inspect.getsource(function).strip("\n"), name, solution=True)


def _tokens(prose: str) -> list[tuple]:
    """The prose as ("text", line), ("code", source) (a fenced python block) and
    ("marker", kind, id, argument, line number) items; a block after ``<!-- listing -->`` stays text."""
    tokens: list[tuple] = []
    code, listing = None, ""
    for number, line in enumerate(prose.splitlines(keepends=True), 1):
        marker = MARKER.match(line)
        if code is not None:  # inside a fenced block
            if line.strip() == "```":
                tokens.append(("code", "".join(code)))
                code = None
            else:
                code.append(line)
        elif listing == "armed" and line.strip() == FENCE or listing == "inside":
            tokens.append(("text", line))
            listing = "inside" if listing == "armed" or line.strip() != "```" else ""
        elif marker and marker.group(1) == "listing":
            listing = "armed"
        elif marker:
            tokens.append(("marker", *marker.groups(), number))
        elif line.strip() == FENCE:
            code = []
        else:
            tokens.append(("text", line))
    return tokens


def _body_after(tokens: list[tuple], i: int) -> tuple[str | None, int]:
    """The fenced block right after a marker (blank lines between allowed), and where to go on."""
    j = i
    while j < len(tokens) and tokens[j][0] == "text" and not tokens[j][1].strip():
        j += 1
    if j < len(tokens) and tokens[j][0] == "code":
        return tokens[j][1], j + 1
    return None, i


def _listed(argument: str | None) -> list[str]:
    """The names a marker's argument lists (separated by spaces or commas)."""
    return (argument or "").replace(",", " ").split()


def _placed_again(kind: str, argument: str | None, cells: list, placed: set, bodies: dict) -> set:
    """What a marker would place a second time (a second cell with the same grade id would make
    nbgrader refuse the notebook)."""
    if kind in ("setup", "preview"):
        return {kind} if (kind,) in cells else set()
    if kind == "autograder":
        return {argument} & set(bodies)
    if kind in ("solution", "answer"):
        return set(_listed(argument) if kind == "answer" else [argument]) & placed
    return set()


def build_notebook(assignment: Assignment):
    """The source notebook of an assignment with ``prose`` (a code assignment, or a quiz with
    declared questions: ``<!-- answer: NAME -->`` places an answer cell)."""
    quiz = assignment.kind == "quiz"
    reference = None if quiz else assignment.reference()
    names = _quiz_of(assignment).names if quiz else ()
    by_cell = _by_cell(assignment)
    where = assignment.notebook_prose.name
    tokens = _tokens(assignment.notebook_prose.read_text(encoding="utf-8"))
    cells: list = []  # cells, and ("setup",), ("preview",), ("autograder", NAME or None) placeholders
    text: list[str] = []
    markdown_id, bodies, placed = None, {}, set()

    def flush_markdown() -> None:
        nonlocal markdown_id
        if "".join(text).strip():
            cells.append(_cell("markdown", "".join(text).strip("\n"), markdown_id or f"md_{len(cells) + 1}"))
        text.clear()
        markdown_id = None

    i = 0
    while i < len(tokens):
        token, i = tokens[i], i + 1
        if token[0] == "text":
            text.append(token[1])
            continue
        flush_markdown()
        if token[0] == "code":
            cells.append(_cell("code", token[1].strip("\n"), f"sanity_{len(cells) + 1}"))
            continue
        _, kind, ident, argument, number = token
        at = f"{where} line {number}"
        body, i = _body_after(tokens, i) if kind in TAKES_BODY else (None, i)
        again = _placed_again(kind, argument, cells, placed, bodies)
        if again:  # a second cell with the same grade id would make nbgrader refuse the notebook
            raise DefinitionError(f"{at}: <!-- {kind}{': ' + argument if argument else ''} --> places "
                                  f"{', '.join(sorted(map(str, again)))} a second time; place each once")
        if kind == "markdown":
            markdown_id = argument or None
        elif kind == "solution":
            if quiz or argument not in assignment.functions:
                raise DefinitionError(f"{at}: <!-- solution: {argument} --> names none of the functions of assignment "
                                      f"{assignment.name!r} ({', '.join(assignment.functions)})")
            cells.append(_solution_cell(assignment, reference, argument))
            placed.add(argument)
        elif kind == "answer":
            answered = _listed(argument)
            if not quiz or not answered or set(answered) - set(names):
                raise DefinitionError(f"{at}: <!-- answer: {argument} --> names no answer of the quiz ({', '.join(names)})")
            cells.append(_answer_cell(assignment, answered, ident, body))
            placed.update(answered)
        elif kind == "autograder":
            if argument and argument not in by_cell:
                raise DefinitionError(f"{at}: <!-- autograder: {argument} --> names no autograder cell "
                                      f"(the cells: {', '.join(by_cell)})")
            bodies[argument] = body
            cells.append(("autograder", argument or None))
        else:  # setup, preview
            cells.append((kind,))
    flush_markdown()
    for k, name in enumerate(n for n in assignment.functions if n not in placed):  # after the first cell
        cells.insert(1 + k, _solution_cell(assignment, reference, name))
    if quiz:
        answers = [i for i, c in enumerate(cells) if not isinstance(c, tuple) and (grade_id(c) or "").startswith("answer")]
        at = answers[-1] + 1 if answers else len(cells)
        for k, name in enumerate(n for n in names if n not in placed):  # answers the prose does not place
            cells.insert(at + k, _answer_cell(assignment, [name], None, None))
        if ("preview",) not in cells:
            cells.insert(at + len([n for n in names if n not in placed]), ("preview",))
    if ("setup",) not in cells:
        cells.insert(next((i for i, c in enumerate(cells) if isinstance(c, tuple) or c.cell_type == "code"), len(cells)),
                     ("setup",))
    if ("autograder", None) not in cells:
        cells.append(("autograder", None))
    nb = nbformat.v4.new_notebook(cells=[out for c in cells for out in _resolve(c, assignment, by_cell, bodies, names)])
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def _resolve(item, assignment: Assignment, by_cell: dict, bodies: dict, names: tuple[str, ...]) -> list:
    """The cells a placeholder of :func:`build_notebook` stands for (a cell stands for itself)."""
    if not isinstance(item, tuple):
        return [item]
    if item == ("setup",):
        if assignment.kind == "quiz":
            return [_quiz_setup_cell(assignment)]
        return [_cell("code", _setup_source(assignment.reference()), "setup")]
    if item == ("preview",):
        return [_preview_cell(names)] if assignment.kind == "quiz" else []
    public = _quiz_public_checks(assignment)
    if item[1] is not None:
        return [_autograder_cell(item[1], by_cell[item[1]], bodies[item[1]] or public.get(item[1]))]
    return [_autograder_cell(name, items, public.get(name)) for name, items in by_cell.items() if name not in bodies]


def _quiz_public_checks(assignment: Assignment) -> dict[str, str]:
    """A quiz's autograder cell -> its generated public check: ``check_answered`` (defined by the
    setup cell) on the cell's answers."""
    if assignment.kind != "quiz":
        return {}
    answers: dict[str, list[str]] = {}
    for q in _quiz_of(assignment).questions.values():
        answers.setdefault(q.cell, []).append(f'"{q.name}"')
    return {cell: QUIZ_PUBLIC_CHECK + f"\ncheck_answered({', '.join(names)})" for cell, names in answers.items()}


def _quiz_of(assignment: Assignment):
    from grader.quiz import quiz_of  # the quiz engine loads only for quiz notebooks

    return quiz_of(assignment)


_lock = threading.Lock()
_built: dict[str, tuple] = {}  # notebook -> (mtimes of its inputs when last found up to date, where it is)


def ensure_notebook(assignment: Assignment) -> Path:
    """Write the generated notebook of ``assignment`` if it has prose and the file is missing or
    out of date; return the notebook's path either way."""
    path = assignment.notebook
    if assignment.notebook_prose is None:
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
            except (OSError, outputs.OutputError):  # a read-only definition: the notebook goes to a temporary folder
                folder = hashlib.sha256(str(path).encode()).hexdigest()[:12]
                path = Path(tempfile.gettempdir()) / "grader-notebooks" / folder / path.name
                _write(path, text)
        _built[key] = (tuple(_mtime(p) for p in (assignment.notebook_prose, assignment.notebook, *assignment.files())), path)
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    outputs.write_text(path, text)  # readers see the old or the new notebook, never half of one


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0

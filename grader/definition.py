"""Course definitions: a folder with a ``course.toml`` listing its assignments.

The format is documented in docs/authoring.md ("The course definition"). Every path in
``course.toml`` is relative to the definition's folder; reference solutions, checks and mutant
modules are loaded from those files with importlib (never looked up by a name on ``sys.path``),
so a definition can live anywhere. The built-in unit is the definition in ``assignments/``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.paths import ASSIGNMENTS_DIR, REPO_ROOT

FILE_NAME = "course.toml"
KINDS = ("code", "quiz")


class DefinitionError(ValueError):
    """A course definition that cannot be used; ``str(exc)`` is one sentence saying what to fix."""


@dataclass(frozen=True)
class Assignment:
    """One assignment of a course definition.

    ``name`` is the nbgrader assignment id, the folder name and the ``--assignment`` value;
    ``kind`` is ``"code"`` (functions judged by a battery of checks) or ``"quiz"`` (answers).
    The ``*_path`` fields are absolute paths (empty when the entry is absent); ``*_module`` are
    the dotted names of modules that are also importable as a package of this repository.
    """

    name: str
    title: str
    kind: str
    functions: tuple[str, ...] = ()
    checks_module: str = ""
    reference_module: str = ""
    mutants_module: str = ""
    root: Path = ASSIGNMENTS_DIR
    notebook_path: Path | None = None
    reference_path: Path | None = None
    checks_path: Path | None = None
    mutants_path: Path | None = None
    questions_path: Path | None = None
    notebook_prose: Path | None = field(default=None, compare=False)

    @property
    def notebook(self) -> Path:
        """The nbgrader source notebook (it may not exist yet for a generated one)."""
        return self.notebook_path or self.root / self.name / f"{self.name}.ipynb"

    def battery(self):
        """The :class:`grader.checks.base.Battery` of a code assignment (its module's ``BATTERY``)."""
        return _attribute(self, self.checks_path, "BATTERY", "checks")

    def reference(self) -> ModuleType:
        """The reference solution's module."""
        if self.reference_path is None:
            raise DefinitionError(f"assignment {self.name!r} has no reference solution in its course.toml")
        return load_module(self.reference_path)

    def mutants(self) -> Any:
        """An object with ``MUTANTS`` and ``ALTERNATIVES`` (lists of :class:`grader.mutants.Mutant`)
        and ``problems`` (one-line errors of a mutant table): a ``.py`` module or a parsed table."""
        from grader.mutants import Catalogue, read_table

        if self.mutants_path is None:
            return Catalogue([], [], [])
        if self.mutants_path.suffix == ".py":
            module = load_module(self.mutants_path)
            return Catalogue(list(module.MUTANTS), list(module.ALTERNATIVES), [])
        return read_table(self.mutants_path)

    def files(self) -> list[Path]:
        """The files whose content decides scores (for the grading-code digest)."""
        files = [p for p in (self.reference_path, self.checks_path, self.mutants_path, self.questions_path) if p]
        if self.kind == "quiz" and self.questions_path is not None:  # the keys' derivations and references too
            from grader.quiz.questions import quiz_of

            try:
                quiz = quiz_of(self)
            except DefinitionError:  # reported where the quiz is used
                return files
            files += [path for path, _ in quiz.derivations] + list(quiz.references.values())
        return list(dict.fromkeys(files))


def _attribute(assignment: Assignment, path: Path | None, name: str, what: str) -> Any:
    if path is None:
        raise DefinitionError(f"assignment {assignment.name!r} has no {what} in its course.toml")
    module = load_module(path)
    try:
        return getattr(module, name)
    except AttributeError:
        raise DefinitionError(f"{path} defines no {name}; the {what} of assignment {assignment.name!r} must define it") from None


@dataclass(frozen=True)
class Definition:
    """A loaded course definition: its folder, title and assignments in declaration order."""

    root: Path
    title: str
    assignments: dict[str, Assignment]

    @functools.cached_property
    def digest(self) -> str:
        """A digest of every file that decides scores, so a changed definition regrades (read
        once per process, like the package's own digest)."""
        h = hashlib.sha256(str(self.root).encode())
        for a in self.assignments.values():
            for path in a.files():
                try:
                    h.update(path.read_bytes())
                except OSError:
                    continue
        return h.hexdigest()[:12]


def _package_name(path: Path) -> str:
    """The dotted name of ``path`` if it is a module of a package of this repository (so the
    built-in unit's modules are not loaded twice under two names), else ``""``."""
    try:
        relative = path.relative_to(REPO_ROOT)
    except ValueError:
        return ""
    parts = relative.with_suffix("").parts
    folder = REPO_ROOT
    for part in parts[:-1]:
        folder = folder / part
        if not (folder / "__init__.py").is_file():
            return ""
    return ".".join(parts) if len(parts) > 1 else ""


@functools.lru_cache(maxsize=None)
def load_module(path: Path) -> ModuleType:
    """Import the Python file at ``path`` (once per process) under a name derived from its path."""
    path = Path(path).resolve()
    dotted = _package_name(path)
    if dotted:
        return importlib.import_module(dotted)
    if not path.is_file():
        raise DefinitionError(f"{path} does not exist; fix the path in the course.toml that names it")
    name = f"_definition_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # inspect.getsource and dataclasses look modules up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise DefinitionError(f"{path} cannot be loaded: {type(exc).__name__}: {exc}") from None
    return module


def _path(root: Path, entry: dict, key: str, where: str, required: bool) -> Path | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise DefinitionError(f"{where} has no {key!r}; add {key} = \"path/relative/to/the/definition\"")
        return None
    if not isinstance(value, str) or not value:
        raise DefinitionError(f"{where}: {key} must be a path (a string), not {value!r}")
    path = (root / value).resolve()
    if not path.exists():
        raise DefinitionError(f"{where}: {key} = {value!r} does not exist under {root}")
    return path


def _assignment(root: Path, entry: Any, index: int) -> Assignment:
    where = f"{root / FILE_NAME}, assignment {index + 1}"
    if not isinstance(entry, dict):
        raise DefinitionError(f"{where} is not a table; write each one as [[assignment]] with name = ...")
    name = entry.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise DefinitionError(f"{where} needs a name that is a Python identifier (it names folders and files), not {name!r}")
    where = f"{root / FILE_NAME}, assignment {name!r}"
    kind = entry.get("kind", "code")
    if kind not in KINDS:
        raise DefinitionError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    functions = entry.get("functions", [])
    if not isinstance(functions, list) or not all(isinstance(f, str) and f.isidentifier() for f in functions):
        raise DefinitionError(f"{where}: functions must be a list of function names")
    if kind == "code" and not functions:
        raise DefinitionError(f"{where}: a code assignment needs functions = [\"...\"], the functions students write")
    known = ("name", "title", "kind", "functions", "notebook", "reference", "checks", "mutants", "questions", "prose")
    unknown = set(entry) - set(known)
    if unknown:  # before the paths: a misspelt key is named as such, not as a missing one
        raise DefinitionError(f"{where} has unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(known)})")
    code = kind == "code"
    required = ("reference", "checks") if code else ("questions",)  # a quiz is its questions
    paths = {key: _path(root, entry, key, where, required=key in required)
             for key in ("notebook", "reference", "checks", "mutants", "questions", "prose")}
    modules = {key: _package_name(p) if p is not None else "" for key, p in paths.items()}
    return Assignment(
        name=name, title=str(entry.get("title", name)), kind=kind, functions=tuple(functions),
        checks_module=modules["checks"], reference_module=modules["reference"], mutants_module=modules["mutants"],
        root=root, notebook_path=paths["notebook"] or root / name / f"{name}.ipynb",
        reference_path=paths["reference"], checks_path=paths["checks"], mutants_path=paths["mutants"],
        questions_path=paths["questions"], notebook_prose=paths["prose"],
    )


def load(folder: str | Path) -> Definition:
    """Read and validate the definition in ``folder``; raises :class:`DefinitionError`."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise DefinitionError(f"course definition {folder} is not a folder")
    toml = root / FILE_NAME
    try:
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DefinitionError(f"{folder} holds no {FILE_NAME}; a course definition is a folder with one at its root") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot read {toml}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{toml} is not valid TOML: {exc}") from None
    entries = data.get("assignment", [])
    if not isinstance(entries, list) or not entries:
        raise DefinitionError(f"{toml} declares no assignment; add an [[assignment]] table per assignment")
    assignments: dict[str, Assignment] = {}
    for index, entry in enumerate(entries):
        a = _assignment(root, entry, index)
        if a.name in assignments:
            raise DefinitionError(f"{toml} declares assignment {a.name!r} twice")
        assignments[a.name] = a
    title = data.get("course", {}).get("title", root.name) if isinstance(data.get("course"), dict) else root.name
    return Definition(root, str(title), assignments)


@functools.lru_cache(maxsize=1)
def builtin() -> Definition:
    """The built-in deep-learning unit (``assignments/course.toml``)."""
    return load(ASSIGNMENTS_DIR)

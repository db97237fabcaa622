"""The instructor's ``nbgrader_config.py``: bringing an existing one into the two-file layout
without losing a setting, and checking what nbgrader will actually load from it.

The grader's own settings live in the generated ``grader_nbgrader_config.py``, which
``grader release`` rewrites; the instructor's ``nbgrader_config.py`` loads it with
``load_subconfig`` before the instructor's own settings (course id, exchange root, late
penalties...), which ``grader release`` never touches. An older grader wrote everything into
``nbgrader_config.py``; :func:`migrate` moves its generated statements out and keeps the rest.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

from grader.nbgrader_bridge.course import (
    CONFIG_NAME,
    CONFIG_TEMPLATE,
    GENERATED_NAME,
    GENERATED_SETTINGS,
    LOAD_LINE,
    config_text,
    instructor_config_text,
)
from grader.outputs import write_bytes, write_text

#: Comment lines older graders wrote into their one-file ``nbgrader_config.py``.
_OLD_COMMENTS = {
    "# nbgrader configuration written by `grader release`. Run every nbgrader command from this folder.",
    "# Feedback: nbgrader's default, without the hidden-test region in the students' pages.",
} | {line for line in CONFIG_TEMPLATE.splitlines() if line.startswith("#")}
_KNOWN_NAMES = {name for names in GENERATED_SETTINGS.values() for name in names}
_ADDED = "# Added by `grader release`: the grader's own nbgrader settings; yours below win.\n"
_KEPT = "\n# Kept from your previous nbgrader_config.py (saved as {backup}):\n"


class ConfigUnreadable(ValueError):
    """A config file that Python (and so nbgrader) cannot load."""


def load(path: Path) -> Any:
    """The configuration nbgrader gets from the config file ``path``, loaded by the same
    traitlets loader nbgrader uses (``load_subconfig`` included). Raises :class:`ConfigUnreadable`."""
    from traitlets.config.loader import PyFileConfigLoader

    try:
        return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    except Exception as exc:  # the instructor's Python: any error it raises means nbgrader fails too
        raise ConfigUnreadable(f"{path} cannot be loaded ({type(exc).__name__}: {exc})") from None


def _settings(config: Any) -> dict[tuple[str, str], Any]:
    return {(section, key): value for section, values in config.items() if hasattr(values, "items")
            for key, value in values.items()}


def loads_generated(text: str) -> bool:
    """True if a config's text loads the generated file."""
    return GENERATED_NAME in text


def is_one_file_layout(text: str) -> bool:
    """True for an older grader's ``nbgrader_config.py``, which holds the grader's settings itself."""
    return "grader.nbgrader_bridge" in text and not loads_generated(text)


def _generated_statement(node: ast.stmt) -> bool:
    """An older grader's own statement: ``c = get_config()`` or one of the generated settings
    with a value made only of the grader's own entries (an instructor's edited list is kept)."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return False
    target = node.targets[0]
    if isinstance(target, ast.Name) and target.id == "c":
        return isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "get_config"
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute)
            and getattr(target.value.value, "id", "") == "c"):
        return False
    if (target.value.attr, target.attr) not in GENERATED_SETTINGS:
        return False
    try:
        value = ast.literal_eval(node.value)
    except ValueError:
        return False
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) and v in _KNOWN_NAMES for v in value)


def _kept_lines(text: str) -> str:
    """``text`` without an older grader's statements and comments, blank runs collapsed."""
    lines = text.splitlines()
    drop: set[int] = set()
    for node in ast.parse(text).body:
        if _generated_statement(node):
            drop |= set(range(node.lineno - 1, node.end_lineno or node.lineno))
    kept: list[str] = []
    for index, line in enumerate(lines):
        if index in drop or line.strip() in _OLD_COMMENTS:
            continue
        if line.strip() or (kept and kept[-1].strip()):
            kept.append(line)
    return "\n".join(kept).strip("\n")


def _backup(path: Path) -> Path:
    backup, n = path.with_name(path.name + ".bak"), 1
    while backup.exists():
        backup, n = path.with_name(f"{path.name}.bak{n}"), n + 1
    return backup


def migrate(path: Path) -> str | None:
    """Make the existing ``nbgrader_config.py`` at ``path`` load the generated file, keeping
    every setting of the instructor's; returns what was done (also said on stderr), or ``None``.

    An older grader's one-file config loses only the grader's own statements (now in the
    generated file); any other config gets the loading line on top. The old file is kept as
    ``nbgrader_config.py.bak``, and the new one is loaded and compared with it setting by
    setting: if anything of the instructor's would change, the old file is put back and a
    warning says so. The generated file must already be written next to it.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    if loads_generated(text):
        return None
    try:
        before = _settings(load(path))
        if is_one_file_layout(text):
            kept = _kept_lines(text)
        else:
            kept = None
    except (ConfigUnreadable, SyntaxError) as exc:
        note = (f"warning: {path} was left as it is: {exc}; fix it, then run grader release again "
                "(nbgrader will not use the grader's settings until it loads " + GENERATED_NAME + ")")
        print(f"grader: {note}", file=sys.stderr)
        return note
    backup = _backup(path)
    write_bytes(backup, path.read_bytes())
    if kept is None:
        new = _ADDED + LOAD_LINE + "\n\n" + text
        done = f"{path} now loads {GENERATED_NAME} (the grader's settings) first; the rest is unchanged"
    else:
        new = instructor_config_text() + (_KEPT.format(backup=backup.name) + kept + "\n" if kept else "")
        done = (f"{path} was an older grader's config: the grader's settings moved to {GENERATED_NAME}, "
                f"which it now loads, and every setting of yours was kept")
    write_text(path, new)
    try:
        after = _settings(load(path))
        lost = sorted(f"c.{s}.{k}" for (s, k), v in before.items() if (s, k) not in GENERATED_SETTINGS and after.get((s, k)) != v)
    except ConfigUnreadable:  # e.g. a `from __future__` line that must stay first
        lost = ["what it loads (the new file could not be loaded)"]
    if lost:  # never silently change an instructor's setting: put the old file back
        write_bytes(path, backup.read_bytes())
        done = (f"warning: {path} was left as it is: moving the grader's settings out would change "
                f"{', '.join(lost)}; add the line {LOAD_LINE!r} at its top yourself")
    else:
        done += f" (the old file is saved as {backup.name})"
    print(f"grader: {done}", file=sys.stderr)
    return done


def config_status(course: Path) -> tuple[str | None, list[str]]:
    """(problem, warnings) about a released course's nbgrader configuration.

    The problem (a sentence) says the folder is not a course this grader released; the
    warnings say what ``grader release`` would repair: the generated file missing or written by
    another grader version, the instructor's file not loading it or overriding its settings, or
    an older grader's one-file config. Settings of the instructor's own are never warned about.
    """
    mine, generated = course / CONFIG_NAME, course / GENERATED_NAME
    text = mine.read_text(encoding="utf-8", errors="replace")
    again = f"`grader release --course {course}` "
    if is_one_file_layout(text):
        return None, [f"{mine} is an older grader's one-file config; {again}moves the grader's settings "
                      f"to {GENERATED_NAME} and keeps every setting of yours"]
    if not generated.is_file():
        if not loads_generated(text):
            return (f"{mine} was not written by grader release (another course?); release this course into "
                    "a new folder with: grader release --course NEW_FOLDER"), []
        return None, [f"{generated} is missing, so nbgrader runs without the grader's settings; {again}writes it"]
    if generated.read_text(encoding="utf-8", errors="replace") != config_text():
        return None, [f"{generated} was written by another version of the grader; {again}rewrites it "
                      f"(your {CONFIG_NAME} is kept as it is)"]
    try:
        loaded = _settings(load(mine))
    except ConfigUnreadable as exc:
        return None, [f"{exc}: every nbgrader command will fail until it is fixed"]
    differ = [f"c.{s}.{k}" for (s, k), names in GENERATED_SETTINGS.items() if list(loaded.get((s, k), ())) != list(names)]
    if differ:
        how = "sets them itself" if loads_generated(text) else f"does not load {GENERATED_NAME}"
        return None, [f"nbgrader will not use the grader's {', '.join(differ)}: {mine} {how}"
                      + ("" if loads_generated(text) else f"; add the line {LOAD_LINE.split('  #')[0]} at its top")]
    return None, []

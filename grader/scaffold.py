"""``grader new NAME --definition DIR``: a new code assignment that already passes check-solutions.

The stub is a tiny layer (``out = x * scale``) with a reference, checks from the layer-check
library, a mutant table and notebook prose, so the instructor starts from something that works
and changes it piece by piece (docs/authoring.md walks through that for max pooling).
"""

from __future__ import annotations

import keyword
import tomllib
from pathlib import Path

from grader.definition import FILE_NAME, DefinitionError

COURSE = '''# A course definition (docs/authoring.md). Paths are relative to this folder.
[course]
title = "{title}"
'''

ENTRY = '''
[[assignment]]
name = "{name}"
title = "{title}"
kind = "code"
functions = ["{name}_forward", "{name}_backward"]
reference = "{name}/solution.py"
checks = "{name}/checks.py"
mutants = "{name}/mutants.txt"
prose = "{name}/{name}.md"
'''

SOLUTION = '''"""Reference solution of {name} (a stub that scales x; replace it with your layer)."""

import numpy as np


def {name}_forward(x, param):
    """Forward pass.

    Inputs:
    - x: input of shape (N, D).
    - param: dict with "scale" (a number).

    Returns (out, cache): out of shape (N, D).
    """
    scale = param["scale"]
    ### BEGIN SOLUTION
    out = x * scale
    ### END SOLUTION
    return out, (x, param)


def {name}_backward(dout, cache):
    """Backward pass: dout of shape (N, D) and the cache of {name}_forward; returns dx."""
    x, param = cache
    scale = param["scale"]
    ### BEGIN SOLUTION
    dx = dout * scale
    ### END SOLUTION
    return dx
'''

CHECKS = '''"""Hidden checks of {name}, composed from grader.layercheck (docs/authoring.md)."""

from grader.layercheck import (Layer, battery, gradient_shapes, known_answers, leaves_inputs_unchanged,
                               numeric_gradient, output_shape)

LAYER = Layer(
    forward="{name}_forward", backward="{name}_backward", dims=("N", "D", "scale"), inputs={{"x": "N D"}},
    param=("param", ("scale",)), out_shape={{"N": "N", "D": "D"}}, reference=lambda x, p: x * p["scale"],
    describe="scale {{scale}}",
)
CASES = LAYER.cases((2, 3, 2.0), (1, 5, -0.5))

BATTERY = battery(
    output_shape(LAYER, "output_shape_matches_input", "output has the shape of x", 1, "test_forward", CASES),
    known_answers(LAYER, "output_is_scaled_input", "output is x times scale", 1, "test_forward", CASES,
                  wrong="out must be x * scale."),
    leaves_inputs_unchanged(LAYER, "forward_leaves_inputs_unchanged", "{name}_forward leaves x unchanged", 1,
                            "test_forward", CASES[0]),
    gradient_shapes(LAYER, "dx_shaped_like_x", "dx has the shape of x", 1, "test_backward", CASES),
    numeric_gradient(LAYER, "dx_matches_numeric_gradient", "dx matches the numeric gradient", 1, "test_backward",
                     CASES, hint="dx is dout times scale."),
)
'''

MUTANTS = '''# name | old -> new [;; old -> new] | check it must fail ("correct": must score full marks)
flattened_output | out = x * scale -> out = (x * scale).ravel() | output_shape_matches_input
adds_scale | out = x * scale -> out = x + scale | output_is_scaled_input
scales_in_place | out = x * scale -> x *= scale\\n    out = x | forward_leaves_inputs_unchanged
dx_summed_over_rows | dx = dout * scale -> dx = (dout * scale).sum(axis=0) | dx_shaped_like_x
dx_unscaled | dx = dout * scale -> dx = dout.copy() | dx_matches_numeric_gradient
'''

PROSE = '''# {title}

Describe the layer here. Students implement `{name}_forward(x, param)`, returning `(out, cache)`,
and `{name}_backward(dout, cache)`, returning `dx`.

<!-- solution: {name}_forward -->

<!-- solution: {name}_backward -->

## Autograder cells

<!-- autograder -->
'''


def _check_folder(definition: Path) -> None:
    """Refuse a definition path that is a file, a link, or whose parent folder is missing (the rule
    of every output: only the last part of a path is created)."""
    if definition.is_symlink():
        raise DefinitionError(f"{definition} is a symbolic link; give the course definition folder itself")
    if definition.exists() and not definition.is_dir():
        raise DefinitionError(f"{definition} is a file, not a folder; give a course definition folder")
    if not definition.exists() and not definition.parent.is_dir():
        raise DefinitionError(f"cannot create {definition}: the folder {definition.parent} does not exist (create it first)")
    if (definition / FILE_NAME).exists() and not (definition / FILE_NAME).is_file():
        raise DefinitionError(f"{definition / FILE_NAME} is not a regular file; give a course definition folder")


def new_assignment(definition: Path, name: str, title: str = "") -> list[Path]:
    """Add assignment ``name`` to the definition in ``definition`` (created if it does not
    exist); return the files written. Raises :class:`DefinitionError` for a clash."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise DefinitionError(f"the assignment name {name!r} must be a Python identifier and not a keyword "
                              "(it names functions and files)")
    _check_folder(definition)
    title = title or name.replace("_", " ").capitalize()
    toml = definition / FILE_NAME
    if toml.is_file():
        try:
            declared = [a.get("name") for a in tomllib.loads(toml.read_text(encoding="utf-8")).get("assignment", [])]
        except (tomllib.TOMLDecodeError, OSError, AttributeError):
            raise DefinitionError(f"{toml} cannot be read as a course definition; fix it before adding assignments") from None
        if name in declared:
            raise DefinitionError(f"{toml} already declares an assignment {name!r}; choose another name")
    folder = definition / name
    if folder.exists():
        raise DefinitionError(f"{folder} already exists; choose another name or remove it")
    folder.mkdir(parents=True)  # the definition folder's parent exists (checked above)
    written = []
    for file_name, template in (("solution.py", SOLUTION), ("checks.py", CHECKS), ("mutants.txt", MUTANTS),
                                (f"{name}.md", PROSE)):
        path = folder / file_name
        path.write_text(template.format(name=name, title=title), encoding="utf-8")
        written.append(path)
    if not toml.is_file():
        toml.write_text(COURSE.format(title=definition.resolve().name), encoding="utf-8")
    with toml.open("a", encoding="utf-8") as out:
        out.write(ENTRY.format(name=name, title=title))
    return [toml, *written]

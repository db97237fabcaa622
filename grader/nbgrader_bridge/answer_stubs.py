"""Releasing quiz cells: unanswered answers are empty strings, not ``raise NotImplementedError()``.

nbgrader's ``ClearSolutions`` replaces every solution region with a stub that raises, so *Run
All* in a released quiz stops at the first unanswered cell and never reaches the preview. A
region that only assigns strings to names (a quiz answer cell) gets those names assigned empty
strings instead; every other region gets nbgrader's stub, as before.
"""

from __future__ import annotations

import ast
import re
import textwrap

from nbgrader.preprocessors import ClearSolutions

ANSWER_COMMENT = "# YOUR ANSWER HERE: write each answer between the quotes (plain text or LaTeX)"
#: The stub of a quiz region as it appears in a released notebook (for tools that fill it in).
ANSWER_STUB_PATTERN = re.escape(ANSWER_COMMENT) + r'(?:\n[ \t]*[A-Za-z_]\w* = r"")*'


def answer_names(code: str) -> list[str] | None:
    """The names a region assigns, if it does nothing but assign string literals to names."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(target, ast.Name)
                and isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return None
        if target.id not in names:
            names.append(target.id)
    return names or None


class ClearSolutionsKeepAnswerNames(ClearSolutions):
    """``ClearSolutions``, with ``name = r""`` stubs for regions that only assign strings."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type != "code" or self.begin_solution_delimeter not in cell.source:
            return super()._replace_solution_region(cell, language)
        lines, out, region, indent = cell.source.split("\n"), [], None, ""
        for line in lines:
            if self.begin_solution_delimeter in line and region is None:
                region, indent = [], re.match(r"\s*", line).group(0)
            elif self.end_solution_delimeter in line and region is not None:
                names = answer_names("\n".join(region))
                if names is None:  # not a quiz region: nbgrader's own stub for the whole cell
                    return super()._replace_solution_region(cell, language)
                out += [indent + ANSWER_COMMENT] + [f'{indent}{name} = r""' for name in names]
                region = None
            elif region is not None:
                region.append(line)
            else:
                out.append(line)
        if region is not None:  # no END SOLUTION: let nbgrader report it
            return super()._replace_solution_region(cell, language)
        cell.source = "\n".join(out)
        return True

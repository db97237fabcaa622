"""Plain-text tables for the terminal."""

from __future__ import annotations

from typing import Mapping, Sequence

from grader.results import SubmissionResult

STATUS_MARK = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


def format_result(result: SubmissionResult, verbose: bool = False) -> str:
    """One submission: its score line, and with ``verbose`` every check that lost points."""
    head = f"{result.submission}: {result.score:g} / {result.max_score:g}"
    if result.status == "error":
        return f"{head}  (not graded: {result.message})"
    lines = [head]
    if verbose:
        for t in result.tests:
            if t.status != "passed":
                lines.append(f"    [{STATUS_MARK.get(t.status, t.status)}] {t.name}: {t.output}")
        lines += [f"    note: {n}" for n in result.notes]
    return "\n".join(lines)


MISSING = "missing"


def score_grid(
    scores: Mapping[tuple[str, str], tuple[float, float]], assignments: Sequence[str], students: Sequence[str]
) -> str:
    """Students down, assignments across, ``score / max`` in each cell and a total.

    ``scores`` maps (student, assignment) to (score, max_score). An assignment a student did not
    hand in shows ``missing`` and counts as 0 of its points in the total, so every total is out
    of the same maximum.
    """
    top_of = {a: max((m for (_, b), (_, m) in scores.items() if b == a), default=0.0) for a in assignments}
    width = max([len(s) for s in students] + [7])
    header = f"{'student':<{width}}" + "".join(f"  {a:>12}" for a in assignments) + f"  {'total':>12}"
    lines = [header, "-" * len(header)]
    for student in students:
        row, got = f"{student:<{width}}", 0.0
        for a in assignments:
            cell = scores.get((student, a))
            row += f"  {MISSING:>12}" if cell is None else f"  {f'{cell[0]:g} / {cell[1]:g}':>12}"
            got += 0.0 if cell is None else cell[0]
        lines.append(row + f"  {f'{got:g} / {sum(top_of.values()):g}':>12}")
    return "\n".join(lines)

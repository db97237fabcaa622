"""The feedback step's clean-up of what autograde wrote for nbgrader's own use."""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

from grader.nbgrader_bridge.preprocessor import autograder_cells


class DropScoreOutputs(NbGraderPreprocessor):
    """nbgrader preprocessor (feedback only): remove each autograder cell's ``execute_result``.

    Autograde gives every autograder cell an ``execute_result`` holding its score, which is how
    nbgrader's ``SaveAutoGrades`` reads partial credit; on a feedback page it would only show as
    a bare ``Out[ ]: 2`` under the check table, which already states the cell's points. The
    gradebook holds the scores (``GetGrades`` reads them from there), so nothing is lost.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        for cell in autograder_cells(nb):
            cell.outputs = [out for out in cell.get("outputs", []) if out.get("output_type") != "execute_result"]
        return nb, resources

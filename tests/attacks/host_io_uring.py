# Set up an io_uring: asynchronous I/O the kernel performs outside the usual system-call
# checks (a long history of privilege escalations).
import ctypes
import errno
import os

SYS_IO_URING_SETUP = 425  # same on x86_64 and arm64


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(SYS_IO_URING_SETUP, 4, params)
    if fd < 0:
        return "refused: " + errno.errorcode[ctypes.get_errno()]
    os.close(fd)
    return "done: an io_uring"


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

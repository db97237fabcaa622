# Watch a host folder the worker may not even list (e.g. /tmp, where the other workers' folders
# are, or the folder of submissions): inotify reports the name of every file created or opened
# there, whoever does it. Landlock does not cover inotify; only the seccomp filter stops it.
import ctypes
import errno
import os

IN_OPEN, IN_CREATE = 0x20, 0x100


def attack(folder):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        return "refused: " + errno.errorcode[ctypes.get_errno()]
    try:
        if libc.inotify_add_watch(fd, folder.encode(), IN_OPEN | IN_CREATE) < 0:
            return "refused: " + errno.errorcode[ctypes.get_errno()]
        return "done: watching " + folder
    finally:
        os.close(fd)


def dropout_forward(x, dropout_param):
    attack("/tmp")
    raise NotImplementedError

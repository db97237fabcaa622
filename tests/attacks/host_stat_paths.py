# Look at the host's files without opening them: stat(), access() and readlink() need no right
# Landlock controls, so a worker could learn which files exist anywhere it may traverse, their
# sizes and times (other students' submissions, when they were handed in, the course's files).
import errno
import os


def attack(path="/etc/passwd"):
    try:
        info = os.stat(path)
    except OSError as exc:
        return "refused: " + errno.errorcode[exc.errno]
    return f"done: {path} holds {info.st_size} bytes"


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

# Leave a daemon behind (double fork + setsid), then answer honestly.
import os
import sys
import time


def dropout_forward(x, dropout_param):
    marker = dropout_param.get("marker", "grader-attack-daemon")
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            python = os.path.join(sys.base_prefix, "bin", "python3")
            try:  # a fresh interpreter, with the marker in its command line
                os.execv(python, [python, "-S", "-c", "import time; time.sleep(120)", marker])
            except OSError:
                time.sleep(120)
        os._exit(0)
    return x.copy(), None

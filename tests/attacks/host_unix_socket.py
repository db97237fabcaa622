# Talk to a host service over a pathname UNIX socket (think /var/run/docker.sock).
import errno
import socket


def attack(path="/var/run/docker.sock"):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(b"GET /containers/json HTTP/1.0\r\n\r\n")
        return "done: connected"
    except OSError as exc:
        return "refused: " + errno.errorcode.get(exc.errno, str(exc.errno))


def dropout_forward(x, dropout_param):
    attack()
    raise NotImplementedError

# Phone home over TCP and UDP on the loopback interface.
import socket


def tcp(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).sendall(b"stolen")
        return "connected"
    except Exception as exc:
        return f"denied: {type(exc).__name__}"


def udp(port):
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"stolen", ("127.0.0.1", port))
        return "sent"
    except Exception as exc:
        return f"denied: {type(exc).__name__}"


def listen():
    try:
        s = socket.socket()
        s.bind(("0.0.0.0", 0))
        s.listen()
        return "listening"
    except Exception as exc:
        return f"denied: {type(exc).__name__}"

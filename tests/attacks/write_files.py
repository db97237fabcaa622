# Write outside the worker's folder (and inside it, which is allowed).
import os


def write(path):
    try:
        with open(path, "w") as fh:
            fh.write("owned")
        return "written"
    except Exception as exc:
        return f"denied: {type(exc).__name__}"


def symlink_out(target):
    try:
        os.symlink(target, "escape")
        with open("escape/owned.txt", "w") as fh:
            fh.write("owned")
        return "written"
    except Exception as exc:
        return f"denied: {type(exc).__name__}"

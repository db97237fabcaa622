# Read the reference solution, the hidden checks, or anything else outside the worker's folder.
import os


def read(path):
    try:
        with open(path) as fh:
            return fh.read()[:5000]
    except Exception as exc:
        return f"denied: {type(exc).__name__}"


def listdir(path):
    try:
        return sorted(os.listdir(path))
    except Exception as exc:
        return f"denied: {type(exc).__name__}"


def import_reference():
    try:
        import solutions.dropout as ref

        return "imported " + ref.__file__
    except BaseException as exc:
        return f"denied: {type(exc).__name__}"


def import_checks():
    try:
        import grader.checks.base as base

        return "imported " + base.__file__
    except BaseException as exc:
        return f"denied: {type(exc).__name__}"

# Exception text the record, the feedback page or a terminal must not carry: lone surrogates
# (not encodable as UTF-8), terminal escapes, bidi overrides, NUL, 100,000 lines, 50 MB of
# text, a __str__ that raises or returns a non-string, and a type name that is no identifier.
# (tests also raise BAD at load, for the note on a failing cell.)
import numpy as np

BAD = "\ud800 \x1b[2J\x1b[31mALL TESTS PASSED\x1b[0m \u202egnissap\u202c \x00" + "\n" * 100_000 + "end"


class Weird(Exception):
    def __str__(self):
        raise RuntimeError("no text")


class NotText(Exception):
    def __str__(self):
        return 12345  # not a str


def dropout_forward(x, dropout_param):
    variant = dropout_param.get("variant", "text")
    if variant == "huge":
        raise ValueError("A" * 50_000_000)
    if variant == "weird":
        raise Weird()
    if variant == "nottext":
        raise NotText()
    if variant == "type":
        raise type("not an identifier \u202e 12345678", (Exception,), {})(BAD)
    raise ValueError(BAD + str(np.asarray(x).size))


def dropout_backward(dout, cache):
    raise ValueError(BAD)


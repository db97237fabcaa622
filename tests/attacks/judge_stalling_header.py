# A frame header announcing 2**40 bytes (or a plausible 200 bytes), then nothing: the judge
# must neither wait for nor allocate the announced frame. Variant "negative": a length whose
# top bit is set (negative as a signed integer).
import os
import struct
import time


def dropout_forward(x, dropout_param):
    variant = dropout_param.get("variant", "huge")
    length = {"huge": 1 << 40, "small": 200, "negative": (1 << 64) - 16}[variant]
    os.write(3, b"GRv1" + struct.pack("<Q", length) + struct.pack("<I", 100))
    time.sleep(3600)


def dropout_backward(dout, cache):
    raise NotImplementedError

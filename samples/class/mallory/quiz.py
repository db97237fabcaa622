# Mallory: answers that are code, not maths. They are parsed as text and rejected, never run.
# %% answers_dropout
forward = "__import__('os').system('echo pwned')"
backward = "dLdH * D"
# %% answers_conv_outputs
O11 = "X11*W11 + X12*W12 + X21*W21 + X22*W22"
O12 = "(lambda: X12*W11)()"

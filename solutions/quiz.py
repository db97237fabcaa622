"""Reference answers for the quiz: exactly the quiz notebook's solution lines.

``grader check-solutions`` re-derives every key with SymPy and fails if one of these disagrees.
"""

forward = r"H = D \odot Y"
backward = r"\frac{\partial L}{\partial Y} = \frac{\partial L}{\partial H} \odot D"
forward_inverted = r"H = \frac{D \odot Y}{p}"
backward_inverted = r"\frac{\partial L}{\partial Y} = \frac{\partial L}{\partial H} \odot \frac{D}{p}"
O11 = "X11*W11 + X12*W12 + X21*W21 + X22*W22"
O12 = "X12*W11 + X13*W12 + X22*W21 + X23*W22"
O21 = "X21*W11 + X22*W12 + X31*W21 + X32*W22"
O22 = "X22*W11 + X23*W12 + X32*W21 + X33*W22"
Hout = "1 + (H + 2*pad - HH) / stride"
Wout = "1 + (W + 2*pad - WW) / stride"
expectation = "Y"
variance = "Y^2 (1 - p) / p"

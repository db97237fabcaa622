# Ada: every answer right, in a mix of the accepted notations (LaTeX, plain text, Unicode).
# %% answers_dropout
forward = r"H = D \odot Y"
backward = "dL/dY = dL/dH ⊙ D"
# %% answers_dropout_inverted
forward_inverted = "H = D ⊙ Y / p"
backward_inverted = "dLdH * D / p"
# %% answers_conv_outputs
O11 = r"X_{11}*W_{11} + X_{12}*W_{12} + X_{21}*W_{21} + X_{22}*W_{22}"
O12 = "X12*W11 + X13*W12 + X22*W21 + X23*W22"
O21 = "X₂₁*W₁₁ + X₂₂*W₁₂ + X₃₁*W₂₁ + X₃₂*W₂₂"
O22 = "X22*W11 + X23*W12 + X32*W21 + X33*W22"
# %% answers_output_size
Hout = "(H - HH + 2*pad)/stride + 1"
Wout = r"\frac{W + 2*pad - WW}{stride} + 1"
# %% answers_moments
expectation = "Y"
variance = "Y^2 * (1 - p) / p"

# Chloe: remembers convolution from signal processing and flips the filter (O11 pairs X11 with
# W22); deep-learning layers compute a cross-correlation, with no flip.
# %% answers_dropout
forward = r"H = D \odot Y"
backward = r"\frac{\partial L}{\partial Y} = \frac{\partial L}{\partial H} \odot D"
# %% answers_dropout_inverted
forward_inverted = r"H = \frac{D \odot Y}{p}"
backward_inverted = r"\frac{\partial L}{\partial H} \odot \frac{D}{p}"
# %% answers_conv_outputs
O11 = "X11*W22 + X12*W21 + X21*W12 + X22*W11"
O12 = "X12*W22 + X13*W21 + X22*W12 + X23*W11"
O21 = "X21*W22 + X22*W21 + X31*W12 + X32*W11"
O22 = "X22*W22 + X23*W21 + X32*W12 + X33*W11"
# %% answers_output_size
Hout = "1 + (H + 2*pad - HH)/stride"
Wout = "1 + (W + 2*pad - WW)/stride"
# %% answers_moments
expectation = "Y"
variance = "Y**2 * (1 - p) / p"

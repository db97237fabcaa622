# Finn: the drop-probability convention again (scale 1/(1 - p)), and the expectation of
# vanilla (non-inverted) dropout, pY.
# %% answers_dropout
forward = "H = D*Y"
backward = "dLdH*D"
# %% answers_dropout_inverted
forward_inverted = "H = D*Y/(1 - p)"
backward_inverted = "dLdH*D/(1 - p)"
# %% answers_conv_outputs
O11 = "X11*W11 + X12*W12 + X21*W21 + X22*W22"
O12 = "X12*W11 + X13*W12 + X22*W21 + X23*W22"
O21 = "X21*W11 + X22*W12 + X31*W21 + X32*W22"
O22 = "X22*W11 + X23*W12 + X32*W21 + X33*W22"
# %% answers_output_size
Hout = "1 + (H + 2*pad - HH)/stride"
Wout = "1 + (W + 2*pad - WW)/stride"
# %% answers_moments
expectation = "p*Y"
variance = "Y^2 * (1 - p) / p"

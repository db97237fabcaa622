# Ben: forgets that the 1/p scale of inverted dropout also scales the gradient, and gives the
# variance of the Bernoulli mask, p(1 - p), instead of the variance of H.
# %% answers_dropout
forward = "H = D*Y"
backward = "dLdH * D"
# %% answers_dropout_inverted
forward_inverted = "H = D*Y/p"
backward_inverted = "dL/dY = dL/dH * D"
# %% answers_conv_outputs
O11 = "X11*W11 + X12*W12 + X21*W21 + X22*W22"
O12 = "X12*W11 + X13*W12 + X22*W21 + X23*W22"
O21 = "X21*W11 + X22*W12 + X31*W21 + X32*W22"
O22 = "X22*W11 + X23*W12 + X32*W21 + X33*W22"
# %% answers_output_size
Hout = "1 + (H + 2*pad - HH)/stride"
Wout = "1 + (W + 2*pad - WW)/stride"
# %% answers_moments
expectation = "Y"
variance = "Y^2 * p * (1 - p)"

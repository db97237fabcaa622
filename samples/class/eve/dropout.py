# Eve: a missing closing parenthesis; the notebook does not even compile. She did not submit conv.
# %% dropout_forward
mask = (np.random.rand(*x.shape) < p / p
out = x * mask
# %% dropout_forward
out = x
# %% dropout_backward
dx = dout * mask
# %% dropout_backward
dx = dout

# Ada: a correct solution, written her own way (not a copy of the reference).
# %% dropout_forward
keep = np.random.rand(*x.shape) < p
mask = keep / p
out = x * mask
# %% dropout_forward
out = x
# %% dropout_backward
dx = mask * dout
# %% dropout_backward
dx = dout

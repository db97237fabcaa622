# Finn: read p as the probability of DROPPING a unit (PyTorch's convention), so he keeps a
# fraction 1 - p and scales by 1/(1 - p). Invisible at p = 0.5, wrong at any other p.
# %% dropout_forward
mask = (np.random.rand(*x.shape) >= p) / (1 - p)
out = x * mask
# %% dropout_forward
out = x
# %% dropout_backward
dx = dout * mask
# %% dropout_backward
dx = dout

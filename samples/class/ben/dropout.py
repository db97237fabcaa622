# Ben: the mask bug from the course's own dropout notes (seed 003): a *normal* draw,
# np.random.randn, instead of a uniform one. randn(...) < p keeps about 60% of units at p = 0.25
# and 79% at p = 0.8, so the keep rate is wrong and the output is not unbiased.
# %% dropout_forward
mask = (np.random.randn(*x.shape) < p) / p
out = x * mask
# %% dropout_forward
out = x
# %% dropout_backward
dx = dout * mask
# %% dropout_backward
dx = dout

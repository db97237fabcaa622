# Mallory: does no dropout at all and tries to defeat in-kernel tests instead. With stock
# nbgrader, hidden asserts run in her kernel after her code, so `abs(...) < tol` and
# np.allclose(...) checks would pass. The course grader judges in another process, so the
# patches change nothing: she keeps only the points an identity layer really earns.
# %% dropout_forward
import builtins
builtins.abs = lambda value: 0
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
mask = np.ones_like(x)
out = x
# %% dropout_forward
out = x
# %% dropout_backward
dx = dout * mask
# %% dropout_backward
dx = dout

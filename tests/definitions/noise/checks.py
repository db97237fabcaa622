"""Hidden checks of a Gaussian noise layer, composed from the stochastic blocks.

The draw is unbounded, so ``mean_preserved`` (whose Hoeffding bound needs out / x in a bounded
interval) does not apply: its statistics are rates of bounded indicators instead, each with the
bound the block computes. P(out == x) for an entry is below 1e-15 (|sigma z| under half an ulp of
x), so the seed checks and ``affected`` fail falsely with probability well below 1e-9 on 5000 entries.
"""

from grader.layercheck import (RandomLayer, backward_matches_reference, battery, different_seeds_differ,
                               draws_nothing, entries_independent, matches_reference, rate_near,
                               same_seed_same_output, unseeded_calls_differ)

LAYER = RandomLayer(forward="noise_forward", backward="noise_backward", param="noise_param",
                    describe="{mode} mode, sigma = {sigma:g}", affected=lambda x, out: out != x, draw_word="noise",
                    no_effect="train mode added no noise (sigma = {sigma}), so its {what} cannot be checked")
TRAIN, TEST = {"sigma": 0.5, "mode": "train"}, {"sigma": 0.5, "mode": "test"}
UP = lambda x, out: out > x  # symmetric noise: P = 1/2
BEYOND_SIGMA = lambda x, out: abs(out - x) > 0.5  # P(|Z| > 1) = 0.3173 for sigma = 0.5

BATTERY = battery(
    matches_reference(LAYER, "test_mode_is_identity", "test mode returns x unchanged", 1, "test_modes", TEST, (20, 30),
                      lambda x, p: x, lambda out, expected, p, words: f"in {words}, out must equal x"),
    draws_nothing(LAYER, "test_mode_draws_nothing", "test mode draws no random numbers", 0.5, "test_modes", TEST,
                  (20, 30), "test mode used numpy's random generator; it must not draw or seed"),
    same_seed_same_output(LAYER, "same_seed_same_output", "the same seed gives the same noise", 1, "test_seed", TRAIN,
                          (50, 100), "two calls with the same seed differed: seed numpy's generator with noise_param['seed']"),
    different_seeds_differ(LAYER, "different_seeds_differ", "different seeds give different noise", 0.5, "test_seed",
                           TRAIN, (50, 100), "two different seeds gave the same noise: use noise_param['seed'], not a constant"),
    unseeded_calls_differ(LAYER, "unseeded_calls_differ", "calls without a seed give fresh noise", 0.5, "test_seed",
                          TRAIN, (50, 100), "two calls without a seed gave the same noise: seed only when a seed is given"),
    rate_near(LAYER, "noise_is_symmetric", "noise is centred: about half the entries go up", 1, "test_train", UP,
              lambda p: 0.5, [TRAIN], n=20_000, tol=0.03,
              explain=lambda p, rate, where: f"{rate:.0%} of entries went up {where}, not about half"),
    rate_near(LAYER, "noise_has_std_sigma", "noise has standard deviation sigma", 1.5, "test_train", BEYOND_SIGMA,
              lambda p: 0.3173, [TRAIN], n=20_000, tol=0.03,
              explain=lambda p, rate, where: f"{rate:.1%} of entries moved by more than sigma {where}, not about 31.7% "
                                             "(usual causes: sigma ** 2 or sqrt(sigma) as the scale, or uniform noise)"),
    entries_independent(LAYER, "noise_per_entry", "every entry gets its own noise", 1, "test_train", UP, TRAIN, 0.5,
                        ((40, 60), (2, 30, 40)), lambda p, shape, axis, differ, expected, rate:
                        f"neighbours along axis {axis} of a {shape} input moved alike: draw noise of x's full shape"),
    backward_matches_reference(LAYER, "backward_passes_dout", "backward passes dout through unchanged", 1.5,
                               "test_backward", TRAIN, (20, 30), lambda dout, x, p: dout,
                               lambda dx, expected, p, words: f"after a call in {words}, dx must equal dout"),
)

"""Input draws that make every check's verdict the same on every run.

Fresh random inputs each grading must never flip a wrong submission's score. For layers built
on comparisons (max pooling, ReLU, argmax) that means no accidental ties and no value within the
central-difference step of another: :func:`distinct` spaces all values at least ``gap`` apart.
Where a property needs a tie or a shared maximum, plant it deliberately
(:func:`plant_peak`, :func:`all_negative`) instead of hoping the draw produces one.
"""

from __future__ import annotations

import numpy as np


def distinct(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """Values in random order, centred on 0, every two at least ``gap`` apart."""
    size = int(np.prod(shape))
    ranks = rng.permutation(size).astype(np.float64)
    values = (ranks - size / 2) * gap + rng.uniform(0.0, gap / 4)  # one shift for all: spacing stays gap
    return values.reshape(shape)


def all_negative(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """Like :func:`distinct`, but every value below -1 (catches a running maximum that starts at 0)."""
    values = distinct(rng, shape, gap)
    return values - values.max() - 1.0


def all_positive(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """Like :func:`distinct`, but every value above 1 (so only checks meant to, with
    :func:`all_negative`, tell a maximum that starts at 0 from a right one)."""
    values = distinct(rng, shape, gap)
    return values - values.min() + 1.0


def plant_peak(x: np.ndarray, row: int, col: int) -> np.ndarray:
    """Swap the largest value of every 2-D slice (last two axes) to ``[row, col]``; e.g. where
    overlapping windows meet, so a gradient written with ``=`` instead of ``+=`` always shows."""
    x = np.array(x)
    flat = x.reshape(-1, x.shape[-2] * x.shape[-1])
    target = row * x.shape[-1] + col
    top = flat.argmax(axis=1)
    rows = np.arange(flat.shape[0])
    peak, there = flat[rows, top].copy(), flat[rows, target].copy()
    flat[rows, top], flat[rows, target] = there, peak
    return flat.reshape(x.shape)

"""Gradient tools: the scale-free relative error checks compare with, and a numeric gradient for tests."""

from __future__ import annotations

from typing import Callable

import numpy as np

TINY = 1e-12


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a-b| / max(max(|a|+|b|), tiny)``: scale-free, 0 for identical arrays.

    ``inf`` (never within a tolerance) when either side holds NaN or infinity. Both sides are
    first divided by their largest magnitude, so huge finite values cannot overflow into a NaN
    that every ``error > tol`` test would let pass.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0 and b.size == 0:
        return 0.0
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if scale == 0.0:
        return 0.0
    a, b = a / scale, b / scale
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), TINY / scale))


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at ``x``, one probe per element (small x only)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        fp = f(x)
        x[idx] = old - h
        fm = f(x)
        x[idx] = old
        grad[idx] = (fp - fm) / (2.0 * h)
    return grad

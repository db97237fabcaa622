"""Numeric gradient tools for checks (central differences, relative error)."""

from __future__ import annotations

from typing import Callable, Iterable

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


def central_probes(x: np.ndarray, directions: Iterable[np.ndarray], h: float) -> list[np.ndarray]:
    """The points ``x + h d`` and ``x - h d`` for each direction ``d``, in that order: where a
    function must be evaluated for :func:`central_difference` along each direction (all of
    them up front, so a check can ask the student for every value in one batch)."""
    return [z for d in directions for z in (x + h * d, x - h * d)]


def central_difference(plus: float, minus: float, h: float) -> float:
    """Derivative along ``d`` from ``f(x + h d)`` and ``f(x - h d)``.

    Exact up to rounding for functions that are linear in ``x`` (both layers here are),
    and costs two evaluations instead of two per element.
    """
    return (plus - minus) / (2.0 * h)


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

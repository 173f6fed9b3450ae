"""Trend of a yearly series: the Theil–Sen slope (the median of the slopes between every pair of
years; Sen 1968) and the Mann–Kendall test of a monotonic trend (two-sided p-value, normal
approximation with the tie correction and the continuity correction; Kendall 1975, as in
Gilbert 1987 §16.4 and the ``pymannkendall`` package). Used for class areas per unit (km²/yr).

Exact on a linear series: every pairwise slope equals the line's slope, so the median does too.
Fewer than 3 years with values give no trend (NaN): Mann–Kendall needs n ≥ 3 and says little
below n = 8 (the p-value is shown with n beside it).
"""
from __future__ import annotations

import math

import numpy as np

MIN_YEARS = 3


def theil_sen(years, values) -> float:
    """Median of (v_j − v_i) / (y_j − y_i) over every pair i < j of the finite values (NaN when
    fewer than 2)."""
    x, v = _finite(years, values)
    if len(x) < 2:
        return math.nan
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    ok = dx != 0
    if not ok.any():
        return math.nan
    return float(np.median((v[j] - v[i])[ok] / dx[ok]))


def mann_kendall(years, values) -> tuple[float, float]:
    """(S, two-sided p) of the Mann–Kendall test on the values ordered by year. S = Σ sign(v_j − v_i)
    for i < j; Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18 over groups of t tied values;
    Z = (S − sign(S)) / √Var(S); p = erfc(|Z| / √2). (NaN, NaN) when fewer than 3 values."""
    x, v = _finite(years, values)
    n = len(v)
    if n < MIN_YEARS:
        return math.nan, math.nan
    v = v[np.argsort(x, kind="stable")]
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(v[j] - v[i]).sum())
    _, counts = np.unique(v, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(counts * (counts - 1) * (2 * counts + 5)))) / 18.0
    if var <= 0:
        return s, 1.0
    z = (s - math.copysign(1.0, s)) / math.sqrt(var) if s != 0 else 0.0
    return s, math.erfc(abs(z) / math.sqrt(2.0))


def _finite(years, values) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(years, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(x) & np.isfinite(v)
    return x[ok], v[ok]

"""Weighted code histograms of the exact zonal engine: ``Histogram`` (code -> area, accumulated over
many reads; uint8 codes in a dense 256-bin array) and ``u8_counts`` (the byte-pair counter of a
uint8 block, ~2x faster than ``bincount``).
"""
from __future__ import annotations

import numpy as np


class Histogram:
    """Weighted code histogram accumulated over many reads."""

    def __init__(self):
        self._parts: dict[int, float] = {}
        self._small = np.zeros(256)

    def add_u8(self, counts: np.ndarray):
        self._small += counts[:256]

    def add(self, codes: np.ndarray, weights=None):
        """Add codes (any integer array) with optional per-element weights (default 1)."""
        if codes.size == 0:
            return
        if codes.dtype == np.uint8:
            self._small += np.bincount(codes, weights=weights, minlength=256)
            return
        keys, inv = np.unique(codes, return_inverse=True)
        sums = np.bincount(inv.ravel(), weights=weights, minlength=keys.size)
        for k, v in zip(keys.tolist(), sums.tolist()):
            self._parts[k] = self._parts.get(k, 0.0) + v

    def merge(self, other: "Histogram"):
        self._small += other._small
        for k, v in other._parts.items():
            self._parts[k] = self._parts.get(k, 0.0) + v

    def as_dict(self) -> dict[int, float]:
        out = {int(k): float(v) for k, v in zip(np.flatnonzero(self._small), self._small[self._small != 0])}
        for k, v in self._parts.items():
            if v != 0:
                out[k] = out.get(k, 0.0) + v
        return out


def u8_counts(block: np.ndarray) -> np.ndarray:
    """Counts of each uint8 value: counts pairs of bytes (65536 bins), ~2x faster than bincount."""
    flat = block.reshape(-1)
    n = flat.size - (flat.size & 1)
    if n == 0 or not flat.flags.c_contiguous:
        return np.bincount(flat, minlength=256).astype("float64")
    pairs = np.bincount(flat[:n].view(np.uint16), minlength=65536).reshape(256, 256)
    counts = pairs.sum(axis=0) + pairs.sum(axis=1)
    if n < flat.size:
        counts[flat[-1]] += 1
    return counts.astype("float64")

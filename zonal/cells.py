"""Pixel-area weights of a read window, shared by the polygon kernel (``zonal.polygonstats``) and the
tiled kernel (``zonal.tilekernel``). A weight ``w`` is a scalar (one area for every cell), a
column ``(rows, 1)`` (one area per row: geographic rasters) or an array (one area per cell); these
helpers slice it to a sub-window, gather it at boundary cells, sum it over boundary cells and over
fully covered runs, and add the codes of fully covered runs to a ``Histogram``.
"""
from __future__ import annotations

import numpy as np

from zonal.histogram import Histogram, u8_counts


def sub_weights(w, r0, r1, c0, c1):
    if np.isscalar(w):
        return w
    return w[r0:r1, :] if w.shape[1] == 1 else w[r0:r1, c0:c1]


def cell_weights(w, rr, cc):
    if np.isscalar(w):
        return w
    return w[rr, 0] if w.shape[1] == 1 else w[rr, cc]


def cells_sum(w, rr, cc, cov) -> float:
    return float((cov * cell_weights(w, rr, cc)).sum()) if cov.size else 0.0


def strip_runs_sum(w, sc, run_len) -> float:
    if run_len.size == 0:
        return 0.0
    if np.isscalar(w):
        return float(run_len.sum() * w)
    if w.shape[1] == 1:
        return float((run_len * w[sc.run_row, 0]).sum())
    cs = np.cumsum(w, axis=1)
    cs = np.concatenate([np.zeros((w.shape[0], 1)), cs], axis=1)
    return float((cs[sc.run_row, sc.run_end] - cs[sc.run_row, sc.run_start]).sum())


def add_runs(codes, w_in, run_r, s, e, hist: Histogram) -> tuple[float, float]:
    """Histogram of fully covered runs; the mask is built by xor-accumulating run toggles."""
    h, w = codes.shape
    toggles = np.zeros(h * (w + 1), dtype=np.uint8)
    toggles[run_r * (w + 1) + s] = 1
    toggles[run_r * (w + 1) + e] ^= 1
    mask = np.bitwise_xor.accumulate(toggles).reshape(h, w + 1)[:, :w].view(bool)
    lengths = (e - s).astype("float64")
    sel = codes[mask]
    if np.isscalar(w_in):
        if sel.dtype == np.uint8:
            hist.add_u8(u8_counts(sel) * w_in)
        else:
            hist.add(sel, np.full(sel.size, float(w_in)))
        return float(lengths.sum() * w_in), float(lengths.sum())
    if w_in.shape[1] == 1:  # per-row weights
        per_row = np.bincount(run_r, weights=lengths, minlength=h)
        wts = np.repeat(w_in[:, 0], per_row.astype(np.int64))
    else:
        wts = w_in[mask]
    hist.add(sel, wts)
    return float(wts.sum()), float(lengths.sum())


def runs_sum(w, rr, s, e) -> float:
    if rr.size == 0:
        return 0.0
    lengths = (e - s).astype("float64")
    if np.isscalar(w):
        return float(lengths.sum() * w)
    if w.shape[1] == 1:
        return float((lengths * w[rr, 0]).sum())
    cs = np.concatenate([np.zeros((w.shape[0], 1)), np.cumsum(w, axis=1)], axis=1)
    return float((cs[rr, e] - cs[rr, s]).sum())

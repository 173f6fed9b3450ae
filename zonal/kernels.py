"""Compiled inner loops (numba) of the tiled engine: count the codes under row runs.

A unit's fully covered cells come as runs (row, start, end) of a band; counting them is the
whole cost of zone statistics once the raster is read. In numpy the fastest way was a byte-pair
``bincount`` per column chunk plus index gathers near unit boundaries (~2 passes over mixed
chunks); compiled, each cell is visited once (~0.4 ns) whatever the units look like (four interleaved count tables), and
overlapping units (parks may overlap) need no special case. Counts are integers, so equal-area
results are exact and independent of the order of runs; with per-row pixel areas (geographic
rasters) each row's integer counts are multiplied by that row's area once; with per-cell areas
(projected CRSs that are not equal-area: Gauss–Krüger, UTM) each cell's area is added to its code.

Compiled on first use and cached on disk next to this file (``cache=True``; numba falls back to
its user cache folder when this folder is read-only); `make` compiles them once (``python -m
zonal.kernels``), after which a fresh process loads them in ~0.2–0.3 s (numba import included).
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, inline="always")
def _count_run(line, s, e, c4):
    # four interleaved count tables: neighbouring cells (often the same code) do not wait on
    # each other's increment (0.4 instead of 1.0 ns a cell on land cover with long runs)
    j = s
    while j + 4 <= e:
        c4[0, line[j]] += 1
        c4[1, line[j + 1]] += 1
        c4[2, line[j + 2]] += 1
        c4[3, line[j + 3]] += 1
        j += 4
    while j < e:
        c4[0, line[j]] += 1
        j += 1

@numba.njit(nogil=True, cache=True)
def counts_u8(codes, rows, starts, ends, labels, n):
    c4 = np.zeros((n, 4, 256), np.int64)
    for k in range(rows.size):
        _count_run(codes[rows[k]], starts[k], ends[k], c4[labels[k]])
    return c4.sum(axis=1)

@numba.njit(nogil=True, cache=True)
def sums_u8_rows(codes, rows, starts, ends, labels, n, row_area):
    # runs sorted by row: integer counts of one row, then × that row's pixel area
    out = np.zeros((n, 256), np.float64)
    tmp = np.zeros((n, 4, 256), np.int64)
    touched = np.zeros(n, np.bool_)
    k = 0
    while k < rows.size:
        r = rows[k]
        line = codes[r]
        m = k
        while m < rows.size and rows[m] == r:
            touched[labels[m]] = True
            _count_run(line, starts[m], ends[m], tmp[labels[m]])
            m += 1
        w = row_area[r]
        for lab in range(n):
            if touched[lab]:
                for v in range(256):
                    cnt = tmp[lab, 0, v] + tmp[lab, 1, v] + tmp[lab, 2, v] + tmp[lab, 3, v]
                    if cnt:
                        out[lab, v] += cnt * w
                        tmp[lab, 0, v] = 0
                        tmp[lab, 1, v] = 0
                        tmp[lab, 2, v] = 0
                        tmp[lab, 3, v] = 0
                touched[lab] = False
        k = m
    return out


@numba.njit(nogil=True, cache=True)
def sums_u8_cells(codes, rows, starts, ends, labels, n, cell_area):
    # per-cell pixel areas (projected CRSs that are not equal-area, e.g. Gauss–Krüger, UTM): each
    # cell's area added to its code, four interleaved tables as above
    out4 = np.zeros((n, 4, 256), np.float64)
    for k in range(rows.size):
        r = rows[k]
        line = codes[r]
        wl = cell_area[r]
        o = out4[labels[k]]
        j = starts[k]
        e = ends[k]
        while j + 4 <= e:
            o[0, line[j]] += wl[j]
            o[1, line[j + 1]] += wl[j + 1]
            o[2, line[j + 2]] += wl[j + 2]
            o[3, line[j + 3]] += wl[j + 3]
            j += 4
        while j < e:
            o[0, line[j]] += wl[j]
            j += 1
    return out4.sum(axis=1)


@numba.njit(nogil=True, cache=True)
def compact_pairs(a, b, lut, table, used):
    # two uint8 years -> one uint8 code per cell: the index of the pair (a, b) in ``table``, new pairs
    # appended in the order met (``used[0]`` of 256 taken); False (nothing more written) when a 257th
    # pair appears, so the caller counts that step on full pair codes instead
    # a, b: 1-D uint8 arrays of one size
    fo = np.empty(a.size, np.uint8)
    for j in range(a.size):
        p = (np.int64(a[j]) << 8) | np.int64(b[j])
        k = lut[p]
        if k < 0:
            if used[0] >= 256:
                return fo, False
            k = used[0]
            lut[p] = k
            table[k] = p
            used[0] += 1
        fo[j] = k
    return fo, True


def run_code_counts(codes: np.ndarray, runs) -> np.ndarray:
    """Integer code counts (len(runs) × 256, float64) of uint8 ``codes`` under each entry of
    ``runs``: (rows, starts, ends) arrays of one unit in ``codes``' coordinates."""
    rows, starts, ends, labels = _flatten(runs)
    return counts_u8(codes, rows, starts, ends, labels, len(runs)).astype(np.float64)


def run_code_areas_by_row(codes: np.ndarray, row_area: np.ndarray, runs) -> np.ndarray:
    """Code areas (len(runs) × 256) of uint8 ``codes`` under each unit's runs, the pixel area
    given per row (``row_area``: one value per row of ``codes``)."""
    rows, starts, ends, labels = _flatten(runs)
    order = np.argsort(rows, kind="stable")
    return sums_u8_rows(codes, rows[order], starts[order], ends[order], labels[order], len(runs),
                                       np.ascontiguousarray(row_area, dtype=np.float64))


def run_code_areas_by_cell(codes: np.ndarray, cell_area: np.ndarray, runs) -> np.ndarray:
    """Code areas (len(runs) × 256) of uint8 ``codes`` under each unit's runs, the pixel area given
    per cell (``cell_area``: the shape of ``codes``)."""
    rows, starts, ends, labels = _flatten(runs)
    return sums_u8_cells(codes, rows, starts, ends, labels, len(runs), np.ascontiguousarray(cell_area, dtype=np.float64))


def _flatten(runs):
    rows = np.concatenate([np.asarray(r, np.int64) for r, _, _ in runs])
    starts = np.concatenate([np.asarray(s, np.int64) for _, s, _ in runs])
    ends = np.concatenate([np.asarray(e, np.int64) for _, _, e in runs])
    labels = np.concatenate([np.full(len(r), k, np.int64) for k, (r, _, _) in enumerate(runs)])
    return rows, starts, ends, labels


def warm() -> None:
    """Compile (or load from the disk cache) both kernels: ``make`` runs this once, so the first
    zone statistics of a fresh machine do not pay the ~2 s compilation."""
    codes = np.zeros((1, 4), np.uint8)
    one = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, 4, np.int64))
    run_code_counts(codes, [one])
    run_code_areas_by_row(codes, np.ones(1), [one])
    run_code_areas_by_cell(codes, np.ones((1, 4)), [one])
    compact_pairs(codes.ravel(), codes.ravel(), np.full(65536, -1, np.int16), np.zeros(256, np.int64), np.zeros(1, np.int64))


if __name__ == "__main__":
    warm()
    print("[zonal.kernels] compiled kernels ready (numba cache)")

"""The tiled engine's kernel for split polygons (``tile_units``): exact code areas of every unit
inside one work tile.

The tile is read once in row bands for all units crossing it. Boundary cells get their exact
coverage fraction; fully covered runs of all units are painted into one label image and counted
with one ``bincount`` of (label, code) (row, label, code for per-row pixel areas), so a raster block
is decoded once and touched by a handful of passes whatever the number of units. A band fully
inside one unit is counted with the byte-pair counter.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from zonal.cells import add_runs, cell_weights, cells_sum, runs_sum, sub_weights
from zonal.coverage import Pieces, strip_cells
from zonal.histogram import Histogram
from zonal.tileresult import Partial

BAND_PIXELS = 4_000_000  # cells read at once inside a task (row bands of the tile)


class _Acc:
    __slots__ = ("hist", "inside", "pixels", "total")

    def __init__(self):
        self.hist = Histogram()
        self.total = self.inside = self.pixels = 0.0


def tile_units(src, span, units: list[tuple[int, Pieces]]) -> dict[int, Partial]:
    """Exact code areas of every unit inside the tile ``span``, reading the tile once in bands."""
    sr0, sr1, sc0, sc1 = span
    acc = {i: _Acc() for i, _ in units}
    # rows and columns of the tile that any unit touches
    boxes = []
    for i, p in units:
        r0, r1 = max(sr0, p.row0), min(sr1, p.row0 + p.height)
        c0, c1 = max(sc0, p.col0), min(sc1, p.col0 + p.width)
        if r0 < r1 and c0 < c1:
            boxes.append((i, p, r0, r1, c0, c1))
    if not boxes:
        return {}
    R0, R1 = min(b[2] for b in boxes), max(b[3] for b in boxes)
    C0, C1 = min(b[4] for b in boxes), max(b[5] for b in boxes)
    bh = src.block_rows
    band = max(bh, (BAND_PIXELS // max(C1 - C0, 1)) // bh * bh)
    starts = list(range((R0 // band) * band, R1, band))  # bands on a global grid: block-aligned
    ca, cb = max(C0, 0), min(C1, src.width)  # raster columns of the tile read

    def read(b0):
        ra, rb = max(b0, R0, 0), min(b0 + band, R1, src.height)
        if ra >= rb or ca >= cb:
            return None
        return src.read(ra, rb, ca, cb)

    counted: list = []  # (future of a band's run counts, unit ids), applied in band order below
    # three threads: GDAL decodes the next band, the compiled counter (no GIL) counts the last one,
    # this thread cuts the units' rows of the current one; at most two bands wait to be counted
    with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(max_workers=1) as counter:
        pending = pool.submit(read, starts[0])
        for k, b0 in enumerate(starts):
            codes = pending.result()
            if k + 1 < len(starts):
                pending = pool.submit(read, starts[k + 1])
            _band(src, codes, max(b0, R0), min(b0 + band, R1), C0, C1, ca, boxes, acc, (counter, counted))
            while len(counted) > 2 and not counted[-3][0].done():
                counted[-3][0].result()
        for fut, ids in counted:  # a fixed order: the sums never depend on thread timing
            areas = fut.result()
            for k, i in enumerate(ids):
                acc[i].hist.add_u8(areas[k])
    return {i: Partial(a.hist.as_dict(), a.total, a.inside, a.pixels) for i, a in acc.items()}


def _band(src, codes, g0, g1, C0, C1, ca, boxes, acc, deferred=None) -> None:
    """One row band [g0, g1) × [C0, C1) of a tile: every unit's boundary cells and runs."""
    w_all = src.area.weights(g0, g1, C0, C1) if src.area.kind != "projected" else _aligned_weights(src, g0, g1, C0, C1)
    ra = max(g0, 0)
    h = 0 if codes is None else codes.shape[0]
    w = 0 if codes is None else codes.shape[1]
    lr, lc = ra - g0, ca - C0  # offset of the read window inside the band
    w_in = sub_weights(w_all, lr, lr + h, lc, lc + w) if codes is not None else None
    runs = []  # (label, rows, starts, ends) in read-window coordinates
    for i, p, r0, r1, c0, c1 in boxes:
        a0, a1 = max(r0, g0), min(r1, g1)
        if a0 >= a1:
            continue
        a = acc[i]
        sc = strip_cells(p, a0 - p.row0, a1 - p.row0)
        # band-local coordinates; keep this tile's columns
        brow = sc.row + (a0 - g0)
        bcol = sc.col + (p.col0 - C0)
        keep = (bcol >= c0 - C0) & (bcol < c1 - C0)
        brow, bcol, cov = brow[keep], bcol[keep], sc.cov[keep]
        rrow = sc.run_row + (a0 - g0)
        rs = np.maximum(sc.run_start + (p.col0 - C0), c0 - C0)
        re = np.minimum(sc.run_end + (p.col0 - C0), c1 - C0)
        ok = re > rs
        rrow, rs, re = rrow[ok], rs[ok], re[ok]
        a.total += cells_sum(w_all, brow, bcol, cov) + runs_sum(w_all, rrow, rs, re)
        if codes is None:
            continue
        # boundary cells inside the raster
        rr, cc = brow - lr, bcol - lc
        ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        rr, cc, cv = rr[ok], cc[ok], cov[ok]
        if cv.size:
            wb = cv * cell_weights(w_in, rr, cc)
            a.hist.add(codes[rr, cc], wb)
            a.inside += float(wb.sum())
            a.pixels += float(cv.sum())
        # runs clipped to the raster
        rr = rrow - lr
        s = np.clip(rs - lc, 0, w)
        e = np.clip(re - lc, 0, w)
        ok = (rr >= 0) & (rr < h) & (e > s)
        if ok.any():
            runs.append((i, rr[ok], s[ok], e[ok]))
    if runs:
        _count_runs(codes, w_in, runs, acc, deferred)


def _count_runs(codes, w_in, runs, acc, deferred=None) -> None:
    """Histograms of the fully covered runs of all units of a band: uint8 codes go through the
    compiled kernel (``zonal.kernels``: each cell visited once; one pixel area, one per row or
    one per cell); other dtypes through numpy, one unit at a time."""
    for i, rr, s, e in runs:  # areas and pixel counts from the run lengths
        lengths = (e - s).astype("float64")
        acc[i].pixels += float(lengths.sum())
        acc[i].inside += runs_sum(w_in, rr, s, e)
    if codes.dtype == np.uint8:  # compiled: one visit per cell
        from zonal import kernels  # start-up time: numba costs ~0.2 s

        rse = [(rr, s, e) for _, rr, s, e in runs]

        def count():
            if np.isscalar(w_in):
                return kernels.run_code_counts(codes, rse) * w_in  # integer counts × the one pixel area
            if w_in.shape[1] == 1:
                return kernels.run_code_areas_by_row(codes, w_in[:, 0], rse)
            return kernels.run_code_areas_by_cell(codes, w_in, rse)

        ids = [i for i, _, _, _ in runs]
        if deferred is not None:  # (executor, list): counted in another thread, added by the caller in order
            deferred[1].append((deferred[0].submit(count), ids))
            return
        areas = count()
        for k, i in enumerate(ids):
            acc[i].hist.add_u8(areas[k])
        return
    _count_runs_each(codes, w_in, runs, acc)  # other dtypes (int16/32 codes, pair codes of two years)


def _count_runs_each(codes, w_in, runs, acc) -> None:
    """Other dtypes: one run mask per unit."""
    for i, rr, s, e in runs:
        add_runs(codes, w_in, rr, s, e, acc[i].hist)


def _aligned_weights(src, r0, r1, c0, c1):
    """Projected (non equal-area) pixel areas sampled on a global 32-pixel grid, so a cell's area
    does not depend on which band or tile asks for it."""
    s = 32
    a0, b0 = (r0 // s) * s, (c0 // s) * s
    full = src.area.weights(a0, r1, b0, c1)
    return full[r0 - a0:, c0 - b0:]

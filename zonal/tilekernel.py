"""The tiled engine's kernel for split polygons (``tile_units``): exact code areas of every unit
inside one work tile.

The tile is read once in row bands for all units crossing it (``Layout``; ``pipelined``: one thread
decodes the next band while this one cuts the current band and the compiled counter counts the
previous one). ``cut_band`` cuts the units at the grid: boundary cells get their exact coverage
fraction, fully covered cells come as row runs; uint8 runs are counted by the compiled kernels
(``zonal.kernels``: each cell visited once, ``run_areas``), other dtypes through numpy. The
multi-year kernel (``zonal.tilesteps``) reuses the same layout, cut and counter.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from zonal.cells import add_runs, cell_weights, cells_sum, runs_sum, sub_weights
from zonal.coverage import Pieces, strip_cells
from zonal.histogram import Histogram
from zonal.tileresult import Partial

BAND_PIXELS = 4_000_000  # cells read at once inside a task (row bands of the tile)


class Acc:
    __slots__ = ("hist", "inside", "pixels", "total")

    def __init__(self):
        self.hist = Histogram()
        self.total = self.inside = self.pixels = 0.0


class Layout:
    """Where a tile's units lie: their boxes clipped to the tile, the rows and columns any unit
    touches, and the row bands read (block-aligned, on a global grid)."""

    def __init__(self, src, span, units: list[tuple[int, Pieces]]):
        sr0, sr1, sc0, sc1 = span
        self.boxes = []  # (unit id, pieces, r0, r1, c0, c1): the unit's rows and columns in the tile
        for i, p in units:
            r0, r1 = max(sr0, p.row0), min(sr1, p.row0 + p.height)
            c0, c1 = max(sc0, p.col0), min(sc1, p.col0 + p.width)
            if r0 < r1 and c0 < c1:
                self.boxes.append((i, p, r0, r1, c0, c1))
        if not self.boxes:
            self.starts = []
            return
        self.R0, self.R1 = min(b[2] for b in self.boxes), max(b[3] for b in self.boxes)
        self.C0, self.C1 = min(b[4] for b in self.boxes), max(b[5] for b in self.boxes)
        bh = src.block_rows
        self.band = max(bh, (BAND_PIXELS // max(self.C1 - self.C0, 1)) // bh * bh)
        self.starts = list(range((self.R0 // self.band) * self.band, self.R1, self.band))
        self.ca, self.cb = max(self.C0, 0), min(self.C1, src.width)  # raster columns of the tile read
        self.height = src.height

    def window(self, b0: int) -> tuple[int, int, int, int] | None:
        """The raster window (rows, columns) read for the band starting at ``b0``; None outside."""
        ra, rb = max(b0, self.R0, 0), min(b0 + self.band, self.R1, self.height)
        return None if ra >= rb or self.ca >= self.cb else (ra, rb, self.ca, self.cb)

    def rows(self, b0: int) -> tuple[int, int]:
        return max(b0, self.R0), min(b0 + self.band, self.R1)


def pipelined(starts, read, cut, apply_counted):
    """The band loop shared by the kernels: one thread decodes the next band (``read``), this thread
    cuts the units' rows of the current one (``cut``, which may hand compiled counting to
    ``counter``: no GIL), at most two bands wait to be counted; ``apply_counted`` then takes each
    band's counts in band order (the sums never depend on thread timing)."""
    counted: list = []  # futures of the bands' counts (or None), in band order
    with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(max_workers=1) as counter:
        pending = pool.submit(read, starts[0])
        for k, b0 in enumerate(starts):
            data = pending.result()
            if k + 1 < len(starts):
                pending = pool.submit(read, starts[k + 1])
            counted.append(cut(b0, data, counter))
            live = [f for f in counted if f is not None]
            while len(live) > 2 and not live[-3].done():
                live[-3].result()
        for fut in counted:
            if fut is not None:
                apply_counted(fut.result())


def tile_units(src, span, units: list[tuple[int, Pieces]]) -> dict[int, Partial]:
    """Exact code areas of every unit inside the tile ``span``, reading the tile once in bands."""
    lay = Layout(src, span, units)
    if not lay.boxes:
        return {}
    acc = {i: Acc() for i, *_ in lay.boxes}

    def read(b0):
        win = lay.window(b0)
        return None if win is None else src.read(*win)

    def cut(b0, codes, counter):
        g0, g1 = lay.rows(b0)
        shape = None if codes is None else codes.shape
        w_in, cells, runs = cut_band(src, shape, g0, g1, lay, acc)
        for i, rr, cc, wb in cells:
            acc[i].hist.add(codes[rr, cc], wb)
        if not runs:
            return None
        if codes.dtype != np.uint8:  # other dtypes (int16/32 codes, pair codes of two years): numpy
            for i, rr, s, e in runs:
                add_runs(codes, w_in, rr, s, e, acc[i].hist)
            return None
        ids = [i for i, *_ in runs]
        rse = [(rr, s, e) for _, rr, s, e in runs]
        return counter.submit(lambda: (ids, run_areas(codes, w_in, rse)))

    def apply_counted(got):
        ids, areas = got
        for k, i in enumerate(ids):
            acc[i].hist.add_u8(areas[k])

    pipelined(lay.starts, read, cut, apply_counted)
    return {i: Partial(a.hist.as_dict(), a.total, a.inside, a.pixels) for i, a in acc.items()}


def cut_band(src, shape, g0, g1, lay: Layout, acc) -> tuple:
    """The code-independent part of one row band [g0, g1) × [C0, C1) of a tile: every unit's
    boundary cells and fully covered runs, cut once whatever the number of rasters counted on them.
    Adds each unit's total, inside area and pixel count to ``acc``; returns the pixel areas of the
    read window, the boundary cells ``(id, rows, cols, weights)`` and the runs ``(id, rows, starts,
    ends)``, in read-window coordinates (``shape``: the read window's; None when the band lies
    outside the raster)."""
    C0 = lay.C0
    w_all = src.area.weights(g0, g1, C0, lay.C1) if src.area.kind != "projected" else _aligned_weights(src, g0, g1, C0, lay.C1)
    ra = max(g0, 0)
    h, w = (0, 0) if shape is None else shape
    lr, lc = ra - g0, lay.ca - C0  # offset of the read window inside the band
    w_in = sub_weights(w_all, lr, lr + h, lc, lc + w) if shape is not None else None
    cells, runs = [], []
    for i, p, r0, r1, c0, c1 in lay.boxes:
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
        if shape is None:
            continue
        # boundary cells inside the raster
        rr, cc = brow - lr, bcol - lc
        ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        rr, cc, cv = rr[ok], cc[ok], cov[ok]
        if cv.size:
            wb = cv * cell_weights(w_in, rr, cc)
            cells.append((i, rr, cc, wb))
            a.inside += float(wb.sum())
            a.pixels += float(cv.sum())
        # runs clipped to the raster
        rr = rrow - lr
        s = np.clip(rs - lc, 0, w)
        e = np.clip(re - lc, 0, w)
        ok = (rr >= 0) & (rr < h) & (e > s)
        if ok.any():
            rr, s, e = rr[ok], s[ok], e[ok]
            runs.append((i, rr, s, e))
            a.pixels += float((e - s).sum())
            a.inside += runs_sum(w_in, rr, s, e)
    return w_in, cells, runs


def run_areas(codes, w_in, rse) -> np.ndarray:
    """Code areas (len(rse) × 256) of uint8 ``codes`` under each unit's runs (compiled: each cell
    visited once; one pixel area, one per row or one per cell)."""
    from zonal import kernels  # start-up time: numba costs ~0.2 s

    if np.isscalar(w_in):
        return kernels.run_code_counts(codes, rse) * w_in  # integer counts × the one pixel area
    if w_in.shape[1] == 1:
        return kernels.run_code_areas_by_row(codes, w_in[:, 0], rse)
    return kernels.run_code_areas_by_cell(codes, w_in, rse)


def _aligned_weights(src, r0, r1, c0, c1):
    """Projected (non equal-area) pixel areas sampled on a global 32-pixel grid, so a cell's area
    does not depend on which band or tile asks for it."""
    s = 32
    a0, b0 = (r0 // s) * s, (c0 // s) * s
    full = src.area.weights(a0, r1, b0, c1)
    return full[r0 - a0:, c0 - b0:]

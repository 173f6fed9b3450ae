"""Exact code areas of one polygon on a land-cover raster (``polygon_stats``), read window by
window: the polygon is cut at the pixel grid (``zonal.coverage``: boundary cells get their exact
covered fraction, interior cells 1, as exactextract does), then its window is read in row strips
of at most ``MAX_STRIP_PIXELS`` cells and each code's area (``zonal.pixelarea``) summed.

The fully covered runs of uint8 codes are counted by the compiled counter of zone statistics
(``zonal.tilekernel.run_areas``: each cell visited once; one pixel area, one per row or one per
cell); other codes, or ``COMPILED = False`` (the numpy reference the tests compare with), through
numpy. ``polygons_stats`` does many polygons at once, pipelined: one thread reads the next windows
(GDAL decodes without the GIL), this thread cuts, one thread counts (the compiled counter runs
without the GIL, and loads numba while the first windows are read); every strip is added to its
polygon in strip order, so the numbers are bit-identical to ``polygon_stats`` one by one.
``stats_of_pieces`` takes a polygon already cut (the tiled engine reuses the cut across years).
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from zonal.cells import add_runs, cell_weights, cells_sum, runs_sum, strip_runs_sum, sub_weights
from zonal.coverage import Pieces, pieces, strip_cells
from zonal.histogram import Histogram
from zonal.rastersource import LandcoverRaster
from zonal.tilekernel import run_areas

COMPILED = True  # uint8 runs through the compiled counter (tests switch it off: the numpy reference)
MAX_STRIP_PIXELS = 4_000_000  # cells held at once per polygon (row strips beyond this)
READ_AHEAD_PIXELS = 16_000_000  # polygons_stats: cells read ahead of the cut or waiting to be counted


@dataclass
class PolygonStats:
    codes: dict[int, float]  # code -> m² (nodata codes included; caller separates them)
    total_m2: float  # polygon area integrated over the raster grid (inside + outside)
    outside_m2: float  # part of the polygon outside the raster extent
    pixels: float  # coverage-weighted raster cells inside the raster

    @classmethod
    def empty(cls):
        return cls({}, 0.0, 0.0, 0.0)


class _Acc:
    """One polygon's sums, strip after strip."""

    __slots__ = ("hist", "inside", "pixels", "total")

    def __init__(self):
        self.hist = Histogram()
        self.total = self.inside = self.pixels = 0.0

    def stats(self) -> PolygonStats:
        return PolygonStats(self.hist.as_dict(), self.total, max(self.total - self.inside, 0.0), self.pixels)


@dataclass
class _Strip:
    """One row strip of a polygon, cut: its total area (without the compiled runs' cells, whose areas
    the counter sums), boundary cells inside the raster (codes, weights, coverage), and its fully
    covered runs: compiled code areas (an array, or the future of one) with their cell count, or the
    numpy runs (codes, weights, rows, starts, ends)."""

    total: float
    cells: tuple | None = None
    areas: np.ndarray | Future | None = None
    run_pixels: float = 0.0
    numpy_runs: tuple | None = None

    def ready(self) -> bool:
        return not isinstance(self.areas, Future) or self.areas.done()

    def add_to(self, acc: _Acc) -> None:
        inside = pixels = 0.0
        if self.cells is not None:
            vals, wb, cov = self.cells
            acc.hist.add(vals, wb)
            inside += wb.sum()
            pixels += cov.sum()
        total = self.total
        if self.areas is not None:
            areas = self.areas.result() if isinstance(self.areas, Future) else self.areas
            acc.hist.add_u8(areas)
            runs_m2 = float(areas.sum())
            inside += runs_m2
            total += runs_m2
            pixels += self.run_pixels
        elif self.numpy_runs is not None:
            inside_i, pixels_i = add_runs(*self.numpy_runs, acc.hist)
            inside += inside_i
            pixels += pixels_i
        acc.total += total
        acc.inside += inside
        acc.pixels += pixels


def polygon_stats(src: LandcoverRaster, geom) -> PolygonStats:
    """Exact area of each code inside one polygon given in the raster's CRS."""
    return stats_of_pieces(src, pieces(geom, src.transform))


def stats_of_pieces(src: LandcoverRaster, p: Pieces | None) -> PolygonStats:
    """``polygon_stats`` of a polygon already cut at the grid (the tiled engine reuses the cut
    across years)."""
    if p is None:
        return PolygonStats.empty()
    acc = _Acc()
    for r0, r1 in _row_strips(p):
        win = _window(src, p, r0, r1)
        codes = None if win is None else src.read(*win)
        _cut(src, p, r0, r1, codes, None).add_to(acc)
    return acc.stats()


def polygons_stats(src: LandcoverRaster, geoms) -> list[PolygonStats]:
    """``polygon_stats`` of every polygon of ``geoms`` (raster CRS), pipelined (see the module's
    docstring); at most ``READ_AHEAD_PIXELS`` cells (and at least one strip) are held read ahead
    or waiting to be counted."""
    accs: list[_Acc | None] = []
    todo = _strip_tasks(src, geoms, accs)
    ahead: deque = deque()  # (polygon, pieces, r0, r1, future codes or None, cells)
    waiting: deque = deque()  # (polygon, cut strip, cells): added to the polygon in this order
    held = 0
    with ThreadPoolExecutor(max_workers=1) as reader, ThreadPoolExecutor(max_workers=1) as counter:
        def fill():
            nonlocal held
            while held < READ_AHEAD_PIXELS or not ahead:
                task = next(todo, None)
                if task is None:
                    return
                k, p, r0, r1, win = task
                n = 0 if win is None else (win[1] - win[0]) * (win[3] - win[2])
                ahead.append((k, p, r0, r1, None if win is None else reader.submit(src.read, *win), n))
                held += n

        fill()
        while ahead:
            k, p, r0, r1, fut, n = ahead.popleft()
            waiting.append((k, _cut(src, p, r0, r1, None if fut is None else fut.result(), counter), n))
            while waiting and (held > READ_AHEAD_PIXELS or waiting[0][1].ready()):
                k, st, n = waiting.popleft()
                st.add_to(accs[k])
                held -= n
            fill()
        for k, st, _n in waiting:
            st.add_to(accs[k])
    return [PolygonStats.empty() if a is None else a.stats() for a in accs]


def _strip_tasks(src, geoms, accs: list):
    """(polygon, pieces, r0, r1, read window or None) of every row strip, polygon after polygon;
    appends each polygon's accumulator (None: empty polygon) to ``accs`` as it is cut."""
    for k, g in enumerate(geoms):
        p = pieces(g, src.transform)
        accs.append(None if p is None else _Acc())
        if p is not None:
            for r0, r1 in _row_strips(p):
                yield k, p, r0, r1, _window(src, p, r0, r1)


def _row_strips(p: Pieces):
    step = max(1, MAX_STRIP_PIXELS // max(p.width, 1))
    return [(r0, min(r0 + step, p.height)) for r0 in range(0, p.height, step)]


def _window(src, p: Pieces, r0: int, r1: int) -> tuple[int, int, int, int] | None:
    """The raster window (rows, columns) of a polygon's row strip; None when it lies outside."""
    g_row0 = p.row0 + r0
    ra, rb = max(g_row0, 0), min(g_row0 + (r1 - r0), src.height)
    ca, cb = max(p.col0, 0), min(p.col0 + p.width, src.width)
    return None if ra >= rb or ca >= cb else (ra, rb, ca, cb)


def _cut(src, p: Pieces, r0: int, r1: int, codes, counter) -> _Strip:
    """One row strip of a polygon window with its codes (None outside the raster); the runs of
    uint8 codes are counted on ``counter`` (an executor) or here (None)."""
    sc = strip_cells(p, r0, r1)
    g_row0 = p.row0 + r0
    w_all = src.area.weights(g_row0, g_row0 + (r1 - r0), p.col0, p.col0 + p.width)
    boundary = cells_sum(w_all, sc.row, sc.col, sc.cov)
    compiled = COMPILED and codes is not None and codes.dtype == np.uint8
    if codes is None or not compiled:
        out = _Strip(boundary + strip_runs_sum(w_all, sc, (sc.run_end - sc.run_start).astype("float64")))
        if codes is None:
            return out
    # offset of the read window inside the strip
    lr, lc = max(g_row0, 0) - g_row0, max(p.col0, 0) - p.col0
    h, w = codes.shape
    if compiled:  # the runs' cells inside the raster: their areas come from the counter
        out = _Strip(boundary + _runs_outside(w_all, sc, lr, lc, h, w))
    w_in = sub_weights(w_all, lr, lr + h, lc, lc + w)
    # Boundary cells inside the raster.
    rr, cc = sc.row - lr, sc.col - lc
    ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    rr, cc, cov = rr[ok], cc[ok], sc.cov[ok]
    if cov.size:
        out.cells = (codes[rr, cc], cov * cell_weights(w_in, rr, cc), cov)
    # Interior runs clipped to the raster.
    run_r = sc.run_row - lr
    s = np.clip(sc.run_start - lc, 0, w)
    e = np.clip(sc.run_end - lc, 0, w)
    ok = (run_r >= 0) & (run_r < h) & (e > s)
    run_r, s, e = run_r[ok], s[ok], e[ok]
    if run_r.size and compiled:
        out.run_pixels = float((e - s).sum())
        if counter is None:
            out.areas = run_areas(codes, w_in, [(run_r, s, e)])[0]
        else:
            out.areas = counter.submit(lambda: run_areas(codes, w_in, [(run_r, s, e)])[0])
    elif run_r.size:
        out.numpy_runs = (codes, w_in, run_r, s, e)
    return out


def _runs_outside(w_all, sc, lr: int, lc: int, h: int, w: int) -> float:
    """Area of the fully covered runs' cells outside the read window (strip rows lr..lr+h, window
    columns lc..lc+w): whole runs on rows outside, the parts left and right of it on rows inside.
    Nothing to add (and no pass over the window) when the strip lies inside the raster."""
    row, s, e = sc.run_row, sc.run_start, sc.run_end
    on = (row >= lr) & (row < lr + h)
    rr = np.concatenate([row[~on], row[on], row[on]])
    ss = np.concatenate([s[~on], s[on], np.maximum(s[on], lc + w)])
    ee = np.concatenate([e[~on], np.minimum(e[on], lc), e[on]])
    ok = ee > ss
    return runs_sum(w_all, rr[ok], ss[ok], ee[ok])

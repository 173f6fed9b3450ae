"""Exact code areas of one polygon on a land-cover raster (``polygon_stats``), read window by
window: the polygon is cut at the pixel grid (``zonal.coverage``: boundary cells get their exact
covered fraction, interior cells 1, as exactextract does), then its window is read in row strips
of at most ``MAX_STRIP_PIXELS`` cells and each code's area (``zonal.pixelarea``) summed.
``stats_of_pieces`` takes a polygon already cut (the tiled engine reuses the cut across years).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zonal.cells import add_runs, cell_weights, cells_sum, strip_runs_sum, sub_weights
from zonal.coverage import Pieces, pieces, strip_cells
from zonal.histogram import Histogram
from zonal.rastersource import LandcoverRaster

MAX_STRIP_PIXELS = 4_000_000  # cells held at once per polygon (row strips beyond this)


@dataclass
class PolygonStats:
    codes: dict[int, float]  # code -> m² (nodata codes included; caller separates them)
    total_m2: float  # polygon area integrated over the raster grid (inside + outside)
    outside_m2: float  # part of the polygon outside the raster extent
    pixels: float  # coverage-weighted raster cells inside the raster

    @classmethod
    def empty(cls):
        return cls({}, 0.0, 0.0, 0.0)


def polygon_stats(src: LandcoverRaster, geom) -> PolygonStats:
    """Exact area of each code inside one polygon given in the raster's CRS."""
    return stats_of_pieces(src, pieces(geom, src.transform))


def stats_of_pieces(src: LandcoverRaster, p: Pieces | None) -> PolygonStats:
    """``polygon_stats`` of a polygon already cut at the grid (the tiled engine reuses the cut
    across years)."""
    if p is None:
        return PolygonStats.empty()
    hist = Histogram()
    total = inside = pixels = 0.0
    step = max(1, MAX_STRIP_PIXELS // max(p.width, 1))
    for r0 in range(0, p.height, step):
        t, i, n = _strip(src, p, r0, min(r0 + step, p.height), hist)
        total, inside, pixels = total + t, inside + i, pixels + n
    return PolygonStats(hist.as_dict(), total, max(total - inside, 0.0), pixels)


def _strip(src, p: Pieces, r0: int, r1: int, hist: Histogram) -> tuple[float, float, float]:
    """Accumulate one row strip of a polygon window; returns (total, inside, pixels)."""
    sc = strip_cells(p, r0, r1)
    g_row0 = p.row0 + r0
    w_all = src.area.weights(g_row0, g_row0 + (r1 - r0), p.col0, p.col0 + p.width)
    run_len = (sc.run_end - sc.run_start).astype("float64")
    total = cells_sum(w_all, sc.row, sc.col, sc.cov) + strip_runs_sum(w_all, sc, run_len)
    # Intersection of the strip with the raster.
    ra, rb = max(g_row0, 0), min(g_row0 + (r1 - r0), src.height)
    ca, cb = max(p.col0, 0), min(p.col0 + p.width, src.width)
    if ra >= rb or ca >= cb:
        return total, 0.0, 0.0
    lr, lc = ra - g_row0, ca - p.col0  # offset of the read window inside the strip
    h, w = rb - ra, cb - ca
    codes = src.read(ra, rb, ca, cb)
    w_in = sub_weights(w_all, lr, lr + h, lc, lc + w)
    inside = pixels = 0.0
    # Boundary cells inside the raster.
    rr, cc = sc.row - lr, sc.col - lc
    ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    rr, cc, cov = rr[ok], cc[ok], sc.cov[ok]
    if cov.size:
        wb = cov * cell_weights(w_in, rr, cc)
        hist.add(codes[rr, cc], wb)
        inside += wb.sum()
        pixels += cov.sum()
    # Interior runs clipped to the raster.
    run_r = sc.run_row - lr
    s = np.clip(sc.run_start - lc, 0, w)
    e = np.clip(sc.run_end - lc, 0, w)
    ok = (run_r >= 0) & (run_r < h) & (e > s)
    run_r, s, e = run_r[ok], s[ok], e[ok]
    if run_r.size:
        inside_i, pixels_i = add_runs(codes, w_in, run_r, s, e, hist)
        inside += inside_i
        pixels += pixels_i
    return total, inside, pixels

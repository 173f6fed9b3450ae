"""Exact fraction of each raster cell covered by a polygon (the exactextract quantity).

Method (Green's theorem, fully vectorised): in pixel coordinates (u = column, v = row) the
area of polygon P inside row strip r and left of the line u = X is
``A_r(X) = sum over boundary pieces in the strip of  integral min(u - X, 0) dv``
(exterior rings counter-clockwise, holes clockwise). Cutting every ring edge at the integer
grid lines makes each piece lie inside one cell (r, c); such a piece adds
``(u_mid - (c + 1)) * dv`` to its own cell and ``-dv`` to every cell right of it in the row.
The second term is a cumulative sum along the row, so the whole coverage grid costs
O(boundary crossings) + one cumsum over the window. No polygon clipping, exact to rounding
(pixel-aligned shapes give exactly 0 and 1). Rows are independent, so large polygons are
processed in row strips without ever holding the full window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine

from core.errors import InputError


@dataclass(frozen=True)
class Pieces:
    """Boundary pieces of a polygon cut at the pixel grid, in window-local cells, sorted by row."""

    row0: int  # window origin in raster pixel indices (may be negative / beyond the raster)
    col0: int
    height: int
    width: int
    row: np.ndarray  # int64, window-local row of each piece
    col: np.ndarray  # int64, window-local column
    own: np.ndarray  # float64, contribution to its own cell
    dv: np.ndarray  # float64, dv of the piece (cells to the right get -dv)

    def strip(self, r0: int, r1: int) -> np.ndarray:
        """Coverage fractions (r1 - r0, width) for window-local rows [r0, r1)."""
        lo, hi = np.searchsorted(self.row, [r0, r1])
        h, w = r1 - r0, self.width
        rows = self.row[lo:hi] - r0
        col = self.col[lo:hi]
        own = self.own[lo:hi]
        # One cumulative sum along rows: +own at the piece's cell, -(own + dv) one cell right
        # (the piece adds own to its cell and -dv to every cell right of it).
        w1 = w + 1
        flat = np.concatenate([rows * w1 + col, rows * w1 + col + 1])
        vals = np.concatenate([own, -own - self.dv[lo:hi]])
        cov = np.bincount(flat, weights=vals, minlength=h * w1).reshape(h, w1)
        cov = np.cumsum(cov[:, :w], axis=1)
        np.clip(cov, 0.0, 1.0, out=cov)
        return cov


@dataclass(frozen=True)
class StripCells:
    """Boundary cells with exact fractions, and fully covered runs, of rows [r0, r1)."""

    row: np.ndarray  # window-local rows of boundary cells
    col: np.ndarray
    cov: np.ndarray  # exact coverage fraction of each boundary cell
    run_row: np.ndarray  # fully covered runs: row, first column, end column (exclusive)
    run_start: np.ndarray
    run_end: np.ndarray


def strip_cells(p: "Pieces", r0: int, r1: int) -> StripCells:
    """Sparse form of ``Pieces.strip``: boundary cells and interior runs (cost ~ boundary).

    Cells no boundary piece enters are fully inside or outside; walking each row left to right
    the coverage just after a boundary cell (0 or 1) tells which.
    """
    lo, hi = np.searchsorted(p.row, [r0, r1])
    row, col, own, dv = p.row[lo:hi], p.col[lo:hi], p.own[lo:hi], p.dv[lo:hi]
    key = row * p.width + col
    order = np.argsort(key, kind="stable")
    key, own, dv = key[order], own[order], dv[order]
    if key.size == 0:
        e = np.empty(0, np.int64)
        return StripCells(e, e, np.empty(0), e, e, e)
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ukey = key[first]
    own_c = np.add.reduceat(own, first)
    ndv_c = -np.add.reduceat(dv, first)
    crow, ccol = np.divmod(ukey, p.width)
    incl = np.cumsum(ndv_c)
    row_first = np.r_[True, crow[1:] != crow[:-1]]
    base_idx = np.maximum.accumulate(np.where(row_first, np.arange(crow.size), 0))
    base = incl[base_idx] - ndv_c[base_idx]
    incl_row = incl - base
    cov = np.clip(incl_row - ndv_c + own_c, 0.0, 1.0)
    same_row_next = np.r_[crow[1:] == crow[:-1], False]
    nxt = np.where(same_row_next, np.r_[ccol[1:], 0], p.width)
    is_run = (incl_row > 0.5) & (nxt > ccol + 1)
    return StripCells(crow - r0, ccol, cov, crow[is_run] - r0, ccol[is_run] + 1, nxt[is_run])


def _edges(geom_pixel) -> np.ndarray:
    """(n, 4) array x0, y0, x1, y1 of every ring edge, exteriors CCW and holes CW."""
    polys = shapely.get_parts(geom_pixel)
    polys = shapely.orient_polygons(polys, exterior_cw=False)
    rings = np.concatenate([shapely.get_rings(p) for p in polys]) if len(polys) else np.empty(0, object)
    xy, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[:-1] == idx[1:]
    return np.column_stack([xy[:-1][same], xy[1:][same]])


def _split_params(a0: np.ndarray, a1: np.ndarray):
    """Edge index, parameter t and grid value k of every crossing of an integer grid line strictly inside."""
    lo = np.minimum(a0, a1)
    hi = np.maximum(a0, a1)
    first = np.floor(lo) + 1.0
    n = np.maximum(np.ceil(hi) - first, 0).astype(np.int64)
    edge = np.repeat(np.arange(len(a0)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.repeat(first, n) + (np.arange(edge.size) - start)
    d = (a1 - a0)[edge]
    t = (k - a0[edge]) / d
    return edge, t, k


def _apply(t: Affine, xy: np.ndarray):
    x, y = xy[:, 0], xy[:, 1]
    return t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f


def pieces(geom, transform: Affine) -> Pieces | None:
    """Cut a polygon (in the raster CRS) at the pixel grid of ``transform``.

    Returns None for an empty geometry. The window is the polygon's pixel bounding box; it may
    extend beyond the raster (callers treat cells outside as no data).
    """
    if geom is None or shapely.is_empty(geom):
        return None
    inv = ~transform
    g = shapely.transform(geom, lambda xy: np.column_stack(_apply(inv, xy)))
    umin, vmin, umax, vmax = shapely.bounds(g)
    if not np.isfinite([umin, vmin, umax, vmax]).all():
        raise InputError("多边形无法转换到栅格的坐标参考系（请检查其坐标参考系）",
                         "a polygon could not be transformed to the raster's CRS (check its CRS)")
    col0, row0 = int(np.floor(umin)), int(np.floor(vmin))
    width = max(int(np.ceil(umax)) - col0, 1)
    height = max(int(np.ceil(vmax)) - row0, 1)
    e = _edges(g)
    x0, y0, x1, y1 = e[:, 0] - col0, e[:, 1] - row0, e[:, 2] - col0, e[:, 3] - row0
    ex, tx, kx = _split_params(x0, x1)
    ey, ty, ky = _split_params(y0, y1)
    n = len(x0)
    dx, dy = x1 - x0, y1 - y0
    # Points along each edge: vertices, then grid crossings (the crossed coordinate is exact).
    edge = np.concatenate([np.arange(n), np.arange(n), ex, ey])
    t = np.concatenate([np.zeros(n), np.ones(n), tx, ty])
    px = np.concatenate([x0, x1, kx, x0[ey] + ty * dx[ey]])
    py = np.concatenate([y0, y1, y0[ex] + tx * dy[ex], ky])
    order = np.lexsort((t, edge))
    edge, px, py = edge[order], px[order], py[order]
    same = edge[:-1] == edge[1:]
    xa, xb = px[:-1][same], px[1:][same]
    ya, yb = py[:-1][same], py[1:][same]
    dv = yb - ya
    um = 0.5 * (xa + xb)
    vm = 0.5 * (ya + yb)
    col = np.clip(np.floor(um).astype(np.int64), 0, width - 1)
    row = np.clip(np.floor(vm).astype(np.int64), 0, height - 1)
    own = (um - (col + 1)) * dv
    order = np.argsort(row, kind="stable")
    return Pieces(row0, col0, height, width, row[order], col[order], own[order], dv[order])


def coverage(geom, transform: Affine) -> tuple[np.ndarray, int, int]:
    """Full coverage grid of a (small) polygon: (fractions, row0, col0)."""
    p = pieces(geom, transform)
    if p is None:
        return np.zeros((0, 0)), 0, 0
    return p.strip(0, p.height), p.row0, p.col0

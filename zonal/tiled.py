"""Tiled planning and kernels: exact per-polygon code areas over rasters of any size, one task per
work tile (``zonal.distributed`` runs the tasks on Dask; ``run_task`` here is the task).

Planning (on the client, ``plan``):

- Polygons are reprojected to the raster's CRS (as ``landcover.zonal_codes`` does) and get their
  pixel window (the bounding box ``coverage.pieces`` uses).
- Work tiles are aligned to the source's own tiles: a VRT's source tiles when they form a regular
  grid (national WorldCover/CLCD tile sets), otherwise whole internal blocks of the file (about
  ``TILE_SIDE`` pixels a side). A task never reads more than ``core.limits.MAX_RASTER_PIXELS``.
  The tiles of the first/last row and column extend without end beyond the raster, so every cell
  of the plane belongs to exactly one tile (parts of a polygon outside the raster are accounted).
- A **small** polygon (window no larger than a tile) goes whole to the task of the tile holding
  its window's top-left corner and is computed by the existing kernel
  (``landcover.polygon_stats``): numbers bit-identical to the single-process path.
- A **large** polygon (window larger than a tile; or every unit with ``split="all"``, the zone
  statistics) is split by tile: its boundary pieces are cut once in global pixel coordinates
  (``coverage.pieces``, identical in every task), each task takes the cells of its tile, and the
  partial code histograms are added on the client in a fixed (polygon, tile) order, so the
  result never depends on scheduling (≤ 1e-12 relative to the unsplit path: only the order of
  additions differs).

Kernel for split polygons (``_tile_units``): the tile is read once in row bands for all units
crossing it. Boundary cells get their exact coverage fraction; fully covered runs of all units are
painted into one label image and counted with one ``bincount`` of (label, code) (row, label, code
for per-row pixel areas), so a raster block is decoded once and touched by a handful of passes
whatever the number of units. A band fully inside one unit is counted with the byte-pair counter.
"""
from __future__ import annotations

import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

from core import limits
from core.errors import InputError
from zonal import distributed
from zonal.coverage import Pieces, pieces, strip_cells
from zonal.landcover import (  # the kernel's helpers, shared
    MASKED,
    Histogram,
    LandcoverRaster,
    PolygonStats,
    ZonalResult,
    _gather,
    _geoseries,
    _runs,
    _sub,
    polygon_stats,
    stats_of_pieces,
)
from zonal.landcover import _wsum as _cells_sum
from zonal.tileresult import Partial, TaskResult  # noqa: F401 - shared with zonal.distributed
from layers import fileid
from layers.legends import Legend, get_legend
from layers.readers.raster import open_raster, vrt_sources

ALGO_VERSION = "tiled-4"  # part of every cache key: bump when the numbers change
TILE_SIDE = 8192  # work-tile side (pixels) for a single file: whole internal blocks
BAND_PIXELS = 4_000_000  # cells read at once inside a task (row bands of the tile)
_FAR = 1 << 62  # outer tiles extend to "infinity"


# --- the tile grid -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TileGrid:
    """A regular grid of work tiles over the raster's pixel grid (origin at pixel 0, 0)."""

    width: int
    height: int
    tile_w: int
    tile_h: int
    source: str  # "vrt-tiles" or "blocks"

    @property
    def ncols(self) -> int:
        return max(1, -(-self.width // self.tile_w))

    @property
    def nrows(self) -> int:
        return max(1, -(-self.height // self.tile_h))

    def __len__(self) -> int:
        return self.ncols * self.nrows

    def window(self, t: int) -> tuple[int, int, int, int]:
        """(row0, row1, col0, col1) of tile ``t`` inside the raster."""
        i, j = divmod(t, self.ncols)
        return (i * self.tile_h, min((i + 1) * self.tile_h, self.height),
                j * self.tile_w, min((j + 1) * self.tile_w, self.width))

    def span(self, t: int) -> tuple[int, int, int, int]:
        """Like ``window`` but outer tiles extend without end (cells outside the raster)."""
        i, j = divmod(t, self.ncols)
        r0 = -_FAR if i == 0 else i * self.tile_h
        r1 = _FAR if i == self.nrows - 1 else (i + 1) * self.tile_h
        c0 = -_FAR if j == 0 else j * self.tile_w
        c1 = _FAR if j == self.ncols - 1 else (j + 1) * self.tile_w
        return r0, r1, c0, c1

    def tile_of(self, row: int, col: int) -> int:
        i = min(max(row, 0), self.height - 1) // self.tile_h
        j = min(max(col, 0), self.width - 1) // self.tile_w
        return int(i * self.ncols + j)

    def tiles_over(self, r0: int, r1: int, c0: int, c1: int) -> list[int]:
        """Tiles whose span meets the pixel window [r0, r1) × [c0, c1)."""
        i0 = min(max(r0, 0), self.height - 1) // self.tile_h
        i1 = min(max(r1 - 1, 0), self.height - 1) // self.tile_h
        j0 = min(max(c0, 0), self.width - 1) // self.tile_w
        j1 = min(max(c1 - 1, 0), self.width - 1) // self.tile_w
        return [i * self.ncols + j for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]


def tile_grid(raster, tile_side: int | None = None) -> TileGrid:
    """Work tiles aligned to the raster's own tiles (see module docstring)."""
    with open_raster(raster) as ds:  # a GeoTIFF or a checked VRT: GDAL never guesses
        width, height = ds.width, ds.height
        bh, bw = (int(v) for v in ds.block_shapes[0])
        sources = vrt_sources(ds) if ds.driver == "VRT" else None
    tw = th = None
    kind = "blocks"
    if sources and tile_side is None:
        sw, sh = sources[0].width, sources[0].height
        if sw > 0 and sh > 0 and all(s.width == sw and s.height == sh and s.x % sw == 0 and s.y % sh == 0
                                     for s in sources):
            tw, th, kind = sw, sh, "vrt-tiles"
    if tw is None:
        side = tile_side or TILE_SIDE
        tw = bw * max(1, side // bw) if bw < width else width
        th = bh * max(1, side // bh) if bh < height else height
        if tw == width and bw >= width:  # a striped file: full-width tiles of whole strips
            th = max(bh, (side * side // max(width, 1)) // bh * bh)
    while tw * th > limits.MAX_RASTER_PIXELS:  # what one task reads stays within the limit
        if tw >= th:
            tw = max(bw, (tw // 2) // bw * bw) if bw < tw else tw // 2
        else:
            th = max(bh, (th // 2) // bh * bh) if bh < th else th // 2
    return TileGrid(width, height, max(1, min(tw, width)), max(1, min(th, height)), kind)


# --- planning ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One work tile: small polygons computed whole, large polygons' parts inside the tile."""

    raster: str
    tile: int
    window: tuple[int, int, int, int]
    span: tuple[int, int, int, int]
    small: tuple[tuple[int, bytes], ...]  # (polygon index, WKB in the raster CRS)
    large: tuple[tuple[int, bytes], ...]
    key: str = ""  # cache key: tile, raster fingerprint, algorithm version, polygons
    years: tuple[str, ...] = ()  # later land-cover years on the same grid: transitions per step
    pixel_area: str = "ground"  # cell areas: ground (true) or nominal (|det|, InVEST): landcover.PixelArea

    @property
    def size(self) -> int:
        return len(self.small) + len(self.large)


@dataclass
class Plan:
    raster: str
    grid: TileGrid
    tasks: list[Task]
    n: int  # polygons
    split: np.ndarray  # bool per polygon: computed by tile parts
    crs: pyproj.CRS
    fingerprint: str
    pixels: int = 0  # cells of the polygon windows inside the raster (work estimate)

    # the runner (``zonal.distributed.run_plan``) takes the task function from the plan: it
    # never imports this module, which imports it
    @staticmethod
    def run_task(task: Task) -> TaskResult:
        return run_task(task)

    @staticmethod
    def clear_caches() -> None:
        clear_caches()


def raster_fingerprint(raster) -> str:
    """Cheap identity of a raster's content: its file's fingerprint (size, modification and change
    time, inode, device: ``layers.fileid``, so an edit with size and mtime put back is seen), and
    for a VRT its XML and the fingerprint of every source (hashing ~10¹⁰ pixels of tiles would
    take minutes)."""
    p = Path(raster).resolve()
    h = hashlib.sha256(str(p).encode())
    h.update(fileid.text(fileid.fingerprint(p)).encode())
    sources = vrt_sources(p) if p.suffix.lower() == ".vrt" else None
    if sources is not None:
        h.update(p.read_bytes())
        for s in sources:
            try:
                h.update(f"{s.path}:{fileid.text(fileid.fingerprint(s.path))}".encode())
            except OSError:
                h.update(s.path.encode())
    return h.hexdigest()


def _pixel_windows(local_geoms, transform) -> np.ndarray:
    """(n, 4) row0, row1, col0, col1 of each polygon's pixel window (as ``coverage.pieces``)."""
    inv = ~transform
    out = np.zeros((len(local_geoms), 4), np.int64)
    for i, g in enumerate(local_geoms):
        if g is None or shapely.is_empty(g):
            continue
        gp = shapely.transform(g, lambda xy: np.column_stack([inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c,
                                                               inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f]))
        umin, vmin, umax, vmax = shapely.bounds(gp)
        if not np.isfinite([umin, vmin, umax, vmax]).all():
            raise InputError("多边形无法转换到栅格的坐标参考系（请检查其坐标参考系）",
                             "a polygon could not be transformed to the raster's CRS (check its CRS)")
        c0, r0 = int(np.floor(umin)), int(np.floor(vmin))
        out[i] = (r0, r0 + max(int(np.ceil(vmax)) - r0, 1), c0, c0 + max(int(np.ceil(umax)) - c0, 1))
    return out


def plan(polygons, raster, split: str = "auto", tile_side: int | None = None, years=(),
         pixel_area: str = "ground") -> Plan:
    """Tasks for ``polygons`` (GeoSeries/GeoDataFrame with a CRS) over ``raster``.

    ``split``: "auto" (polygons larger than a tile are split), "all" (every polygon split: zone
    statistics, one read of each tile for all units) or "none" (every polygon whole).
    ``years``: further rasters on the same grid (multi-year: see ``zonal_transitions``)."""
    geoms = _geoseries(polygons)
    raster = str(raster)
    years = tuple(str(y) for y in years)
    with LandcoverRaster(raster) as src:  # the engine's checks (tile-aware limits)
        crs, transform = src.crs, src.transform
        for y in years:
            with LandcoverRaster(y) as other:
                _same_grid(src, other)
    local = geoms.to_crs(crs) if not pyproj.CRS(geoms.crs).equals(crs) else geoms
    grid = tile_grid(raster, tile_side)
    values = list(local.values)
    win = _pixel_windows(values, transform)
    wkb = [shapely.to_wkb(g) if g is not None and not shapely.is_empty(g) else None for g in values]
    small: dict[int, list] = {}
    large: dict[int, list] = {}
    is_split = np.zeros(len(values), bool)
    pixels = 0
    for i, (r0, r1, c0, c1) in enumerate(win.tolist()):
        if wkb[i] is None:
            continue
        big = (r1 - r0) > grid.tile_h or (c1 - c0) > grid.tile_w
        if not (split == "all" or (split == "auto" and big)):
            pixels += max(0, min(r1, grid.height) - max(r0, 0)) * max(0, min(c1, grid.width) - max(c0, 0))
        if split == "all" or (split == "auto" and big):
            is_split[i] = True
            for t in grid.tiles_over(r0, r1, c0, c1):
                large.setdefault(t, []).append((i, wkb[i]))
        else:
            small.setdefault(grid.tile_of(r0, c0), []).append((i, wkb[i]))
    for t in large:  # split polygons: each tile is read once for all of them
        r0, r1, c0, c1 = grid.window(t)
        pixels += (r1 - r0) * (c1 - c0)
    fp = "|".join(raster_fingerprint(r) for r in (raster,) + years)
    tasks = []
    for t in sorted(set(small) | set(large)):
        s, lg = tuple(small.get(t, ())), tuple(large.get(t, ()))
        h = hashlib.sha256(f"{ALGO_VERSION}|{fp}|{grid}|{t}|{pixel_area}".encode())
        for kind, items in (("s", s), ("l", lg)):
            for i, b in items:
                h.update(f"{kind}{i}:".encode())
                h.update(hashlib.sha256(b).digest())
        tasks.append(Task(raster, t, grid.window(t), grid.span(t), s, lg, h.hexdigest(), years, pixel_area))
    return Plan(raster, grid, tasks, len(values), is_split, crs, fp, pixels)


# --- the task (its result, ``Partial``/``TaskResult``: zonal.tileresult) ----------------------
_PIECES: dict[tuple, Pieces | None] = {}  # per process: a unit crossing many tiles is cut once
_PIECES_MAX_BYTES = 256 * 2**20


def _pieces_cached(wkb: bytes, transform) -> Pieces | None:
    key = (hashlib.sha1(wkb).digest(), tuple(transform)[:6])
    p = _PIECES.get(key)
    if p is None and key not in _PIECES:
        p = pieces(shapely.from_wkb(wkb), transform)
        size = lambda q: 0 if q is None else q.row.nbytes * 4
        while _PIECES and sum(size(q) for q in _PIECES.values()) + size(p) > _PIECES_MAX_BYTES:
            _PIECES.pop(next(iter(_PIECES)), None)
        _PIECES[key] = p
    return p


def clear_caches() -> None:
    """Drop the cut polygons kept between tasks (the end of a run in this process)."""
    _PIECES.clear()


def run_task(task: Task) -> TaskResult:
    """Compute one task (runs in a Dask worker, or in this process)."""
    if task.years:
        return _run_years(task)
    out = TaskResult(task.tile)
    src = _worker_raster(task.raster, task.pixel_area)
    with (LandcoverRaster(task.raster, None, task.pixel_area) if src is None else _nullcontext(src)) as src:
        for i, b in task.small:
            st = polygon_stats(src, shapely.from_wkb(b))
            out.parts[i] = Partial(st.codes, st.total_m2, st.total_m2 - st.outside_m2, st.pixels, st.outside_m2)
        if task.large:
            units = [(i, _pieces_cached(b, src.transform)) for i, b in task.large]
            out.parts.update(_tile_units(src, task.span, [(i, p) for i, p in units if p is not None]))
    return out


_OPEN: dict[tuple, LandcoverRaster] = {}  # in a Dask worker: rasters stay open between tasks


def _worker_raster(path: str, pixel_area: str = "ground") -> LandcoverRaster | None:
    """The open raster of a Dask worker process (opening a national VRT and checking its tiles
    takes ~5 ms a task); None outside a worker (this process never keeps files open)."""
    if "distributed" not in sys.modules:  # a Dask worker has it loaded; importing it costs ~0.3 s
        return None
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return None
    key = (str(path), *fileid.fingerprint(path), pixel_area)
    if key not in _OPEN:
        while len(_OPEN) >= 4:
            _OPEN.pop(next(iter(_OPEN))).__exit__(None, None, None)
        _OPEN[key] = LandcoverRaster(path, None, pixel_area).__enter__()
    return _OPEN[key]


class _nullcontext:
    def __init__(self, v):
        self.v = v

    def __enter__(self):
        return self.v

    def __exit__(self, *exc):
        return False


def _same_grid(a, b) -> None:
    if (a.width, a.height) != (b.width, b.height) or tuple(a.transform)[:6] != tuple(b.transform)[:6] \
            or not a.crs.equals(b.crs):
        raise InputError(f"土地覆盖年份 {b.path.name} 与 {a.path.name} 不在同一格网上（范围、像元或坐标系不同）",
                         f"land-cover year {b.path.name} is not on the grid of {a.path.name} "
                         "(extent, pixel size or CRS differ)")


PAIR = 1 << 21  # transition code = code_from * PAIR + code_to
NO_CODE = PAIR - 1  # a cell hidden by the mask band of one year only: "no data" on that side


class _PairRaster:
    """Two land-cover years on one grid seen as one raster of transition codes
    (``from * PAIR + to``). A cell masked (mask band) in one year only has ``NO_CODE`` on that
    side, so it still counts for the other year; masked in both, it is masked."""

    def __init__(self, a: LandcoverRaster, b: LandcoverRaster):
        self.a, self.b = a, b
        self.transform, self.width, self.height, self.area, self._ds = a.transform, a.width, a.height, a.area, a._ds
        # each year's nodata value (often negative in int16 files, e.g. -9999) becomes NO_CODE on its side
        self._nodata = [int(r.nodata) if r.nodata is not None and float(r.nodata).is_integer() else None
                        for r in (a, b)]

    def read(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        raw_a = self.a.read(row0, row1, col0, col1)
        raw_b = self.b.read(row0, row1, col0, col1)
        ca, cb = raw_a.astype(np.int64), raw_b.astype(np.int64)
        ma, mb = ca == MASKED, cb == MASKED
        for raw, c, m, nod in ((raw_a, ca, ma, self._nodata[0]), (raw_b, cb, mb, self._nodata[1])):
            none = m | (c == nod) if nod is not None else m
            if raw.dtype.kind != "u" or raw.dtype.itemsize > 2:  # only uint8/16 codes always fit
                bad = ~none & ((c < 0) | (c >= NO_CODE))
                if bad.any():
                    raise InputError(f"多年统计的类别代码须在 0 到 {NO_CODE - 1} 之间（发现 {c[bad][0]}）",
                                     f"multi-year class codes must be between 0 and {NO_CODE - 1} (found {c[bad][0]})")
            c[none] = NO_CODE
        out = ca * PAIR + cb
        out[ma & mb] = MASKED
        return out


def _run_years(task: Task) -> TaskResult:
    """All consecutive year pairs of one tile; each polygon is cut at the grid once."""
    from contextlib import ExitStack

    out = TaskResult(task.tile)
    with ExitStack() as stack:
        srcs = [stack.enter_context(LandcoverRaster(r, None, task.pixel_area)) for r in (task.raster,) + task.years]
        small = [(i, _pieces_cached(b, srcs[0].transform)) for i, b in task.small]
        large = [(i, _pieces_cached(b, srcs[0].transform)) for i, b in task.large]
        for k in range(len(srcs) - 1):
            pair = _PairRaster(srcs[k], srcs[k + 1])
            parts = out.step(k)
            for i, p in small:
                st = stats_of_pieces(pair, p)
                parts[i] = Partial(st.codes, st.total_m2, st.total_m2 - st.outside_m2, st.pixels, st.outside_m2)
            if large:
                parts.update(_tile_units(pair, task.span, [(i, p) for i, p in large if p is not None]))
    return out


class _Acc:
    __slots__ = ("hist", "inside", "pixels", "total")

    def __init__(self):
        self.hist = Histogram()
        self.total = self.inside = self.pixels = 0.0


def _tile_units(src, span, units: list[tuple[int, Pieces]]) -> dict[int, Partial]:
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
    bh = src._ds.block_shapes[0][0]
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
    w_in = _sub(w_all, lr, lr + h, lc, lc + w) if codes is not None else None
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
        a.total += _cells_sum(w_all, brow, bcol, cov) + _runs_sum(w_all, rrow, rs, re)
        if codes is None:
            continue
        # boundary cells inside the raster
        rr, cc = brow - lr, bcol - lc
        ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        rr, cc, cv = rr[ok], cc[ok], cov[ok]
        if cv.size:
            wb = cv * _gather(w_in, rr, cc)
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
        acc[i].inside += _runs_sum(w_in, rr, s, e)
    if codes.dtype == np.uint8:  # compiled: one visit per cell
        from zonal import kernels  # here, not at the top: numba costs ~0.2 s at start-up

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
        _runs(codes, w_in, rr, s, e, acc[i].hist)


def _aligned_weights(src, r0, r1, c0, c1):
    """Projected (non equal-area) pixel areas sampled on a global 32-pixel grid, so a cell's area
    does not depend on which band or tile asks for it."""
    s = 32
    a0, b0 = (r0 // s) * s, (c0 // s) * s
    full = src.area.weights(a0, r1, b0, c1)
    return full[r0 - a0:, c0 - b0:]


def _runs_sum(w, rr, s, e) -> float:
    if rr.size == 0:
        return 0.0
    lengths = (e - s).astype("float64")
    if np.isscalar(w):
        return float(lengths.sum() * w)
    if w.shape[1] == 1:
        return float((lengths * w[rr, 0]).sum())
    cs = np.concatenate([np.zeros((w.shape[0], 1)), np.cumsum(w, axis=1)], axis=1)
    return float((cs[rr, e] - cs[rr, s]).sum())


# --- merging -----------------------------------------------------------------------------------
def merge(plan_: Plan, results: dict[int, TaskResult], step: int = 0) -> list[PolygonStats]:
    """Per-polygon stats: whole polygons as computed, split ones summed in (polygon, tile) order."""
    stats: list[PolygonStats | None] = [None] * plan_.n
    parts: dict[int, list[tuple[int, Partial]]] = {}
    for t in sorted(results):
        for i, part in results[t].step(step).items():
            if plan_.split[i]:
                parts.setdefault(i, []).append((t, part))
            else:
                stats[i] = PolygonStats(part.codes, part.total_m2, part.outside_m2, part.pixels)
    for i, plist in parts.items():
        codes: dict[int, float] = {}
        total = inside = pix = 0.0
        for _, part in sorted(plist, key=lambda tp: tp[0]):
            total += part.total_m2
            inside += part.inside_m2
            pix += part.pixels
            for k, v in part.codes.items():
                codes[k] = codes.get(k, 0.0) + v
        stats[i] = PolygonStats(codes, total, max(total - inside, 0.0), pix)
    return [s if s is not None else PolygonStats.empty() for s in stats]


def zonal_result(stats: list[PolygonStats], index, nodata_codes: set[int], crs) -> ZonalResult:
    """The ``ZonalResult`` of ``landcover.zonal_codes`` from per-polygon stats (same construction)."""
    rows = []
    nod = np.zeros(len(stats))
    for i, st in enumerate(stats):
        rows.append({k: v for k, v in st.codes.items() if k not in nodata_codes})
        nod[i] = sum(v for k, v in st.codes.items() if k in nodata_codes) + st.outside_m2
    code_m2 = pd.DataFrame(rows, index=index).fillna(0.0)
    code_m2 = code_m2.reindex(columns=sorted(code_m2.columns))
    return ZonalResult(code_m2, np.array([s.total_m2 for s in stats]), nod,
                       np.array([s.outside_m2 for s in stats]), np.array([s.pixels for s in stats]), crs)


def zonal_codes(polygons, raster, legend: Legend | str | None = None, *, split: str = "auto",
                scheduler: str | None = None, workers: int | None = None, cache_dir=None,
                progress=None, tile_side: int | None = None, run_info: dict | None = None,
                announce=None, pixel_area: str = "ground") -> ZonalResult:
    """``landcover.zonal_codes`` on the tiled engine: same result (whole polygons bit-identical,
    split ones within ~1e-12 relative), any raster size, any scheduler (``zonal.distributed``).
    ``run_info`` (a dict) receives the run's counters: tasks, computed, cached, scheduler."""
    legend = get_legend(legend) if legend is not None else None
    geoms = _geoseries(polygons)
    p = plan(geoms, raster, split=split, tile_side=tile_side, pixel_area=pixel_area)
    results = distributed.run_plan(p, scheduler=scheduler, workers=workers, cache_dir=cache_dir,
                                   progress=progress, info=run_info, announce=announce)
    with LandcoverRaster(raster, legend, pixel_area) as src:
        nodata_codes = src.nodata_codes()
    return zonal_result(merge(p, results), geoms.index, nodata_codes, p.crs)


@dataclass
class YearsResult:
    """Multi-year statistics: ``areas`` (unit, year, code, area_m2 — each year's valid codes) and
    ``transitions`` (unit, year_from, year_to, code_from, code_to, area_m2 — cells valid in both
    years); ``unit`` is the position of the polygon in the input."""

    areas: pd.DataFrame
    transitions: pd.DataFrame
    total_m2: np.ndarray
    # every code pair with area, the cells with data in one year only included (their other side
    # is that year's nodata code, or NO_CODE when its mask band hid the cell)
    pairs: pd.DataFrame | None = None


def zonal_transitions(polygons, rasters, years=None, legend: Legend | str | None = None, *, split: str = "auto",
                      scheduler: str | None = None, workers: int | None = None, cache_dir=None, progress=None,
                      tile_side: int | None = None, run_info: dict | None = None,
                      pixel_area: str = "ground") -> YearsResult:
    """Several land-cover years on one grid in one pass per tile: class areas per unit per year and
    the transitions between consecutive years. Each polygon is cut at the pixel grid once per task
    and reused for every year; a year's areas are the margins of its transitions (exact)."""
    rasters = [str(r) for r in rasters]
    if len(rasters) < 2:
        raise InputError("多年统计至少需要两个年份的土地覆盖栅格", "multi-year statistics need at least two land-cover years")
    years = list(years) if years is not None else list(range(len(rasters)))
    legend = get_legend(legend) if legend is not None else None
    geoms = _geoseries(polygons)
    p = plan(geoms, rasters[0], split=split, tile_side=tile_side, years=rasters[1:], pixel_area=pixel_area)
    results = distributed.run_plan(p, scheduler=scheduler, workers=workers, cache_dir=cache_dir,
                                   progress=progress, info=run_info)
    nod = []
    for r in rasters:
        with LandcoverRaster(r, legend) as src:
            nod.append(src.nodata_codes() | {NO_CODE})
    area_rows, trans_rows, total = [], [], None
    for k in range(len(rasters) - 1):
        stats = merge(p, results, step=k)
        if total is None:
            total = np.array([s.total_m2 for s in stats])
        for u, st in enumerate(stats):
            for code, m2 in st.codes.items():
                if code == MASKED:
                    continue
                a, b = divmod(code, PAIR)
                trans_rows.append((u, years[k], years[k + 1], a, b, m2))
    tr = pd.DataFrame(trans_rows, columns=["unit", "year_from", "year_to", "code_from", "code_to", "area_m2"])
    for k, y in enumerate(years):  # margins: year k from step k (as "from"), the last year as "to"
        sub = tr[tr["year_from"] == y] if k < len(years) - 1 else tr[tr["year_to"] == y]
        col = "code_from" if k < len(years) - 1 else "code_to"
        g = sub[~sub[col].isin(nod[k])].groupby(["unit", col], sort=True)["area_m2"].sum()
        for (u, code), m2 in g.items():
            area_rows.append((u, y, code, m2))
    areas = pd.DataFrame(area_rows, columns=["unit", "year", "code", "area_m2"])
    valid = np.ones(len(tr), bool)
    for k in range(len(years) - 1):
        at = (tr["year_from"] == years[k]).to_numpy()
        valid[at] &= ~tr["code_from"][at].isin(nod[k]).to_numpy() & ~tr["code_to"][at].isin(nod[k + 1]).to_numpy()
    order = ["year_from", "unit", "code_from", "code_to"]
    pairs = tr[(tr["area_m2"] != 0).to_numpy()].sort_values(order).reset_index(drop=True)
    tr = tr[valid & (tr["area_m2"] != 0).to_numpy()].sort_values(order)
    return YearsResult(areas.reset_index(drop=True), tr.reset_index(drop=True), total, pairs)

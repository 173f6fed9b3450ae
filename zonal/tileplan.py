"""Planning of the tiled engine (on the client, ``plan``): the tasks, one per work tile, that compute
exact per-polygon code areas over a raster of any size (``zonal.tiletask`` is the task,
``zonal.distributed`` runs them).

- Polygons are reprojected to the raster's CRS (as ``landcover.zonal_codes`` does) and get their
  pixel window (the bounding box ``coverage.pieces`` uses).
- Work tiles are aligned to the source's own tiles (``zonal.tilegrid``).
- A **small** polygon (window no larger than a tile) goes whole to the task of the tile holding
  its window's top-left corner and is computed by the existing kernel
  (``polygonstats.polygon_stats``): numbers bit-identical to the single-process path.
- A **large** polygon (window larger than a tile; or every unit with ``split="all"``, the zone
  statistics) is split by tile: its boundary pieces are cut once in global pixel coordinates
  (``coverage.pieces``, identical in every task), each task takes the cells of its tile, and the
  partial code histograms are added on the client in a fixed (polygon, tile) order, so the
  result never depends on scheduling (≤ 1e-12 relative to the unsplit path: only the order of
  additions differs).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import shapely

from core.errors import InputError
from layers import fileid
from layers.readers.raster import vrt_sources
from zonal.landcover import geoseries
from zonal.pairraster import same_grid
from zonal.rastersource import LandcoverRaster
from zonal.tilegrid import TileGrid, tile_grid
from zonal.tileresult import TaskResult
from zonal.tiletask import Task, clear_caches, run_task

ALGO_VERSION = "tiled-4"  # part of every cache key: bump when the numbers change


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
    # never imports the engine (``zonal.tiled``), which imports it
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


def pixel_windows(local_geoms, transform) -> np.ndarray:
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
         pixel_area: str = "ground", extra: tuple[tuple[int, int], ...] = ()) -> Plan:
    """Tasks for ``polygons`` (GeoSeries/GeoDataFrame with a CRS) over ``raster``.

    ``split``: "auto" (polygons larger than a tile are split), "all" (every polygon split: zone
    statistics, one read of each tile for all units) or "none" (every polygon whole).
    ``years``: further rasters on the same grid (multi-year: see ``zonal_transitions``); ``extra``:
    steps besides the consecutive ones, (i, j) positions in (raster, *years)."""
    geoms = geoseries(polygons)
    raster = str(raster)
    years = tuple(str(y) for y in years)
    with LandcoverRaster(raster) as src:  # the engine's checks (tile-aware limits)
        crs, transform = src.crs, src.transform
        for y in years:
            with LandcoverRaster(y) as other:
                same_grid(src, other)
    local = geoms.to_crs(crs) if not pyproj.CRS(geoms.crs).equals(crs) else geoms
    grid = tile_grid(raster, tile_side)
    values = list(local.values)
    win = pixel_windows(values, transform)
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
        h = hashlib.sha256(f"{ALGO_VERSION}|{fp}|{grid}|{t}|{pixel_area}{'|' + repr(extra) if extra else ''}".encode())
        for kind, items in (("s", s), ("l", lg)):
            for i, b in items:
                h.update(f"{kind}{i}:".encode())
                h.update(hashlib.sha256(b).digest())
        tasks.append(Task(raster, t, grid.window(t), grid.span(t), s, lg, h.hexdigest(), years, pixel_area,
                          tuple(extra)))
    return Plan(raster, grid, tasks, len(values), is_split, crs, fp, pixels)

"""The tiled engine's entry points: exact per-polygon code areas over rasters of any size, one task
per work tile, on any scheduler (``zonal.distributed`` runs the tasks on Dask).

``zonal_codes`` (one year, the result of ``landcover.zonal_codes``) and ``zonal_transitions``
(several years on one grid) plan the tasks (``zonal.tileplan``; tiles ``zonal.tilegrid``, the task
``zonal.tiletask``, the kernel for split polygons ``zonal.tilekernel``), run them and merge the
partial results here, split polygons summed in a fixed (polygon, tile) order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from layers.legends import Legend, get_legend
from zonal import distributed
from zonal.landcover import ZonalResult, geoseries
from zonal.pairraster import NO_CODE, PAIR
from zonal.polygonstats import PolygonStats
from zonal.rastersource import MASKED, LandcoverRaster
from zonal.tileplan import Plan, plan
from zonal.tileresult import Partial, TaskResult


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
    geoms = geoseries(polygons)
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
                      pixel_area: str = "ground", extra: tuple[tuple[int, int], ...] = ()) -> YearsResult:
    """Several land-cover years on one grid in one pass per tile: class areas per unit per year and
    the transitions between consecutive years, plus the ``extra`` steps ((i, j) positions in
    ``rasters``, i < j: a period spanning several years). Each polygon is cut at the pixel grid once
    per task and reused for every year and step; a year's areas are the margins of its transitions
    (exact)."""
    rasters = [str(r) for r in rasters]
    if len(rasters) < 2:
        raise InputError("多年统计至少需要两个年份的土地覆盖栅格", "multi-year statistics need at least two land-cover years")
    years = list(years) if years is not None else list(range(len(rasters)))
    extra = tuple(dict.fromkeys((int(i), int(j)) for i, j in extra if int(j) != int(i) + 1))  # each step once
    if any(not 0 <= i < j < len(rasters) for i, j in extra):
        raise InputError(f"额外时段 {extra} 须为栅格序号 i < j", f"extra steps {extra} must be raster positions i < j")
    steps = [(k, k + 1) for k in range(len(rasters) - 1)] + list(extra)
    legend = get_legend(legend) if legend is not None else None
    geoms = geoseries(polygons)
    p = plan(geoms, rasters[0], split=split, tile_side=tile_side, years=rasters[1:], pixel_area=pixel_area, extra=extra)
    results = distributed.run_plan(p, scheduler=scheduler, workers=workers, cache_dir=cache_dir,
                                   progress=progress, info=run_info)
    nod = []
    for r in rasters:
        with LandcoverRaster(r, legend) as src:
            nod.append(src.nodata_codes() | {NO_CODE})
    area_rows, trans_rows, total = [], [], None
    for k, (i, j) in enumerate(steps):
        stats = merge(p, results, step=k)
        if total is None:
            total = np.array([s.total_m2 for s in stats])
        for u, st in enumerate(stats):
            for code, m2 in st.codes.items():
                if code == MASKED:
                    continue
                a, b = divmod(code, PAIR)
                trans_rows.append((k, u, years[i], years[j], a, b, m2))
    tr = pd.DataFrame(trans_rows, columns=["step", "unit", "year_from", "year_to", "code_from", "code_to", "area_m2"])
    for k, y in enumerate(years):  # margins: year k from step k (as "from"), the last year as "to"
        last = k == len(years) - 1
        sub = tr[tr["step"] == (k - 1 if last else k)]
        col = "code_to" if last else "code_from"
        g = sub[~sub[col].isin(nod[k])].groupby(["unit", col], sort=True)["area_m2"].sum()
        for (u, code), m2 in g.items():
            area_rows.append((u, y, code, m2))
    areas = pd.DataFrame(area_rows, columns=["unit", "year", "code", "area_m2"])
    valid = np.ones(len(tr), bool)
    for k, (i, j) in enumerate(steps):
        at = (tr["step"] == k).to_numpy()
        valid[at] &= ~tr["code_from"][at].isin(nod[i]).to_numpy() & ~tr["code_to"][at].isin(nod[j]).to_numpy()
    order = ["step", "unit", "code_from", "code_to"]
    pairs = tr[(tr["area_m2"] != 0).to_numpy()].sort_values(order).drop(columns="step").reset_index(drop=True)
    tr = tr[valid & (tr["area_m2"] != 0).to_numpy()].sort_values(order).drop(columns="step")
    return YearsResult(areas.reset_index(drop=True), tr.reset_index(drop=True), total, pairs)

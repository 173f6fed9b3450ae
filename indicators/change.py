"""Change between two land-cover rasters of the same legend: transition matrices per zone.

Exact and never resampled: both rasters must share one grid (CRS, transform, size). If they
do not, ``GridMismatch`` says what differs and how to align them (e.g. ``gdalwarp -r near``
with the other file's ``-te/-tr/-t_srs``); the zones are reprojected to the rasters' CRS as
everywhere else. The zones go through the tiled multi-year engine (``tiled.zonal_transitions``:
exact coverage fractions and real pixel areas on a virtual raster of *pair codes*
``from × PAIR + to``, one pass per tile, each zone cut at the grid once for both years; a Dask
cluster when the work is national), so the matrix cell (from, to) is the exact area that changed
from ``from`` to ``to``. A cell with data on one side only (nodata value, or hidden by that year's
mask band) goes to the ``nodata`` row or column, so rows sum to the baseline class areas and
columns to the alternative ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from indicators import carbon
from zonal import tiled
from zonal.pairraster import NO_CODE
from zonal.rastersource import LandcoverRaster
from layers.legends import CLASS_IDS, Legend, get_legend

NOD = -1  # "no data" on one side (a marker in ``ChangeResult.code_pairs``, never a class code)
NODATA_CLASS = "nodata"
MATRIX_CLASSES = (*CLASS_IDS, NODATA_CLASS)
TOTAL = "__total__"  # zone name of the all-zones matrix


class GridMismatch(InputError):
    pass


def grid_difference(a: LandcoverRaster, b: LandcoverRaster) -> list[str]:
    diffs = []
    if not a.crs.equals(b.crs):
        diffs.append(f"CRS {a.crs.to_string()} vs {b.crs.to_string()}")
    if (a.width, a.height) != (b.width, b.height):
        diffs.append(f"size {a.width}×{a.height} vs {b.width}×{b.height}")
    if not np.allclose(tuple(a.transform)[:6], tuple(b.transform)[:6], rtol=0, atol=1e-9 * max(1.0, abs(a.transform.a))):
        diffs.append(f"transform {tuple(round(v, 6) for v in tuple(a.transform)[:6])} vs "
                     f"{tuple(round(v, 6) for v in tuple(b.transform)[:6])}")
    return diffs


@dataclass
class ChangeResult:
    matrices: dict[str, pd.DataFrame]  # zone name -> from-class × to-class km² (MATRIX_CLASSES)
    code_pairs: pd.DataFrame  # zone, from_code, to_code, area_km2
    summary: pd.DataFrame  # per zone: net class changes, carbon stocks and change


def transitions(zones, base_raster, alt_raster, legend: str | Legend = "igbp", names=None,
                pools=None, include_total: bool = True) -> ChangeResult:
    """Transition matrices (km²) per zone plus a province/all-zones total."""
    import geopandas as gpd

    legend = get_legend(legend)
    geoms = zones.geometry if isinstance(zones, gpd.GeoDataFrame) else zones
    if geoms.crs is None:
        raise InputError("分区没有坐标参考系", "the zones have no CRS")
    names = list(names) if names is not None else [str(i) for i in range(len(geoms))]
    with LandcoverRaster(base_raster, legend) as a, LandcoverRaster(alt_raster, legend) as b:
        diffs = grid_difference(a, b)
        nod_a, nod_b = a.nodata_codes() | {NO_CODE}, b.nodata_codes() | {NO_CODE}
    if diffs:
        raise GridMismatch(
            f"两个栅格不在同一格网上（{'；'.join(diffs)}）。转移矩阵要求像元完全一致，本系统不会私自重采样："
            "请先将其中一个文件对齐到另一个（如 gdalwarp -r near，使用另一文件的 -t_srs/-te/-tr）。",
            f"the two rasters are not on the same grid ({'; '.join(diffs)}). A transition matrix "
            "needs identical pixels, and the dashboard never resamples silently: align one file to "
            "the other first (e.g. gdalwarp -r near -t_srs/-te/-tr of the other file).")
    # the tiled multi-year engine: one pass per tile, each polygon cut at the grid once for both years
    res = tiled.zonal_transitions(geoms.reset_index(drop=True), [base_raster, alt_raster], [0, 1], legend,
                                  scheduler="synchronous")
    rows = []
    for r in res.pairs.itertuples():
        f = NOD if r.code_from in nod_a else int(r.code_from)
        t_ = NOD if r.code_to in nod_b else int(r.code_to)
        if f == NOD and t_ == NOD:
            continue
        rows.append({"zone": names[r.unit], "from_code": f, "to_code": t_, "area_km2": r.area_m2 / 1e6})
    pairs = pd.DataFrame(rows, columns=["zone", "from_code", "to_code", "area_km2"])
    unknown = sorted({c for c in pd.concat([pairs["from_code"], pairs["to_code"]]) if c != NOD and legend.class_of(c) is None})
    if unknown:
        raise InputError(f"代码 {unknown} 不在图例 {legend.id!r} 中", f"code(s) {unknown} are not in legend {legend.id!r}")
    zone_list = list(names)
    if include_total:
        total = pairs.groupby(["from_code", "to_code"], as_index=False)["area_km2"].sum()
        total.insert(0, "zone", TOTAL)
        pairs = pd.concat([pairs, total], ignore_index=True) if len(pairs) else pairs
        zone_list.append(TOTAL)
    cls = lambda c: NODATA_CLASS if c == NOD else legend.class_of(c)  # noqa: E731
    pairs["from_class"] = pairs["from_code"].map(cls)
    pairs["to_class"] = pairs["to_code"].map(cls)
    matrices = {}
    for z in zone_list:
        p = pairs[pairs["zone"] == z]
        m = p.pivot_table(index="from_class", columns="to_class", values="area_km2", aggfunc="sum")
        matrices[z] = m.reindex(index=list(MATRIX_CLASSES), columns=list(MATRIX_CLASSES)).fillna(0.0)
    summary = _summary(pairs, zone_list, carbon.load_pools(pools, legend))
    return ChangeResult(matrices, pairs, summary)


def _summary(pairs: pd.DataFrame, zones: list[str], pools: pd.DataFrame) -> pd.DataFrame:
    out = []
    for z in zones:
        p = pairs[pairs["zone"] == z]
        row = {"zone": z}
        base = p.groupby("from_class")["area_km2"].sum()
        alt = p.groupby("to_class")["area_km2"].sum()
        for c in CLASS_IDS:
            row[f"{c}_base_km2"] = float(base.get(c, 0.0))
            row[f"{c}_alt_km2"] = float(alt.get(c, 0.0))
            row[f"{c}_net_km2"] = row[f"{c}_alt_km2"] - row[f"{c}_base_km2"]
        row["changed_km2"] = float(p.loc[(p["from_class"] != p["to_class"]) & (p["from_code"] != NOD)
                                         & (p["to_code"] != NOD), "area_km2"].sum())
        base_codes = p[p["from_code"] != NOD].groupby("from_code")["area_km2"].sum()
        alt_codes = p[p["to_code"] != NOD].groupby("to_code")["area_km2"].sum()
        row["carbon_base_tc"] = _stock(base_codes, pools)
        row["carbon_alt_tc"] = _stock(alt_codes, pools)
        row["carbon_change_tc"] = row["carbon_alt_tc"] - row["carbon_base_tc"]
        row["carbon_change_tco2e"] = row["carbon_change_tc"] * carbon.CO2_PER_C
        out.append(row)
    return pd.DataFrame(out)


def _stock(code_km2: pd.Series, pools: pd.DataFrame) -> float:
    if code_km2.empty:
        return 0.0
    code_m2 = pd.DataFrame([code_km2.to_numpy() * 1e6], columns=[int(c) for c in code_km2.index])
    carbon.check_codes(code_m2, pools, "land cover")
    return float(carbon.stock(code_m2, pools)["carbon_stock_tc"].iloc[0])

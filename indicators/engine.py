"""Per-park indicators: one pure entry point used by the UI, the CLI and every export.

    result = compute_parks(parks, landcover="lc.tif", legend="igbp", ...)

Returns one row per park with the columns of the declared table (``indicators.table``),
``reason`` (why values are empty) and ``warnings`` ("; "-joined assumptions and repairs), each
also in Chinese: ``reason_zh`` and ``warnings_zh`` ("；"-joined, same notes in the same order).
Every note is made once as a ``Text(zh, en)`` pair, so the two languages cannot disagree.
Unusable input raises ``InputError`` (English + Chinese message).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from indicators import carbon, green, measures
from layers import inputs
from zonal import zonesplit
from indicators.conflicts import redline_overlap, zone_membership
from core.errors import InputError
from core.text import Text
from zonal.landcover import check_legend, classes_from_codes, zonal_codes
from layers.legends import CLASS_BY_ID, CLASS_IDS, Legend, get_legend
from indicators.table import columns_for
from indicators.transport import distances
from core.crs import EQUAL_AREA, equal_area_km2
from core.geom import polygonal_parts

_POLYGONAL = {"Polygon", "MultiPolygon"}
SEP_EN, SEP_ZH = "; ", "；"  # joiners of the warnings / warnings_zh columns


NO_NOTE = Text("", "")


def join_notes(notes) -> tuple[str, str]:
    """("; "-joined English, "；"-joined Chinese) of a list of notes."""
    return SEP_EN.join(n.en for n in notes), SEP_ZH.join(n.zh for n in notes)


# GEOS validity reasons (shapely.is_valid_reason) -> Chinese; coordinates are kept as they are.
_INVALID_ZH = {
    "Ring Self-intersection": "环自相交",
    "Self-intersection": "自相交",
    "Too few points in geometry component": "几何组成部分点数过少",
    "Hole lies outside shell": "内环位于外环之外",
    "Nested holes": "内环相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "重复的环",
    "Invalid Coordinate": "无效坐标",
    "Ring is not closed": "环未闭合",
}


def _invalid_reason_zh(reason: str) -> str:
    for en, zh in _INVALID_ZH.items():  # "Ring Self-intersection" is tried before "Self-intersection"
        if reason.startswith(en):
            return zh + reason[len(en):]
    return reason


# --- parks -------------------------------------------------------------------------------------
def _row_name(i: int, pid) -> str:
    return f"row {i + 1} (park_id {pid})"


def prepare_parks(parks: gpd.GeoDataFrame, id_field=None, name_field=None):
    """Validated parks: (GeoDataFrame with park_id/name/geometry, per-row lists of ``Text``)."""
    if not isinstance(parks, gpd.GeoDataFrame):
        raise InputError("园区数据须为 GeoDataFrame", "parks must be a GeoDataFrame")
    if parks.crs is None:
        raise InputError("园区图层没有坐标参考系；请先设置（如 EPSG:4326 或 CGCS2000 EPSG:4490）",
                         "the parks layer has no CRS; set one (e.g. EPSG:4326 or CGCS2000 EPSG:4490)")
    if len(parks) == 0:
        raise InputError("园区图层没有要素", "the parks layer has no features")
    ids = _column(parks, id_field, ("park_id", "id", "ID"), "id")
    if ids is None:
        ids = pd.Series([str(i + 1) for i in range(len(parks))])
    names = _column(parks, name_field, ("name", "NAME", "名称"), "name")
    if names is None:
        names = pd.Series([""] * len(parks))
    _check_coordinates(parks)
    geoms, notes = [], []
    for i, (pid, g) in enumerate(zip(ids, parks.geometry.values)):
        geom, note = _clean_geometry(g, _row_name(i, pid))
        geoms.append(geom)
        notes.append([note] if note else [])
    out = gpd.GeoDataFrame({"park_id": ids.astype(str).to_numpy(), "name": names.fillna("").astype(str).to_numpy()},
                           geometry=geoms, crs=parks.crs)
    return out, notes


def _check_coordinates(parks: gpd.GeoDataFrame) -> None:
    """Coordinates must make sense in the declared CRS (e.g. metres labelled as degrees)."""
    b = parks.geometry.bounds.to_numpy()
    if parks.crs.is_geographic:
        bad = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    else:
        bad = ~np.isfinite(np.nan_to_num(b, nan=0.0)).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"园区第 {i + 1} 行：坐标 {tuple(np.round(b[i], 3))} 在 {parks.crs.name} 中不可能出现；请检查园区文件的坐标参考系",
            f"park row {i + 1}: coordinates {tuple(np.round(b[i], 3))} are impossible in {parks.crs.name}; "
            "is the CRS of the parks file right?",
        )


def _column(df, field_, defaults, what):
    if field_ is not None:
        if field_ not in df.columns:
            raise InputError(f"园区数据没有字段 {field_!r}（现有字段：{list(df.columns.drop('geometry'))}）",
                             f"parks have no {what} field {field_!r} (fields: {list(df.columns.drop('geometry'))})")
        return df[field_].reset_index(drop=True)
    for name in defaults:
        if name in df.columns:
            return df[name].reset_index(drop=True)
    return None


def _clean_geometry(g, row: str):
    if g is None or shapely.is_empty(g):
        raise InputError(f"园区 {row}：几何为空", f"park {row}: empty geometry")
    note = None
    if g.geom_type == "GeometryCollection":
        g = polygonal_parts(g)
        if g is None:
            raise InputError(f"园区 {row}：几何不是面", f"park {row}: geometry is not a polygon")
        note = Text("已删除非面部分", "non-polygon parts dropped")
    if g.geom_type not in _POLYGONAL:
        raise InputError(f"园区 {row}：几何为 {g.geom_type}，不是面",
                         f"park {row}: geometry is a {g.geom_type}, not a polygon")
    if not g.is_valid:
        reason = shapely.is_valid_reason(g)
        fixed = polygonal_parts(shapely.make_valid(g))
        if fixed is None or fixed.area == 0:
            raise InputError(f"园区 {row}：几何无效（{reason}），无法修复",
                             f"park {row}: invalid geometry ({reason}) cannot be repaired")
        g = fixed
        note = Text(f"几何无效（{_invalid_reason_zh(reason)}）已修复", f"invalid geometry repaired ({reason})")
    return g, note


# --- the engine --------------------------------------------------------------------------------
def compute_parks(
    parks: gpd.GeoDataFrame,
    *,
    landcover: str | Path,
    legend: str | Legend = "igbp",
    landcover_alt: str | Path | None = None,
    carbon_pools=None,
    sink_rates=None,
    green_classes=None,
    transport: dict[str, gpd.GeoDataFrame] | None = None,
    redline: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_field: str = "zone",
    id_field: str | None = None,
    name_field: str | None = None,
    pixel_area: str = "ground",
    zonal=None,
    extra: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Indicators for every park (see module docstring). Raises InputError on unusable input.
    ``pixel_area``: ``ground`` (true cell area) or ``nominal`` (|det| of the transform, InVEST).
    ``zonal``: the zonal-statistics function (default ``landcover.zonal_codes``; the CLI passes the
    tiled engine's when a scheduler is asked for — whole parks give bit-identical numbers).
    ``extra``: {input id: layer or raster path} of declared inputs with a measure (``layers.inputs``):
    each adds its declared column (``indicators.measures``)."""
    legend = get_legend(legend)
    gclasses = green.green_classes(green_classes)
    ptable = carbon.load_pool_table(carbon_pools, legend)
    pools = ptable.default
    rates = carbon.load_sink_rates(sink_rates)
    transport = transport or {}
    p, notes = prepare_parks(parks, id_field, name_field)
    ea = p.geometry.to_crs(EQUAL_AREA).values
    area = equal_area_km2(p.geometry)  # on the ellipsoid far from China (a pole, the antimeridian)
    out = pd.DataFrame({"park_id": p["park_id"], "name": p["name"], "area_km2": area})
    reasons = [NO_NOTE] * len(p)
    pieces = _zone_pieces(p.geometry, zones, ptable, notes)

    base = _landcover_part(p.geometry, landcover, legend, ptable, reasons, notes, pixel_area, zonal, pieces)
    out = out.join(base["table"])
    class_m2 = base["class_m2"]
    if landcover_alt is not None:
        alt = _landcover_part(p.geometry, landcover_alt, legend, ptable, None, None, pixel_area, zonal, pieces)
        out["carbon_stock_alt_tc"] = alt["table"]["carbon_stock_tc"]
        out["carbon_change_tc"] = out["carbon_stock_alt_tc"] - out["carbon_stock_tc"]
        out["carbon_change_tco2e"] = out["carbon_change_tc"] * carbon.CO2_PER_C
    has = base["has_data"]
    out["carbon_sink_tco2_yr"] = np.where(has, carbon.sink(class_m2, rates), np.nan)
    valid_ha = class_m2.sum(axis=1).to_numpy() / 1e4  # the park area with land-cover data, as for carbon at stake
    with np.errstate(invalid="ignore", divide="ignore"):
        out["carbon_sink_tco2_ha_yr"] = np.where(has & (valid_ha > 0), out["carbon_sink_tco2_yr"] / valid_ha, np.nan)
    out = out.join(_blank(carbon.sink_range(class_m2, rates), has))
    # the map's vegetated share: a hint for the greening coverage only with >= 100 px of <= 30 m land
    # cover; the greening coverage of the admission checklist is entered per park (indicators.green)
    out = out.join(green.vegetated_share(_blank(class_m2, has), gclasses))
    out["vegetated_share_hint"] = green.hint_flags(out["vegetated_share_pct"], out["landcover_pixels"],
                                                   out["landcover_pixel_m"])
    _assumption_notes(class_m2, has, pools, rates, gclasses, notes)
    out = out.join(distances(p.geometry, transport))
    extra = extra or {}
    for input_id, value in extra.items():  # declared inputs with a measure: their columns
        spec = inputs.get(input_id)
        for v, params in measures.items(spec, value):
            cols = measures.measure(spec, p.geometry, v, params)
            for c in cols.columns:
                out[c] = cols[c].to_numpy()
    km2 = out["area_km2"].to_numpy()
    if redline is not None:
        out = out.join(redline_overlap(ea, km2, redline))
    if zones is not None:
        out = out.join(zone_membership(ea, km2, zones, zone_field))
    out["reason"] = [r.en for r in reasons]
    out["reason_zh"] = [r.zh for r in reasons]
    joined = [join_notes(n) for n in notes]
    out["warnings"] = [en for en, _ in joined]
    out["warnings_zh"] = [zh for _, zh in joined]
    cols = columns_for(CLASS_IDS, tuple(transport), landcover_alt is not None,
                       measured_inputs=measures.run_columns(extra))
    return out.reindex(columns=cols)


def _zone_pieces(geoms, zones, ptable, notes) -> list | None:
    """The parks cut at the zones that have their own densities (None: no zone rows in use)."""
    if not ptable.zoned or zones is None or not len(zones):
        return None
    keys = zonesplit.zone_keys(zones, ptable)
    if not any(keys):
        return None
    pieces = zonesplit.split(geoms, zones, keys)
    split = {}
    for pc in pieces:
        if pc.geom is not None:
            split.setdefault(pc.park, []).append(pc.key or "—")
    for i, ks in split.items():
        notes[i].append(Text(f"园区跨越多个分区（{'、'.join(ks)}）：各部分按所在分区的碳密度计算",
                             f"the park crosses zones ({', '.join(ks)}): each part takes its zone's carbon densities"))
    return pieces


def _zoned_stock(geoms, z, pieces, raster, legend, ptable, zonal, pixel_area) -> pd.DataFrame:
    """Stock columns with each piece's zone densities: whole parks reuse their code areas, cut
    pieces are read in one more pass of the zonal function."""
    code = z.code_m2.fillna(0.0)
    items = [(pc.park, pc.key, code.iloc[pc.park]) for pc in pieces if pc.geom is None]
    cut = [pc for pc in pieces if pc.geom is not None]
    if cut:
        zp = (zonal or zonal_codes)(gpd.GeoSeries([pc.geom for pc in cut], crs=geoms.crs), raster, legend,
                                    pixel_area=pixel_area)
        pcode = zp.code_m2.fillna(0.0)
        items += [(pc.park, pc.key, pcode.iloc[j]) for j, pc in enumerate(cut)]
    return carbon.stock_by_zone(items, len(code), ptable).set_axis(code.index)


def _landcover_part(geoms, raster, legend, ptable, reasons, notes, pixel_area="ground", zonal=None,
                    pieces=None) -> dict[str, Any]:
    """Class areas, coverage, reliability and carbon stock of one raster."""
    pools = ptable.default
    z = (zonal or zonal_codes)(geoms, raster, legend, pixel_area=pixel_area)
    name = Path(raster).name
    check_legend(z.code_m2, legend, raster)
    carbon.check_codes(z.code_m2, pools, name)
    class_m2 = classes_from_codes(z.code_m2, legend)
    cov = z.covered_pct
    has = np.nan_to_num(cov) > 0
    table = _blank((class_m2 / 1e6).add_prefix("lc_").add_suffix("_km2"), has)
    table["landcover_coverage_pct"] = np.nan_to_num(cov)
    table["landcover_pixels"] = z.pixels
    table["landcover_pixel_m"] = green.pixel_size_m(z.total_m2 - z.outside_m2, z.pixels)  # the vegetation hint's test
    st = (carbon.stock(z.code_m2, pools) if pieces is None
          else _zoned_stock(geoms, z, pieces, raster, legend, ptable, zonal, pixel_area))
    valid_ha = class_m2.sum(axis=1).to_numpy() / 1e4
    with np.errstate(invalid="ignore", divide="ignore"):
        for col in ("carbon_stock_tc", "carbon_at_stake_tc"):
            if col in st.columns:
                st[f"{col}_per_ha"] = np.where(valid_ha > 0, st[col].to_numpy() / valid_ha, np.nan)
    table = table.join(_blank(st, has))
    low = z.pixels < green.MIN_RELIABLE_PIXELS
    table["reliability"] = np.where(~has, "", np.where(low, "low", "ok"))
    if reasons is not None:
        for i in range(len(has)):
            _row_quality(i, has[i], cov[i], z.outside_m2[i], z.total_m2[i], z.pixels[i], name, reasons, notes)
    return {"table": table, "class_m2": class_m2, "has_data": has}


def _blank(df: pd.DataFrame, has: np.ndarray) -> pd.DataFrame:
    """Copy of ``df`` with the rows that have no land-cover data set to NaN."""
    df = df.astype("float64")
    df.loc[~has, :] = np.nan
    return df


def _row_quality(i, has, cov, outside, total, pixels, name, reasons, notes):
    if not has:
        if total > 0 and outside >= total * (1 - 1e-9):
            reasons[i] = Text(f"园区位于土地覆盖栅格 {name} 之外", f"park outside the land-cover raster {name}")
        else:
            reasons[i] = Text(f"园区内没有土地覆盖数据（{name} 中为无数据值）",
                              f"no land-cover data in the park (nodata in {name})")
        return
    # the Chinese notes avoid "；" inside a note: it is the joiner of warnings_zh
    if cov < 99.999:
        notes[i].append(Text(
            f"土地覆盖仅覆盖园区的 {cov:.1f}%，面积、碳储量和植被覆盖占比仅指该部分",
            f"land cover covers {cov:.1f}% of the park; areas, carbon and vegetated share refer to that part"))
    if pixels < green.MIN_RELIABLE_PIXELS:
        notes[i].append(Text(
            f"园区仅跨 {pixels:.0f} 个土地覆盖像元（< {green.MIN_RELIABLE_PIXELS}）：各类面积较粗略，"
            "结果仅供参考，宜改用更高分辨率的土地覆盖数据",
            f"park spans only {pixels:.0f} land-cover pixels (< {green.MIN_RELIABLE_PIXELS}): "
            "class areas are coarse; use finer land cover"))


def _assumption_notes(class_m2, has, pools, rates, gclasses, notes):
    wet = class_m2["wetland"].to_numpy() > 0
    flagged = sorted(carbon.flagged_sink_classes(rates) & set(gclasses))
    for i in range(len(class_m2)):
        if not has[i]:
            continue
        if pools.attrs.get("default") and wet[i]:
            notes[i].append(Text("湿地碳密度：甘南分区为高寒沼泽/泥炭实测值，其他分区为 IPCC 矿质土湿地默认值（土壤仅计 0–30 cm，偏低）",
                                 "wetland carbon density: Gannan zone from alpine marsh/peat measurements, other zones "
                                 "the IPCC mineral-wetland default (soil to 30 cm only: an underestimate)"))
        present = [c for c in flagged if class_m2[c].iloc[i] > 0]
        if present:
            names = ", ".join(CLASS_BY_ID[c].label_en.lower() for c in present)
            names_zh = "、".join(CLASS_BY_ID[c].label_zh for c in present)
            notes[i].append(Text(f"无引用的碳汇速率：{names_zh}（按 0 计）", f"no cited sink rate for {names} (0 used)"))

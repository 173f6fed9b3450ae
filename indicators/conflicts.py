"""Overlap of parks with red-line / protected polygons, and the zone(s) each park lies in.

Areas are equal-area (Albers China). Red-line polygons are dissolved before measuring, so
overlapping protected areas are never counted twice: per park, the union of its intersections
with every red-line polygon it touches is measured (same result as dissolving the whole layer
first, without building a province-wide union).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import InputError
from core.crs import EQUAL_AREA
from core.geom import POLYGON_TYPES, make_valid_where_needed


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Valid polygonal parts only (make_valid can return lines/points next to polygons)."""
    geoms, _ = make_valid_where_needed(geoms)
    parts = shapely.get_parts(geoms)
    return parts[np.isin(shapely.get_type_id(parts), POLYGON_TYPES)]


def _to_ea(layer, what: str):
    if layer.crs is None:
        raise InputError(f"{what} 没有坐标参考系；请先设置（如 EPSG:4326）", f"{what} has no CRS; set one (e.g. EPSG:4326)")
    return layer.to_crs(EQUAL_AREA)


def redline_overlap(parks_ea: np.ndarray, park_km2: np.ndarray, redline: gpd.GeoDataFrame) -> pd.DataFrame:
    """redline_overlap_km2 and redline_overlap_pct per park (parks given in EQUAL_AREA)."""
    red = _polygonal(_to_ea(redline, "red-line layer").geometry.values)
    km2 = np.zeros(len(parks_ea))
    if red.size:
        tree = shapely.STRtree(red)
        pi, rj = tree.query(parks_ea, predicate="intersects")
        if pi.size:
            pieces = shapely.intersection(parks_ea[pi], red[rj])
            for i in np.unique(pi):
                km2[i] = shapely.area(shapely.union_all(pieces[pi == i])) / 1e6
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(park_km2 > 0, 100.0 * km2 / park_km2, np.nan)
    return pd.DataFrame({"redline_overlap_km2": km2, "redline_overlap_pct": np.minimum(pct, 100.0)})


def zone_membership(parks_ea: np.ndarray, park_km2: np.ndarray, zones: gpd.GeoDataFrame,
                    zone_field: str = "zone") -> pd.DataFrame:
    """zone (largest share), zone_share_pct and zones (every zone touched, largest first)."""
    if zone_field not in zones.columns:
        raise InputError(f"分区图层没有字段 {zone_field!r}（现有字段：{list(zones.columns.drop('geometry'))}）",
                         f"zones layer has no field {zone_field!r} (fields: {list(zones.columns.drop('geometry'))})")
    z = _to_ea(zones, "zones layer")
    z = gpd.GeoDataFrame({"zone": z[zone_field].astype(str)}, geometry=make_valid_where_needed(z.geometry.values)[0],
                         crs=EQUAL_AREA).dissolve(by="zone", as_index=False)
    names = z["zone"].to_numpy()
    geoms = z.geometry.values
    tree = shapely.STRtree(geoms)
    pi, zj = tree.query(parks_ea, predicate="intersects")
    area = shapely.area(shapely.intersection(parks_ea[pi], geoms[zj])) / 1e6 if pi.size else np.empty(0)
    zone, share, touched = [None] * len(parks_ea), np.full(len(parks_ea), np.nan), [""] * len(parks_ea)
    df = pd.DataFrame({"p": pi, "zone": names[zj] if pi.size else [], "km2": area})
    for i, g in df.groupby("p"):
        g = g.sort_values("km2", ascending=False)
        zone[i] = g["zone"].iloc[0]
        share[i] = 100.0 * g["km2"].iloc[0] / park_km2[i] if park_km2[i] > 0 else np.nan
        touched[i] = "; ".join(g["zone"])
    return pd.DataFrame({"zone": zone, "zone_share_pct": np.minimum(share, 100.0), "zones": touched})

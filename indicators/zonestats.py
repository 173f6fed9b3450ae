"""Land-cover PROXY indicators per province, zone, prefecture and county.

Computed with the indicator engine (exact coverage fractions, real pixel areas;
``indicators.carbon`` default pools and sink rates). These are land-cover proxies: a "forest share"
is not the official 森林覆盖率 and a grassland share is not 草原综合植被盖度 (DOMAIN.md §2); the UI
shows them next to, never merged with, official values.

One pass over the raster (``zonal.tiled``, split mode): every unit of the finest level
(counties) is cut at the work tiles; each tile is read once, in row bands, for all the units
crossing it (boundary cells exact, interiors counted in one pass), and the partial code areas are
added in a fixed (unit, tile) order — the same numbers as reading every unit on its own
(``landcover.zonal_codes``) to ~1e-13 relative. A coarser level whose units are unions of
counties (default prefectures, schematic zones, province) is summed from the county code areas,
so every level adds up exactly. A level given with its own polygons (e.g. an uploaded official
zone file) is a second pass. ``progress(done, total)`` counts units (reported as tiles finish);
``scheduler``/``workers`` choose where the tiles run (``zonal.distributed``; default: this
process for a province, a LocalCluster above ``AUTO_LOCAL_PIXELS``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from indicators import carbon
from zonal import tiled
from zonal.landcover import check_legend, classes_from_codes
from zonal.zonesplit import zone_keys
from layers.legends import CLASS_IDS, Legend, get_legend

ALGO_VERSION = "zonestats-4-zone-densities"  # part of every cache key: bump when the numbers change
LEVELS = ("province", "zone", "prefecture", "county")


@dataclass
class Level:
    """One level of units. Either ``polygons`` (read from the raster) or ``parent_field``: the
    column of the base level's polygons giving each base unit's parent id (aggregated)."""

    name: str
    ids: list[str]
    names_zh: list[str]
    names_en: list[str]
    polygons: gpd.GeoDataFrame | None = None
    parent_field: str | None = None
    meta: dict = field(default_factory=dict)




def polygons_key(base: gpd.GeoDataFrame, levels: list[Level]) -> str:
    """Fingerprint of the units: geometries (WKB), ids and parent mappings."""
    h = hashlib.sha256(ALGO_VERSION.encode())
    for gdf in [base] + [lv.polygons for lv in levels if lv.polygons is not None]:
        h.update(str(gdf.crs).encode())
        for wkb in gdf.geometry.to_wkb():
            h.update(wkb)
    for lv in levels:
        h.update(repr((lv.name, lv.ids, lv.names_zh, lv.names_en, lv.parent_field)).encode())
        if lv.parent_field:
            h.update(repr(list(base[lv.parent_field].astype(str))).encode())
    return h.hexdigest()


def _read_codes(polygons: gpd.GeoDataFrame, raster, legend: Legend, progress, done0: int, total: int,
                scheduler=None, workers=None, cache_dir=None, pixel_area="ground"):
    """Code areas (m²), total and nodata area per polygon in one tiled pass over the raster.
    Returns (code_m2, total_m2, nodata_m2) indexed 0..n-1."""
    geoms = polygons.geometry.reset_index(drop=True)
    n = len(geoms)
    if n == 0:
        return pd.DataFrame(), np.zeros(0), np.zeros(0)

    def tiles_done(done: int, n_tasks: int) -> None:
        if progress:
            progress(done0 + (n * done // max(n_tasks, 1)), total)

    z = tiled.zonal_codes(geoms, raster, legend, split="all", scheduler=scheduler, workers=workers,
                          cache_dir=cache_dir, progress=tiles_done, pixel_area=pixel_area)
    code_m2 = z.code_m2.fillna(0.0)
    code_m2 = code_m2.reindex(columns=sorted(code_m2.columns)).reset_index(drop=True)
    check_legend(code_m2, legend, raster)
    return code_m2, z.total_m2, z.nodata_m2


def _indicators(code_m2: pd.DataFrame, total_m2, nodata_m2, legend: Legend, st: pd.DataFrame, rates) -> pd.DataFrame:
    """Per unit: areas, coverage, class km² and shares (of the area with data), carbon (``st``:
    the stock columns of ``carbon.stock``, computed per unit with its zone's densities)."""
    cls = classes_from_codes(code_m2, legend)
    valid = cls.sum(axis=1).to_numpy()
    out = pd.DataFrame(index=code_m2.index)
    out["area_km2"] = np.asarray(total_m2) / 1e6
    out["landcover_valid_km2"] = valid / 1e6
    with np.errstate(invalid="ignore", divide="ignore"):
        out["landcover_coverage_pct"] = np.where(
            np.asarray(total_m2) > 0, 100.0 * (1 - np.asarray(nodata_m2) / np.asarray(total_m2)), np.nan)
        for c in CLASS_IDS:
            out[f"lc_{c}_km2"] = cls[c].to_numpy() / 1e6
        for c in CLASS_IDS:
            out[f"lc_{c}_pct"] = np.where(valid > 0, 100.0 * cls[c].to_numpy() / valid, np.nan)
    for col in ("carbon_stock_tc", "carbon_stock_tco2e", "carbon_stock_low_tc", "carbon_stock_high_tc"):
        out[col] = st[col].to_numpy()
    out["carbon_sink_tco2_yr"] = carbon.sink(cls, rates).to_numpy()
    sr = carbon.sink_range(cls, rates)
    for end in ("low", "high"):
        out[f"carbon_sink_{end}_tco2_yr"] = sr[f"carbon_sink_{end}_tco2_yr"].to_numpy()
    return out


def _stock(code_m2: pd.DataFrame, ptable, keys: list) -> pd.DataFrame:
    """Stock columns per unit, each with the densities of its zone key (None: province default)."""
    carbon.check_codes(code_m2, ptable.default, "land cover")
    items = [(i, k, code_m2.iloc[i]) for i, k in enumerate(keys)]
    return carbon.stock_by_zone(items, len(code_m2), ptable).fillna(0.0)


def _keys(gdf: gpd.GeoDataFrame | None, ptable, n: int) -> list:
    """Zone keys of a level's polygons (their ``zone_id`` or names; None where no rows match)."""
    if gdf is None or not ptable.zoned:
        return [None] * n
    return zone_keys(gdf.reset_index(drop=True), ptable)


def compute(base_level: Level, levels: list[Level], raster, legend: str | Legend = "igbp",
            pools=None, rates=None, progress: Callable[[int, int], None] | None = None, *,
            scheduler: str | None = None, workers: int | None = None, cache_dir=None,
            pixel_area: str = "ground") -> pd.DataFrame:
    """Land-cover proxy indicators for ``base_level`` (with polygons) and every level of
    ``levels`` (aggregated through ``parent_field`` of the base polygons, or own polygons).

    Returns one row per unit: level, unit_id, name_zh, name_en, area_km2, landcover_valid_km2,
    landcover_coverage_pct, lc_<class>_km2, lc_<class>_pct, carbon_stock_tc, carbon_stock_tco2e,
    carbon_sink_tco2_yr. Shares are of the area with land-cover data.
    """
    legend = get_legend(legend)
    ptable = carbon.load_pool_table(pools, legend)
    rates = carbon.load_sink_rates(rates)
    own = [lv for lv in levels if lv.polygons is not None]
    total = len(base_level.polygons) + sum(len(lv.polygons) for lv in own)
    base_codes, base_tot, base_nod = _read_codes(base_level.polygons, raster, legend, progress, 0, total,
                                             scheduler, workers, cache_dir, pixel_area)
    base_st = _stock(base_codes, ptable, _keys(base_level.polygons, ptable, len(base_codes)))
    frames = [_frame(base_level, base_codes, base_tot, base_nod, legend, base_st, rates)]
    done = len(base_level.polygons)
    for lv in levels:
        if lv.polygons is not None:
            codes, tot, nod = _read_codes(lv.polygons, raster, legend, progress, done, total, scheduler, workers,
                                          cache_dir, pixel_area)
            done += len(lv.polygons)
            st = _stock(codes, ptable, _keys(lv.polygons, ptable, len(codes)))
        else:  # a union of base units: every sum (areas and carbon) is the sum of its units'
            parent = base_level.polygons[lv.parent_field].astype(str).to_numpy()
            codes = base_codes.groupby(parent).sum().reindex(lv.ids).fillna(0.0)
            tot = pd.Series(base_tot).groupby(parent).sum().reindex(lv.ids).fillna(0.0).to_numpy()
            nod = pd.Series(base_nod).groupby(parent).sum().reindex(lv.ids).fillna(0.0).to_numpy()
            codes = codes.reset_index(drop=True)
            st = base_st.groupby(parent).sum().reindex(lv.ids).fillna(0.0).reset_index(drop=True)
        frames.append(_frame(lv, codes, tot, nod, legend, st, rates))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["legend"] = legend.id
    return out


def _frame(level: Level, codes, tot, nod, legend, st, rates) -> pd.DataFrame:
    ind = _indicators(codes, tot, nod, legend, st, rates)
    head = pd.DataFrame({"level": level.name, "unit_id": [str(i) for i in level.ids],
                         "name_zh": level.names_zh, "name_en": level.names_en})
    return pd.concat([head, ind.reset_index(drop=True)], axis=1)


def gansu_levels(province: gpd.GeoDataFrame, prefectures: gpd.GeoDataFrame,
                 counties: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                 zones_from_counties: bool = True) -> tuple[Level, list[Level]]:
    """Levels of the default dataset: counties read, prefectures/province summed from counties;
    zones summed from counties (schematic zones are county unions) unless ``zones_from_counties``
    is False (an uploaded zone file: read with its own polygons)."""
    c = counties.reset_index(drop=True).copy()
    c["_province"] = "province"
    c["prefecture_adcode"] = c["prefecture_adcode"].astype(str)
    base = Level("county", c["adcode"].astype(str).tolist(), c["name_zh"].tolist(),
                 c.get("name_en", c["name_zh"]).tolist(), polygons=c)
    pref = prefectures.reset_index(drop=True)
    levels = [
        Level("province", ["province"], [str(province["name_zh"].iloc[0])],
              [str(province.get("name_en", province["name_zh"]).iloc[0])], parent_field="_province"),
        Level("prefecture", pref["adcode"].astype(str).tolist(), pref["name_zh"].tolist(),
              pref.get("name_en", pref["name_zh"]).tolist(), parent_field="prefecture_adcode"),
    ]
    z = zones.reset_index(drop=True)
    if zones_from_counties and "zone_id" in z.columns and "zone_id" in c.columns:
        levels.append(Level("zone", z["zone_id"].astype(str).tolist(), z["name_zh"].astype(str).tolist(),
                            z.get("name_en", z["name_zh"]).astype(str).tolist(), parent_field="zone_id"))
    else:
        names = _name_column(z)
        names_en = z["name_en"].astype(str).tolist() if "name_en" in z.columns else names
        levels.append(Level("zone", [f"zone_{i}" for i in range(len(z))], names, names_en, polygons=z))
    return base, levels


def _name_column(gdf: gpd.GeoDataFrame) -> list[str]:
    for col in ("name_zh", "name", "zone", "NAME", "名称"):
        if col in gdf.columns:
            return gdf[col].astype(str).tolist()
    for col in gdf.columns:
        if col != gdf.geometry.name and gdf[col].dtype == object:
            return gdf[col].astype(str).tolist()
    return [str(i + 1) for i in range(len(gdf))]

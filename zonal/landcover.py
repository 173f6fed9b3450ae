"""Exact, area-weighted land-cover statistics per polygon, read window by window: the public
functions of the exact zonal engine (per-polygon code areas ``zonal_codes``, class areas
``class_areas``, whole-raster class totals ``raster_class_totals``, legend checks).

- Coverage fractions are exact (``zonal.coverage``): boundary cells get their exact
  covered fraction, interior cells 1, as exactextract does (``zonal.polygonstats``).
- Pixel area is the real ground area, never degrees, or the nominal |det| of InVEST
  (``zonal.pixelarea``).
- Fractions of a geographic cell are measured in lon/lat, so a piece's area assumes uniform
  area density inside the cell (error < 0.04% for a 0.05 degree cell, negligible at 10-30 m).
- Parks are reprojected to the raster's CRS; the raster is never resampled. Cells with the
  raster's nodata (or a legend's nodata code, or outside the raster) are excluded and reported.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from core.errors import InputError
from core.geom import geodesic_area_km2
from layers.legends import CLASS_IDS, Legend, get_legend
from zonal.histogram import Histogram, u8_counts
from zonal.polygonstats import PolygonStats, polygons_stats
from zonal.rastersource import LandcoverRaster


# --- public API --------------------------------------------------------------------------------
@dataclass
class ZonalResult:
    """Per-polygon code areas and data coverage (areas in m²)."""

    code_m2: pd.DataFrame  # rows = polygons (input index), columns = valid codes
    total_m2: np.ndarray
    nodata_m2: np.ndarray  # nodata codes + outside the raster
    outside_m2: np.ndarray
    pixels: np.ndarray
    crs: pyproj.CRS

    @property
    def covered_pct(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = 100.0 * (1.0 - self.nodata_m2 / self.total_m2)
        return np.where(self.total_m2 > 0, np.clip(pct, 0.0, 100.0), np.nan)


FAR_DEG = 10.0  # polygons this far (degrees) beyond the raster's lon/lat footprint are not projected


def to_raster_crs(geoms, src):
    """(polygons in the raster's CRS, mask of those left out). Polygons more than ``FAR_DEG``
    beyond the raster's footprint in lon/lat are left out (empty): on the other side of the world
    a projection may fold them onto the raster's pixels, or (a geostationary view) have no
    coordinates for them at all; a polygon that still cannot be projected is left out too. The
    caller counts a left-out polygon as wholly outside the raster."""
    import geopandas as gpd
    import shapely
    from rasterio.transform import array_bounds
    from rasterio.warp import transform_bounds

    far = np.zeros(len(geoms), dtype=bool)
    if pyproj.CRS(geoms.crs).equals(src.crs):
        return geoms, far
    vals = np.asarray(geoms.values, dtype=object).copy()
    try:
        x0, y0, x1, y1 = array_bounds(src.height, src.width, src.transform)
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1),
                                      densify_pts=21)
        if all(math.isfinite(v) for v in (w, s, e, n)) and w <= e:
            ll = geoms.to_crs(4326).values
            box = shapely.box(w - FAR_DEG, s - FAR_DEG, e + FAR_DEG, n + FAR_DEG)
            far = ~shapely.intersects(ll, box) & ~shapely.is_missing(vals)
            vals[far] = shapely.Polygon()
    except Exception:  # noqa: BLE001 - no footprint: project every polygon as before
        far = np.zeros(len(geoms), dtype=bool)
    try:
        out = list(gpd.GeoSeries(vals, index=geoms.index, crs=geoms.crs).to_crs(src.crs).values)
    except Exception:  # noqa: BLE001 - one polygon PROJ/GEOS cannot project: one at a time
        out = []
        for i, g in enumerate(vals):
            try:
                out.append(gpd.GeoSeries([g], crs=geoms.crs).to_crs(src.crs).values[0])
            except Exception:  # noqa: BLE001 - not visible from this CRS
                out.append(shapely.Polygon())
                far[i] = True
    for i, p in enumerate(out):
        if p is not None and not p.is_empty and not np.isfinite(shapely.get_coordinates(p)).all():
            out[i] = shapely.Polygon()
            far[i] = True
    return gpd.GeoSeries(out, index=geoms.index, crs=src.crs), far


def _outside_stats(geom_ll) -> PolygonStats:
    """A polygon left out by ``to_raster_crs``: its whole (ellipsoidal) area outside the raster."""
    m2 = float(geodesic_area_km2([geom_ll])[0]) * 1e6
    return PolygonStats({}, m2, m2, 0.0)


def zonal_codes(polygons, raster, legend: Legend | str | None = None, pixel_area: str = "ground") -> ZonalResult:
    """Exact area of every raster code inside each polygon (GeoSeries/GeoDataFrame with a CRS);
    ``pixel_area``: ``ground`` (true cell area) or ``nominal`` (|det|, InVEST)."""
    legend = get_legend(legend) if legend is not None else None
    geoms = geoseries(polygons)
    with LandcoverRaster(raster, legend, pixel_area) as src:
        local, far = to_raster_crs(geoms, src)
        ll = geoms.to_crs(4326).values if far.any() else None
        near = iter(polygons_stats(src, [g for i, g in enumerate(local.values) if not far[i]]))
        stats = [_outside_stats(ll[i]) if far[i] else next(near) for i in range(len(far))]
        nodata_codes = src.nodata_codes()
        crs = src.crs
    rows = []
    nod = np.zeros(len(stats))
    for i, st in enumerate(stats):
        rows.append({k: v for k, v in st.codes.items() if k not in nodata_codes})
        nod[i] = sum(v for k, v in st.codes.items() if k in nodata_codes) + st.outside_m2
    code_m2 = pd.DataFrame(rows, index=geoms.index).fillna(0.0)
    code_m2 = code_m2.reindex(columns=sorted(code_m2.columns))
    return ZonalResult(code_m2, np.array([s.total_m2 for s in stats]), nod,
                       np.array([s.outside_m2 for s in stats]), np.array([s.pixels for s in stats]), crs)


def unknown_codes(code_m2: pd.DataFrame, known) -> list[int]:
    """Codes with area > 0 that ``known`` (a legend or table) does not list."""
    present = [int(c) for c in code_m2.columns if (code_m2[c] > 0).any()]
    return sorted(set(present) - {int(k) for k in known})


def check_legend(code_m2: pd.DataFrame, legend: Legend, raster) -> None:
    missing = unknown_codes(code_m2, legend.codes)
    if missing:
        raise InputError(
            f"栅格 {Path(raster).name} 含图例 {legend.id!r} 未列出的代码 {missing}；请选择其他图例或提供图例 CSV（code,class）",
            f"raster {Path(raster).name} has code(s) {missing} that legend {legend.id!r} does not list; "
            "choose another legend or give a legend CSV (code,class)",
        )


def classes_from_codes(code_m2: pd.DataFrame, legend: Legend) -> pd.DataFrame:
    """Sum code areas into canonical classes (m²), columns in CLASS_IDS order."""
    out = pd.DataFrame(0.0, index=code_m2.index, columns=list(CLASS_IDS))
    for code in code_m2.columns:
        cls = legend.class_of(code)
        if cls is not None:
            out[cls] += code_m2[code]
    return out


def class_areas(parks, raster, legend: Legend | str = "igbp") -> pd.DataFrame:
    """Per polygon: ``lc_<class>_km2`` for every canonical class, ``landcover_coverage_pct``,
    ``landcover_pixels``, ``landcover_total_km2`` (polygon area on the raster grid).

    Works for parks and for large zones (counties, prefectures) on province rasters: each
    polygon is read in row strips of its own window; the raster is never read whole.
    Raises InputError if the raster holds codes the legend does not list.
    """
    legend = get_legend(legend)
    z = zonal_codes(parks, raster, legend)
    check_legend(z.code_m2, legend, raster)
    cls = classes_from_codes(z.code_m2, legend) / 1e6
    out = cls.add_prefix("lc_").add_suffix("_km2")
    out["landcover_coverage_pct"] = z.covered_pct
    out["landcover_pixels"] = z.pixels
    out["landcover_total_km2"] = z.total_m2 / 1e6
    return out


def raster_class_totals(raster, legend: Legend | str = "igbp", mask_geom=None, mask_crs=None) -> pd.DataFrame:
    """Area of every code of a whole raster (or inside ``mask_geom``), one row per code.

    Columns: code, class, area_km2. ``attrs``: nodata_km2. Without a mask the raster is read in
    full-width strips (block rows) and counted with a byte-pair bincount weighted per row.
    """
    legend = get_legend(legend)
    if mask_geom is not None:
        import geopandas as gpd

        z = zonal_codes(gpd.GeoSeries([mask_geom], crs=mask_crs), raster, legend)
        areas = z.code_m2.iloc[0].to_dict()
        nodata_m2 = float(z.nodata_m2[0])
    else:
        areas, nodata_m2 = _whole_raster(raster, legend)
    df = pd.DataFrame({"code": list(areas), "area_km2": [v / 1e6 for v in areas.values()]})
    df["class"] = [legend.class_of(c) for c in df["code"]]
    missing = sorted(int(c) for c, a in zip(df["code"], df["area_km2"]) if a > 0 and legend.class_of(c) is None)
    if missing:
        raise InputError(f"栅格 {Path(raster).name} 含图例 {legend.id!r} 未列出的代码 {missing}",
                         f"raster {Path(raster).name} has code(s) {missing} that legend {legend.id!r} does not list")
    df = df.sort_values("code").reset_index(drop=True)[["code", "class", "area_km2"]]
    df.attrs["nodata_km2"] = nodata_m2 / 1e6
    return df


def _whole_raster(raster, legend) -> tuple[dict[int, float], float]:
    """Histogram of a whole raster. One background thread reads (GDAL decompresses without the
    GIL) while this thread counts, so the total time is close to that of the read alone."""
    with LandcoverRaster(raster, legend) as src:
        hist = Histogram()
        strip = _strip_height(src)
        starts = list(range(0, src.height, strip))
        with ThreadPoolExecutor(max_workers=1) as pool:
            read = lambda r0: src.read(r0, min(r0 + strip, src.height), 0, src.width)  # noqa: E731
            pending = pool.submit(read, starts[0]) if starts else None
            for k, r0 in enumerate(starts):
                codes = pending.result()
                pending = pool.submit(read, starts[k + 1]) if k + 1 < len(starts) else None
                _count_block(src, codes, r0, min(r0 + strip, src.height), hist)
        nodata_codes = src.nodata_codes()
    areas = hist.as_dict()
    nodata = sum(v for k, v in areas.items() if k in nodata_codes)
    return {k: v for k, v in areas.items() if k not in nodata_codes}, nodata


def _strip_height(src) -> int:
    bh = src.block_rows
    return max(bh, (8_000_000 // max(src.width, 1)) // bh * bh)


def _count_block(src, codes, r0, r1, hist: Histogram):
    w = src.area.weights(r0, r1, 0, src.width)
    if codes.dtype == np.uint8 and np.isscalar(w):
        hist.add_u8(u8_counts(codes) * w)
    elif codes.dtype == np.uint8 and w.shape[1] == 1:
        for i in range(codes.shape[0]):
            hist.add_u8(np.bincount(codes[i], minlength=256) * w[i, 0])
    else:
        hist.add(codes.ravel(), np.broadcast_to(w, codes.shape).ravel())


def geoseries(polygons):
    """The polygons as a GeoSeries (a GeoSeries, or a GeoDataFrame's geometry) with a CRS; InputError
    otherwise."""
    import geopandas as gpd

    if isinstance(polygons, gpd.GeoDataFrame):
        polygons = polygons.geometry
    if not isinstance(polygons, gpd.GeoSeries):
        raise InputError("多边形须为 GeoSeries 或 GeoDataFrame", "polygons must be a GeoSeries or GeoDataFrame")
    if polygons.crs is None:
        raise InputError("多边形没有坐标参考系；请先设置（如 EPSG:4326）",
                         "the polygons have no CRS; set one (e.g. EPSG:4326) before computing")
    return polygons

"""What the data in use says at one point, and measurements of drawn shapes (the Map page's tools).

``query_point(lon, lat, …)`` answers for a WGS84/CGCS2000 point: the land-cover class of every
land cover given (one pixel read through a 1×1 window, never the whole raster), the zone, the
prefecture and county, inside/outside the red line (or its proxy), the park(s) holding it, the
geodesic distance to the nearest feature of each transport kind, and the point in four forms —
WGS84/CGCS2000 decimal and DMS, CGCS2000 3° Gauss–Krüger (zone prefix) and GCJ-02.

``measure(geometry)`` gives the geodesic length (km) of a line, the perimeter and geodesic area
(km² and 亩, 1 亩 = 10000/15 m²) of a polygon, on the WGS84 ellipsoid.

Plain data in, plain dicts out: the Map page shows them, the CLI could print them.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
import rasterio.errors
import rasterio.transform
import rasterio.windows
import shapely
import shapely.errors
import shapely.geometry

from core import crs
from core.geodesic import GEOD
from core.errors import InputError
from layers.legends import CLASS_BY_ID, get_legend
from layers.readers.raster import open_raster
from indicators import transport as transport_mod

M2_PER_MU = 10000.0 / 15.0  # 1 亩 = 666.67 m²


@dataclass(frozen=True)
class LandCoverInput:
    """One land cover to read at the point: ``role`` (landcover / landcover_alt), a label in both
    languages, the raster path and its legend (built-in id or legend CSV path)."""
    role: str
    label_zh: str
    label_en: str
    path: str
    legend: str


# --- coordinates ---------------------------------------------------------------------------------
def coordinate_forms(lon: float, lat: float) -> dict:
    """The point in WGS84/CGCS2000 (decimal and DMS), CGCS2000 3° GK and GCJ-02."""
    lon, lat = float(lon), float(lat)
    dms_lon, dms_lat = crs.lonlat_dms(lon, lat)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    out = {"lon": lon, "lat": lat, "dms_lon": dms_lon, "dms_lat": dms_lat,
           "gcj_lon": float(glon), "gcj_lat": float(glat), "gk": None}
    try:
        out["gk"] = crs.gk3_coordinates(lon, lat)
    except ValueError:  # outside CGCS2000 3° zones 25-45 (75°E-136.5°E): no GK form
        pass
    return out


# --- land cover: one pixel -------------------------------------------------------------------------
def landcover_at(path: str, legend: str, lon: float, lat: float) -> dict:
    """The code and class of the pixel holding (lon, lat): ``status`` is ``ok``, ``nodata`` or
    ``outside``; ``code``, ``class_id``, ``class_zh``/``class_en``, ``code_label`` and
    ``legend_name`` when there is a value. One 1×1 window is read."""
    lg = get_legend(legend)
    base = {"legend_id": lg.id, "legend_name": lg.name, "code": None, "class_id": None,
            "class_zh": None, "class_en": None, "code_label": None}
    try:
        src_ctx = open_raster(path)  # a GeoTIFF or a checked VRT: GDAL never guesses
    except rasterio.errors.RasterioIOError as e:
        raise InputError(f"无法读取土地覆被 {path}：{e}", f"cannot read land cover {path}: {e}") from e
    with src_ctx as src:
        x, y = float(lon), float(lat)
        src_crs = src.crs
        if src_crs is not None and not src_crs.is_geographic:
            tr = pyproj.Transformer.from_crs(crs.WGS84, pyproj.CRS.from_wkt(src_crs.to_wkt()), always_xy=True)
            x, y = tr.transform(x, y)
        row, col = rasterio.transform.rowcol(src.transform, x, y)
        row, col = int(row), int(col)
        if not (0 <= row < src.height and 0 <= col < src.width):
            return {**base, "status": "outside"}
        win = rasterio.windows.Window(col, row, 1, 1)
        value = src.read(1, window=win)[0, 0]
        nodata = src.nodata
        # no nodata value: the mask band (as the engine reads it) says whether the cell has data
        hidden = nodata is None and src.read_masks(1, window=win)[0, 0] == 0
    if hidden:
        return {**base, "status": "nodata"}
    if (nodata is not None and value == nodata) or int(value) in lg.nodata:
        return {**base, "code": int(value), "status": "nodata"}
    code = int(value)
    cls = lg.class_of(code)
    if cls is None:
        return {**base, "code": code, "status": "unclassified"}
    c = CLASS_BY_ID[cls]
    return {**base, "status": "ok", "code": code, "class_id": cls, "class_zh": c.label_zh,
            "class_en": c.label_en, "code_label": lg.code_labels.get(code, "")}


# --- vector layers ---------------------------------------------------------------------------------
def _at(gdf: gpd.GeoDataFrame | None, pt) -> gpd.GeoDataFrame | None:
    """Rows of ``gdf`` whose geometry covers the WGS84 point (None when there is no layer)."""
    if gdf is None:
        return None
    g = gdf.to_crs(crs.WGS84) if gdf.crs is not None and not gdf.crs.equals(crs.WGS84) else gdf
    idx = g.sindex.query(pt, predicate="intersects")
    return g.iloc[np.sort(idx)]


def _text(row, field: str | None) -> str | None:
    if field is None or field not in row.index:
        return None
    v = row[field]
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def query_point(lon: float, lat: float, *, landcovers: list[LandCoverInput] = (),
                zones: gpd.GeoDataFrame | None = None, zone_field: str = "name_zh",
                prefectures: gpd.GeoDataFrame | None = None, counties: gpd.GeoDataFrame | None = None,
                redline: gpd.GeoDataFrame | None = None, parks: gpd.GeoDataFrame | None = None,
                transport: dict | None = None) -> dict:
    """Everything the given layers say at the WGS84 point (lon, lat). Keys: ``coords``
    (:func:`coordinate_forms`), ``landcover`` (one entry per land cover: role, label_zh/en and
    :func:`landcover_at`), ``zone`` / ``prefecture`` / ``county`` (dicts of names, or None outside),
    ``redline`` (None when no layer, else ``{"inside": bool, "basis": [...]}``), ``parks`` (list of
    park_id/name/name_en) and ``transport`` ({kind: km or None when the layer is empty})."""
    lon, lat = float(lon), float(lat)
    if np.isfinite(lon) and not -180 <= lon <= 180:  # a map panned across the antimeridian
        lon = (lon + 180) % 360 - 180
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"坐标无效：{lon}, {lat}", f"invalid coordinates: {lon}, {lat}")
    pt = shapely.geometry.Point(lon, lat)
    out: dict = {"coords": coordinate_forms(lon, lat)}
    out["landcover"] = [{"role": lc.role, "label_zh": lc.label_zh, "label_en": lc.label_en,
                         **landcover_at(lc.path, lc.legend, lon, lat)} for lc in landcovers]

    z = _at(zones, pt)
    out["zone"] = None
    if z is not None and len(z):
        r = z.iloc[0]
        name = _text(r, zone_field) or _text(r, "name_zh") or _text(r, "zone_id")
        out["zone"] = {"name_zh": name, "name_en": _text(r, "name_en") or name, "zone_id": _text(r, "zone_id")}

    c = _at(counties, pt)
    out["county"] = None
    if c is not None and len(c):
        r = c.iloc[0]
        out["county"] = {"name_zh": _text(r, "name_zh"), "name_en": _text(r, "name_en"),
                         "adcode": _text(r, "adcode"), "prefecture_zh": _text(r, "prefecture_zh")}
    p = _at(prefectures, pt)
    out["prefecture"] = None
    if p is not None and len(p):
        r = p.iloc[0]
        out["prefecture"] = {"name_zh": _text(r, "name_zh"), "name_en": _text(r, "name_en"), "adcode": _text(r, "adcode")}

    red = _at(redline, pt)
    out["redline"] = None if red is None else {
        "inside": bool(len(red)),
        "basis": sorted({b for b in (_text(r, "basis") for _, r in red.iterrows()) if b})}

    pk = _at(parks, pt)
    out["parks"] = [] if pk is None else [
        {"park_id": _text(r, "park_id"), "name": _text(r, "name") or _text(r, "name_zh"),
         "name_en": _text(r, "name_en") or _text(r, "name") or _text(r, "name_zh")} for _, r in pk.iterrows()]

    out["transport"] = {}
    where = gpd.GeoSeries([pt], crs=crs.WGS84)
    for kind, layer in (transport or {}).items():
        geoms = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
        km = transport_mod.nearest_km(where, geoms)[0]
        out["transport"][kind] = None if np.isnan(km) else float(km)
    return out


# --- measure -----------------------------------------------------------------------------------------
def measure(geometry) -> dict:
    """Geodesic measures of a drawn WGS84 shape (GeoJSON geometry dict or shapely geometry):
    ``kind`` (line / polygon / point), ``length_km`` (a line's length, a polygon's perimeter),
    ``area_km2`` and ``area_mu`` (polygons; None for lines)."""
    try:
        geom = shapely.geometry.shape(geometry) if isinstance(geometry, dict) else geometry
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError) as e:
        raise InputError("无法识别所绘图形。", "the drawn shape could not be read.") from e
    if geom is None or geom.is_empty:
        raise InputError("所绘图形为空。", "the drawn shape is empty.")
    geom = shapely.force_2d(geom)
    if geom.geom_type in ("LineString", "MultiLineString"):
        return {"kind": "line", "length_km": GEOD.geometry_length(geom) / 1000.0,
                "area_km2": None, "area_mu": None, "n_vertices": int(shapely.get_num_coordinates(geom))}
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        area_m2, perimeter_m = GEOD.geometry_area_perimeter(geom)
        area_m2 = abs(area_m2)
        return {"kind": "polygon", "length_km": perimeter_m / 1000.0, "area_km2": area_m2 / 1e6,
                "area_mu": area_m2 / M2_PER_MU, "n_vertices": int(shapely.get_num_coordinates(geom))}
    if geom.geom_type == "Point":
        return {"kind": "point", "length_km": None, "area_km2": None, "area_mu": None, "n_vertices": 1}
    raise InputError(f"不支持的图形类型：{geom.geom_type}", f"unsupported shape type: {geom.geom_type}")

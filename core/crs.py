"""Coordinate reference systems met in Chinese geodata, and the areas we compute with.

- WGS84 (EPSG:4326) and CGCS2000 (EPSG:4490) agree to centimetres here: treated as equal.
- GCJ-02 is not a CRS that PROJ knows: it is an obfuscating offset applied to WGS84 by all
  Gaode/AutoNavi and Tencent data (18-556 m inside Gansu). We implement the public
  (reverse-engineered) forward formula and invert it by fixed-point iteration.
- Areas are never computed in degrees: ``EQUAL_AREA`` is an Albers equal-area projection
  for China (standard parallels 25N/47N, central meridian 105E); ``core.geodesic.geodesic_area_m2``
  uses pyproj.Geod on the WGS84 ellipsoid for checks and for small shapes.
"""
from __future__ import annotations

import math

import numpy as np
import pyproj
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from core.geodesic import GEOD
from core.geom import albers_ok, geodesic_area_km2

# Albers equal-area conic for China, on the WGS84/CGCS2000 ellipsoid.
EQUAL_AREA = pyproj.CRS.from_proj4(
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 "
    "+ellps=WGS84 +units=m +no_defs"
)
WGS84 = pyproj.CRS.from_epsg(4326)
CGCS2000 = pyproj.CRS.from_epsg(4490)

# Gansu's extent in WGS84 (lon_min, lat_min, lon_max, lat_max), generous by a few km.
GANSU_BBOX = (92.0, 32.2, 108.9, 43.0)

# --- GCJ-02 ----------------------------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to WGS84 at (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    # The same rough rectangle every GCJ-02 implementation uses: no offset outside it.
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def wgs84_to_gcj02(lon, lat):
    """Forward GCJ-02 offset. Accepts scalars or arrays; returns arrays (lon, lat)."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    dlon, dlat = _delta(lon, lat)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, tol_deg: float = 1e-10, max_iter: int = 30):
    """Inverse of :func:`wgs84_to_gcj02` by fixed-point iteration (converges to < 1 mm)."""
    glon = np.asarray(lon, dtype="float64")
    glat = np.asarray(lat, dtype="float64")
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.nanmax(np.abs(elon), initial=0) < tol_deg and np.nanmax(np.abs(elat), initial=0) < tol_deg:
            break
    return wlon, wlat


def _geom_apply(geom: BaseGeometry, fn) -> BaseGeometry:
    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _xy)


def geom_wgs84_to_gcj02(geom):
    """Shift a shapely geometry (or array of them) from WGS84 into GCJ-02."""
    return _geom_apply(geom, wgs84_to_gcj02)


def geom_gcj02_to_wgs84(geom):
    """Shift a shapely geometry (or array of them) from GCJ-02 back to WGS84."""
    return _geom_apply(geom, gcj02_to_wgs84)


def gdf_gcj02_to_wgs84(gdf):
    """GeoDataFrame whose coordinates are GCJ-02 degrees -> WGS84 (EPSG:4326)."""
    out = gdf.copy()
    out = out.set_crs(WGS84, allow_override=True)
    out["geometry"] = geom_gcj02_to_wgs84(out.geometry.values)
    return out


# --- Areas and distances ---------------------------------------------------------------------
def equal_area_km2(gdf) -> np.ndarray:
    """Area of each geometry of a GeoDataFrame/GeoSeries with a CRS, in km²: Albers China, except
    geometries outside its extent (a pole, the antimeridian, far from China), measured on the
    ellipsoid (``core.geom.albers_ok`` / ``geodesic_area_km2``: Antarctica is 12.3 million km²,
    not ~50 times that)."""
    if gdf.crs is None:
        raise ValueError("geometry has no CRS; cannot compute an area")
    area = gdf.to_crs(EQUAL_AREA).area.to_numpy() / 1e6
    ll = gdf.to_crs(4326).geometry.values if hasattr(gdf, "geometry") else gdf.to_crs(4326).values
    far = ~albers_ok(ll)
    if far.any():
        area[far] = geodesic_area_km2(ll[far])
    return area


def geodesic_distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Ellipsoidal distance between WGS84 points, in metres."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


# --- CGCS2000 Gauss-Krüger zones ----------------------------------------------------------------
def cgcs2000_gk_epsg(lon: float, zone_width: int = 3, zone_prefix: bool = True) -> int:
    """EPSG code of the CGCS2000 Gauss-Krüger zone holding ``lon``.

    3° zones: EPSG:4513-4533 (zones 25-45, easting with zone prefix) and 4534-4554 (central
    meridian only). 6° zones: EPSG:4491-4501 (zones 13-23, prefix) and 4502-4512.
    """
    if zone_width == 3:
        zone = int(math.floor((lon - 1.5) / 3.0)) + 1
        if not 25 <= zone <= 45:
            raise ValueError(f"longitude {lon} is outside CGCS2000 3° zones 25-45")
        return (4513 if zone_prefix else 4534) + zone - 25
    if zone_width == 6:
        zone = int(math.floor(lon / 6.0)) + 1
        if not 13 <= zone <= 23:
            raise ValueError(f"longitude {lon} is outside CGCS2000 6° zones 13-23")
        return (4491 if zone_prefix else 4502) + zone - 13
    raise ValueError("zone_width must be 3 or 6")


def square_of_area(lon: float, lat: float, area_km2: float) -> Polygon:
    """Square of the given true area centred on (lon, lat), built in a local equal-area CRS."""
    laea = pyproj.CRS.from_proj4(f"+proj=laea +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    half = (area_km2 * 1e6) ** 0.5 / 2
    sq = Polygon([(-half, -half), (half, -half), (half, half), (-half, half)])
    sq = shapely.segmentize(sq, half / 4)
    tr = pyproj.Transformer.from_crs(laea, WGS84, always_xy=True)
    return shapely.transform(sq, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


# --- coordinate forms (the Map page's click to query) -------------------------------------------
def to_dms(value: float, positive: str, negative: str, decimals: int = 3) -> str:
    """Degrees as degrees-minutes-seconds with a hemisphere letter: ``103°49'54.123"E``."""
    hemi = positive if value >= 0 else negative
    v = abs(float(value))
    deg = int(v)
    minutes_f = (v - deg) * 60.0
    minutes = int(minutes_f)
    seconds = round((minutes_f - minutes) * 60.0, decimals)
    if seconds >= 60.0:  # rounding carried into the next minute
        seconds -= 60.0
        minutes += 1
    if minutes >= 60:
        minutes -= 60
        deg += 1
    return f"{deg}°{minutes:02d}'{seconds:0{3 + decimals}.{decimals}f}\"{hemi}"


def lonlat_dms(lon: float, lat: float) -> tuple[str, str]:
    """(longitude, latitude) in DMS: ``("103°49'54.123\"E", "36°03'12.000\"N")``."""
    return to_dms(lon, "E", "W"), to_dms(lat, "N", "S")


_GK_TRANSFORMERS: dict[int, pyproj.Transformer] = {}


def gk3_coordinates(lon: float, lat: float) -> dict:
    """CGCS2000 3° Gauss–Krüger coordinates of a CGCS2000/WGS84 point, in its own zone:
    ``epsg`` (4513–4533, with zone prefix), ``zone``, ``central_meridian``, ``easting`` (metres,
    zone number prefixed: zone 35 → 35 xxx xxx.xxx) and ``northing`` (metres)."""
    epsg = cgcs2000_gk_epsg(lon, 3, True)
    tr = _GK_TRANSFORMERS.get(epsg)
    if tr is None:
        tr = _GK_TRANSFORMERS[epsg] = pyproj.Transformer.from_crs(CGCS2000, pyproj.CRS.from_epsg(epsg),
                                                                   always_xy=True)
    e, n = tr.transform(float(lon), float(lat))
    zone = epsg - 4513 + 25
    return {"epsg": epsg, "zone": zone, "central_meridian": 3 * zone, "easting": float(e), "northing": float(n)}

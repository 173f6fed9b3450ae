"""One check of the Map panel's coordinate rows, shared by the AppTest and the browser test."""
from __future__ import annotations

import pyproj

from core import crs


def assert_coordinate_rows(rows: dict, lon: float, lat: float, gcj_tol: float) -> None:
    """DMS as ``crs.lonlat_dms``; 3° Gauss–Krüger zone 35 (EPSG:4523) easting/northing equal to
    pyproj's within 1 cm; GCJ-02 equal to the project's transform within ``gcj_tol`` degrees."""
    dms_lon, dms_lat = crs.lonlat_dms(lon, lat)
    assert rows["WGS84 / CGCS2000 经度, 纬度（度分秒）"] == f"{dms_lon}, {dms_lat}"
    assert "第 35 带（EPSG:4523" in rows["CGCS2000 3° 高斯-克吕格带"]
    n, e = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4523").transform(lat, lon)
    assert abs(float(rows["高斯-克吕格 东坐标 Y（m，含带号）"]) - e) < 0.01
    assert abs(float(rows["高斯-克吕格 北坐标 X（m）"]) - n) < 0.01
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    g = [float(v) for v in rows["GCJ-02（高德/腾讯）经度, 纬度"].split(",")]
    assert abs(g[0] - glon) < gcj_tol and abs(g[1] - glat) < gcj_tol

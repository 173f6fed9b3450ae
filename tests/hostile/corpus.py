"""Broken and hostile inputs, made in code, each with the outcome the app must give.

``cases()`` returns ``Case`` objects: a file name, its bytes (built lazily: a few are large) and
the expected outcome:

- ``error``: ``readers.UploadError`` (vector/CSV) or ``InputError`` (GeoTIFF) whose English and
  Chinese messages contain ``en`` and ``zh`` (the problem named in both languages);
- ``crs``: ``readers.CRSMissing`` (the user is asked for a coordinate system), same needles;
- ``ok``: read successfully; ``check(result)`` asserts what was read (e.g. Chinese attributes
  decoded, the feature where it belongs) and ``note`` must appear among the notes shown.

``kind`` is ``vector`` (``readers.read_vector``) or ``raster`` (``layers.readers.validate_geotiff``,
the Targets page's land-cover upload).
"""
from __future__ import annotations

import io
import json
import math
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import shapely

LON, LAT = 104.2, 36.5  # Baiyin, Gansu
POLY = shapely.box(LON, LAT, LON + 0.03, LAT + 0.02)
HTML = '<img src=x onerror="window.__xss=1"><script>alert(1)</script>'
SQL = "x'); DROP TABLE parks; -- \"quoted\" O'Brien"
CTRL = "a\x00b\x01c\x07d\x1be\x7ff\u2028g"


@dataclass
class Case:
    id: str
    filename: str
    make: Callable[[], bytes]
    expect: str  # error | crs | ok
    en: str = ""
    zh: str = ""
    kind: str = "vector"
    check: Callable | None = None
    note: str | None = None
    kwargs: dict = field(default_factory=dict)

    def data(self) -> bytes:
        return self.make()


# --- helpers -----------------------------------------------------------------------------------
_TMPDIRS: list[tempfile.TemporaryDirectory] = []


def _tmp() -> Path:
    """A scratch folder for building a file; every one is removed when the process exits."""
    d = tempfile.TemporaryDirectory(prefix="hostile-")
    _TMPDIRS.append(d)  # kept referenced until exit, then cleaned up by TemporaryDirectory
    return Path(d.name)


def gdf(names=("园区甲",), geoms=None, crs=4326, col="名称") -> gpd.GeoDataFrame:
    geoms = geoms or [POLY] * len(names)
    return gpd.GeoDataFrame({col: list(names)}, geometry=list(geoms), crs=crs)


def shp_parts(g: gpd.GeoDataFrame, encoding="UTF-8", **kw) -> dict[str, bytes]:
    d = _tmp()
    g.to_file(d / "p.shp", encoding=encoding, engine="pyogrio", **kw)
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def shp_zip(g=None, drop=(), replace=None, encoding="UTF-8", **kw) -> bytes:
    parts = shp_parts(gdf() if g is None else g, encoding=encoding, **kw)
    parts = {k: v for k, v in parts.items() if Path(k).suffix not in drop}
    parts.update(replace or {})
    return zip_bytes(parts)


def symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("p.shp")
        info.external_attr = (0o120777 << 16)  # S_IFLNK
        z.writestr(info, "/etc/passwd")
        for k, v in shp_parts(gdf()).items():
            if not k.endswith(".shp"):
                z.writestr(k, v)
    return buf.getvalue()


def lying_size_zip(inner: str = "p.shp", declared: int = 3 << 30) -> bytes:
    """A zip whose central directory declares a 3 GiB member (the data itself is small)."""
    data = bytearray(zip_bytes({inner: b"x" * 1000, "p.shx": b"x", "p.dbf": b"x"}))
    cd = data.find(b"PK\x01\x02")
    # central directory header: uncompressed size at offset 24 (4 bytes)
    struct.pack_into("<I", data, cd + 24, declared)
    return bytes(data)


def real_bomb(member: str = "p.shp", mb: int = 64) -> bytes:
    """Highly compressible member (``mb`` MiB of zeros, ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(member, "w", force_zip64=False) as f:
            chunk = bytes(1 << 20)
            for _ in range(mb):
                f.write(chunk)
        z.writestr("p.shx", b"x")
        z.writestr("p.dbf", b"x")
    return buf.getvalue()


def many_members(n: int = 2100) -> bytes:
    return zip_bytes({f"f{i}.txt": b"" for i in range(n)}, zipfile.ZIP_STORED)


def fc(features: list[dict], **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features},
                      ensure_ascii=False, allow_nan=True).encode()


def feat(geometry: dict, **props) -> dict:
    return {"type": "Feature", "properties": {"名称": "甲", **props}, "geometry": geometry}


def ring(x=LON, y=LAT, d=0.02, close=True, z=None):
    pts = [[x, y], [x + d, y], [x + d, y + d], [x, y + d]]
    if close:
        pts.append([x, y])
    if z is not None:
        pts = [p + [z] for p in pts]
    return pts


def poly_geojson(**geom_kw) -> dict:
    return {"type": "Polygon", "coordinates": [ring(**geom_kw)]}


def points_fc(n: int) -> bytes:
    rng = np.random.default_rng(1)
    xs = rng.uniform(93, 108, n)
    ys = rng.uniform(32, 43, n)
    parts = ['{"type":"FeatureCollection","features":[']
    parts.append(",".join(
        f'{{"type":"Feature","properties":{{"i":{i}}},"geometry":{{"type":"Point","coordinates":[{x:.5f},{y:.5f}]}}}}'
        for i, (x, y) in enumerate(zip(xs, ys))))
    parts.append("]}")
    return "".join(parts).encode()


def kml(body: str = "", prolog: str = "", encoding: str = "utf-8") -> bytes:
    text = (f'<?xml version="1.0" encoding="{encoding.upper()}"?>{prolog}'
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>'
            f'{body or "甲"}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>'
            f'{LON},{LAT} {LON + 0.02},{LAT} {LON + 0.02},{LAT + 0.02} {LON},{LAT}'
            '</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>')
    return text.encode(encoding)


XXE = '<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


def m_shapefile_zip() -> bytes:
    """PolygonM (shape type 25): a PolygonZ file whose type codes are patched to 25, so its Z
    block (range + values, the same layout as an M block) is read as measures."""
    g = gpd.GeoDataFrame({"名称": ["M"]}, geometry=[shapely.from_wkt(
        f"POLYGON Z (({LON} {LAT} 1, {LON + .02} {LAT} 2, {LON + .02} {LAT + .02} 3, {LON} {LAT} 1))")], crs=4326)
    parts = shp_parts(g)
    shp, shx = bytearray(parts["p.shp"]), bytearray(parts["p.shx"])
    for buf, offs in ((shp, (32, 108)), (shx, (32,))):
        for o in offs:
            struct.pack_into("<i", buf, o, 25)
    parts["p.shp"], parts["p.shx"] = bytes(shp), bytes(shx)
    return zip_bytes(parts)


def zero_feature_zip() -> bytes:
    g = gpd.GeoDataFrame({"名称": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return shp_zip(g, geometry_type="Polygon")


def nan_shapefile_zip() -> bytes:
    """A valid polygon Shapefile whose second vertex's x is patched to NaN in the .shp."""
    parts = shp_parts(gdf(["nan"]))
    shp = bytearray(parts["p.shp"])
    # file header 100 + record header 8 + type 4 + bbox 32 + nparts 4 + npoints 4 + parts[0] 4
    struct.pack_into("<d", shp, 100 + 8 + 4 + 32 + 4 + 4 + 4 + 16, math.nan)
    parts["p.shp"] = bytes(shp)
    return zip_bytes(parts)


def gpkg_bytes(g: gpd.GeoDataFrame, layer="parks") -> bytes:
    d = _tmp()
    g.to_file(d / "x.gpkg", layer=layer, engine="pyogrio")
    return (d / "x.gpkg").read_bytes()


# --- rasters -----------------------------------------------------------------------------------
def tif(data=None, crs="EPSG:4326", transform=None, nodata=255, dtype="uint8", **kw) -> bytes:
    import rasterio
    from rasterio.transform import Affine

    data = np.full((40, 40), 10, dtype) if data is None else data
    transform = transform or Affine(0.01, 0, 103.0, 0, -0.01, 37.0)
    d = _tmp()
    prof = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype.name,
                transform=transform, **kw)
    if crs is not None:
        prof["crs"] = crs
    if nodata is not None:
        prof["nodata"] = nodata
    with rasterio.open(d / "x.tif", "w", **prof) as ds:
        ds.write(data, 1)
    return (d / "x.tif").read_bytes()


def forged_tiff(width=100_000, height=100_000) -> bytes:
    """A classic little-endian TIFF header declaring width × height uint8 pixels in one strip
    whose data lies far beyond the end of the (tiny) file, with a WGS84 GeoKey directory."""
    entries = []

    def e(tag, typ, count, value):
        entries.append((tag, typ, count, value))

    geokeys = [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326]
    n_entries = 13
    ifd_size = 2 + n_entries * 12 + 4
    extra_off = 8 + ifd_size
    pixscale_off = extra_off
    tiepoint_off = pixscale_off + 24
    geokey_off = tiepoint_off + 48
    e(256, 4, 1, width)  # ImageWidth LONG
    e(257, 4, 1, height)  # ImageLength
    e(258, 3, 1, 8)  # BitsPerSample
    e(259, 3, 1, 1)  # Compression none
    e(262, 3, 1, 1)  # Photometric min-is-black
    e(273, 4, 1, 1 << 31)  # StripOffsets: 2 GiB into a file of a few hundred bytes
    e(277, 3, 1, 1)  # SamplesPerPixel
    e(278, 4, 1, height)  # RowsPerStrip
    e(279, 4, 1, (width * height) & 0xFFFFFFFF)  # StripByteCounts
    e(339, 3, 1, 1)  # SampleFormat uint
    e(33550, 12, 3, pixscale_off)  # ModelPixelScale
    e(33922, 12, 6, tiepoint_off)  # ModelTiepoint
    e(34735, 3, len(geokeys), geokey_off)  # GeoKeyDirectory
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    out += struct.pack("<H", n_entries)
    for tag, typ, count, value in entries:
        if typ == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0)
    out += struct.pack("<3d", 0.0001, 0.0001, 0.0)
    out += struct.pack("<6d", 0, 0, 0, 100.0, 40.0, 0)
    out += struct.pack(f"<{len(geokeys)}H", *geokeys)
    return bytes(out)


def sparse_huge_tif() -> bytes:
    """A real, valid 100000 × 100000 tiled GeoTIFF with no tile written (GDAL SPARSE_OK)."""
    import rasterio
    from rasterio.transform import Affine

    d = _tmp()
    with rasterio.open(d / "big.tif", "w", driver="GTiff", width=100_000, height=100_000, count=1,
                       dtype="uint8", crs="EPSG:4326", nodata=255, tiled=True, blockxsize=512,
                       blockysize=512, sparse_ok=True, transform=Affine(1e-4, 0, 100, 0, -1e-4, 40)):
        pass
    return (d / "big.tif").read_bytes()


# --- checks ------------------------------------------------------------------------------------
def _name(expected, col="名称"):
    def check(res):
        assert str(res.gdf[col].iloc[0]) == expected, res.gdf[col].iloc[0]
    return check


def quad_km2(lon0, lat0, lon1, lat1) -> float:
    """Hand formula: the area of a longitude/latitude quadrangle on the WGS84 ellipsoid,
    a²(1−e²)·Δλ/2·[q(φ1) − q(φ0)], q(φ) = sinφ/(1−e²sin²φ) + ln((1+e sinφ)/(1−e sinφ))/(2e)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(phi):
        s = math.sin(math.radians(phi))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return a * a * (1 - e2) * math.radians(lon1 - lon0) / 2 * (q(lat1) - q(lat0)) / 1e6


def _at(lon, lat, km2, tol_m=20.0, rel=0.005):
    """The feature's centroid within ``tol_m`` metres (geodesic) of (lon, lat) — a GCJ-02 shift
    (≈ 200 m at Baiyin) or a datum slip fails — and its equal-area size within ``rel`` of ``km2``."""
    def check(res):
        from core import crs

        g = res.gdf.to_crs(4326).geometry
        assert g.is_valid.all()
        c = g.iloc[0].centroid
        d = float(crs.geodesic_distance_m(lon, lat, c.x, c.y))
        assert d <= tol_m, f"centroid {d:.1f} m from ({lon}, {lat})"
        area = float(crs.equal_area_km2(g.iloc[:1])[0])
        assert abs(area - km2) <= rel * km2, (area, km2)
    return check


SQ02 = quad_km2(LON, LAT, LON + 0.02, LAT + 0.02)  # the 0.02° square of ring()
# the self-intersecting "bow tie" is repaired into its two triangles: half the square, same centre
_bowtie = _at(LON + 0.01, LAT + 0.01, SQ02 / 2)
_square = _at(LON + 0.01, LAT + 0.01, SQ02)
_poly = _at(LON + 0.015, LAT + 0.01, quad_km2(LON, LAT, LON + 0.03, LAT + 0.02))  # POLY, 0.03° × 0.02°
# kml(): the triangle (LON, LAT), (LON+.02, LAT), (LON+.02, LAT+.02): centroid at 2/3, 1/3; half the square
_kml_triangle = _at(LON + 0.02 * 2 / 3, LAT + 0.02 / 3, SQ02 / 2)


def _near_baiyin(res):
    """(kept for cases added later) the feature is the POLY box at Baiyin, to 20 m and 0.5%."""
    _poly(res)


def _valid_2d(res):
    assert res.gdf.geometry.is_valid.all() and not shapely.has_z(res.gdf.geometry.values).any()
    assert not shapely.has_m(res.gdf.geometry.values).any()


def cases() -> list[Case]:
    good = lambda: shp_zip()  # noqa: E731
    return [
        # --- zip / Shapefile structure
        Case("truncated_zip", "p.zip", lambda: good()[: len(good()) // 2], "error", "corrupt", "损坏"),
        Case("not_a_zip", "p.zip", lambda: b"\x89PNG\r\n\x1a\n" + os.urandom(200), "error", "corrupt", "损坏"),
        Case("zip_without_shp", "p.zip", lambda: shp_zip(drop=(".shp",)), "error", "no .shp", ".shp"),
        Case("zip_without_shx", "p.zip", lambda: shp_zip(drop=(".shx",)), "error", ".shx", ".shx"),
        Case("zip_without_dbf", "p.zip", lambda: shp_zip(drop=(".dbf",)), "error", ".dbf", ".dbf"),
        Case("prj_missing", "p.zip", lambda: shp_zip(drop=(".prj",)), "crs", "no coordinate reference system", "坐标系"),
        Case("prj_garbage", "p.zip", lambda: shp_zip(replace={"p.prj": b"GEOGCS[this is not WKT \x00\xff"}),
             "crs", "coordinate reference system", "坐标系"),
        Case("cpg_lying_utf8_on_gbk", "p.zip",
             lambda: shp_zip(gdf(["兰州新区生态红线"]), encoding="GBK", replace={"p.cpg": b"UTF-8"}),
             "ok", check=_name("兰州新区生态红线"), note=".cpg"),
        Case("cpg_unknown_encoding", "p.zip", lambda: shp_zip(gdf(["白银"]), replace={"p.cpg": b"KLINGON-42"}),
             "ok", check=_name("白银"), note=".cpg"),
        Case("gbk_without_cpg", "p.zip", lambda: shp_zip(gdf(["定西园区"]), encoding="GBK", drop=(".cpg",)),
             "ok", check=_name("定西园区")),
        Case("gb18030_without_cpg", "p.zip",
             lambda: shp_zip(gdf(["㐀䶵园区"]), encoding="GB18030", drop=(".cpg",)), "ok", check=_name("㐀䶵园区")),
        Case("zero_features", "p.zip", zero_feature_zip, "error", "no features", "没有要素"),
        Case("zip_dotdot", "p.zip", lambda: zip_bytes({"../../p.shp": b"x"}), "error", "unsafe path", "不安全"),
        Case("zip_absolute", "p.zip", lambda: zip_bytes({"/tmp/p.shp": b"x"}), "error", "unsafe path", "不安全"),
        Case("zip_windows_drive", "p.zip", lambda: zip_bytes({"C:\\Windows\\p.shp": b"x"}), "error", "unsafe path", "不安全"),
        Case("zip_backslash_dotdot", "p.zip", lambda: zip_bytes({"a\\..\\..\\p.shp": b"x"}), "error", "unsafe path", "不安全"),
        Case("zip_symlink", "p.zip", symlink_zip, "error", "symbolic link", "符号链接"),
        Case("zip_bomb_declared", "p.zip", lambda: lying_size_zip(), "error", "size limit", "过大"),
        Case("zip_bomb_ratio", "p.zip", lambda: real_bomb(), "error", "compression ratio", "压缩比"),
        Case("kmz_bomb_declared", "p.kmz", lambda: lying_size_zip("doc.kml"), "error", "size limit", "过大"),
        Case("kmz_bomb_ratio", "p.kmz", lambda: real_bomb("doc.kml"), "error", "compression ratio", "压缩比"),
        Case("zip_too_many_members", "p.zip", many_members, "error", "too many files", "文件过多"),
        Case("zip_in_zip", "p.zip", lambda: zip_bytes({"inner.zip": good()}), "error", "no .shp", ".shp"),
        # --- geometries
        Case("self_intersecting", "p.geojson", lambda: fc([feat({"type": "Polygon", "coordinates": [[
            [LON, LAT], [LON + .02, LAT + .02], [LON + .02, LAT], [LON, LAT + .02], [LON, LAT]]]})]),
             "ok", check=_bowtie, note="repaired"),
        Case("unclosed_ring", "p.geojson", lambda: fc([feat(poly_geojson(close=False))]), "ok", check=_square),
        Case("empty_polygon", "p.geojson", lambda: fc([feat({"type": "Polygon", "coordinates": []})]),
             "error", "empty geometry", "为空"),
        Case("null_geometry", "p.geojson", lambda: fc([feat(None)]), "error", "empty geometry", "为空"),
        Case("nan_coordinates_geojson", "p.geojson", lambda: fc([feat({"type": "Polygon", "coordinates": [[
            [LON, LAT], [float("nan"), LAT], [LON + .02, LAT + .02], [LON, LAT]]]})]),
             "error", "not a number", "非数值"),
        Case("nan_coordinates_shapefile", "p.zip", nan_shapefile_zip, "error", "not a number", "非数值"),
        Case("polygon_z", "p.geojson", lambda: fc([feat(poly_geojson(z=1500.0))]), "ok", check=_valid_2d, note="Z/M"),
        Case("polygon_m_shapefile", "p.zip", m_shapefile_zip, "ok", check=_valid_2d),
        Case("geometry_collection", "p.geojson", lambda: fc([feat({"type": "GeometryCollection", "geometries": [
            poly_geojson(), {"type": "Point", "coordinates": [LON, LAT]}]})]), "ok", check=_square,
             note="geometry collection read as its polygons"),
        Case("geometry_collection_no_polygon", "p.geojson", lambda: fc([feat({"type": "GeometryCollection",
             "geometries": [{"type": "LineString", "coordinates": ring()}, {"type": "Point", "coordinates": [LON, LAT]}]})]),
             "error", "collection", "几何集合"),
        Case("lines_not_polygons", "p.geojson", lambda: fc([feat({"type": "LineString", "coordinates": ring()})]),
             "error", "polygons are expected", "需要面"),
        Case("out_of_range", "p.geojson", lambda: fc([feat(poly_geojson(x=250.0, y=95.0))]),
             "crs", "do not suggest", "无法"),
        Case("swapped_axes", "p.geojson", lambda: fc([feat({"type": "Polygon", "coordinates": [
            [[y, x] for x, y in ring()]]})]), "error", "latitude, longitude", "纬度、经度"),
        Case("outside_gansu", "p.geojson", lambda: fc([feat(poly_geojson(x=2.35, y=48.85))]), "ok",
             check=_at(2.36, 48.86, quad_km2(2.35, 48.85, 2.37, 48.87)), note="outside Gansu"),
        Case("geojson_crs_member_gk", "p.geojson", lambda: gdf().to_crs(4524).to_json(to_wgs84=False).encode(),
             "ok", check=_poly),
        Case("geojson_crs_member_bogus", "p.geojson", lambda: fc([feat(poly_geojson())], crs={
            "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}), "error", "coordinate", "坐标"),
        Case("points_100k", "p.geojson", lambda: points_fc(100_000), "error", "polygons are expected", "需要面"),
        Case("features_over_limit", "p.geojson", lambda: points_fc(200_001), "error", "too many features", "要素过多"),
        # --- attributes
        Case("html_js_attributes", "p.geojson", lambda: gdf([HTML]).to_json().encode(), "ok", check=_name(HTML)),
        Case("sql_quotes_attributes", "p.geojson", lambda: gdf([SQL]).to_json().encode(), "ok", check=_name(SQL)),
        Case("control_chars_attributes", "p.geojson", lambda: gdf([CTRL]).to_json().encode(), "ok"),
        Case("html_attributes_gpkg", "p.gpkg", lambda: gpkg_bytes(gdf([HTML])), "ok", check=_name(HTML)),
        # --- KML / KMZ
        Case("kml_external_entity", "p.kml", lambda: kml("&xxe;", XXE), "error", "DOCTYPE", "实体"),
        Case("kml_billion_laughs", "p.kml", lambda: kml("&lol3;", LAUGHS), "error", "DOCTYPE", "实体"),
        Case("kml_doctype_after_64k", "p.kml", lambda: kml("&xxe;", "<!--" + "x" * 70_000 + "-->" + XXE),
             "error", "DOCTYPE", "实体"),
        Case("kml_utf16_doctype", "p.kml", lambda: kml("&xxe;", XXE, encoding="utf-16"), "error", "DOCTYPE", "实体"),
        Case("kmz_external_entity", "p.kmz", lambda: zip_bytes({"doc.kml": kml("&xxe;", XXE)}), "error", "DOCTYPE", "实体"),
        Case("kmz_without_kml", "p.kmz", lambda: zip_bytes({"doc.txt": b"x"}), "error", "no .kml", ".kml"),
        Case("kml_good", "p.kml", lambda: kml("兰州"), "ok", check=_kml_triangle),
        # --- file names
        Case("name_dotdot", "../../../etc/cron.d/p.geojson", lambda: gdf().to_json().encode(), "ok", check=_poly),
        Case("name_backslashes", "..\\..\\Windows\\p.zip", good, "ok", check=_poly),
        Case("name_no_extension", "/etc/passwd", lambda: b"root:x:0:0", "error", "unsupported file type", "不支持"),
        Case("name_nul_byte", "p.geojson\x00.exe", lambda: gdf().to_json().encode(), "error", "unsupported file type", "不支持"),
        Case("empty_file", "p.geojson", lambda: b"", "error", "empty", "为空"),
        Case("not_json", "p.geojson", lambda: b"{\"type\": \"FeatureCollection\", \"features\": [", "error",
             "cannot be parsed", "无法解析"),
        # --- CSV
        Case("csv_bom", "p.csv", lambda: "名称,经度,纬度,面积\n园区,104.2,36.5,2\n".encode("utf-8-sig"), "ok",
             check=lambda r: (_name("园区")(r), _at(104.2, 36.5, 2.0)(r))),
        Case("csv_mixed_encodings", "p.csv", lambda: "名称,经度,纬度,面积\n".encode() + "园区甲,104.2,36.5,2\n".encode()
             + "园区乙,104.3,36.5,2\n".encode("gbk"), "error", "mixes text encodings", "混合"),
        Case("csv_comma_decimals", "p.csv", lambda: 'name,lon,lat,area_km2\nA,"104,2","36,5","2,5"\n'.encode(), "ok",
             check=_at(104.2, 36.5, 2.5)),
        Case("csv_semicolon_comma_decimals", "p.csv", lambda: "name;lon;lat;area_km2\nA;104,2;36,5;2,5\n".encode(),
             "ok", check=_at(104.2, 36.5, 2.5)),
        Case("csv_missing_area", "p.csv", lambda: b"name,lon,lat\nA,104.2,36.5\n", "error", "area", "面积"),
        Case("csv_missing_all", "p.csv", lambda: b"name,foo\nA,1\n", "error", "WKT column", "WKT"),
        Case("csv_header_only", "p.csv", lambda: b"name,lon,lat,area_km2\n", "error", "no rows", "没有数据"),
        Case("csv_swapped_lon_lat", "p.csv", lambda: b"name,lon,lat,area_km2\nA,36.5,104.2,2\n", "error",
             "swapped", "颠倒"),
        Case("csv_nan_wkt", "p.csv", lambda: b'name,wkt\nA,"POLYGON ((104 36, NaN 36, 104.1 36.1, 104 36))"\n',
             "error", "not a number", "非数值"),
        Case("csv_html_sql_names", "p.csv", lambda: f'name,lon,lat,area_km2\n"{HTML.replace(chr(34), chr(34) * 2)}",104.2,36.5,1\n'
             f'"{SQL.replace(chr(34), chr(34) * 2)}",104.3,36.5,1\n'.encode(), "ok", check=_name(HTML, "name")),
        # --- GeoTIFF land cover (Targets page)
        Case("tif_no_crs", "lc.tif", lambda: tif(crs=None), "error", "no CRS", "坐标参考系", kind="raster"),
        Case("tif_rotated", "lc.tif", lambda: tif(transform=__import__("rasterio").transform.Affine(
            0.01, 0.002, 103.0, 0.002, -0.01, 37.0)), "error", "rotated", "旋转", kind="raster"),
        Case("tif_nodata_unset", "lc.tif", lambda: tif(nodata=None), "error", "no nodata value", "未设置无数据值",
             kind="raster"),
        Case("tif_float", "lc.tif", lambda: tif(data=np.full((20, 20), 10.5, "float32"), nodata=-9999),
             "error", "integers", "整数", kind="raster"),
        Case("tif_header_100k_forged", "lc.tif", forged_tiff, "error", "100000 × 100000", "100000 × 100000",
             kind="raster"),
        Case("tif_header_forged_no_data", "lc.tif", lambda: forged_tiff(20_000, 20_000), "error", "holds only",
             "仅有", kind="raster"),
        Case("tif_header_100k_sparse", "lc.tif", sparse_huge_tif, "error", "GANSU_MAX_RASTER_PIXELS",
             "GANSU_MAX_RASTER_PIXELS", kind="raster"),
        Case("tif_truncated", "lc.tif", lambda: tif(np.arange(400 * 400, dtype="uint32").reshape(400, 400) % 17,
                                                   dtype="uint32")[:200_000], "error", "truncated", "不完整",
             kind="raster"),
        Case("tif_not_a_tiff", "lc.tif", lambda: b"hello, not a tiff" * 10, "error", "not a GeoTIFF", "不是 GeoTIFF",
             kind="raster"),
        Case("tif_good", "lc.tif", lambda: tif(), "ok", kind="raster"),
    ]

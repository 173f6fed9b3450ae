"""Read user uploads (vector) safely, with clear bilingual errors.

Formats: GeoJSON, GeoPackage, KML, KMZ, zipped Shapefile. Uploaded bytes are written into a
private temporary folder under names we choose (the uploaded name only lends its extension);
zip members are checked before extraction: no absolute or ``..`` paths, no links, total
uncompressed size and member count under limits (zip bombs), and Shapefile parts present.
Attribute encoding of Shapefiles: the ``.cpg`` when present, otherwise UTF-8 if it decodes,
else GB18030 (a superset of GBK).
"""
from __future__ import annotations

import io
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
import shapely

MAX_UPLOAD_BYTES = int(os.environ.get("GANSU_MAX_UPLOAD_MB", "200")) * 1024 * 1024
MAX_UNZIPPED_BYTES = int(os.environ.get("GANSU_MAX_UNZIPPED_MB", "1024")) * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
MAX_FEATURES = int(os.environ.get("GANSU_MAX_FEATURES", "200000"))
VECTOR_EXT = {".geojson", ".json", ".gpkg", ".kml", ".kmz", ".zip"}
PARK_EXT = VECTOR_EXT | {".csv"}
NAME_FIELDS = ("name", "name_zh", "NAME", "Name", "名称", "园区名称", "园区", "park", "park_name", "MC", "XMMC")
WKT_FIELDS = ("wkt", "WKT", "geometry", "geom", "the_geom", "几何")
LON_FIELDS = ("lon", "lng", "longitude", "x", "经度", "LON", "Longitude")
LAT_FIELDS = ("lat", "latitude", "y", "纬度", "LAT", "Latitude")
AREA_FIELDS = ("area_km2", "area", "面积", "面积_km2", "AREA")


class UploadError(ValueError):
    """A problem with a user's file; carries the message in both languages."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{en} / {zh}")
        self.zh, self.en = zh, en

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class ReadResult:
    gdf: gpd.GeoDataFrame  # EPSG:4326
    source_crs: str | None
    layer: str | None
    notes: list[tuple[str, str]]  # (zh, en)


def _ext(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def _check_size(data: bytes) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"文件过大（{len(data) / 1e6:.1f} MB，上限 {MAX_UPLOAD_BYTES / 1e6:.0f} MB）。",
                          f"file too large ({len(data) / 1e6:.1f} MB, limit {MAX_UPLOAD_BYTES / 1e6:.0f} MB).")


def _safe_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise UploadError("压缩包内文件过多。", "too many files in the archive.")
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        p = PurePosixPath(name)
        if name.startswith("/") or ".." in p.parts or (len(name) > 1 and name[1] == ":"):
            raise UploadError(f"压缩包含有不安全的路径“{info.filename}”（绝对路径或 ../），已拒绝。",
                              f"the archive contains an unsafe path '{info.filename}' (absolute or ../): rejected.")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UploadError(f"压缩包含有符号链接“{info.filename}”，已拒绝。",
                              f"the archive contains a symbolic link '{info.filename}': rejected.")
        total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise UploadError("压缩包解压后过大（可能是压缩炸弹），已拒绝。",
                              "the archive expands beyond the size limit (possible zip bomb): rejected.")
    return [i for i in infos if not i.is_dir()]


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError("压缩包已损坏或不是 zip 文件。", "the zip archive is corrupt or not a zip file.") from None


def _extract(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path) -> dict[str, Path]:
    """Extract under generated names; returns {lower-case original basename: path}."""
    out = {}
    for n, info in enumerate(members):
        base = PurePosixPath(info.filename.replace("\\", "/")).name
        ext = _ext(base)
        target = folder / f"m{n}{ext}"
        try:
            with zf.open(info) as src, open(target, "wb") as dst:
                remaining = MAX_UNZIPPED_BYTES
                while chunk := src.read(1 << 20):
                    remaining -= len(chunk)
                    if remaining < 0:
                        raise UploadError("压缩包解压后过大，已拒绝。", "the archive expands beyond the size limit: rejected.")
                    dst.write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise UploadError("压缩包已损坏，无法解压。", f"the zip archive is corrupt ({type(e).__name__}).") from None
        out.setdefault(base.lower(), target)
    return out


def _shapefile_from(files: dict[str, Path], folder: Path) -> tuple[Path, str | None]:
    shps = [k for k in files if k.endswith(".shp")]
    if not shps:
        raise UploadError("压缩包中没有 .shp 文件。", "no .shp file in the archive.")
    stem = shps[0][:-4]
    need = {ext: files.get(stem + ext) for ext in (".shp", ".shx", ".dbf")}
    missing = [e for e, p in need.items() if p is None]
    if missing:
        raise UploadError(f"Shapefile 缺少 {', '.join(missing)} 文件。",
                          f"the Shapefile is missing its {', '.join(missing)} part(s).")
    dest = folder / "upload"
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        src = files.get(stem + ext)
        if src is not None:
            os.replace(src, dest.with_suffix(ext))
    encoding = None
    cpg = dest.with_suffix(".cpg")
    if cpg.is_file():
        encoding = cpg.read_text(errors="replace").strip() or None
    else:
        encoding = _guess_dbf_encoding(dest.with_suffix(".dbf"))
    return dest.with_suffix(".shp"), encoding


def _guess_dbf_encoding(dbf: Path) -> str:
    raw = dbf.read_bytes()
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _read(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    kw = {"engine": "pyogrio"}
    if layer:
        kw["layer"] = layer
    if encoding:
        kw["encoding"] = encoding
    try:
        info = pyogrio.read_info(path, layer=layer) if layer else pyogrio.read_info(path)
        if info["features"] > MAX_FEATURES:
            raise UploadError(f"要素过多（{info['features']}，上限 {MAX_FEATURES}）。",
                              f"too many features ({info['features']}, limit {MAX_FEATURES}).")
        return gpd.read_file(path, **kw)
    except UploadError:
        raise
    except Exception as e:  # pyogrio/GDAL errors: unreadable, truncated, wrong format
        msg = str(e).splitlines()[0][:200]
        raise UploadError(f"无法解析该文件（{msg}）。", f"the file cannot be parsed ({msg}).") from None


def list_layers(filename: str, data: bytes) -> list[str]:
    """Layers of a GeoPackage upload (for the 'choose the layer' prompt)."""
    if _ext(filename) != ".gpkg":
        return []
    with tempfile.TemporaryDirectory(prefix="gansu-up-") as tmp:
        p = Path(tmp) / "upload.gpkg"
        p.write_bytes(data)
        try:
            return [name for name, _ in pyogrio.list_layers(p)]
        except Exception:
            raise UploadError("GeoPackage 文件已损坏。", "the GeoPackage is corrupt.") from None


def guess_crs(gdf: gpd.GeoDataFrame) -> tuple[str | None, list[str], str, str]:
    """Guess the CRS of coordinates that came without one, from their ranges.

    Returns (best guess or None, candidates, reason zh, reason en). Degrees → CGCS2000
    (EPSG:4490, = WGS84 here). Gauss-Krüger eastings with a zone prefix (e.g. 36 500 000) name
    their zone: prefixes 25-45 are 3° zones (EPSG:4513-4533), 13-23 are 6° zones (4491-4501).
    Eastings without prefix (~500 000) cannot tell the zone: Gansu's central meridians are offered.
    """
    x0, y0, x1, y1 = gdf.total_bounds
    if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
        return ("EPSG:4490", ["EPSG:4490", "EPSG:4326"], "坐标为经纬度（度）", "coordinates are in degrees")
    zone = int(x0 // 1_000_000)
    if zone == int(x1 // 1_000_000) and 0 < y0 < 10_000_000:
        if 25 <= zone <= 45:
            code = f"EPSG:{4513 + zone - 25}"
            return (code, [code], f"东坐标带号前缀 {zone}：3° 分带第 {zone} 带",
                    f"easting has zone prefix {zone}: 3° Gauss-Krüger zone {zone}")
        if 13 <= zone <= 23:
            code = f"EPSG:{4491 + zone - 13}"
            return (code, [code], f"东坐标带号前缀 {zone}：6° 分带第 {zone} 带",
                    f"easting has zone prefix {zone}: 6° Gauss-Krüger zone {zone}")
    if 0 <= x0 <= x1 <= 1_000_000 and 3_000_000 < y0 < 5_500_000:
        cands = [f"EPSG:{4534 + (cm - 75) // 3}" for cm in (93, 96, 99, 102, 105, 108)]
        cands += [f"EPSG:{4502 + (cm - 75) // 6}" for cm in (93, 99, 105)]
        return (None, cands, "高斯-克吕格投影坐标（无带号），无法判断中央经线，请选择",
                "Gauss-Krüger metres without zone prefix: the central meridian cannot be told; choose it")
    return (None, [], "无法从坐标范围判断坐标系", "the coordinate ranges do not suggest a CRS")


def _decode_text(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UploadError("无法识别 CSV 的文字编码（应为 UTF-8 或 GBK）。", "cannot decode the CSV (expected UTF-8 or GBK).")


def _first(cols, names):
    lower = {c.lower(): c for c in cols}
    for n in names:
        if n in cols:
            return n
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def read_csv_parks(data: bytes) -> tuple[gpd.GeoDataFrame, list[tuple[str, str]]]:
    """CSV with a WKT column, or lon/lat plus an area (km²) → squares of that area."""
    import pandas as pd

    from layers import crs as _crs

    text = _decode_text(data)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except Exception as e:
        raise UploadError("CSV 格式错误。", f"malformed CSV ({str(e)[:120]}).") from None
    if df.empty:
        raise UploadError("CSV 没有数据行。", "the CSV has no rows.")
    if len(df) > MAX_FEATURES:
        raise UploadError("CSV 行数过多。", "too many rows in the CSV.")
    notes = []
    wkt = _first(df.columns, WKT_FIELDS)
    if wkt:
        geoms = []
        for i, v in enumerate(df[wkt]):
            try:
                geoms.append(shapely.from_wkt(v))
            except Exception:
                raise UploadError(f"第 {i + 1} 行的 WKT 无法解析。", f"row {i + 1}: the WKT cannot be parsed.") from None
        gdf = gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms, crs=None)
        return gdf, notes
    lon, lat, area = _first(df.columns, LON_FIELDS), _first(df.columns, LAT_FIELDS), _first(df.columns, AREA_FIELDS)
    if not (lon and lat):
        raise UploadError("CSV 需要 WKT 列，或经度/纬度列（lon/lat、经度/纬度）加面积列（area_km2）。",
                          "the CSV needs a WKT column, or lon/lat columns plus an area_km2 column.")
    if not area:
        raise UploadError("CSV 有经纬度但缺少面积列（area_km2/面积，单位 km²）。",
                          "the CSV has lon/lat but no area column (area_km2, in km²).")
    geoms = []
    for i, (x, y, a) in enumerate(zip(df[lon], df[lat], df[area])):
        try:
            xf, yf, af = (float(str(v).replace(",", ".")) for v in (x, y, a))
        except ValueError:
            raise UploadError(f"第 {i + 1} 行的经纬度或面积不是数字。", f"row {i + 1}: lon/lat/area is not a number.") from None
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) or not (0 < af < 10_000):
            raise UploadError(f"第 {i + 1} 行的经纬度或面积超出范围。", f"row {i + 1}: lon/lat or area out of range.")
        geoms.append(_crs.square_of_area(xf, yf, af))
    notes.append(("按面积生成以该点为中心的正方形园区", "each park is a square of the given area centred on its point"))
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=geoms, crs="EPSG:4326")
    return gdf, notes


def read_vector(filename: str, data: bytes, *, layer: str | None = None,
                assume_crs: str | None = None, polygons_only: bool = True,
                gcj02: bool = False) -> ReadResult:
    """Read an uploaded vector file into EPSG:4326. Raises UploadError with zh/en messages.

    ``assume_crs`` is used when the file has no CRS (or overrides it, for CSV).
    ``gcj02``: the coordinates are GCJ-02 degrees (Gaode/Tencent picks): shift back to WGS84.
    """
    _check_size(data)
    ext = _ext(filename)
    if ext == ".csv":
        gdf, notes = read_csv_parks(data)
        if gdf.crs is None and assume_crs is None:
            assume_crs = guess_crs(gdf)[0] or None
        return _finish(gdf, assume_crs, polygons_only, notes, None, gcj02)
    if ext not in VECTOR_EXT:
        raise UploadError(f"不支持的文件类型“{ext or '无扩展名'}”。支持：GeoJSON、GeoPackage、KML、KMZ、zip（Shapefile）。",
                          f"unsupported file type '{ext or 'none'}'. Use GeoJSON, GeoPackage, KML, KMZ or a zipped Shapefile.")
    if not data:
        raise UploadError("文件为空。", "the file is empty.")
    notes: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="gansu-up-") as tmp:
        folder = Path(tmp)
        encoding = None
        if ext == ".zip":
            zf = _open_zip(data)
            with zf:
                files = _extract(zf, _safe_members(zf), folder)
            path, encoding = _shapefile_from(files, folder)
            if encoding and encoding.upper() not in ("UTF-8", "UTF8"):
                notes.append((f"属性编码：{encoding}", f"attribute encoding: {encoding}"))
        elif ext == ".kmz":
            zf = _open_zip(data)
            with zf:
                files = _extract(zf, _safe_members(zf), folder)
            kmls = [p for k, p in files.items() if k.endswith(".kml")]
            if not kmls:
                raise UploadError("KMZ 中没有 .kml 文件。", "no .kml file inside the KMZ.")
            path = kmls[0]
        else:
            path = folder / f"upload{'.geojson' if ext == '.json' else ext}"
            path.write_bytes(data)
        if ext == ".kml" or ext == ".kmz":
            _reject_kml_entities(path)
        gdf = _read(path, layer, encoding)
    return _finish(gdf, assume_crs, polygons_only, notes, layer, gcj02)


def _reject_kml_entities(path: Path) -> None:
    head = path.read_bytes()[:65536].upper()
    if b"<!ENTITY" in head or b"<!DOCTYPE" in head:
        raise UploadError("KML 含有 DOCTYPE/实体声明（可能读取外部文件），已拒绝。",
                          "the KML declares a DOCTYPE/entities (could read external files): rejected.")


def _polygonal(g):
    """Keep the polygonal part of a repaired geometry (make_valid may add lines/points)."""
    if shapely.get_type_id(g) in (3, 6):
        return g
    parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else g


class CRSMissing(UploadError):
    """No CRS in the file: carries the guess and candidates for the user to confirm."""

    def __init__(self, guess, candidates, why_zh, why_en):
        super().__init__("文件没有坐标系信息（如缺少 .prj）。请指定坐标系后重试。" + (f"（{why_zh}；推测 {guess}）" if guess else f"（{why_zh}）"),
                         "the file has no coordinate reference system (e.g. missing .prj). Choose one and try again."
                         + (f" ({why_en}; best guess {guess})" if guess else f" ({why_en})"))
        self.guess, self.candidates = guess, candidates


def _finish(gdf: gpd.GeoDataFrame, assume_crs: str | None, polygons_only: bool,
            notes: list, layer: str | None, gcj02: bool = False) -> ReadResult:
    if len(gdf) == 0:
        raise UploadError("文件中没有要素。", "the file contains no features.")
    if gdf.crs is not None and gdf.crs.is_geographic:
        x0, y0, x1, y1 = gdf.total_bounds
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            # e.g. GeoJSON (CRS84 by definition) holding projected metres: the CRS is really unknown
            gdf = gdf.set_crs(None, allow_override=True)
    if gdf.crs is None:
        if assume_crs is None:
            raise CRSMissing(*guess_crs(gdf))
        gdf = gdf.set_crs(assume_crs)
        notes.append((f"按用户指定坐标系 {assume_crs} 读取", f"read with the CRS you chose: {assume_crs}"))
    source_crs = gdf.crs.to_string()
    geoms = gdf.geometry.values
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append(("已去除 Z/M 坐标", "Z/M coordinates dropped"))
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        rows = ", ".join(str(i + 1) for i in list(empty.nonzero()[0][:10]))
        raise UploadError(f"第 {rows} 行几何为空。", f"empty geometry in row(s) {rows}.")
    if polygons_only:
        kinds = shapely.get_type_id(geoms)
        bad = ~((kinds == 3) | (kinds == 6))
        if bad.any():
            i = int(bad.nonzero()[0][0])
            t = shapely.get_type_id(geoms[i])
            name = {0: "点 point", 1: "线 line", 2: "线 line", 4: "多点 multipoint",
                    5: "多线 multiline", 7: "几何集合 collection"}.get(int(t), str(t))
            raise UploadError(f"第 {i + 1} 行是{name.split()[0]}几何，此处需要面（多边形）。",
                              f"row {i + 1} is a {name.split()[1]} geometry; polygons are expected here.")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = shapely.make_valid(geoms)
        notes.append((f"已修复 {int(invalid.sum())} 个无效几何", f"{int(invalid.sum())} invalid geometries repaired"))
        if polygons_only:
            geoms = [_polygonal(g) for g in geoms]
    gdf = gdf.set_geometry(list(geoms), crs=gdf.crs)
    try:
        gdf = gdf.to_crs(4326)
    except Exception as e:
        raise UploadError("坐标转换失败，请检查坐标系。", f"reprojection failed ({e}); check the CRS.") from None
    if gcj02:
        from layers import crs as _crs

        gdf = _crs.gdf_gcj02_to_wgs84(gdf)
        notes.append(("坐标已从 GCJ-02 转换为 WGS84", "coordinates converted from GCJ-02 to WGS84"))
    b = gdf.total_bounds
    if not (-180 <= b[0] <= 180 and -90 <= b[1] <= 90 and -180 <= b[2] <= 180 and -90 <= b[3] <= 90):
        raise UploadError("坐标超出经纬度范围，坐标系可能有误。", "coordinates fall outside the globe: the CRS is probably wrong.")
    return ReadResult(gdf=gdf.reset_index(drop=True), source_crs=source_crs, layer=layer, notes=notes)

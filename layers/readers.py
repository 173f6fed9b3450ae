"""Read user uploads (vector) safely, with clear bilingual errors.

Formats: GeoJSON, GeoPackage, KML, KMZ, zipped Shapefile. Uploaded bytes are written into a
private temporary folder under names we choose (the uploaded name only lends its extension);
zip members are checked before extraction: no absolute or ``..`` paths, no links, total
uncompressed size and member count under limits (zip bombs), and Shapefile parts present.
Attribute encoding of Shapefiles: the ``.cpg`` when present and true (it must name a known
encoding that decodes the ``.dbf``), otherwise UTF-8 if it decodes, else GB18030 (a superset of
GBK). Limits (size, members, compression ratio, features, vertices, memory) come from
``core.limits``; coordinates must be finite, and a layer in latitude/longitude order is named
as such rather than read in the wrong place.
"""
from __future__ import annotations

import codecs
import io
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import math

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from core import limits
from core.errors import UploadError
from core.text import Text
from core.geom import make_valid_where_needed, polygonal_parts

# module attributes (tests may lower them); defaults and environment variables: layers/limits.py
MAX_UPLOAD_BYTES = limits.MAX_UPLOAD_BYTES
MAX_UNZIPPED_BYTES = limits.MAX_UNZIPPED_BYTES
MAX_ZIP_MEMBERS = limits.MAX_ZIP_MEMBERS
MAX_ZIP_RATIO = limits.MAX_ZIP_RATIO
MAX_FEATURES = limits.MAX_FEATURES
MAX_VERTICES = limits.MAX_VERTICES
MAX_COMPUTE_BYTES = limits.MAX_COMPUTE_BYTES
GANSU_BBOX = (92.0, 32.0, 109.0, 43.0)  # generous bounding box of Gansu (lon/lat)
VECTOR_EXT = {".geojson", ".json", ".gpkg", ".kml", ".kmz", ".zip"}
PARK_EXT = VECTOR_EXT | {".csv"}
NAME_FIELDS = ("name", "name_zh", "NAME", "Name", "名称", "园区名称", "园区", "park", "park_name", "MC", "XMMC")
WKT_FIELDS = ("wkt", "WKT", "geometry", "geom", "the_geom", "几何")
LON_FIELDS = ("lon", "lng", "longitude", "x", "经度", "LON", "Longitude")
LAT_FIELDS = ("lat", "latitude", "y", "纬度", "LAT", "Latitude")
AREA_FIELDS = ("area_km2", "area", "面积", "面积_km2", "AREA")


@dataclass
class ReadResult:
    gdf: gpd.GeoDataFrame  # EPSG:4326
    source_crs: str | None
    layer: str | None
    notes: list[Text]


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
        if info.flag_bits & 0x1:
            raise UploadError(f"压缩包中的“{info.filename}”已加密，无法读取。",
                              f"'{info.filename}' in the archive is encrypted and cannot be read.")
        total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise UploadError(f"压缩包解压后过大（声明 {total / 1e6:.0f} MB 以上，上限 {MAX_UNZIPPED_BYTES / 1e6:.0f} MB，"
                              "可能是压缩炸弹），未解压即拒绝。",
                              f"the archive expands beyond the size limit (declares over {total / 1e6:.0f} MB, limit "
                              f"{MAX_UNZIPPED_BYTES / 1e6:.0f} MB; possible zip bomb): rejected before extraction.")
        if (info.file_size > limits.ZIP_RATIO_MIN_BYTES
                and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1)):
            raise UploadError(f"压缩包中的“{info.filename}”压缩比异常（{info.file_size / max(info.compress_size, 1):.0f}:1，"
                              f"上限 {MAX_ZIP_RATIO:.0f}:1，可能是压缩炸弹），未解压即拒绝。",
                              f"'{info.filename}' has an abnormal compression ratio "
                              f"({info.file_size / max(info.compress_size, 1):.0f}:1, limit {MAX_ZIP_RATIO:.0f}:1; "
                              "possible zip bomb): rejected before extraction.")
    return [i for i in infos if not i.is_dir()]


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError("压缩包已损坏或不是 zip 文件。", "the zip archive is corrupt or not a zip file.") from None


def _extract(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path) -> dict[str, Path]:
    """Extract under generated names; returns {lower-case original basename: path}."""
    out = {}
    remaining = MAX_UNZIPPED_BYTES  # actual bytes written, over all members
    for n, info in enumerate(members):
        base = PurePosixPath(info.filename.replace("\\", "/")).name
        ext = re.sub(r"[^a-z0-9.]", "", _ext(base))[:10]
        target = folder / f"m{n}{ext}"
        try:
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    remaining -= len(chunk)
                    if remaining < 0:
                        raise UploadError("压缩包解压后过大，已拒绝。", "the archive expands beyond the size limit: rejected.")
                    dst.write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise UploadError("压缩包已损坏，无法解压。", f"the zip archive is corrupt ({type(e).__name__}).") from None
        out.setdefault(base.lower(), target)
    return out


def _shapefile_from(files: dict[str, Path], folder: Path, notes: list) -> tuple[Path, str | None]:
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
    prj = dest.with_suffix(".prj")
    if prj.is_file() and not _prj_ok(prj):
        prj.unlink()  # read as "no CRS": the user is asked to choose one
        notes.append(Text(".prj 文件无法识别（不是有效的坐标系定义），已忽略", "the .prj file is not a valid CRS definition: ignored"))
    dbf = dest.with_suffix(".dbf")
    cpg = dest.with_suffix(".cpg")
    if cpg.is_file():
        declared = cpg.read_bytes()[:64].decode("ascii", "replace").strip()
        cpg.unlink()  # we pass the encoding ourselves
        enc = _codec(declared)
        if enc and _decodes(dbf, enc):
            return dest.with_suffix(".shp"), declared
        guess = _guess_dbf_encoding(dbf)
        notes.append(Text(f".cpg 声明的编码“{declared[:30]}”{'无法识别' if not enc else '与属性数据不符'}，已按 {guess} 读取",
                      f"the .cpg declares encoding '{declared[:30]}', which is "
                      f"{'unknown' if not enc else 'not what the attributes use'}: read as {guess}"))
        return dest.with_suffix(".shp"), guess
    return dest.with_suffix(".shp"), _guess_dbf_encoding(dbf)


def _prj_ok(prj: Path) -> bool:
    import pyproj

    try:
        pyproj.CRS.from_wkt(prj.read_bytes()[:65536].decode("utf-8", "replace").strip())
        return True
    except Exception:  # noqa: BLE001 - any parse error means "no usable CRS"
        return False


_CPG = {"UTF8": "utf-8", "UTF-8": "utf-8", "65001": "utf-8", "936": "gbk", "CP936": "gbk", "GBK": "gbk",
        "GB2312": "gbk", "GB18030": "gb18030", "54936": "gb18030", "1252": "cp1252", "ANSI 1252": "cp1252",
        "LATIN1": "latin-1", "ISO-8859-1": "latin-1", "88591": "latin-1"}


def _codec(declared: str) -> str | None:
    """Python codec for a .cpg value, or None when unknown."""
    key = declared.upper().strip()
    if key in _CPG:
        return _CPG[key]
    try:
        return codecs.lookup(declared).name
    except (LookupError, ValueError):
        return None


def _dbf_text(dbf: Path) -> bytes:
    """The record area of a .dbf (header skipped): the bytes that hold attribute text."""
    raw = dbf.read_bytes()
    hdr = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    return raw[hdr:] if 0 < hdr <= len(raw) else raw


def _decodes(dbf: Path, codec: str) -> bool:
    try:
        _dbf_text(dbf).decode(codec)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def _guess_dbf_encoding(dbf: Path) -> str:
    return "UTF-8" if _decodes(dbf, "utf-8") else "GB18030"


def _read(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    size = sum(p.stat().st_size for p in path.parent.iterdir() if p.is_file() and p.stem == path.stem)
    if size * limits.VECTOR_MEMORY_FACTOR > MAX_COMPUTE_BYTES:
        need = size * limits.VECTOR_MEMORY_FACTOR
        raise UploadError(f"文件过大，读取约需 {need / 2**30:.1f} GB 内存（单次计算上限 {MAX_COMPUTE_BYTES / 2**30:.1f} GB，"
                          "GANSU_MAX_COMPUTE_MB）。请先裁剪或拆分。",
                          f"the file would need about {need / 2**30:.1f} GB of memory to read (limit per computation "
                          f"{MAX_COMPUTE_BYTES / 2**30:.1f} GB, GANSU_MAX_COMPUTE_MB); clip or split it first.")
    kw = {"engine": "pyogrio", "on_invalid": "fix"}  # e.g. unclosed rings are closed
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
        msg = (str(e).splitlines() or [type(e).__name__])[0][:200].replace(str(path.parent), "…")
        if "NaN" in msg or "non-finite" in msg or "Inf" in msg:
            raise UploadError("坐标含非数值（NaN/无穷大），请修正几何。",
                              f"coordinates are not a number (NaN/infinite): fix the geometries ({msg}).") from None
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
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8 = [i + 1 for i, ln in enumerate(lines) if not ln.isascii() and _is_utf8(ln)]
    other = [i + 1 for i, ln in enumerate(lines) if not _is_utf8(ln)]
    if utf8 and other:
        raise UploadError(f"CSV 混合了多种文字编码（第 {utf8[0]} 行为 UTF-8，第 {other[0]} 行不是）。请以单一编码（UTF-8）另存。",
                          f"the CSV mixes text encodings (line {utf8[0]} is UTF-8, line {other[0]} is not): "
                          "save it in one encoding (UTF-8).")
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UploadError("无法识别 CSV 的文字编码（应为 UTF-8 或 GBK）。",
                          "cannot decode the CSV (expected UTF-8 or GBK).") from None


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


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

    from core import crs as _crs

    text = _decode_text(data)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = ";" if header.count(";") > header.count(",") else "\t" if header.count("\t") > header.count(",") else ","
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
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
        if not all(math.isfinite(v) for v in (xf, yf, af)):
            raise UploadError(f"第 {i + 1} 行的经纬度或面积为非数值（NaN/无穷大）。", f"row {i + 1}: lon/lat/area is not a number (NaN/infinite).")
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) and _in_box(yf, xf):
            raise UploadError(f"第 {i + 1} 行的经度、纬度似乎颠倒（经度 {xf:g}，纬度 {yf:g}）：请交换两列。",
                              f"row {i + 1}: longitude and latitude look swapped (lon {xf:g}, lat {yf:g}): swap the columns.")
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) or not (0 < af < 10_000):
            raise UploadError(f"第 {i + 1} 行的经纬度或面积超出范围。", f"row {i + 1}: lon/lat or area out of range.")
        geoms.append(_crs.square_of_area(xf, yf, af))
    notes.append(Text("按面积生成以该点为中心的正方形园区", "each park is a square of the given area centred on its point"))
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
            path, encoding = _shapefile_from(files, folder, notes)
            if encoding and encoding.upper() not in ("UTF-8", "UTF8"):
                notes.append(Text(f"属性编码：{encoding}", f"attribute encoding: {encoding}"))
        elif ext == ".kmz":
            zf = _open_zip(data)
            with zf:
                files = _extract(zf, _safe_members(zf), folder)
            kmls = [p for k, p in files.items() if k.endswith(".kml")]
            if not kmls:
                raise UploadError("KMZ 中没有 .kml 文件。", "no .kml file inside the KMZ.")
            path = kmls[0]
        else:
            if ext in (".geojson", ".json"):
                _check_geojson_crs(data, notes)
            path = folder / f"upload{'.geojson' if ext == '.json' else ext}"
            path.write_bytes(data)
        if ext == ".kml" or ext == ".kmz":
            _reject_kml_entities(path)
        gdf = _read(path, layer, encoding)
    try:
        return _finish(gdf, assume_crs, polygons_only, notes, layer, gcj02)
    except CRSMissing as e:
        bad_prj = [n for n in notes if n[1].startswith("the .prj file")]
        if bad_prj:
            e.set_text(f"{bad_prj[0][0]}。{e.zh}", f"{bad_prj[0][1]}. {e.en}")
        raise


_GEOJSON_CRS = re.compile(rb'"crs"\s*:\s*\{.{0,400}?"name"\s*:\s*"([^"]{1,200})"', re.S)


def _check_geojson_crs(data: bytes, notes: list) -> None:
    """A legacy GeoJSON ``crs`` member (GDAL honours it): it must name a CRS we understand."""
    import pyproj

    for part in (data[: 1 << 20], data[-(1 << 16):]):
        m = _GEOJSON_CRS.search(part)
        if not m:
            continue
        name = m.group(1).decode("utf-8", "replace")
        try:
            crs_ = pyproj.CRS.from_user_input(name)
        except Exception:  # noqa: BLE001
            raise UploadError(f"GeoJSON 的 crs 成员声明了无法识别的坐标系“{name[:80]}”。请删除该成员或改为有效的 EPSG 代码。",
                              f"the GeoJSON 'crs' member names a coordinate system that cannot be understood "
                              f"('{name[:80]}'); remove it or use a valid EPSG code.") from None
        notes.append(Text(f"GeoJSON 声明坐标系 {crs_.to_string()}（crs 成员），已据此读取",
                      f"the GeoJSON declares {crs_.to_string()} (its 'crs' member): read with it"))
        return


def _reject_kml_entities(path: Path) -> None:
    """Any DOCTYPE or ENTITY anywhere in the file (also UTF-16/32 encoded) is refused."""
    raw = path.read_bytes()
    texts = [raw]
    for enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE) or b"\x00" in raw[:200]:
            try:
                texts.append(raw.decode(enc).encode("utf-8", "replace"))
            except (UnicodeDecodeError, LookupError):
                pass
    if any(re.search(rb"<!\s*(DOCTYPE|ENTITY)", t, re.I) for t in texts):
        raise UploadError("KML 含有 DOCTYPE/实体声明（可能读取外部文件），已拒绝。",
                          "the KML declares a DOCTYPE/entities (could read external files): rejected.")


def _in_box(x: float, y: float) -> bool:
    x0, y0, x1, y1 = GANSU_BBOX
    return x0 - 20 <= x <= x1 + 20 and y0 - 15 <= y <= y1 + 15  # China, roughly


def _reject_swapped(gdf: gpd.GeoDataFrame) -> None:
    """Degrees in latitude, longitude order (x ≈ 36, y ≈ 104) would land outside the globe or in
    the wrong place: name the problem instead of guessing."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        return
    x0, y0, x1, y1 = gdf.total_bounds
    in_degrees = -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    if not in_degrees and -90 <= x0 <= x1 <= 90 and -180 <= y0 <= y1 <= 180 and _in_box(y0, x0) and _in_box(y1, x1):
        raise UploadError(f"坐标似乎为“纬度、经度”顺序（x≈{x0:.2f}，y≈{y0:.2f}）：请交换坐标轴（先经度后纬度）后重试。",
                          f"the coordinates look like latitude, longitude order (x≈{x0:.2f}, y≈{y0:.2f}): swap the "
                          "axes (longitude first) and try again.")


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
    geoms = gdf.geometry.values
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        rows = ", ".join(str(i + 1) for i in list(empty.nonzero()[0][:10]))
        raise UploadError(f"第 {rows} 行几何为空。", f"empty geometry in row(s) {rows}.")
    nverts = int(shapely.get_num_coordinates(geoms).sum())
    if nverts > MAX_VERTICES:
        raise UploadError(f"顶点过多（{nverts}，上限 {MAX_VERTICES}，GANSU_MAX_VERTICES）。请先简化或拆分。",
                          f"too many vertices ({nverts}, limit {MAX_VERTICES}, GANSU_MAX_VERTICES): simplify or split first.")
    coords = shapely.get_coordinates(geoms)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        idx = shapely.get_coordinates(geoms, return_index=True)[1]
        rows = ", ".join(str(i + 1) for i in sorted(set(idx[~finite].tolist()))[:10])
        raise UploadError(f"第 {rows} 行的坐标含非数值（NaN/无穷大）。", f"row(s) {rows}: coordinates are not a number (NaN/infinite).")
    _reject_swapped(gdf)
    if gdf.crs is not None and gdf.crs.is_geographic:
        x0, y0, x1, y1 = gdf.total_bounds
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            # e.g. GeoJSON (CRS84 by definition) holding projected metres: the CRS is really unknown
            gdf = gdf.set_crs(None, allow_override=True)
    if gdf.crs is None:
        if assume_crs is None:
            raise CRSMissing(*guess_crs(gdf))
        gdf = gdf.set_crs(assume_crs)
        notes.append(Text(f"按用户指定坐标系 {assume_crs} 读取", f"read with the CRS you chose: {assume_crs}"))
    source_crs = gdf.crs.to_string()
    geoms = gdf.geometry.values
    if shapely.has_z(geoms).any() or shapely.has_m(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append(Text("已去除 Z/M 坐标", "Z/M coordinates dropped"))
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
    geoms, repaired = make_valid_where_needed(geoms)
    if repaired:
        notes.append(Text(f"已修复 {repaired} 个无效几何", f"{repaired} invalid geometries repaired"))
        if polygons_only:
            geoms = [polygonal_parts(g) or g for g in geoms]
    gdf = gdf.set_geometry(list(geoms), crs=gdf.crs)
    try:
        gdf = gdf.to_crs(4326)
    except Exception as e:
        raise UploadError("坐标转换失败，请检查坐标系。", f"reprojection failed ({e}); check the CRS.") from None
    if gcj02:
        from core import crs as _crs

        gdf = _crs.gdf_gcj02_to_wgs84(gdf)
        notes.append(Text("坐标已从 GCJ-02 转换为 WGS84", "coordinates converted from GCJ-02 to WGS84"))
    b = gdf.total_bounds
    if not (-180 <= b[0] <= 180 and -90 <= b[1] <= 90 and -180 <= b[2] <= 180 and -90 <= b[3] <= 90):
        raise UploadError("坐标超出经纬度范围，坐标系可能有误。", "coordinates fall outside the globe: the CRS is probably wrong.")
    x0, y0, x1, y1 = GANSU_BBOX
    if b[2] < x0 or b[0] > x1 or b[3] < y0 or b[1] > y1:
        notes.append(Text("注意：所有要素都位于甘肃省以外，请检查坐标系和经纬度顺序",
                      "note: every feature lies outside Gansu; check the CRS and the axis order"))
    return ReadResult(gdf=gdf.reset_index(drop=True), source_crs=source_crs, layer=layer, notes=notes)

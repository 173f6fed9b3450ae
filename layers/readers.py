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


def read_vector(filename: str, data: bytes, *, layer: str | None = None,
                assume_crs: str | None = None, polygons_only: bool = True) -> ReadResult:
    """Read an uploaded vector file into EPSG:4326. Raises UploadError with zh/en messages."""
    _check_size(data)
    ext = _ext(filename)
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
    return _finish(gdf, assume_crs, polygons_only, notes, layer)


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


def _finish(gdf: gpd.GeoDataFrame, assume_crs: str | None, polygons_only: bool,
            notes: list, layer: str | None) -> ReadResult:
    if len(gdf) == 0:
        raise UploadError("文件中没有要素。", "the file contains no features.")
    if gdf.crs is None:
        if assume_crs is None:
            raise UploadError("文件没有坐标系信息（如缺少 .prj）。请指定坐标系后重试。",
                              "the file has no coordinate reference system (e.g. missing .prj). Choose one and try again.")
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
    b = gdf.total_bounds
    if not (-180 <= b[0] <= 180 and -90 <= b[1] <= 90 and -180 <= b[2] <= 180 and -90 <= b[3] <= 90):
        raise UploadError("坐标超出经纬度范围，坐标系可能有误。", "coordinates fall outside the globe: the CRS is probably wrong.")
    return ReadResult(gdf=gdf.reset_index(drop=True), source_crs=source_crs, layer=layer, notes=notes)

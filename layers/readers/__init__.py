"""Read every input — uploads (bytes) and files on disk (CLI, data build) — through one registry
of format plug-ins, with the same safety and encoding rules and clear bilingual errors.

Formats (``registry.REGISTRY``): GeoJSON and TopoJSON (told apart by content; a TopoJSON's objects
are layers), GeoPackage (several layers: choose one), KML/KMZ (every folder read), Shapefile
(zipped, also in a sub-folder of the zip, several in one zip offered as layers; or a ``.shp`` with
its sidecars on disk), Esri File Geodatabase (a ``.gdb`` folder on disk, or zipped: its feature
classes are layers), parks tables — CSV (also Excel's UTF-16 "Unicode text", ``.txt``) and Excel
workbooks (sheets are layers) —, OSM extracts and land-cover GeoTIFFs. Uploaded bytes are written
into a private temporary folder under names we choose (the uploaded name only lends its extension);
files on disk are copied there (never modified). Zip members are checked before extraction
(``archive``); Shapefile attributes are decoded by their ``.cpg`` when true, else UTF-8, else
GB18030 (``shapefile``). GDAL never guesses a user's format: the bytes must carry the signature
of the format the extension claims (``signature``: a GDAL virtual dataset, VRT or GDALG, is
refused by name), the GeoJSON and GPKG drivers are forced, and only the declared OGR drivers are
registered, with ``/vsicurl/`` off (``ogr_policy``). Limits (size, members, compression ratio,
features, vertices, memory) come from ``core.limits`` and are read from this module at call time
(tests lower them here); coordinates must be finite, and a layer in latitude/longitude order is
named as such.

Entry points: ``read_vector(filename, data, …)`` (uploads), ``read_path(path, …)`` (CLI, build),
``list_layers(filename, data)`` / ``list_path_layers(path)`` (the "choose the layer" prompt).
``swap_axes=True`` reads X as Y and Y as X (offered when a read fails with ``AxesSwapped``).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from core import limits
from core.errors import InputError, UploadError
from core.text import Text
from layers.readers import csv as _csv
from layers.readers import excel as _excel
from layers.readers import filegdb as _filegdb
from layers.readers import gpkg as _gpkg
from layers.readers import kml as _kml
from layers.readers import shapefile as _shapefile
from layers.readers import topojson as _topojson
from layers.readers.common import GANSU_BBOX, CRSMissing, ReadResult, Source, finish, guess_crs
from layers.readers.csv import AREA_FIELDS, LAT_FIELDS, LON_FIELDS, NAME_FIELDS, WKT_FIELDS, read_csv_parks
from layers.readers.fixups import AxesSwapped, swap_xy
from layers.readers.osm import OSM_RULES, read_osm
from layers.readers.raster import check_dataset, check_nodata, validate_geotiff
from layers.readers.registry import REGISTRY, Reader, ext_of, extensions, limits_from, reader_for, register
from layers.readers.signature import NotWhatItClaims

# module attributes (tests may lower them); defaults and environment variables: core/limits.py
MAX_UPLOAD_BYTES = limits.MAX_UPLOAD_BYTES
MAX_UNZIPPED_BYTES = limits.MAX_UNZIPPED_BYTES
MAX_ZIP_MEMBERS = limits.MAX_ZIP_MEMBERS
MAX_ZIP_RATIO = limits.MAX_ZIP_RATIO
MAX_FEATURES = limits.MAX_FEATURES
MAX_VERTICES = limits.MAX_VERTICES
MAX_COMPUTE_BYTES = limits.MAX_COMPUTE_BYTES
limits_from(sys.modules[__name__])  # the readers read them here, at call time (registry.limit)

# --- the declared readers ------------------------------------------------------------------------
register(Reader("geojson", (".geojson", ".json"), "vector", "single", _topojson.read_any_json,
                Text("GeoJSON", "GeoJSON")))
register(Reader("topojson", (".topojson",), "vector", "choose", _topojson.read_any_json, Text("TopoJSON", "TopoJSON")))
register(Reader("gpkg", (".gpkg",), "vector", "choose", _gpkg.read, Text("GeoPackage", "GeoPackage")))
register(Reader("kml", (".kml", ".kmz"), "vector", "all", _kml.read, Text("KML/KMZ", "KML/KMZ")))
register(Reader("shapefile", (".zip",), "vector", "choose", _shapefile.read,
                Text("Shapefile 或文件地理数据库（zip）", "Shapefile or File Geodatabase (zip)")))
register(Reader("shapefile-dir", (".shp",), "vector", "single", _shapefile.read,
                Text("Shapefile（.shp 及其附属文件）", "Shapefile (.shp with its sidecars)"), upload=False))
register(Reader("filegdb", (".gdb",), "vector", "choose", _filegdb.read,
                Text("Esri 文件地理数据库（.gdb 文件夹）", "Esri File Geodatabase (.gdb folder)"), upload=False))
register(Reader("csv", (".csv", ".txt"), "vector", "single", _csv.read, Text("园区 CSV", "parks CSV")))
register(Reader("excel", (".xlsx",), "vector", "choose", _excel.read, Text("园区 Excel 工作簿", "parks Excel workbook")))
register(Reader("osm", (".osm.pbf", ".pbf", ".osm"), "osm", "all", read_osm, Text("OSM", "OSM"), upload=False))
register(Reader("geotiff", (".tif", ".tiff"), "raster", "single", validate_geotiff, Text("GeoTIFF", "GeoTIFF")))

VECTOR_EXT = {".geojson", ".json", ".topojson", ".gpkg", ".kml", ".kmz", ".zip"}  # vector uploads (Data page)
PARK_EXT = VECTOR_EXT | {".csv", ".txt", ".xlsx"}  # park uploads (Parks page)
PATH_EXT = PARK_EXT | {".shp", ".gdb"}  # files (and .gdb folders) on disk (CLI, build)
TABLES = ("csv", "excel")  # readers of parks tables: they apply swap_axes to their columns themselves

__all__ = ["AREA_FIELDS", "AxesSwapped", "CRSMissing", "GANSU_BBOX", "InputError", "LAT_FIELDS", "LON_FIELDS",
           "NAME_FIELDS", "OSM_RULES", "PARK_EXT", "PATH_EXT", "REGISTRY", "ReadResult", "Reader", "UploadError", "VECTOR_EXT",
           "WKT_FIELDS", "check_dataset", "check_nodata", "ext_of", "extensions", "guess_crs", "list_layers",
           "list_path_layers", "read_csv_parks", "read_osm", "read_path", "read_vector", "reader_for", "register",
           "validate_geotiff"]


def _check_size(data: bytes) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"文件过大（{len(data) / 1e6:.1f} MB，上限 {MAX_UPLOAD_BYTES / 1e6:.0f} MB）。",
                          f"file too large ({len(data) / 1e6:.1f} MB, limit {MAX_UPLOAD_BYTES / 1e6:.0f} MB).")


def _unsupported(ext: str, allowed: set[str]) -> UploadError:
    if ext == ".dbf":
        return UploadError("单独的 .dbf 文件只是属性表，没有几何（没有位置）：请提供完整的 Shapefile（.shp、.shx、.dbf、.prj）。",
                           "a .dbf alone is an attribute table without geometry (no locations): give the whole "
                           "Shapefile (.shp, .shx, .dbf, .prj).")
    if ext in (".xls", ".xlsm"):
        return UploadError(f"这是旧版或含宏的 Excel 工作簿（{ext}）：请在 Excel 中另存为 .xlsx 或“CSV UTF-8”后上传"
                           "（含 WKT 列，或经纬度和面积列）。",
                           f"this is an old-format or macro Excel workbook ({ext}): save it as .xlsx or \"CSV UTF-8\" "
                           "in Excel and upload that (with a WKT column, or lon/lat and area columns).")
    if ext == ".gdb":
        return UploadError("Esri 文件地理数据库（.gdb 文件夹）无法直接上传：请将整个 .gdb 文件夹压缩为 zip 后上传"
                           "（命令行可直接给出 .gdb 文件夹）。",
                           "an Esri File Geodatabase (.gdb folder) cannot be uploaded as such: zip the whole .gdb "
                           "folder and upload the zip (the command line takes the .gdb folder itself).")
    if ext == ".shp":
        return UploadError("单独的 .shp 文件无法上传：请将 .shp、.shx、.dbf、.prj（及 .cpg）一起打包为 zip。",
                           "a .shp alone cannot be uploaded: zip it together with its .shx, .dbf, .prj (and .cpg).")
    return UploadError(f"不支持的文件类型“{ext or '无扩展名'}”。支持：GeoJSON、TopoJSON、GeoPackage、KML、KMZ、Shapefile"
                       "（zip；命令行也可直接给 .shp 及其附属文件）、文件地理数据库（zip；命令行也可给 .gdb 文件夹）、"
                       "园区 CSV 或 Excel（.xlsx）。",
                       f"unsupported file type '{ext or 'none'}'. Use GeoJSON, TopoJSON, GeoPackage, KML, KMZ, a "
                       "Shapefile (zipped; on the command line also a .shp with its sidecars), a File Geodatabase "
                       "(zipped; on the command line also the .gdb folder) or a parks CSV or Excel (.xlsx) table.")


def _read(source: Source, allowed: set[str], layer: str | None, assume_crs: str | None,
          polygons_only: bool, gcj02: bool) -> ReadResult:
    """The one pipeline: find the plug-in, read in a private folder, then the shared checks."""
    reader = reader_for(source.name, kind="vector")
    if reader is None or source.ext not in allowed:
        raise _unsupported(source.ext, allowed)
    if source.size == 0:
        raise UploadError("文件为空。", "the file is empty.")
    notes: list[Text] = []
    with tempfile.TemporaryDirectory(prefix="gansu-up-") as tmp:
        gdf, used = reader.read(source, Path(tmp), layer, notes)
    if source.swap_axes and reader.name not in TABLES:
        gdf = swap_xy(gdf, notes)
    if reader.name in TABLES and gdf.crs is None and assume_crs is None:
        assume_crs = guess_crs(gdf)[0] or None
    try:
        return finish(gdf, assume_crs, polygons_only, notes, used if used is not None else layer, gcj02)
    except CRSMissing as e:
        bad_prj = [n for n in notes if n[1].startswith("the .prj file")]
        if bad_prj:
            e.set_text(f"{bad_prj[0][0]}。{e.zh}", f"{bad_prj[0][1]}. {e.en}")
        raise


def read_vector(filename: str, data: bytes, *, layer: str | None = None,
                assume_crs: str | None = None, polygons_only: bool = True,
                gcj02: bool = False, swap_axes: bool = False) -> ReadResult:
    """Read an uploaded vector file into EPSG:4326. Raises UploadError with zh/en messages
    (``AxesSwapped`` when the axes look exchanged: offer ``swap_axes``).

    ``assume_crs`` is used when the file has no CRS (or overrides it, for CSV).
    ``gcj02``: the coordinates are GCJ-02 degrees (Gaode/Tencent picks): shift back to WGS84.
    ``layer``: the layer of a GeoPackage, File Geodatabase or TopoJSON, the Shapefile of a zip
    holding several, the sheet of an Excel workbook.
    ``swap_axes``: X and Y exchanged before anything else (lon/lat columns of a table).
    """
    _check_size(data)
    return _read(Source(filename, data=data, swap_axes=swap_axes), PARK_EXT, layer, assume_crs, polygons_only, gcj02)


def read_path(path, *, layer: str | None = None, assume_crs: str | None = None, polygons_only: bool = True,
              gcj02: bool = False, what: str | Text | None = None, swap_axes: bool = False) -> ReadResult:
    """Read a vector file on disk (CLI, data build) with the rules of the upload path: a ``.shp``
    with its sidecars, a ``.gdb`` folder, ``.zip``, ``.gpkg``, ``.kml``/``.kmz``,
    ``.geojson``/``.json``/``.topojson``, ``.csv``/``.txt``, ``.xlsx``. The file is never modified
    (readers work on copies). ``what`` names the input in messages (e.g. "--parks"). Raises
    UploadError (CRSMissing without a CRS, AxesSwapped) with zh/en messages."""
    p = Path(path)
    label = what.pick("en") if isinstance(what, Text) else what
    label_zh = what.zh if isinstance(what, Text) else what
    if p.is_dir() and p.suffix.lower() != ".gdb":
        e = UploadError(f"{p.name} 是文件夹，不是文件：请给出其中的数据文件（如 .shp、.gpkg），或 .gdb 文件夹。",
                        f"{p.name} is a folder, not a file: give the data file inside it (e.g. a .shp or .gpkg), or "
                        "a .gdb folder.")
        e.set_text(f"{label_zh + '：' if label_zh else ''}{e.zh}", f"{label + ': ' if label else ''}{e.en}")
        raise e
    if not p.is_file() and not p.is_dir():
        raise UploadError(f"{label_zh + '：' if label_zh else ''}找不到文件 {p}", f"{label + ': ' if label else ''}file {p} not found")
    try:
        return _read(Source(p.name, path=p, swap_axes=swap_axes), PATH_EXT, layer, assume_crs, polygons_only, gcj02)
    except UploadError as e:
        if label:
            e.set_text(f"{label_zh}（{p.name}）：{e.zh}", f"{label} ({p.name}): {e.en}")
        raise


def list_layers(filename: str, data: bytes) -> list[str]:
    """Layers to choose from in an upload (for the 'choose the layer' prompt): those of a
    GeoPackage, a (zipped) File Geodatabase or a TopoJSON, the Shapefiles of a zip holding several,
    the sheets of an Excel workbook; [] when there is nothing to choose (KML folders are all read)."""
    return _layers(Source(filename, data=data))


def list_path_layers(path) -> list[str]:
    """The same for a file on disk (CLI)."""
    p = Path(path)
    return _layers(Source(p.name, path=p))


def _layers(source: Source) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="gansu-up-") as tmp:
        if source.ext == ".gpkg":
            try:
                return _gpkg.layers(source, Path(tmp))
            except NotWhatItClaims:
                raise  # e.g. a GDAL virtual dataset named .gpkg: named as what it is
            except UploadError:
                raise UploadError("GeoPackage 文件已损坏。", "the GeoPackage is corrupt.") from None
        if source.ext == ".zip":
            return _shapefile.zip_layers(source, Path(tmp))
        if source.ext == ".gdb":
            return _filegdb.layers(source, Path(tmp))
        if source.ext in (".geojson", ".json", ".topojson"):
            return _topojson.layers(source, Path(tmp))
        if source.ext == ".xlsx":
            return _excel.layers(source, Path(tmp))
    return []

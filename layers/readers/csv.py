"""Parks as a CSV table: a WKT column, or lon/lat plus an area (km²) that gives a square of that
area centred on the point. Text is UTF-8 (a BOM is fine) or GBK/GB18030; a file mixing the two is
refused with the line numbers; ``;`` and tab separators and comma decimals are understood. Excel's
"Unicode text" export (UTF-16 with a BOM, tab-separated, often named ``.txt``) is read as such, with
a note. The same table rules serve Excel workbooks (``excel``: ``parks_from_table``).

The geometry column may hold EWKT (``SRID=4490;POLYGON(…)``, as PostGIS writes it: the SRID gives
the CRS, as for hex EWKB); an empty cell is a row without geometry (skipped with a note by the
final checks). ``swap_axes`` (the user's choice) exchanges lon/lat columns or X/Y of the geometries.

The geometry column may also hold hex (E)WKB as PostGIS exports it (the SRID gives the
CRS), 3-D surfaces (TIN, PolyhedralSurface, Triangle: read as their footprint) and curves
(CircularString … MultiSurface: linearised by GDAL); lon/lat may be degrees-minutes-seconds
(``104°12'36"E``, ``36度30分N``); an Excel workbook (or a GeoPackage, a zip) named ``.csv`` is
named as what it is."""
from __future__ import annotations

import codecs
import io
import math
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import shapely

from core.crs import square_of_area
from core.errors import UploadError
from core.geom import surface_footprint, wkb_surface_kind, wkb_surfaces_as_polygons
from core.text import Text
from layers.readers import signature
from layers.readers.common import in_box
from layers.readers.fixups import SWAP_HINT, AxesSwapped
from layers.readers.registry import limit

NAME_FIELDS = ("name", "name_zh", "NAME", "Name", "名称", "园区名称", "园区", "park", "park_name", "MC", "XMMC")
WKT_FIELDS = ("wkt", "WKT", "geometry", "geom", "the_geom", "wkb_geometry", "几何")
LON_FIELDS = ("lon", "lng", "longitude", "x", "经度", "LON", "Longitude")
LAT_FIELDS = ("lat", "latitude", "y", "纬度", "LAT", "Latitude")
AREA_FIELDS = ("area_km2", "area", "面积", "面积_km2", "AREA")


def read(source, folder: Path, layer: str | None, notes: list):
    gdf, more = read_csv_parks(source.read_bytes(), swap_axes=source.swap_axes)
    notes.extend(more)
    return gdf, None


_UTF16 = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
          (codecs.BOM_UTF16_BE, "utf-16"))


def _decode_text(data: bytes, notes: list | None = None) -> str:
    for bom, enc in _UTF16:  # Excel's "Unicode text": UTF-16 LE with a BOM
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                raise UploadError(f"该表格以 {enc.upper()} 字节序标记开头，但内容无法按 {enc.upper()} 解码。",
                                  f"the table starts with a {enc.upper()} byte-order mark but does not decode as "
                                  f"{enc.upper()}.") from None
            if notes is not None:
                notes.append(Text(f"表格为 {enc.upper()} 编码文本（Excel 的“Unicode 文本”），已按此读取",
                                  f"the table is {enc.upper()} text (Excel's \"Unicode text\"): read as such"))
            return text.lstrip("\ufeff")
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


def first_field(cols, names):
    """The first of ``names`` that is a column of ``cols`` (exact, else ignoring case: the column's
    own spelling), or None."""
    lower = {c.lower(): c for c in cols}
    for n in names:
        if n in cols:
            return n
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def read_csv_parks(data: bytes, swap_axes: bool = False) -> tuple[gpd.GeoDataFrame, list[tuple[str, str]]]:
    """CSV with a WKT column, or lon/lat plus an area (km²) → squares of that area."""
    import pandas as pd

    signature.check_text_table(data[:signature.HEAD])  # a GDAL virtual dataset is named, never parsed
    _reject_binary(data)
    notes = []
    text = _decode_text(data, notes)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = ";" if header.count(";") > header.count(",") else "\t" if header.count("\t") > header.count(",") else ","
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except Exception as e:
        raise UploadError("CSV 格式错误。", f"malformed CSV ({str(e)[:120]}).") from None
    if df.empty:
        raise UploadError("CSV 没有数据行。", "the CSV has no rows.")
    if len(df) > limit("MAX_FEATURES"):
        raise UploadError("CSV 行数过多。", "too many rows in the CSV.")
    return parks_from_table(df, notes, swap_axes)


def parks_from_table(df, notes: list, swap_axes: bool = False, what: str = "CSV") -> tuple[gpd.GeoDataFrame, list]:
    """A table of text cells (CSV, an Excel sheet) → parks: a WKT/(E)WKB/EWKT column, or lon/lat
    plus an area (km²) → squares of that area."""
    wkt = first_field(df.columns, WKT_FIELDS)
    if wkt:
        geoms, srids, ewkt = _parse_geometries(df[wkt].tolist(), notes)
        crs = None
        kind = Text("EWKT", "EWKT") if ewkt else Text("十六进制 EWKB", "hex EWKB")
        if srids and len(set(srids)) == 1 and srids[0] > 0:
            crs = f"EPSG:{srids[0]}"
            notes.append(Text(f"几何为{kind.zh}，坐标系取自其 SRID：{crs}",
                              f"geometries are {kind.en}; CRS from their SRID: {crs}"))
        elif len(set(srids)) > 1:
            raise UploadError(f"{kind.zh}几何的 SRID 不一致（{sorted(set(srids))[:5]}）：请统一坐标系。",
                              f"the {kind.en} geometries carry different SRIDs ({sorted(set(srids))[:5]}): use one CRS.")
        if swap_axes:
            geoms = [None if g is None else shapely.transform(g, lambda xy: xy[:, ::-1].copy()) for g in geoms]
            notes.append(Text("已按您的选择交换坐标轴（X 与 Y 互换）", "axes swapped as you chose (X and Y exchanged)"))
        gdf = gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms, crs=crs)
        return gdf, notes
    lon, lat, area = first_field(df.columns, LON_FIELDS), first_field(df.columns, LAT_FIELDS), first_field(df.columns, AREA_FIELDS)
    if not (lon and lat):
        raise UploadError(f"{what} 需要 WKT 列，或经度/纬度列（lon/lat、经度/纬度）加面积列（area_km2）。",
                          f"the {what} needs a WKT column, or lon/lat columns plus an area_km2 column.")
    if not area:
        raise UploadError(f"{what} 有经纬度但缺少面积列（area_km2/面积，单位 km²）。",
                          f"the {what} has lon/lat but no area column (area_km2, in km²).")
    if swap_axes:
        lon, lat = lat, lon
        notes.append(Text(f"已按您的选择交换经度、纬度两列（经度取自“{lon}”列）",
                          f"longitude and latitude columns swapped as you chose (longitude from column '{lon}')"))
    geoms = []
    for i, (x, y, a) in enumerate(zip(df[lon], df[lat], df[area])):
        try:
            xf, yf, af = dms(x), dms(y), float(str(a).replace(",", "."))
        except ValueError:
            raise UploadError(f"第 {i + 1} 行的经纬度或面积不是数字。", f"row {i + 1}: lon/lat/area is not a number.") from None
        if not all(math.isfinite(v) for v in (xf, yf, af)):
            raise UploadError(f"第 {i + 1} 行的经纬度或面积为非数值（NaN/无穷大）。", f"row {i + 1}: lon/lat/area is not a number (NaN/infinite).")
        if 180 < abs(xf) <= 180 + HAIR or 90 < abs(yf) <= 90 + HAIR:  # float rounding of ±180/±90
            xf, yf = max(-180.0, min(180.0, xf)), max(-90.0, min(90.0, yf))
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) and in_box(yf, xf):
            raise AxesSwapped(f"第 {i + 1} 行的经度、纬度似乎颠倒（经度 {xf:g}，纬度 {yf:g}）：需交换两列；{SWAP_HINT.zh}。",
                              f"row {i + 1}: longitude and latitude look swapped (lon {xf:g}, lat {yf:g}): the columns "
                              f"must be swapped; {SWAP_HINT.en}.")
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) or not (0 < af < 10_000):
            raise UploadError(f"第 {i + 1} 行的经纬度或面积超出范围。", f"row {i + 1}: lon/lat or area out of range.")
        geoms.append(square_of_area(xf, yf, af))
    notes.append(Text("按面积生成以该点为中心的正方形园区", "each park is a square of the given area centred on its point"))
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon, lat]).reset_index(drop=True), geometry=geoms, crs="EPSG:4326")
    return gdf, notes


HAIR = 1e-6  # degrees beyond ±180/±90 accepted as rounding (as ``common.HAIR_DEG``)

# Excel and other binary tables renamed .csv: named by their signature
_BINARY = ((b"PK\x03\x04", "xlsx", "Excel 工作簿（.xlsx）", "an Excel workbook (.xlsx)"),
           (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls", "Excel 97-2003 工作簿（.xls）", "an Excel 97-2003 workbook (.xls)"),
           (b"SQLite format 3\x00", "gpkg", "GeoPackage/SQLite 数据库", "a GeoPackage/SQLite database"))


def _reject_binary(data: bytes) -> None:
    for magic, _, zh, en in _BINARY:
        if data.startswith(magic):
            if magic.startswith(b"PK") and b"xl/" not in data[:1 << 16] and b"[Content_Types].xml" not in data[:1 << 16]:
                zh, en = "zip 压缩包", "a zip archive"
            raise UploadError(f"该 .csv 文件实际上是{zh}，不是文本 CSV：请在原软件中另存为 CSV（UTF-8）后上传，"
                              "或按其实际格式上传。",
                              f"this .csv file is really {en}, not a text CSV: save it as CSV (UTF-8) from its "
                              "program, or upload it as what it is.")


_DMS = re.compile(r"^\s*([NSEW东西南北])?\s*(-?\d+(?:[.,]\d+)?)\s*(?:°|度|d|\s)\s*"
                  r"(?:(\d+(?:[.,]\d+)?)\s*(?:'|′|’|分|m|\s)\s*)?"
                  r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|”|''|秒|s)?\s*)?([NSEW东西南北])?\s*$", re.I)


def dms(v) -> float:
    """A coordinate in decimal degrees (``104.21``, ``104,21``) or degrees-minutes-seconds
    (``104°12'36"E``, ``36°30′N``, ``S 33 52 10``, ``104度12分36秒``); S and W are negative.
    Raises ValueError when it is neither."""
    t = str(v).strip()
    try:
        return float(t.replace(",", "."))
    except ValueError:
        pass
    m = _DMS.match(t)
    if not m or not any(ch in t for ch in "°度'′’\"″”分秒NSEWnsew东西南北 "):
        raise ValueError(t)
    h1, d, mi, se, h2 = m.groups()
    deg = float(d.replace(",", "."))
    mi = float(mi.replace(",", ".")) if mi else 0.0
    se = float(se.replace(",", ".")) if se else 0.0
    if mi >= 60 or se >= 60:
        raise ValueError(t)
    val = abs(deg) + mi / 60 + se / 3600
    hemi = (h1 or h2 or "").upper()
    if deg < 0 or hemi in ("S", "W", "南", "西"):
        val = -val
    return val


_HEX = re.compile(r"^(?:\\x)?(?:00|01)[0-9A-Fa-f]{8,}$")
_SURFACE_WKT = re.compile(r"\b(POLYHEDRALSURFACE|TIN|TRIANGLE)\b", re.I)
_CURVE_WKT = re.compile(r"\b(CIRCULARSTRING|COMPOUNDCURVE|CURVEPOLYGON|MULTICURVE|MULTISURFACE)\b", re.I)


_EWKT = re.compile(r"^\s*SRID\s*=\s*(-?\d+)\s*;\s*(.*)$", re.I | re.S)


def _parse_geometries(values: list, notes: list) -> tuple[list, list[int], bool]:
    """WKT, EWKT, hex (E)WKB (PostGIS exports), 3-D surfaces (footprint) and curves (linearised by
    GDAL); an empty cell is no geometry (None). Returns (geometries, SRIDs found, any EWKT)."""
    geoms, srids, surfaces, curves, ewkt = [], [], {}, [], False
    for i, v in enumerate(values):
        v = "" if v is None else str(v).strip()
        m = _EWKT.match(v)
        if m:  # EWKT: SRID=4490;POLYGON(...)
            srids.append(int(m.group(1)))
            v, ewkt = m.group(2).strip(), True
        try:
            if not v:
                g = None  # a row without geometry: skipped with a note by the final checks
            elif _HEX.match(v):
                raw = bytes.fromhex(v[2:] if v.startswith("\\x") else v)
                kind = wkb_surface_kind(raw)
                g = shapely.from_wkb(wkb_surfaces_as_polygons(raw) if kind else raw)
                srids.append(int(shapely.get_srid(g)))
                if kind:
                    g = _footprint(g, kind, i, surfaces, surface_footprint)
            elif _SURFACE_WKT.search(v):
                kind = _SURFACE_WKT.search(v).group(1).upper()
                kind = {"POLYHEDRALSURFACE": "PolyhedralSurface", "TIN": "TIN", "TRIANGLE": "Triangle"}[kind]
                g = shapely.from_wkt(_SURFACE_WKT.sub(lambda m: "POLYGON" if m.group(1).upper() == "TRIANGLE"
                                                      else "MULTIPOLYGON", v))
                g = _footprint(g, kind, i, surfaces, surface_footprint)
            elif _CURVE_WKT.search(v):
                g = None
                curves.append((i, v))
            else:
                g = shapely.from_wkt(v)
        except UploadError:
            raise
        except Exception:  # noqa: BLE001 - shapely/GEOS: not WKT, not WKB
            raise UploadError(f"第 {i + 1} 行的几何（WKT 或十六进制 WKB）无法解析。",
                              f"row {i + 1}: the geometry (WKT or hex WKB) cannot be parsed.") from None
        geoms.append(g)
    if curves:
        rows = [i for i, _ in curves]
        for i, g in zip(rows, _linearise([v for _, v in curves], rows)):
            geoms[i] = g
        notes.append(Text(f"第 {', '.join(str(i + 1) for i in rows[:10])} 行为曲线几何（圆弧等），已按 GDAL 默认精度折线化",
                          f"row(s) {', '.join(str(i + 1) for i in rows[:10])}: curved geometries (arcs) "
                          "linearised at GDAL's default precision"))
    for kind, rows in surfaces.items():
        shown = ", ".join(str(r) for r in rows[:10])
        notes.append(Text(f"第 {shown} 行为三维面（{kind}），已取各面并集作为平面占地范围",
                          f"row(s) {shown}: 3-D surface ({kind}) read as its footprint (union of its faces)"))
    return geoms, srids, ewkt


def _footprint(g, kind, i, surfaces, surface_footprint):
    f = surface_footprint(g)
    if f is None:
        raise UploadError(f"第 {i + 1} 行是三维面（{kind}），其各面投影到平面上没有面积（均为竖直面），无法得到占地范围。",
                          f"row {i + 1} is a 3-D surface ({kind}) whose faces have no area on the plane (all "
                          "vertical): it has no footprint to read.")
    surfaces.setdefault(kind, []).append(i + 1)
    return f


def _linearise(wkts: list[str], rows: list[int]) -> list:
    """Curved WKT (CircularString, CompoundCurve, CurvePolygon, MultiCurve, MultiSurface) as
    GDAL linearises them: written to a one-column CSV that GDAL's CSV driver reads (forced by its
    ``CSV:`` prefix: the cells are the user's text)."""
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="gansu-curve-") as tmp:
        path = Path(tmp) / "curves.csv"
        path.write_text("WKT\n" + "".join('"' + w.replace('"', '""') + '"\n' for w in wkts), encoding="utf-8")
        try:
            df = pyogrio.read_dataframe(signature.gdal_name(path, "CSV"), on_invalid="ignore")
        except Exception:  # noqa: BLE001
            df = None
    if df is None or len(df) != len(wkts) or shapely.is_missing(df.geometry.values).any():
        bad = rows[0] if df is None or len(df) != len(wkts) else rows[int(shapely.is_missing(df.geometry.values).argmax())]
        raise UploadError(f"第 {bad + 1} 行的曲线几何无法解析。", f"row {bad + 1}: the curved geometry cannot be parsed.")
    return list(df.geometry.values)

"""Parks as a CSV table: a WKT column, or lon/lat plus an area (km²) that gives a square of that
area centred on the point. Text is UTF-8 (a BOM is fine) or GBK/GB18030; a file mixing the two is
refused with the line numbers; ``;`` and tab separators and comma decimals are understood."""
from __future__ import annotations

import io
import math
from pathlib import Path

import geopandas as gpd
import shapely

from core.errors import UploadError
from core.text import Text
from layers.readers.common import in_box
from layers.readers.registry import limit

NAME_FIELDS = ("name", "name_zh", "NAME", "Name", "名称", "园区名称", "园区", "park", "park_name", "MC", "XMMC")
WKT_FIELDS = ("wkt", "WKT", "geometry", "geom", "the_geom", "几何")
LON_FIELDS = ("lon", "lng", "longitude", "x", "经度", "LON", "Longitude")
LAT_FIELDS = ("lat", "latitude", "y", "纬度", "LAT", "Latitude")
AREA_FIELDS = ("area_km2", "area", "面积", "面积_km2", "AREA")


def read(source, folder: Path, layer: str | None, notes: list):
    gdf, more = read_csv_parks(source.read_bytes())
    notes.extend(more)
    return gdf, None


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
    if len(df) > limit("MAX_FEATURES"):
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
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) and in_box(yf, xf):
            raise UploadError(f"第 {i + 1} 行的经度、纬度似乎颠倒（经度 {xf:g}，纬度 {yf:g}）：请交换两列。",
                              f"row {i + 1}: longitude and latitude look swapped (lon {xf:g}, lat {yf:g}): swap the columns.")
        if not (-180 <= xf <= 180 and -90 <= yf <= 90) or not (0 < af < 10_000):
            raise UploadError(f"第 {i + 1} 行的经纬度或面积超出范围。", f"row {i + 1}: lon/lat or area out of range.")
        geoms.append(_crs.square_of_area(xf, yf, af))
    notes.append(Text("按面积生成以该点为中心的正方形园区", "each park is a square of the given area centred on its point"))
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=geoms, crs="EPSG:4326")
    return gdf, notes

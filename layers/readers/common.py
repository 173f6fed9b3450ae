"""What every vector reader shares: the source (uploaded bytes or a file on disk), the CRS guess
and the final checks (``finish``) that turn any reader's frame into EPSG:4326 polygons with
bilingual notes. Reading a staged file with GDAL (its layers, limits, a layer without geometry
column, 3-D surfaces) is ``ogr``.

The edges of the world: degrees a hair beyond ±180/±90 are rounding, not a missing CRS; polygons
crossing ±180° are cut there; Gauss–Krüger metres with the northing in X are refused like swapped
lon/lat; Xian 1980 and Beijing 1954 get a note on their approximate datum shift; features outside
Gansu and duplicate ids get a note. Rows without a geometry are skipped and collections of polygons read as their
polygons, with notes (``fixups``); swapped axes are refused as ``AxesSwapped`` so the pages and the
command line can offer to swap them."""
from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from core.errors import UploadError
from core.crs import gdf_gcj02_to_wgs84
from core.geom import crosses_antimeridian, make_valid_where_needed, polygonal_parts, split_antimeridian
from core.text import Text
from layers.readers.fixups import SWAP_HINT, AxesSwapped, collection_polygons, outside, rows_text, skip_null_rows
from layers.readers.registry import ext_of, limit

GANSU_BBOX = (92.0, 32.0, 109.0, 43.0)  # generous bounding box of Gansu (lon/lat)


@dataclass
class ReadResult:
    gdf: gpd.GeoDataFrame  # EPSG:4326
    source_crs: str | None
    layer: str | None
    notes: list[Text]


class Source:
    """One input: uploaded bytes (kept in memory until a reader stages them) or a user's file on
    disk (never modified: readers work on copies in their private temporary folder)."""

    def __init__(self, name: str, data: bytes | None = None, path: Path | None = None, swap_axes: bool = False):
        self.name, self.data, self.path = name, data, Path(path) if path is not None else None
        self.ext = ext_of(name)
        self.swap_axes = swap_axes  # the user asked for X and Y exchanged (table readers apply it themselves)

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def read_bytes(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with open(self.path, "rb") as f:
            return f.read(n)

    def copy_to(self, dest: Path) -> Path:
        if self.data is not None:
            dest.write_bytes(self.data)
        else:
            shutil.copyfile(self.path, dest)
        return dest

    def open_zip(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(io.BytesIO(self.data) if self.data is not None else self.path)
        except (zipfile.BadZipFile, OSError):
            raise UploadError("压缩包已损坏或不是 zip 文件。", "the zip archive is corrupt or not a zip file.") from None


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


class CRSMissing(UploadError):
    """No CRS in the file: carries the guess and candidates for the user to confirm."""

    def __init__(self, guess, candidates, why_zh, why_en):
        super().__init__("文件没有坐标系信息（如缺少 .prj）。请指定坐标系后重试。" + (f"（{why_zh}；推测 {guess}）" if guess else f"（{why_zh}）"),
                         "the file has no coordinate reference system (e.g. missing .prj). Choose one and try again."
                         + (f" ({why_en}; best guess {guess})" if guess else f" ({why_en})"))
        self.guess, self.candidates = guess, candidates


def in_box(x: float, y: float) -> bool:
    x0, y0, x1, y1 = GANSU_BBOX
    return x0 - 20 <= x <= x1 + 20 and y0 - 15 <= y <= y1 + 15  # China, roughly


def _reject_swapped(gdf: gpd.GeoDataFrame) -> None:
    """Degrees in latitude, longitude order (x ≈ 36, y ≈ 104) would land outside the globe or in
    the wrong place: name the problem instead of guessing. The same for Gauss–Krüger metres whose
    X holds the northing (the surveyors' convention: X ≈ 4 000 000 north, Y ≈ 36 500 000 east)."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        _reject_swapped_projected(gdf)
        return
    x0, y0, x1, y1 = gdf.total_bounds
    in_degrees = -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    if not in_degrees and -90 <= x0 <= x1 <= 90 and -180 <= y0 <= y1 <= 180 and in_box(y0, x0) and in_box(y1, x1):
        raise AxesSwapped(f"坐标似乎为“纬度、经度”顺序（x≈{x0:.2f}，y≈{y0:.2f}）：需交换坐标轴（先经度后纬度）；{SWAP_HINT.zh}。",
                          f"the coordinates look like latitude, longitude order (x≈{x0:.2f}, y≈{y0:.2f}): the axes "
                          f"must be swapped (longitude first); {SWAP_HINT.en}.")
    if gdf.crs is None and _gk_northing_first(x0, y0, x1, y1):
        raise _northing_first(x0, y0)


def _gk_northing_first(x0, y0, x1, y1) -> bool:
    """Metres of China's Gauss–Krüger grids with X and Y exchanged: X a northing of China
    (2 000 000–6 000 000), Y an easting with a zone prefix (13–23, 25–45) or without (0–1 000 000),
    while X is no easting (no prefix fits it and it is over 1 000 000)."""
    if not (2_000_000 <= x0 <= x1 <= 6_000_000):
        return False
    zone = int(y0 // 1_000_000)
    prefixed = zone == int(y1 // 1_000_000) and (13 <= zone <= 23 or 25 <= zone <= 45)
    return prefixed or 0 <= y0 <= y1 <= 1_000_000


def _northing_first(x0: float, y0: float) -> AxesSwapped:
    return AxesSwapped(f"坐标似乎为“北坐标、东坐标”顺序（X≈{x0:,.0f} 是北坐标，Y≈{y0:,.0f} 是东坐标，测量习惯的高斯-克吕格坐标）："
                       f"需交换坐标轴（先东坐标后北坐标）；{SWAP_HINT.zh}。",
                       f"the coordinates look like northing, easting order (X≈{x0:,.0f} holds the northing, "
                       f"Y≈{y0:,.0f} the easting: the surveyors' Gauss–Krüger convention): the axes must be swapped "
                       f"(easting first); {SWAP_HINT.en}.")


def _reject_swapped_projected(gdf: gpd.GeoDataFrame) -> None:
    """A projected file whose coordinates land nowhere near China while the exchanged axes land
    in it (a Gauss–Krüger file with the northing in X)."""
    import pyproj

    x0, y0, x1, y1 = gdf.total_bounds
    xs = np.array([x0, x1, (x0 + x1) / 2])
    ys = np.array([y0, y1, (y0 + y1) / 2])
    try:
        t = pyproj.Transformer.from_crs(gdf.crs, 4326, always_xy=True)
        with np.errstate(all="ignore"):
            lon, lat = t.transform(xs, ys)
            slon, slat = t.transform(ys, xs)
    except Exception:  # noqa: BLE001 - no transformation: the later reprojection says so
        return
    here = np.isfinite(lon).all() and np.isfinite(lat).all() and all(in_box(a, b) for a, b in zip(lon, lat))
    swapped = np.isfinite(slon).all() and np.isfinite(slat).all() and all(in_box(a, b) for a, b in zip(slon, slat))
    if not here and swapped:
        raise _northing_first(x0, y0)


# degrees a hair beyond ±180/±90 (world datasets carry 180.00000000000006): rounding, clamped
HAIR_DEG = 1e-6


def _clamp_hair(gdf: gpd.GeoDataFrame, notes: list) -> gpd.GeoDataFrame:
    """Longitudes/latitudes beyond ±180/±90 by at most ``HAIR_DEG`` (float rounding of world
    datasets) are set to the limit, with a note; anything further is left for the checks."""
    x0, y0, x1, y1 = gdf.total_bounds
    over = max(x0 < -180 and -180 - x0, x1 > 180 and x1 - 180, y0 < -90 and -90 - y0, y1 > 90 and y1 - 90)
    if not over or over > HAIR_DEG or not (-180 - HAIR_DEG <= x0 and x1 <= 180 + HAIR_DEG
                                           and -90 - HAIR_DEG <= y0 and y1 <= 90 + HAIR_DEG):
        return gdf
    lo, hi = np.array([-180.0, -90.0]), np.array([180.0, 90.0])
    geoms = shapely.transform(gdf.geometry.values, lambda xy: np.clip(xy, lo, hi))
    notes.append(Text(f"有坐标超出 ±180°/±90° 不到 {over:.1e}°（浮点舍入），已取边界值",
                      f"coordinates beyond ±180°/±90° by {over:.1e}° (floating-point rounding) set to the limit"))
    return gdf.set_geometry(list(geoms), crs=gdf.crs)


_rows = rows_text  # 1-based row numbers of the file (index labels of the frame in ``finish``)


_DATUMS = {"Xian 1980": "西安 1980", "Beijing 1954": "北京 1954", "New Beijing": "新北京 1954",
           "Xian": "西安 1980", "Beijing": "北京 1954"}  # shortened names of hand-made .prj files


def _datum_note(crs_, notes: list) -> None:
    """Xian 1980 / Beijing 1954 (and their Gauss–Krüger grids): PROJ has no official parameters
    to CGCS2000/WGS84, so the shift it applies is approximate (tens of metres or more)."""
    try:
        datum = crs_.geodetic_crs.datum.name if crs_.geodetic_crs is not None else ""
    except Exception:  # noqa: BLE001
        return
    key = "".join(ch for ch in datum.lower() if ch.isalnum()).removeprefix("d")  # ESRI: D_Xian_1980
    for en, zh in _DATUMS.items():
        if key.startswith("".join(ch for ch in en.lower() if ch.isalnum())):
            notes.append(Text(f"坐标系为{zh}（{crs_.name}）：没有官方转换参数，转换到 CGCS2000/WGS84 的基准偏移为近似值"
                              "（误差可达数十米）；如有省测绘部门提供的参数，请先用其转换",
                              f"the CRS is {en} ({crs_.name}): without official parameters the datum shift to "
                              "CGCS2000/WGS84 is approximate (errors of tens of metres); convert with the parameters "
                              "of the provincial surveying office first if you have them"))
            return


def _duplicate_ids(gdf: gpd.GeoDataFrame, notes: list) -> None:
    """A park id used twice (the engine's id columns: park_id, id, ID) is named in a note."""
    col = next((c for c in ("park_id", "id", "ID") if c in gdf.columns), None)
    if col is None:
        return
    ids = gdf[col].astype(str)  # index labels: the rows of the file
    dup = ids[ids.duplicated(keep=False)]
    if dup.empty:
        return
    parts = [f"{v}（第 {_rows(dup.index[dup == v])} 行）" for v in dict.fromkeys(dup)][:10]
    parts_en = [f"{v} (rows {_rows(dup.index[dup == v])})" for v in dict.fromkeys(dup)][:10]
    notes.append(Text(f"注意：编号（{col}）重复：{'、'.join(parts)}；同号的园区在结果中难以区分",
                      f"note: duplicate ids ({col}): {'; '.join(parts_en)}; parks sharing an id are hard to tell "
                      "apart in the results"))


def finish(gdf: gpd.GeoDataFrame, assume_crs: str | None, polygons_only: bool,
           notes: list, layer: str | None, gcj02: bool = False) -> ReadResult:
    """The checks every reader's frame goes through, then EPSG:4326."""
    if len(gdf) == 0:
        raise UploadError("文件中没有要素。", "the file contains no features.")
    gdf = skip_null_rows(gdf.reset_index(drop=True), notes)  # the index keeps each row's place in the file
    rowno = gdf.index.to_numpy()
    geoms = gdf.geometry.values
    nverts = int(shapely.get_num_coordinates(geoms).sum())
    max_vertices = limit("MAX_VERTICES")
    if nverts > max_vertices:
        raise UploadError(f"顶点过多（{nverts}，上限 {max_vertices}，GANSU_MAX_VERTICES）。请先简化或拆分。",
                          f"too many vertices ({nverts}, limit {max_vertices}, GANSU_MAX_VERTICES): simplify or split first.")
    coords = shapely.get_coordinates(geoms)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        idx = shapely.get_coordinates(geoms, return_index=True)[1]
        rows = ", ".join(str(int(rowno[i]) + 1) for i in sorted(set(idx[~finite].tolist()))[:10])
        raise UploadError(f"第 {rows} 行的坐标含非数值（NaN/无穷大）。", f"row(s) {rows}: coordinates are not a number (NaN/infinite).")
    if gdf.crs is None or gdf.crs.is_geographic:
        gdf = _clamp_hair(gdf, notes)
    # a CRS the user chose is checked as if the file had declared it
    _reject_swapped(gdf if gdf.crs is not None or assume_crs is None else gdf.set_crs(assume_crs))
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
    _datum_note(gdf.crs, notes)
    geoms = gdf.geometry.values
    if shapely.has_z(geoms).any() or shapely.has_m(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append(Text("已去除 Z/M 坐标", "Z/M coordinates dropped"))
    if polygons_only:
        gdf = collection_polygons(gdf.set_geometry(list(geoms), crs=gdf.crs), notes)
        geoms = gdf.geometry.values
        kinds = shapely.get_type_id(geoms)
        bad = ~((kinds == 3) | (kinds == 6))
        if bad.any():
            i = int(bad.nonzero()[0][0])
            t = shapely.get_type_id(geoms[i])
            name = {0: "点 point", 1: "线 line", 2: "线 line", 4: "多点 multipoint",
                    5: "多线 multiline", 7: "几何集合 collection"}.get(int(t), str(t))
            n = int(rowno[i]) + 1
            raise UploadError(f"第 {n} 行是{name.split()[0]}几何，此处需要面（多边形）。",
                              f"row {n} is a {name.split()[1]} geometry; polygons are expected here.")
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
        gdf = gdf_gcj02_to_wgs84(gdf)
        notes.append(Text("坐标已从 GCJ-02 转换为 WGS84", "coordinates converted from GCJ-02 to WGS84"))
    if not np.isfinite(gdf.total_bounds).all():
        raise UploadError("坐标转换结果含无穷大：部分坐标不在该坐标系的有效范围内，坐标系可能有误。",
                          "the reprojection gave infinite coordinates: some points lie outside the valid area of "
                          "the CRS; the CRS is probably wrong.")
    gdf = _clamp_hair(gdf, [])  # rounding of the reprojection itself
    b = gdf.total_bounds
    if not (-180 <= b[0] <= 180 and -90 <= b[1] <= 90 and -180 <= b[2] <= 180 and -90 <= b[3] <= 90):
        raise UploadError("坐标超出经纬度范围，坐标系可能有误。", "coordinates fall outside the globe: the CRS is probably wrong.")
    geoms = gdf.geometry.values
    crossing = [i for i, g in enumerate(geoms) if shapely.get_type_id(g) in (3, 6) and crosses_antimeridian(g)]
    if crossing:
        geoms = geoms.copy()
        for i in crossing:
            geoms[i] = split_antimeridian(geoms[i])
        gdf = gdf.set_geometry(list(geoms), crs=gdf.crs)
        notes.append(Text(f"第 {_rows(gdf.index[crossing])} 行跨越 180° 经线，已在该经线处切分（面积按椭球计算）",
                          f"row(s) {_rows(gdf.index[crossing])} cross the antimeridian (180°): cut there (areas on the "
                          "ellipsoid)"))
    out = outside(gdf.geometry.values, GANSU_BBOX)  # each row's shape: a polygon cut at 180° by its parts
    if out.all():
        notes.append(Text("注意：所有要素都位于甘肃省以外，请检查坐标系和经纬度顺序",
                          "note: every feature lies outside Gansu; check the CRS and the axis order"))
    elif out.any():
        rows = _rows(gdf.index[out])
        notes.append(Text(f"注意：第 {rows} 行位于甘肃省以外", f"note: row(s) {rows} lie outside Gansu"))
    if polygons_only:  # parks (and zones, red lines); not transport lines
        _duplicate_ids(gdf, notes)
    return ReadResult(gdf=gdf.reset_index(drop=True), source_crs=source_crs, layer=layer, notes=notes)

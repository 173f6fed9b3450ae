"""What every vector reader shares: the source (uploaded bytes or a file on disk), the OGR read
with its limits and layer rules, the CRS guess and the final checks (``finish``) that turn any
reader's frame into EPSG:4326 polygons with bilingual notes."""
from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from core import limits
from core.errors import UploadError
from core.geom import make_valid_where_needed, polygonal_parts
from core.text import Text
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

    def __init__(self, name: str, data: bytes | None = None, path: Path | None = None):
        self.name, self.data, self.path = name, data, Path(path) if path is not None else None
        self.ext = ext_of(name)

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

    def tail(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[-n:]
        with open(self.path, "rb") as f:
            f.seek(max(self.size - n, 0))
            return f.read()

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


def check_memory(path: Path) -> None:
    size = sum(p.stat().st_size for p in path.parent.iterdir() if p.is_file() and p.stem == path.stem)
    cap = limit("MAX_COMPUTE_BYTES")
    if size * limits.VECTOR_MEMORY_FACTOR > cap:
        need = size * limits.VECTOR_MEMORY_FACTOR
        raise UploadError(f"文件过大，读取约需 {need / 2**30:.1f} GB 内存（单次计算上限 {cap / 2**30:.1f} GB，"
                          "GANSU_MAX_COMPUTE_MB）。请先裁剪或拆分。",
                          f"the file would need about {need / 2**30:.1f} GB of memory to read (limit per computation "
                          f"{cap / 2**30:.1f} GB, GANSU_MAX_COMPUTE_MB); clip or split it first.")


def _parse_error(e: Exception, path: Path) -> UploadError:
    msg = (str(e).splitlines() or [type(e).__name__])[0][:200].replace(str(path.parent), "…")
    if "NaN" in msg or "non-finite" in msg or "Inf" in msg:
        return UploadError("坐标含非数值（NaN/无穷大），请修正几何。",
                           f"coordinates are not a number (NaN/infinite): fix the geometries ({msg}).")
    return UploadError(f"无法解析该文件（{msg}）。", f"the file cannot be parsed ({msg}).")


def layer_names(path: Path) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as e:  # noqa: BLE001 - unreadable file
        raise _parse_error(e, path) from None


def too_many_layers(kind: str, names: list[str]) -> UploadError:
    shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
    return UploadError(f"该{kind}有 {len(names)} 个图层：{'、'.join(names[:20])}；请选择其一（命令行：--layer）。",
                       f"the {kind} has {len(names)} layers: {shown}; choose one with --layer "
                       "(on the page: the layer box).")


def read_ogr(path: Path, layer: str | None, encoding: str | None = None, policy: str = "single",
             kind: str = "file") -> tuple[gpd.GeoDataFrame, str | None, list[Text]]:
    """Read with GDAL under the limits. ``policy`` for a file with several layers and none
    chosen: ``all`` reads every layer (a ``folder`` column names each row's layer), ``choose``
    refuses with the list of layer names, ``single`` reads the first. Returns (frame, layer, notes)."""
    check_memory(path)
    notes: list[Text] = []
    names = layer_names(path) if policy != "single" or layer else []
    if layer and names and layer not in names:
        raise UploadError(f"没有名为“{layer[:80]}”的图层；可用图层：{'、'.join(names[:20])}。",
                          f"no layer named '{layer[:80]}'; the layers are: {', '.join(names[:20])}.")
    if layer or len(names) <= 1:
        return _read_one(path, layer, encoding), layer, notes
    if policy == "choose":
        raise too_many_layers(kind, names)
    frames, total, used = [], 0, []
    for name in names:
        n = _count(path, name)
        total += n
        if total > limit("MAX_FEATURES"):
            _too_many(total)
        if n == 0:
            continue
        df = _read_one(path, name, encoding)
        df.insert(0, "folder", name)
        frames.append(df)
        used.append(name)
    if not frames:
        return _read_one(path, names[0], encoding), None, notes
    crs_ = frames[0].crs
    gdf = gpd.GeoDataFrame(pd.concat([f.to_crs(crs_) if f.crs != crs_ and crs_ is not None else f for f in frames],
                                     ignore_index=True), crs=crs_)
    if len(used) > 1:
        notes.append(Text(f"已读取全部 {len(used)} 个图层（文件夹）：{'、'.join(used[:10])}",
                          f"all {len(used)} layers (folders) read: {', '.join(used[:10])}"))
    return gdf, None, notes


def _too_many(n: int) -> None:
    cap = limit("MAX_FEATURES")
    raise UploadError(f"要素过多（{n}，上限 {cap}）。", f"too many features ({n}, limit {cap}).")


def _count(path: Path, layer: str | None) -> int:
    try:
        info = pyogrio.read_info(path, layer=layer) if layer else pyogrio.read_info(path)
    except Exception as e:  # noqa: BLE001
        raise _parse_error(e, path) from None
    return int(info["features"])


def _read_one(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    kw = {"engine": "pyogrio", "on_invalid": "fix"}  # e.g. unclosed rings are closed
    if layer:
        kw["layer"] = layer
    if encoding:
        kw["encoding"] = encoding
    try:
        n = _count(path, layer)
        if n > limit("MAX_FEATURES"):
            _too_many(n)
        return gpd.read_file(path, **kw)
    except UploadError:
        raise
    except Exception as e:  # pyogrio/GDAL errors: unreadable, truncated, wrong format
        raise _parse_error(e, path) from None


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
    the wrong place: name the problem instead of guessing."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        return
    x0, y0, x1, y1 = gdf.total_bounds
    in_degrees = -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    if not in_degrees and -90 <= x0 <= x1 <= 90 and -180 <= y0 <= y1 <= 180 and in_box(y0, x0) and in_box(y1, x1):
        raise UploadError(f"坐标似乎为“纬度、经度”顺序（x≈{x0:.2f}，y≈{y0:.2f}）：请交换坐标轴（先经度后纬度）后重试。",
                          f"the coordinates look like latitude, longitude order (x≈{x0:.2f}, y≈{y0:.2f}): swap the "
                          "axes (longitude first) and try again.")


def finish(gdf: gpd.GeoDataFrame, assume_crs: str | None, polygons_only: bool,
           notes: list, layer: str | None, gcj02: bool = False) -> ReadResult:
    """The checks every reader's frame goes through, then EPSG:4326."""
    if len(gdf) == 0:
        raise UploadError("文件中没有要素。", "the file contains no features.")
    geoms = gdf.geometry.values
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        rows = ", ".join(str(i + 1) for i in list(empty.nonzero()[0][:10]))
        raise UploadError(f"第 {rows} 行几何为空。", f"empty geometry in row(s) {rows}.")
    nverts = int(shapely.get_num_coordinates(geoms).sum())
    max_vertices = limit("MAX_VERTICES")
    if nverts > max_vertices:
        raise UploadError(f"顶点过多（{nverts}，上限 {max_vertices}，GANSU_MAX_VERTICES）。请先简化或拆分。",
                          f"too many vertices ({nverts}, limit {max_vertices}, GANSU_MAX_VERTICES): simplify or split first.")
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

"""Reading a staged vector file with GDAL (pyogrio) under the limits: the memory check, the list
of a file's layers, the choice of one layer (``choose_layer``, shared by sheets, feature classes and
the Shapefiles of a zip), ``read_ogr`` with its policies for a file of several layers (read the
first, read all with a ``folder`` column, or refuse with the list). A layer without a geometry
column is named as an attribute table; rows GeoPandas could not build, 3-D surfaces (TIN,
PolyhedralSurface, an Esri MultiPatch), become their footprint with a note.

GDAL opens what the readers staged, after its signature was checked (``signature``), with the
driver forced where GDAL has a prefix for it (``gdal_name``) and only the declared OGR drivers
registered (``ogr_policy.apply``, run on import)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from core import limits
from core.errors import UploadError
from core.geom import surface_footprint, wkb_surface_kind, wkb_surfaces_as_polygons
from core.text import Text
from layers.readers import ogr_policy
from layers.readers.registry import limit
from layers.readers.signature import gdal_name

ogr_policy.apply()  # only the declared OGR drivers, no /vsicurl/: before any user file is read


def check_memory(path: Path) -> None:
    size = sum(p.stat().st_size for p in path.parent.iterdir() if p.is_file() and p.stem == path.stem)
    cap = limit("MAX_COMPUTE_BYTES")
    if size * limits.VECTOR_MEMORY_FACTOR > cap:
        need = size * limits.VECTOR_MEMORY_FACTOR
        raise UploadError(f"文件过大，读取约需 {need / 2**30:.1f} GB 内存（单次计算上限 {cap / 2**30:.1f} GB，"
                          "GANSU_MAX_COMPUTE_MB）。请先裁剪或拆分。",
                          f"the file would need about {need / 2**30:.1f} GB of memory to read (limit per computation "
                          f"{cap / 2**30:.1f} GB, GANSU_MAX_COMPUTE_MB); clip or split it first.")


def parse_error(e: Exception, path: Path) -> UploadError:
    msg = (str(e).splitlines() or [type(e).__name__])[0][:200]
    msg = msg.replace(str(path.resolve().parent), "…").replace(str(path.parent), "…")
    if "NaN" in msg or "non-finite" in msg or "Inf" in msg:
        return UploadError("坐标含非数值（NaN/无穷大），请修正几何。",
                           f"coordinates are not a number (NaN/infinite): fix the geometries ({msg}).")
    return UploadError(f"无法解析该文件（{msg}）。", f"the file cannot be parsed ({msg}).")


def layer_names(path: Path, driver: str | None = None) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(gdal_name(path, driver))]
    except Exception as e:  # noqa: BLE001 - unreadable file
        raise parse_error(e, path) from None


def too_many_layers(kind: str | Text, names: list[str]) -> UploadError:
    shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
    zh, en = (kind.zh, kind.en) if isinstance(kind, Text) else (kind, kind)
    return UploadError(f"该{zh}有 {len(names)} 个图层：{'、'.join(names[:20])}；请选择其一（命令行：--layer）。",
                       f"the {en} has {len(names)} layers: {shown}; choose one with --layer "
                       "(on the page: the layer box).")


def choose_layer(kind: Text, names: list[str], layer: str | None, what: Text) -> str:
    """The layer to read of a source with layers ``names`` (sheets, feature classes, Shapefiles of
    a zip): ``layer`` if it is one of them, the only one when none is chosen; else the bilingual
    refusal listing them (``what`` names a layer of this kind: "sheet", "feature class")."""
    if layer is None:
        if len(names) > 1:
            raise too_many_layers(kind, names)
        return names[0]
    if layer not in names:
        raise UploadError(f"{kind.zh}中没有名为“{layer[:80]}”的{what.zh}；可选：{'、'.join(names[:20])}。",
                          f"no {what.en} named '{layer[:80]}' in the {kind.en}; choose one of: {', '.join(names[:20])}.")
    return layer


def read_ogr(path: Path, layer: str | None, encoding: str | None = None, policy: str = "single",
             kind: str = "file", driver: str | None = None) -> tuple[gpd.GeoDataFrame, str | None, list[Text]]:
    """Read with GDAL under the limits. ``policy`` for a file with several layers and none
    chosen: ``all`` reads every layer (a ``folder`` column names each row's layer), ``choose``
    refuses with the list of layer names, ``single`` reads the first. ``driver`` (GeoJSON, GPKG)
    is forced by its GDAL prefix; the caller has checked the file's signature. Returns (frame,
    layer, notes)."""
    check_memory(path)
    if driver == "GeoJSON":
        # GDAL refuses one JSON object over 200 MB of parsed objects (a polygon of ~1 million
        # vertices), far inside our limits: the budget of one computation bounds it instead
        pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": str(max(1, limit("MAX_COMPUTE_BYTES") >> 20))})
    notes: list[Text] = []
    names = layer_names(path, driver) if policy != "single" or layer else []
    if layer and names and layer not in names:
        raise UploadError(f"没有名为“{layer[:80]}”的图层；可用图层：{'、'.join(names[:20])}。",
                          f"no layer named '{layer[:80]}'; the layers are: {', '.join(names[:20])}.")
    if layer or len(names) <= 1:
        return _read_one(path, layer, encoding, notes, driver), layer, notes
    if policy == "choose":
        raise too_many_layers(kind, names)
    frames, total, used = [], 0, []
    for name in names:
        n = _count(path, name, driver)
        total += n
        if total > limit("MAX_FEATURES"):
            _too_many(total)
        if n == 0:
            continue
        df = _read_one(path, name, encoding, notes, driver)
        df.insert(0, "folder", name)
        frames.append(df)
        used.append(name)
    if not frames:
        return _read_one(path, names[0], encoding, notes, driver), None, notes
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


def _count(path: Path, layer: str | None, driver: str | None = None) -> int:
    src = gdal_name(path, driver)
    try:
        info = pyogrio.read_info(src, layer=layer) if layer else pyogrio.read_info(src)
    except Exception as e:  # noqa: BLE001
        raise parse_error(e, path) from None
    return int(info["features"])


def _read_one(path: Path, layer: str | None, encoding: str | None, notes: list | None = None,
              driver: str | None = None) -> gpd.GeoDataFrame:
    kw = {"engine": "pyogrio", "on_invalid": "fix"}  # e.g. unclosed rings are closed
    if layer:
        kw["layer"] = layer
    if encoding:
        kw["encoding"] = encoding
    try:
        n = _count(path, layer, driver)
        if n > limit("MAX_FEATURES"):
            _too_many(n)
        df = gpd.read_file(gdal_name(path, driver), **kw)
    except UploadError:
        raise
    except Exception as e:  # pyogrio/GDAL errors: unreadable, truncated, wrong format
        raise parse_error(e, path) from None
    if not isinstance(df, gpd.GeoDataFrame) or not _has_geometry(df):
        raise no_geometry(layer)
    missing = shapely.is_missing(df.geometry.values)
    if missing.any() and n > 0:
        df = _surfaces(path, layer, encoding, df, missing, notes if notes is not None else [], driver)
    return df


def _has_geometry(df: gpd.GeoDataFrame) -> bool:
    try:
        df.geometry  # noqa: B018 - a frame whose geometry column is gone raises AttributeError
    except AttributeError:
        return False
    return True


def no_geometry(layer: str | None, what: str = "") -> UploadError:
    """A table without a geometry column (an attribute-only GeoPackage layer, a .dbf alone …)."""
    name_zh = f"图层“{layer[:80]}”" if layer else (what or "该文件")
    name_en = f"layer '{layer[:80]}'" if layer else (what or "the file")
    return UploadError(f"{name_zh}没有几何列（只是属性表，没有位置）：请选择含几何的图层或文件。",
                       f"{name_en} has no geometry column (an attribute table without locations): choose a layer "
                       "or file with geometries.")


def _surfaces(path: Path, layer: str | None, encoding: str | None, df: gpd.GeoDataFrame, missing,
              notes: list, driver: str | None = None) -> gpd.GeoDataFrame:
    """Rows GeoPandas could not build: 3-D surfaces (TIN, PolyhedralSurface, an Esri MultiPatch)
    become their 2-D footprint (union of the faces), with a note naming them."""
    from pyogrio.raw import read as raw_read

    try:
        kw = {"layer": layer} if layer else {}
        if encoding:
            kw["encoding"] = encoding
        wkbs = raw_read(gdal_name(path, driver), columns=[], **kw)[2]
    except Exception:  # noqa: BLE001 - leave the rows empty: ``finish`` names them
        return df
    if wkbs is None or len(wkbs) != len(df):
        return df
    geoms = df.geometry.values.copy()
    done: dict[str, list[int]] = {}
    for i in np.flatnonzero(missing):
        w = wkbs[i]
        kind = wkb_surface_kind(bytes(w)) if w is not None else None
        if kind is None:
            continue
        try:
            g = surface_footprint(shapely.from_wkb(wkb_surfaces_as_polygons(bytes(w))))
        except (ValueError, shapely.errors.GEOSException):
            g = None
        if g is None:
            raise UploadError(f"第 {i + 1} 行是三维面（{kind}），其各面投影到平面上没有面积（均为竖直面），无法得到占地范围。",
                              f"row {i + 1} is a 3-D surface ({kind}) whose faces have no area on the plane (all "
                              "vertical): it has no footprint to read.")
        geoms[i] = g
        done.setdefault(kind, []).append(i + 1)
    if done:
        for kind, rows in done.items():
            shown = ", ".join(str(r) for r in rows[:10])
            notes.append(Text(f"第 {shown} 行为三维面（{kind}），已取各面并集作为平面占地范围",
                              f"row(s) {shown}: 3-D surface ({kind}) read as its footprint (union of its faces)"))
        df = df.set_geometry(gpd.GeoSeries(geoms, index=df.index, crs=df.crs))
    return df

"""What the final checks (``common.finish``) repair instead of refusing, each with a note naming
the rows:

- rows without a geometry (GeoJSON ``"geometry": null``, a Shapefile's null shape records, an
  empty WKT cell, ``POLYGON EMPTY``) are skipped; a file where every row is so is refused;
- a GeometryCollection holding polygons (next to points or lines, as some CAD/GIS exports write
  them) is read as its polygonal parts where polygons are expected;
- "outside Gansu" looks at each row's own shape (each part of a polygon cut at the antimeridian),
  not at its bounding box, which after the cut spans the globe;
- the axes exchanged on request (``swap_axes``): a Gauss–Krüger file with the northing in X, or
  degrees in latitude, longitude order.

Row numbers in notes are the rows of the file (1-based), also after rows were skipped: the
frame's index holds each row's position in the file.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from core.errors import UploadError
from core.geom import polygonal_parts
from core.text import Text

COLLECTION = 7  # shapely type id of GeometryCollection


class AxesSwapped(UploadError):
    """The coordinates look like their axes are exchanged: the caller may offer to swap them
    (the page's "swap the axes" box, the command line's ``--swap-axes``)."""


SWAP_HINT = Text("可勾选“交换坐标轴”（命令行：--swap-axes）后重新读取，或在文件中交换两列",
                 "tick \"swap the axes\" (command line: --swap-axes) to read it so, or exchange them in the file")


def rows_text(labels) -> str:
    """1-based row numbers of index labels (file positions), at most ten shown."""
    labels = list(labels)
    return ", ".join(str(int(i) + 1) for i in labels[:10]) + (" …" if len(labels) > 10 else "")


def skip_null_rows(gdf: gpd.GeoDataFrame, notes: list) -> gpd.GeoDataFrame:
    """Rows whose geometry is missing or empty are dropped with a note naming them; when every
    row is so, the file is refused (there is nothing to read)."""
    geoms = gdf.geometry.values
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if not null.any():
        return gdf
    if null.all():
        raise UploadError(f"所有要素的几何均为空（第 {rows_text(gdf.index)} 行），没有可读取的位置。",
                          f"empty geometry in every row (rows {rows_text(gdf.index)}): there is no location to read.")
    skipped = gdf.index[null]
    notes.append(Text(f"第 {rows_text(skipped)} 行没有几何（空几何），已跳过，共 {len(skipped)} 行",
                      f"row(s) {rows_text(skipped)} have no geometry (null or empty): skipped, {len(skipped)} in all"))
    return gdf.loc[~null]


def collection_polygons(gdf: gpd.GeoDataFrame, notes: list) -> gpd.GeoDataFrame:
    """GeometryCollections holding polygons: their polygonal parts (unioned), with a note; a
    collection without any polygon is left for the type check to name."""
    geoms = gdf.geometry.values
    coll = np.flatnonzero(shapely.get_type_id(geoms) == COLLECTION)
    if len(coll) == 0:
        return gdf
    geoms = geoms.copy()
    done, dropped = [], 0
    for i in coll:
        g = geoms[i]
        poly = polygonal_parts(g)
        if poly is None:
            continue
        dropped += int(shapely.get_num_geometries(g)) - sum(
            1 for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6))
        geoms[i] = poly
        done.append(gdf.index[i])
    if not done:
        return gdf
    extra_zh = f"，其余 {dropped} 个点/线部分已舍去" if dropped else ""
    extra_en = f"; {dropped} point/line part(s) dropped" if dropped else ""
    notes.append(Text(f"第 {rows_text(done)} 行为几何集合，已取其中的面{extra_zh}",
                      f"row(s) {rows_text(done)}: geometry collection read as its polygons{extra_en}"))
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def outside(geoms, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Per row: True when no part of the geometry touches the box (lon/lat). A bounding box
    outside it settles a row at once; the others are tested on their shape, so a polygon cut at
    ±180° (whose bounding box spans the globe) is judged by its parts."""
    geoms = np.asarray(geoms, dtype=object)
    x0, y0, x1, y1 = bbox
    b = shapely.bounds(geoms)
    out = (b[:, 2] < x0) | (b[:, 0] > x1) | (b[:, 3] < y0) | (b[:, 1] > y1)
    maybe = np.flatnonzero(~out)
    if len(maybe):
        box = shapely.box(x0, y0, x1, y1)
        shapely.prepare(box)
        out[maybe] = ~shapely.intersects(box, geoms[maybe])
    return out


def swap_xy(gdf: gpd.GeoDataFrame, notes: list) -> gpd.GeoDataFrame:
    """Every coordinate's X and Y exchanged (the user's choice), with a note."""
    geoms = shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1].copy())
    notes.append(Text("已按您的选择交换坐标轴（X 与 Y 互换）", "axes swapped as you chose (X and Y exchanged)"))
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))

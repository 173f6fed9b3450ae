"""TopoJSON (``.topojson``; also a ``.json``/``.geojson`` whose content is a ``Topology``), read
with GDAL's TopoJSON driver, forced by its ``TopoJSON:`` prefix.

The driver was checked (GDAL's ``ogrtopojsonreader.cpp``): it decodes the ``arcs`` of the file
itself (quantised and delta-encoded under ``transform``) and reads no other file or URL — TopoJSON
has no member that names one. The file's content is checked like a GeoJSON's first
(``signature.check_geojson``: a VRT or GDALG named ``.topojson`` is refused by name), a GBK file is
decoded (``textenc``), and any ``crs`` member must be a plain name as in a GeoJSON (the driver
ignores the member; a top-level name is applied here). Each named object of ``objects`` is a layer
(a collection of geometries; loose geometries share one layer named ``TopoJSON``): with several,
the user chooses one (the page's layer box, ``--layer``).

TopoJSON declares no CRS; coordinates in degree ranges are read as WGS 84, as in a GeoJSON (with a
note), other coordinates need the user's CRS.
"""
from __future__ import annotations

import re
from pathlib import Path

import pyproj

from core.text import Text
from layers.readers import geojson, signature
from layers.readers.ogr import layer_names, read_ogr


def read_any_json(source, folder: Path, layer: str | None, notes: list):
    """Registry entry of ``.geojson``, ``.json`` and ``.topojson``: the content decides."""
    fmt = signature.TOPOJSON if source.ext == ".topojson" else signature.GEOJSON
    if signature.check_geojson(source.head(signature.HEAD), fmt) == "topojson":
        return read(source, folder, layer, notes)
    return geojson.read(source, folder, layer, notes)


_TRAILING_COMMA = re.compile(rb",(\s*[\]}])")


def _stage(source, folder: Path, notes: list) -> tuple[Path, pyproj.CRS | None]:
    """Our UTF-8 copy and the CRS its top-level ``crs`` member names (None without). GDAL's JSON
    parser accepts trailing commas (GDAL's own TopoJSON fixtures have them): when the strict parse
    fails, it is tried again without them; a file still not parsed has its member ignored, as the
    driver ignores it (it reads no ``crs`` member, so none can make it fetch anything)."""
    path = geojson.stage_utf8(source, folder / "upload.topojson", signature.TOPOJSON, notes)
    try:
        return path, geojson.check_crs_member(path, notes, fmt="TopoJSON")
    except geojson.NotJSON:
        pass
    lenient = folder / "crs-check.json"
    lenient.write_bytes(_TRAILING_COMMA.sub(rb"\1", path.read_bytes()))
    try:
        return path, geojson.check_crs_member(lenient, notes, fmt="TopoJSON")
    except geojson.NotJSON:
        return path, None
    finally:
        lenient.unlink()


def read(source, folder: Path, layer: str | None, notes: list):
    path, crs_ = _stage(source, folder, notes)
    gdf, used, more = read_ogr(path, layer, policy="choose", kind="TopoJSON", driver="TopoJSON")
    notes.extend(more)
    if gdf.crs is None:
        if crs_ is not None:
            gdf = gdf.set_crs(crs_)
        elif len(gdf) and _degrees(gdf):
            gdf = gdf.set_crs("EPSG:4326")
            notes.append(Text("TopoJSON 未声明坐标系，其坐标在经纬度范围内，按 WGS 84 经纬度读取（与 GeoJSON 相同）",
                              "the TopoJSON declares no CRS and its coordinates are degrees: read as WGS 84 "
                              "longitude/latitude (as a GeoJSON)"))
    return gdf, used


def _degrees(gdf) -> bool:
    x0, y0, x1, y1 = gdf.total_bounds
    return -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


def layers(source, folder: Path) -> list[str]:
    """The objects of a TopoJSON to choose from ([] for a GeoJSON, which has one layer)."""
    fmt = signature.TOPOJSON if source.ext == ".topojson" else signature.GEOJSON
    if signature.check_geojson(source.head(signature.HEAD), fmt) != "topojson":
        return []
    path, _ = _stage(source, folder, [])
    names = layer_names(path, "TopoJSON")
    return names if len(names) > 1 else []

"""GeoPackage: several layers are common (parks, roads, boundaries in one file). One layer is
read as is; with two or more and none chosen the reader refuses with the list of layer names
(the page shows a layer box, the CLI takes ``--layer``). The bytes must be a GeoPackage (SQLite
header and GeoPackage application id: ``signature.check_gpkg``) and GDAL's GPKG driver is forced."""
from __future__ import annotations

from pathlib import Path

from layers.readers import signature
from layers.readers.ogr import layer_names, read_ogr


def read(source, folder: Path, layer: str | None, notes: list):
    signature.check_gpkg(source.head(100))
    path = source.copy_to(folder / "upload.gpkg")
    gdf, used, more = read_ogr(path, layer, policy="choose", kind="GeoPackage", driver="GPKG")
    notes.extend(more)
    return gdf, used


def layers(source, folder: Path) -> list[str]:
    signature.check_gpkg(source.head(100))
    return layer_names(source.copy_to(folder / "upload.gpkg"), "GPKG")

"""GeoJSON (``.geojson``, ``.json``). A legacy ``crs`` member (GDAL honours it) must name a CRS
we understand; otherwise coordinates are CRS84 by definition (metres labelled as degrees are
caught by the final checks and the user is asked for the CRS). The bytes must be JSON text
(``signature.check_geojson``) and GDAL's GeoJSON driver is forced."""
from __future__ import annotations

import re
from pathlib import Path

from core.errors import UploadError
from core.text import Text
from layers.readers import signature
from layers.readers.common import read_ogr

_GEOJSON_CRS = re.compile(rb'"crs"\s*:\s*\{.{0,400}?"name"\s*:\s*"([^"]{1,200})"', re.S)


def read(source, folder: Path, layer: str | None, notes: list):
    signature.check_geojson(source.head(signature.HEAD))
    check_crs_member(source, notes)
    path = source.copy_to(folder / "upload.geojson")
    gdf, used, more = read_ogr(path, layer, driver="GeoJSON")
    notes.extend(more)
    return gdf, used


def check_crs_member(source, notes: list) -> None:
    import pyproj

    for part in (source.head(1 << 20), source.tail(1 << 16)):
        m = _GEOJSON_CRS.search(part)
        if not m:
            continue
        name = m.group(1).decode("utf-8", "replace")
        try:
            crs_ = pyproj.CRS.from_user_input(name)
        except Exception:  # noqa: BLE001
            raise UploadError(f"GeoJSON 的 crs 成员声明了无法识别的坐标系“{name[:80]}”。请删除该成员或改为有效的 EPSG 代码。",
                              f"the GeoJSON 'crs' member names a coordinate system that cannot be understood "
                              f"('{name[:80]}'); remove it or use a valid EPSG code.") from None
        notes.append(Text(f"GeoJSON 声明坐标系 {crs_.to_string()}（crs 成员），已据此读取",
                          f"the GeoJSON declares {crs_.to_string()} (its 'crs' member): read with it"))
        return

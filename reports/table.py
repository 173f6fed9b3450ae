"""The writer registry and the CLI's writer: ``write_table(result, "out.xlsx", geoms, lang="zh")``.

``WRITERS`` holds one ``Writer`` per output format (its extension, whether it needs the park
geometries, whether it is a table only, the function that writes it and where its provenance
goes), beside the reader registry (``layers.readers``). ``OUT_FORMATS`` and the CLI's ``--out``
check come from it; a new format is one ``Writer`` here + its function (docs/extending.md).

CSV and Parquet keep the stable column ids (people script against them); GeoJSON and GeoPackage
keep them too (made safe as field names); Excel is read by people, so it has the same labelled
headers as the UI's download (``excel_bytes``, with its "columns" sheet).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from core.errors import InputError
from indicators.provenance import write_sidecar
from reports.csv import write_csv
from reports.excel import excel_bytes
from reports.vector import write_vector

SHEET = "parks"


@dataclass(frozen=True)
class Writer:
    suffix: str
    label: str
    write: Callable  # (table or GeoDataFrame, out, provenance, lang, sheet, extra) -> None
    spatial: bool  # needs the park geometries (a vector format)
    provenance: str  # where the record goes: sidecar | sheet | metadata


def _csv(df, out, provenance, lang, sheet, extra) -> None:
    write_csv(df, out)
    if provenance is not None:
        write_sidecar(out, provenance)


def _xlsx(df, out, provenance, lang, sheet, extra) -> None:
    out.write_bytes(excel_bytes({sheet: df}, lang, provenance=provenance, extra=extra))


def _geojson(gdf, out, provenance, lang, sheet, extra) -> None:
    write_vector(gdf, out)
    if provenance is not None:
        write_sidecar(out, provenance)


def _vector(gdf, out, provenance, lang, sheet, extra) -> None:  # GeoPackage, GeoParquet: metadata
    write_vector(gdf, out, provenance=provenance)


WRITERS: dict[str, Writer] = {w.suffix: w for w in (
    Writer(".csv", "CSV (UTF-8, column ids)", _csv, spatial=False, provenance="sidecar"),
    Writer(".xlsx", "Excel (labelled headers, columns and provenance sheets)", _xlsx, spatial=False,
           provenance="sheet"),
    Writer(".geojson", "GeoJSON (EPSG:4326)", _geojson, spatial=True, provenance="sidecar"),
    Writer(".gpkg", "GeoPackage", _vector, spatial=True, provenance="metadata"),
    Writer(".parquet", "GeoParquet", _vector, spatial=True, provenance="metadata"),
)}
OUT_FORMATS = tuple(WRITERS)
TABLE_FORMATS = tuple(s for s, w in WRITERS.items() if not w.spatial)


def writer_for(out: Path, allowed: tuple[str, ...] = OUT_FORMATS) -> Writer:
    suffix = out.suffix.lower()
    if suffix not in allowed:
        names = " ".join(allowed)
        raise InputError(f"输出文件的扩展名须为 {names} 之一", f"the output must end with one of {names}")
    return WRITERS[suffix]


def write_table(result: pd.DataFrame, out: str | Path, geoms=None, lang: str = "zh",
                provenance: dict | None = None) -> Path:
    """Write the per-park table by the file's extension; vector formats carry ``geoms`` (a
    GeoSeries with a CRS, one polygon per row). ``provenance``: CSV and GeoJSON → a sidecar
    ``<out>.provenance.json``, Excel → a "provenance" sheet, GeoPackage/Parquet → metadata."""
    out = Path(out)
    w = writer_for(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = result
    if w.spatial:
        import geopandas as gpd  # start-up time: GeoPandas loads only for a vector output

        if geoms is None:
            raise InputError("矢量输出需要园区几何", "vector output needs the park geometries")
        data = gpd.GeoDataFrame(result.reset_index(drop=True), geometry=list(geoms), crs=geoms.crs)
    w.write(data, out, provenance, lang, SHEET, None)
    return out


def write_report(table: pd.DataFrame, out: str | Path, provenance: dict, lang: str = "zh",
                 sheet: str = "table", extra=None) -> Path:
    """A non-spatial table (e.g. the targets report) in a table format (.csv + sidecar, .xlsx + sheet)."""
    out = Path(out)
    w = writer_for(out, TABLE_FORMATS)
    out.parent.mkdir(parents=True, exist_ok=True)
    w.write(table, out, provenance, lang, sheet, extra)
    return out

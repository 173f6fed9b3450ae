"""The CLI's writer: ``write_table(result, "out.xlsx", geoms, lang="zh")``.

CSV and Parquet keep the stable column ids (people script against them); GeoJSON and GeoPackage
keep them too (made safe as field names); Excel is read by people, so it has the same labelled
headers as the UI's download (``excel_bytes``, with its "columns" sheet).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.errors import InputError
from reports.csv import write_csv
from reports.excel import excel_bytes
from reports.vector import write_vector

OUT_FORMATS = (".csv", ".xlsx", ".geojson", ".gpkg", ".parquet")
SHEET = "parks"


def write_table(result: pd.DataFrame, out: str | Path, geoms=None, lang: str = "zh",
                provenance: dict | None = None) -> Path:
    """Write the per-park table by the file's extension; vector formats carry ``geoms`` (a
    GeoSeries with a CRS, one polygon per row). ``provenance`` (issue 13): CSV → a sidecar
    ``<out>.provenance.json``, Excel → a "provenance" sheet, GeoPackage/Parquet → metadata
    (GeoJSON → the sidecar too)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise InputError(f"输出文件的扩展名须为 {OUT_FORMATS} 之一", f"the output must end with one of {OUT_FORMATS}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(result, out)
        if provenance is not None:
            _sidecar(out, provenance)
        return out
    if suffix == ".xlsx":
        out.write_bytes(excel_bytes({SHEET: result}, lang, provenance=provenance))
        return out
    import geopandas as gpd

    if geoms is None:
        raise InputError("矢量输出需要园区几何", "vector output needs the park geometries")
    gdf = gpd.GeoDataFrame(result.reset_index(drop=True), geometry=list(geoms), crs=geoms.crs)
    if suffix == ".geojson":
        write_vector(gdf, out)
        if provenance is not None:
            _sidecar(out, provenance)
        return out
    return write_vector(gdf, out, provenance=provenance)


def _sidecar(out: Path, provenance: dict) -> Path:
    from indicators.provenance import write_sidecar

    return write_sidecar(out, provenance)


def write_report(table: pd.DataFrame, out: str | Path, provenance: dict, lang: str = "zh",
                 sheet: str = "table", extra=None) -> Path:
    """A non-spatial table (e.g. the targets report) as .csv (+ sidecar) or .xlsx (+ sheet)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError("输出文件的扩展名须为 .csv 或 .xlsx", "the output must end with .csv or .xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(table, out)
        _sidecar(out, provenance)
    else:
        out.write_bytes(excel_bytes({sheet: table}, lang, provenance=provenance, extra=extra))
    return out

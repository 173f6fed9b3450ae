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


def write_table(result: pd.DataFrame, out: str | Path, geoms=None, lang: str = "zh") -> Path:
    """Write the per-park table by the file's extension; vector formats carry ``geoms`` (a
    GeoSeries with a CRS, one polygon per row)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise InputError(f"输出文件的扩展名须为 {OUT_FORMATS} 之一", f"the output must end with one of {OUT_FORMATS}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        return write_csv(result, out)
    if suffix == ".xlsx":
        out.write_bytes(excel_bytes({SHEET: result}, lang))
        return out
    import geopandas as gpd

    if geoms is None:
        raise InputError("矢量输出需要园区几何", "vector output needs the park geometries")
    gdf = gpd.GeoDataFrame(result.reset_index(drop=True), geometry=list(geoms), crs=geoms.crs)
    return write_vector(gdf, out)

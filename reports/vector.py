"""GeoJSON, GeoPackage and GeoParquet: parks with their indicators, field names = stable ids
(made safe for the format), values as typed.

    geojson_bytes(parks_gdf); gpkg_bytes(parks_gdf); parquet_bytes(parks_gdf)
    write_vector(parks_gdf, "out.gpkg")                    # by the file's extension
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd

from core.errors import InputError
from reports.excel import cell_value

_RESERVED = {"fid", "geom", "geometry", "ogc_fid"}
VECTOR_FORMATS = (".geojson", ".gpkg", ".parquet")


def safe_field_names(columns: Iterable[str], max_len: int = 63) -> dict[str, str]:
    """Map column → field name safe for GPKG/GeoJSON: word characters (CJK kept) and "_", not
    starting with a digit, not a reserved name (fid, geom), unique case-insensitively."""
    out, seen = {}, set()
    for c in columns:
        s = re.sub(r"\W+", "_", str(c), flags=re.UNICODE).strip("_") or "field"
        if s[0].isdigit():
            s = "f_" + s
        if s.lower() in _RESERVED:
            s = s + "_"
        s = s[:max_len]
        base, k = s, 2
        while s.lower() in seen:
            suffix = f"_{k}"
            s = base[:max_len - len(suffix)] + suffix
            k += 1
        seen.add(s.lower())
        out[c] = s
    return out


def vector_ready(gdf, to_wgs84: bool = False):
    """A copy the OGR writers accept: safe field names, plain values (lists joined, NaN → null,
    nullable booleans kept), optionally in WGS84."""
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError("园区数据须为 GeoDataFrame", "parks must be a GeoDataFrame")
    if gdf.crs is None:
        raise InputError("园区图层没有坐标参考系", "the parks layer has no CRS")
    geo = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=[geo]))
    clean = {}
    for c in attrs.columns:
        s = attrs[c]
        if s.dtype == object or str(s.dtype) == "boolean":
            vals = [cell_value(v) for v in s]
            kinds = {type(v) for v in vals if v is not None}
            if kinds and kinds <= {bool}:
                s = pd.array(vals, dtype="boolean")
            elif kinds <= {int, float} and kinds:
                s = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce").to_numpy()
            else:
                s = pd.Series([None if v is None else str(v) for v in vals], dtype=object).to_numpy()
        clean[c] = s
    names = safe_field_names(attrs.columns)
    out = gpd.GeoDataFrame({names[c]: clean[c] for c in attrs.columns}, geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs(4326) if to_wgs84 else out


PROVENANCE_KEY = "gansu_provenance"  # the provenance record: GPKG dataset metadata item / Parquet schema metadata key


def write_vector(gdf, path: str | Path, layer: str = "parks", provenance: dict | None = None) -> Path:
    """Write ``gdf`` as .geojson (RFC 7946, WGS84), .gpkg (one layer, input CRS) or .parquet
    (GeoParquet, input CRS, column names unchanged). ``provenance`` (a record of
    ``indicators.provenance``) goes into the GeoPackage's metadata and the Parquet schema metadata
    under ``gansu_provenance`` (JSON); ``read_provenance`` reads it back."""
    path = Path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".geojson":
        vector_ready(gdf, to_wgs84=True).to_file(path, driver="GeoJSON", engine="pyogrio",
                                                 layer_options={"RFC7946": "YES"})
    elif suffix == ".gpkg":
        meta = {"metadata": {PROVENANCE_KEY: _prov_json(provenance)}} if provenance is not None else {}
        vector_ready(gdf).to_file(path, driver="GPKG", engine="pyogrio", layer=safe_field_names([layer])[layer], **meta)
    elif suffix == ".parquet":
        _check(gdf)
        gdf.to_parquet(path)
        if provenance is not None:
            import pyarrow.parquet as pq

            tbl = pq.read_table(path)
            md = dict(tbl.schema.metadata or {})
            md[PROVENANCE_KEY.encode()] = _prov_json(provenance).encode("utf-8")
            pq.write_table(tbl.replace_schema_metadata(md), path)
    else:
        raise InputError(f"不支持的矢量格式：{suffix}（可用 {VECTOR_FORMATS}）",
                         f"unsupported vector format {suffix} (use one of {VECTOR_FORMATS})")
    return path


def _prov_json(rec: dict) -> str:
    import json

    return json.dumps(rec, ensure_ascii=False, sort_keys=True)


def read_provenance(path: str | Path) -> dict | None:
    """The provenance record written into a .gpkg or .parquet by ``write_vector`` (None if absent)."""
    import json

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        raw = (pq.read_schema(path).metadata or {}).get(PROVENANCE_KEY.encode())
        return json.loads(raw.decode("utf-8")) if raw else None
    import pyogrio

    info = pyogrio.read_info(path)  # written as the layer's metadata (gpkg_metadata, GDAL's MDI item)
    raw = (info.get("layer_metadata") or {}).get(PROVENANCE_KEY) or (info.get("dataset_metadata") or {}).get(PROVENANCE_KEY)
    return json.loads(raw) if raw else None


def _check(gdf) -> None:
    vector_ready(gdf.iloc[:0])  # same type and CRS checks as the OGR formats


def _bytes(gdf, suffix: str, **kw) -> bytes:
    with tempfile.TemporaryDirectory(prefix="gansu-export-") as d:
        return write_vector(gdf, Path(d) / f"parks{suffix}", **kw).read_bytes()


def geojson_bytes(gdf) -> bytes:
    """Parks with their indicators as RFC 7946 GeoJSON (WGS84 lon/lat, UTF-8)."""
    return _bytes(gdf, ".geojson")


def gpkg_bytes(gdf, layer: str = "parks", provenance: dict | None = None) -> bytes:
    """Parks with their indicators as a GeoPackage (one layer, CRS of the input, safe field names)."""
    return _bytes(gdf, ".gpkg", layer=layer, provenance=provenance)


def parquet_bytes(gdf, provenance: dict | None = None) -> bytes:
    """Parks with their indicators as GeoParquet (CRS of the input, column ids unchanged)."""
    return _bytes(gdf, ".parquet", provenance=provenance)

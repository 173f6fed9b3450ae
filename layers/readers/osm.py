"""OpenStreetMap extracts (``.osm.pbf``, ``.osm``) through GDAL's OSM driver: transport features
by declared tag rules (``OSM_RULES``), only tagged features materialised (an OGR SQL filter), in
WGS84. The kinds are those of the declared indicator table (expressway, major_road, railway,
station, airport: ``indicators.table``). The file must be OSM XML (root ``osm``) or an OSM PBF
extract (``signature.check_osm``) before GDAL opens it, with only the declared OGR drivers
registered (``ogr_policy``)."""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from core.crs import WGS84
from core.errors import InputError
from layers.readers import ogr_policy, signature

# OSM tag rules: (layer, tag, values) -> kind. Links count with their road class.
OSM_RULES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("lines", "highway", ("motorway", "motorway_link"), "expressway"),
    ("lines", "highway", ("trunk", "trunk_link", "primary", "primary_link"), "major_road"),
    ("lines", "railway", ("rail",), "railway"),
    ("points", "railway", ("station",), "station"),
    ("multipolygons", "railway", ("station",), "station"),
    ("points", "aeroway", ("aerodrome",), "airport"),
    ("multipolygons", "aeroway", ("aerodrome",), "airport"),
)
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def _tag(df: pd.DataFrame, tag: str) -> pd.Series:
    """Tag values from a dedicated column or from GDAL's ``other_tags`` hstore string."""
    if tag in df.columns:
        return df[tag].astype(object)
    if "other_tags" not in df.columns:
        return pd.Series(None, index=df.index, dtype=object)
    return df["other_tags"].astype(object).map(
        lambda s: dict(_HSTORE.findall(s)).get(tag) if isinstance(s, str) else None)


def read_osm(path, kinds=None) -> dict[str, gpd.GeoDataFrame]:
    """Transport features from an OSM file (.osm.pbf or .osm XML) via GDAL's OSM driver
    (``kinds``: all kinds of the rules by default)."""
    kinds = tuple(kinds) if kinds is not None else tuple(dict.fromkeys(r[3] for r in OSM_RULES))
    import pyogrio

    ogr_policy.apply()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到 OSM 文件 {path}", f"OSM file {path} not found")
    try:
        signature.check_osm(path)
    except InputError as e:  # named with the file: the CLI and the Data page read several inputs
        e.set_text(f"OSM 文件 {path.name}：{e.zh}", f"OSM file {path.name}: {e.en}")
        raise
    src = signature.gdal_name(path, "OSM")
    out: dict[str, list] = {k: [] for k in kinds}
    for layer in dict.fromkeys(r[0] for r in OSM_RULES):
        rules = [r for r in OSM_RULES if r[0] == layer and r[3] in kinds]
        if not rules:
            continue
        try:
            fields = set(pyogrio.read_info(src, layer=layer)["fields"])
            df = pyogrio.read_dataframe(src, layer=layer, where=_osm_where(rules, fields))
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"无法读取 OSM 文件 {path.name}（{layer}）：{exc}",
                             f"cannot read OSM file {path.name} ({layer}): {exc}") from exc
        for _, tag, values, kind in rules:
            sel = df[_tag(df, tag).isin(values).to_numpy(bool)]
            if len(sel):
                out[kind].append(sel[["geometry"]])
    return {k: gpd.GeoDataFrame(pd.concat(v, ignore_index=True), crs=WGS84) for k, v in out.items() if v}


def _osm_where(rules, fields) -> str:
    """OGR SQL filter so that only tagged features are materialised (large extracts)."""
    parts = []
    for _, tag, values, _ in rules:
        if tag in fields:
            parts.append(f"{tag} IN ({', '.join(repr(v) for v in values)})")
        else:
            parts += [f"other_tags LIKE '%\"{tag}\"=>\"{v}\"%'" for v in values]
    return " OR ".join(parts)

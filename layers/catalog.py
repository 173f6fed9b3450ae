"""The layer catalog (layers/catalog.toml): the one declaration of every layer.

``LAYERS`` is the ordered list of :class:`LayerSpec` — titles per language, status, provenance,
legend, style, tooltip and where the data comes from. The map, its legend, the Data page, the
store's catalog table, the build manifest and the reports all read it; ``read_default(id)``
returns a default vector layer as a WGS84 GeoDataFrame.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from core import crs, paths
from core.text import pick
from layers import tableschema

CATALOG_FILE = Path(__file__).with_name("catalog.toml")


@dataclass(frozen=True)
class LayerSpec:
    id: str
    source: str
    kind: str  # vector | points | raster
    status: str  # real | schematic | proxy | illustrative
    title_zh: str
    title_en: str
    visible: bool = True
    optional: bool = False
    replaceable: bool = False
    style: dict = field(default_factory=dict)
    tooltip: tuple[str, ...] = ()
    legend: str | None = None
    name_field: str | None = None
    provenance: dict = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return pick(self.title_zh, self.title_en, lang)

    @property
    def gpkg_layer(self) -> str | None:
        return self.source.split(":", 1)[1] if self.source.startswith("gpkg:") else None


def _load() -> list[LayerSpec]:
    with open(CATALOG_FILE, "rb") as f:
        raw = tomllib.load(f)["layer"]
    out = []
    for e in raw:
        out.append(LayerSpec(
            id=e["id"], source=e["source"], kind=e["kind"], status=e["status"],
            title_zh=e["title"]["zh"], title_en=e["title"]["en"], visible=e.get("visible", True),
            optional=e.get("optional", False), replaceable=e.get("replaceable", False),
            style=e.get("style", {}), tooltip=tuple(e.get("tooltip", ())),
            legend=e.get("legend"), name_field=e.get("name_field"), provenance=e.get("provenance", {})))
    ids = [s.id for s in out]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate layer ids in {CATALOG_FILE}")
    return out


LAYERS: list[LayerSpec] = _load()
BY_ID: dict[str, LayerSpec] = {s.id: s for s in LAYERS}


def manifest() -> dict:
    with open(paths.manifest_path(), encoding="utf-8") as f:
        return json.load(f)


def available_layers() -> list[LayerSpec]:
    """Catalog entries whose data exists in the current build (optional ones may be absent)."""
    gpkg = paths.gpkg_path()
    present = {name for name, _ in pyogrio.list_layers(gpkg)} if gpkg.is_file() else set()
    out = []
    for spec in LAYERS:
        if spec.kind == "raster":
            if paths.landcover_path().is_file():
                out.append(spec)
        elif spec.source.startswith("store:"):
            out.append(spec)  # the user's saved data: always offered (may be empty)
        elif spec.gpkg_layer in present:
            out.append(spec)
    return out


def read_default(layer_id: str) -> gpd.GeoDataFrame:
    spec = BY_ID[layer_id]
    if spec.gpkg_layer is None:
        raise ValueError(f"{layer_id} is not a vector layer")
    gdf = gpd.read_file(paths.gpkg_path(), layer=spec.gpkg_layer, engine="pyogrio")
    return gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf


_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)(:year)?\}")


def provenance(spec: LayerSpec, versions: dict[str, str]) -> dict:
    """The layer's declared provenance with ``{package}`` placeholders filled from ``versions``
    (``{package:year}`` = the first four characters of the version): a manifest entry."""
    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: (versions.get(m.group(1), "?")[:4] if m.group(2)
                                           else versions.get(m.group(1), "?")), text)

    return {"layer": spec.id, "status": spec.status,
            **{k: fill(v) if isinstance(v, str) else v for k, v in spec.provenance.items()}}


def packages_named() -> list[str]:
    """Packages whose versions the declared provenance names (filled in by the build)."""
    names = set()
    for spec in LAYERS:
        for v in spec.provenance.values():
            if isinstance(v, str):
                names.update(m.group(1) for m in _PLACEHOLDER.finditer(v))
    return sorted(names)


def catalog_rows() -> list[dict]:
    """Catalog joined with the build manifest: what the store's layer_catalog table holds."""
    m = manifest()
    entries = {e["layer"]: e for e in m["layers"]}
    rows = []
    for spec in available_layers():
        if spec.source.startswith("store:"):
            continue  # user data is listed with its own provenance, not in the build manifest
        e = entries.get(spec.id, {})
        rows.append({
            "layer_id": spec.id, "title_zh": spec.title_zh, "title_en": spec.title_en,
            "kind": spec.kind, "status": spec.status, "source": e.get("source"),
            "licence": e.get("licence"), "year": e.get("year"), "resolution": e.get("resolution"),
            "crs": e.get("crs"), "derivation": e.get("derivation"),
            "n_features": m["counts"].get(spec.gpkg_layer or "", None),
        })
    return rows


ZONE_PALETTE = ["#d9a441", "#4f9d69", "#b5835a", "#2e7d32", "#3b7dd8", "#8e24aa", "#00897b",
                "#f4511e", "#6d4c41", "#546e7a"]
NAME_CANDIDATES = ("name_zh", "name", "NAME", "Name", "名称", "分区", "zone", "ZONE", "zone_name", "MC")


def normalise_zone_layer(gdf: gpd.GeoDataFrame, name_field: str | None = None) -> gpd.GeoDataFrame:
    """Give an uploaded official zone file the fields the map and indicators use:
    ``zone_id``, ``name_zh``, ``name_en``, ``color`` and ``area_km2``."""
    out = gdf.copy()
    field_ = name_field or next((c for c in NAME_CANDIDATES if c in out.columns), None)
    names = out[field_].astype(str) if field_ else [f"zone {i + 1}" for i in range(len(out))]
    out["name_zh"] = list(names)
    if "name_en" not in out.columns:
        out["name_en"] = list(names)
    if "zone_id" not in out.columns:
        out["zone_id"] = list(names)
    out["color"] = [ZONE_PALETTE[i % len(ZONE_PALETTE)] for i in range(len(out))]
    out["area_km2"] = crs.equal_area_km2(out).round(1)
    return out


def zone_changes() -> "pd.DataFrame":
    """Rows of ``tables/zones.csv`` whose zone changed at the last review (``previous_zone_id``
    set): adcode, county, previous and new zone id and name, and the reason — for the Data page
    and docs/carbon.md, so a reader sees which schematic assignments moved and why."""
    t = tableschema.read(paths.TABLES / "zones.csv", "zones").fillna("")  # checked in one place
    names = pd.read_csv(paths.TABLES / "zone_names.csv", dtype=str, keep_default_na=False).set_index("zone_id")
    col = t["previous_zone_id"] if "previous_zone_id" in t.columns else pd.Series("", index=t.index)
    ch = t[col != ""].copy()
    for side, key in (("previous", "previous_zone_id"), ("new", "zone_id")):
        for lang in ("zh", "en"):
            ch[f"{side}_{lang}"] = [names.at[z, f"name_{lang}"] if z in names.index else z for z in ch[key]]
    ch["reason_en"] = ch["reason"]
    zh = ch["reason_zh"] if "reason_zh" in ch.columns else ch["reason"]
    ch["reason_zh"] = [z or e for z, e in zip(zh, ch["reason"])]
    return ch.reset_index(drop=True)


def zone_names() -> dict[str, dict[str, str]]:
    """zone id → {"zh": name, "en": name} of the 四屏一廊 zones (tables/zone_names.csv)."""
    names = pd.read_csv(paths.TABLES / "zone_names.csv", dtype=str, keep_default_na=False)
    return {r.zone_id: {"zh": r.name_zh, "en": r.name_en} for r in names.itertuples()}

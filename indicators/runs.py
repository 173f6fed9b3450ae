"""Per-park indicators on the data in use, cached by the content of every input.

``RunInputs`` bundles what ``compute_parks`` needs (land cover and its legend, an optional second
year, transport layers by kind, red line, zones) with a fingerprint of their *content*: the
SHA-256 of every raster/dataset file, the hashes of the pool and sink-rate tables, the legend,
the threshold and ``ALGO_VERSION``. ``inputs_from_workspace(store)`` assembles them from the
store's data in use (or the built-in defaults) — the Dashboard and ``python -m cli parks
--workspace`` call the same function, so they compute on the same inputs.

``compute_cached`` looks every park up by ``sha256(fingerprint, park id, name, geometry)`` in the
store and computes only the missing parks, in batches with a progress callback; a park save
recomputes that park alone, a restart or a second user finds the rows already there.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core import paths
from core.errors import InputError
from layers import catalog
from layers import inputs as declared
from layers.legends import CLASS_IDS
from storage import vector_register, workspace
from indicators import carbon, measures
from indicators.engine import compute_parks
from indicators.table import columns_for, get as get_indicator

ALGO_VERSION = "parks-5"  # bump when compute_parks changes its numbers (parks-3: densities by zone, carbon at stake;
# parks-4: vegetated share of the map, its hint flag and the pixel size instead of green coverage/pass/cap;
# parks-5: the sink per hectare, at stake)
BATCH = 8  # parks per engine call when computing in the background


@dataclass(frozen=True)
class RunInputs:
    landcover: str
    legend: str
    landcover_alt: str | None = None
    transport: dict = field(default_factory=dict, compare=False)
    redline: gpd.GeoDataFrame | None = field(default=None, compare=False)
    zones: gpd.GeoDataFrame | None = field(default=None, compare=False)
    zone_field: str = "zone"
    datasets: tuple = ()  # provenance: (role, name, file name, sha256) of every dataset used
    fingerprint: str = ""
    parts: dict = field(default_factory=dict, compare=False)  # what the fingerprint hashes
    options: dict = field(default_factory=dict, compare=False)  # carbon_pools, sink_rates, green_* (CLI)
    extra: dict = field(default_factory=dict, compare=False)  # declared inputs with a measure: id -> layer/path

    def kwargs(self) -> dict:
        return {"landcover": self.landcover, "legend": legend_arg(self.legend), "landcover_alt": self.landcover_alt,
                "transport": self.transport, "redline": self.redline, "zones": self.zones,
                "zone_field": self.zone_field, "extra": self.extra, **self.options}


def legend_arg(legend: str):
    return Path(legend) if legend.endswith(".csv") or Path(legend).suffix.lower() == ".csv" else legend


def _file_sha(path: str | Path) -> str:
    return workspace.sha256_file(path)


def _default_landcover_sha() -> str:
    """SHA-256 of the built land cover, from the build manifest (recorded when it was built)."""
    try:
        m = catalog.manifest()
        return m["files"][paths.LANDCOVER_NAME]["sha256"]
    except (OSError, KeyError, ValueError):
        return _file_sha(paths.landcover_path())


def _gdf_hash(gdf: gpd.GeoDataFrame | None) -> str:
    if gdf is None:
        return "none"
    h = hashlib.sha256(str(gdf.crs).encode())
    for wkb in shapely.to_wkb(gdf.geometry.values):
        h.update(wkb or b"")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    h.update(pd.util.hash_pandas_object(gdf[cols].astype(str), index=False).to_numpy().tobytes() if cols else b"")
    return h.hexdigest()


def _table_hash(path) -> str:
    return _file_sha(path) if path is not None and Path(path).is_file() else "default"


def fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps({"algo": ALGO_VERSION, **parts}, sort_keys=True, default=str).encode()).hexdigest()


def inputs_from_workspace(store, *, builtin: Callable[[str], gpd.GeoDataFrame] | None = None) -> RunInputs:
    """The data in use (or the defaults), checked: a referenced file that changed is refused.

    ``builtin(layer_id)`` reads a default layer (the UI passes its cached loader)."""
    read = builtin or catalog.read_default
    chosen = workspace.in_use(store)
    used = []
    lc_ids, alt_ids = chosen.get("landcover", []), chosen.get("landcover_alt", [])
    if lc_ids:
        d = workspace.get(store, lc_ids[0])
        workspace.verify(d)
        landcover, legend, lc_sha = d.raster_path, d.legend, d.sha256
        used.append(("landcover", d.name, d.original_filename, d.sha256))
    else:
        landcover, legend, lc_sha = str(paths.landcover_path()), catalog.BY_ID["landcover"].legend, _default_landcover_sha()
    alt, alt_sha = None, None
    if alt_ids:
        a = workspace.get(store, alt_ids[0])
        workspace.verify(a)
        if workspace.legend_key(a.legend) != workspace.legend_key(legend):
            raise InputError(f"两期土地覆被的图例不同（{legend} 与 {a.legend}）：请使用同一图例的两期数据。",
                             f"the two land-cover years use different legends ({legend} and {a.legend}): use one legend.")
        alt, alt_sha = a.raster_path, a.sha256
        used.append(("landcover_alt", a.name, a.original_filename, a.sha256))
    airports = read("airports") if workspace.BUILTIN_AIRPORTS in chosen.get("transport", []) else None
    transport = vector_register.transport_layers(store, chosen.get("transport", []), builtin_airports=airports)
    t_ids = []
    for i in chosen.get("transport", []):
        if i == workspace.BUILTIN_AIRPORTS:
            t_ids.append((i, "airportsdata"))
            continue
        d = workspace.get(store, i)
        t_ids.append((i, d.sha256))
        used.append(("transport", d.name, d.original_filename, d.sha256))
    red = _replaced(store, "protection_proxy", read)
    zones = _replaced(store, "zones", read)
    zone_field = "name_zh" if "name_zh" in zones.columns else "zone"
    for role in ("redline", "zones"):
        for i in chosen.get(role, []):
            d = workspace.get(store, i)
            used.append((role, d.name, d.original_filename, d.sha256))
    extra, extra_parts = _measured(store, chosen, used)
    parts = {"landcover": lc_sha, "legend": legend, "legend_file": _table_hash(legend if legend.endswith(".csv") else None),
             "alt": alt_sha, "transport": t_ids, "redline": _gdf_hash(red), "zones": _gdf_hash(zones),
             "zone_field": zone_field, "pools": carbon.default_tables_sha256(),
             "rates": _table_hash(carbon.TABLES / "sink_rates.csv")}
    parts.update(extra_parts)
    return RunInputs(landcover=str(landcover), legend=legend, landcover_alt=alt, transport=transport, redline=red,
                     zones=zones, zone_field=zone_field, datasets=tuple(used), fingerprint=fingerprint(parts),
                     parts=parts, extra=extra)


def _measured(store, chosen: dict, used: list) -> tuple[dict, dict]:
    """({input id: value}, {input id: fingerprint part}) of the declared inputs with a measure in the
    data in use, as ``RunInputs.extra`` holds them: an input whose values carry parameters (criterion
    rasters, exclusion and grid layers: several datasets at once) gets [(features or raster path,
    parameters from the dataset's record), …], any other its one dataset. A file a dataset names (a
    raster referenced in place or uploaded) is refused if it changed. The fingerprint part: each
    dataset's id (the stored features of one registration, read options included), content and
    parameters, and what the declaration computes from them."""
    extra: dict = {}
    parts: dict = {}
    for spec in declared.measured():
        ids = chosen.get(spec.id, [])
        pairs, part = [], []
        for i in ids if spec.params else ids[:1]:
            d = workspace.get(store, i)
            workspace.verify(d)
            value = store.dataset_features(i) if spec.is_vector else d.raster_path
            used.append((spec.id, d.name, d.original_filename, d.sha256))
            if spec.params:
                pairs.append((value, measures.stored_params(spec, d.params)))
                part.append([d.id, d.sha256, d.params])
            else:
                extra[spec.id] = value
                parts[spec.id] = [d.id, d.sha256, spec.measure, spec.column]
        if pairs:
            extra[spec.id] = pairs
            parts[spec.id] = [*part, spec.measure]
    return extra, parts


def override(inputs: RunInputs, *, landcover: str | None = None, legend: str | None = None,
             landcover_alt: str | None = None, transport: dict | None = None, transport_files: list | None = None,
             redline: gpd.GeoDataFrame | None = None, zones: gpd.GeoDataFrame | None = None,
             zone_field: str | None = None, options: dict | None = None, used: list | None = None,
             extra: dict | None = None, extra_files: dict | None = None) -> RunInputs:
    """The data in use with some parts replaced by explicit files (``python -m cli parks
    --workspace --landcover …``); the fingerprint follows the content of what replaced them.

    ``transport`` replaces every transport layer (its ``transport_files``: (path, kind) to hash);
    ``legend`` is a built-in id or the path of a legend CSV; ``options`` are extra
    ``compute_parks`` arguments (carbon_pools, sink_rates, green_classes)
    whose tables are hashed too; ``used`` = (role, name, file name, sha256) of the replacing files;
    ``extra`` = {declared input id: layer or raster path} with ``extra_files`` {id: file} to hash."""
    parts = dict(inputs.parts)
    new: dict[str, list] = {}
    if landcover is not None:
        parts["landcover"] = _file_sha(landcover)
    if legend is not None:
        parts["legend"] = legend
        parts["legend_file"] = _table_hash(legend) if Path(legend).suffix.lower() == ".csv" else "default"
        parts["pools"] = carbon.default_tables_sha256()
    if landcover_alt is not None:
        parts["alt"] = _file_sha(landcover_alt)
    if transport is not None:
        parts["transport"] = sorted([str(k), _file_sha(p)] for p, k in (transport_files or []))
    if redline is not None:
        parts["redline"] = _gdf_hash(redline)
    if zones is not None:
        parts["zones"] = _gdf_hash(zones)
    if zone_field is not None:
        parts["zone_field"] = zone_field
    opts = dict(options or {})
    for k in ("carbon_pools", "sink_rates"):
        if opts.get(k) is not None:
            parts[k] = _table_hash(opts[k])
    if opts.get("green_classes") is not None:
        parts["green_classes"] = opts["green_classes"]
    if opts.get("pixel_area") not in (None, "ground"):  # nominal cell areas (as InVEST); ground (the default) adds no part
        parts["pixel_area"] = opts["pixel_area"]
    for k, f in (extra_files or {}).items():  # a vector by the geometry read, a raster by its file
        spec = declared.get(k)
        parts[k] = [[_gdf_hash(v) if spec.is_vector else _file_sha(fi), params]
                    for (v, params), fi in zip(measures.items(spec, extra[k]), f if spec.params else [f])] \
            + [spec.measure, spec.column]
    for u in used or []:
        new.setdefault(u[0], []).append(tuple(u))
    replaced = {"landcover": landcover, "landcover_alt": landcover_alt, "transport": transport, "redline": redline,
                "zones": zones, **(extra or {})}
    datasets = [d for d in inputs.datasets if replaced.get(d[0]) is None] + [d for v in new.values() for d in v]
    return RunInputs(
        landcover=str(landcover) if landcover is not None else inputs.landcover,
        legend=str(legend) if legend is not None else inputs.legend,
        landcover_alt=str(landcover_alt) if landcover_alt is not None else inputs.landcover_alt,
        transport=transport if transport is not None else inputs.transport,
        redline=redline if redline is not None else inputs.redline,
        zones=zones if zones is not None else inputs.zones,
        zone_field=zone_field if zone_field is not None else inputs.zone_field,
        datasets=tuple(datasets), fingerprint=fingerprint(parts), parts=parts,
        options={k: v for k, v in opts.items() if v is not None}, extra={**inputs.extra, **(extra or {})})


def all_parks(store, demo: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every park as the dashboard lists them: the illustrative parks of the build (``demo``, the
    ``parks_demo`` layer: park_id, name_zh, name_en) then the parks saved in the store, with the
    columns park_id, name (Chinese name for the demo parks), name_en and source."""
    demo = gpd.GeoDataFrame({"park_id": demo["park_id"], "name": demo["name_zh"],
                             "name_en": demo["name_en"], "source": "illustrative"},
                            geometry=demo.geometry.values, crs=demo.crs)
    user = store.parks()
    if not len(user):
        return demo
    user = gpd.GeoDataFrame({"park_id": user["park_id"], "name": user["name"],
                             "name_en": user["name"], "source": user["source"]},
                            geometry=user.geometry.values, crs=4326)
    return gpd.GeoDataFrame(pd.concat([demo.to_crs(4326), user], ignore_index=True), crs=4326)


def _replaced(store, layer_id: str, read) -> gpd.GeoDataFrame:
    rec = store.active_user_layer(layer_id)
    return store.load_user_layer(rec["upload_id"]) if rec is not None else read(layer_id)


def park_keys(parks: gpd.GeoDataFrame, fp: str) -> list[str]:
    wkbs = shapely.to_wkb(parks.geometry.values)
    return [hashlib.sha256(f"{fp}|{pid}|{name}|".encode() + (w or b"")).hexdigest()
            for pid, name, w in zip(parks["park_id"], parks["name"], wkbs)]


def missing(store, parks: gpd.GeoDataFrame, inputs: RunInputs) -> list[int]:
    """Row positions of the parks whose indicators are not cached yet."""
    keys = park_keys(parks, inputs.fingerprint)
    have = store.park_results(keys)
    return [i for i, k in enumerate(keys) if k not in have]


def compute_cached(store, parks: gpd.GeoDataFrame, inputs: RunInputs,
                   progress: Callable[[int, int], None] | None = None, batch: int = BATCH,
                   zonal=None) -> pd.DataFrame:
    """One row per park (in the order given): cached rows, the rest computed in batches."""
    keys = park_keys(parks, inputs.fingerprint)
    have = store.park_results(keys)
    todo = [i for i, k in enumerate(keys) if k not in have]
    for n, s in enumerate(range(0, len(todo), batch)):
        idx = todo[s:s + batch]
        part = compute_parks(parks.iloc[idx], id_field="park_id", name_field="name", zonal=zonal, **inputs.kwargs())
        rows = {keys[i]: _row(r) for i, r in zip(idx, part.to_dict("records"))}
        store.put_park_results(rows)
        have.update(rows)
        if progress:
            progress(min(s + batch, len(todo)), len(todo))
    cols = _columns(inputs)
    out = pd.DataFrame([have[k] for k in keys]).reindex(columns=cols) if keys else pd.DataFrame(columns=cols)
    return _typed(out)


def _row(rec: dict) -> dict:
    return {k: (None if isinstance(v, float) and np.isnan(v) else v.item() if hasattr(v, "item") else v)
            for k, v in rec.items()}


def _columns(inputs: RunInputs) -> list[str]:
    return columns_for(CLASS_IDS, tuple(inputs.transport), inputs.landcover_alt is not None,
                       measured_inputs=measures.run_columns(inputs.extra))


def _text_column(c: str) -> bool:
    try:
        return get_indicator(c).text_value
    except KeyError:
        return False


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Rows from JSON back to the engine's dtypes (floats, nullable booleans, strings)."""
    for c in df.columns:
        if _text_column(c):  # a verdict of an exclusion layer
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        elif c == "vegetated_share_hint":
            df[c] = df[c].astype("boolean")
        elif c in ("park_id", "name", "zone", "zones", "reliability", "reason", "reason_zh", "warnings", "warnings_zh"):
            df[c] = df[c].astype(object).where(df[c].notna(), None) if c in ("zone", "zones") else df[c].fillna("").astype(str)
        else:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df

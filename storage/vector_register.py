"""Registering a vector dataset — transport (one kind for the file, or a field mapped to kinds),
red line, zones, parks, or a declared vector input — from upload bytes or a path, and an OSM
extract read with the declared tag rules into several transport kinds; and the transport layers
of the data in use merged by kind (``transport_layers``). Red line and zones go into the store as
a replacement of the proxy / schematic layer, parks into the saved parks, the others as features.

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import numpy as np

from core.errors import InputError
from layers import inputs
from storage.dataset_params import check_params
from storage.workspace import (BUILTIN_AIRPORTS, LINE_KINDS, REPLACES, ROLE_LABELS, TRANSPORT_KINDS, Dataset,
                               FileRef, file_ref, get, in_use, new_id, timestamp, use_arg)


def _read(source: str | Path | bytes, filename: str, *, polygons_only: bool, layer=None, assume_crs=None,
          gcj02=False, swap_axes=False):
    from layers import readers  # every reader (pyogrio, geopandas): loaded on first use, not at start-up time

    if isinstance(source, (bytes, bytearray)):
        return readers.read_vector(filename, bytes(source), layer=layer, assume_crs=assume_crs,
                                   polygons_only=polygons_only, gcj02=gcj02, swap_axes=swap_axes)
    return readers.read_path(source, layer=layer, assume_crs=assume_crs, polygons_only=polygons_only, gcj02=gcj02,
                             swap_axes=swap_axes)


def _refs_for(source, storage: str) -> tuple[tuple[FileRef, ...], str, int]:
    if isinstance(source, (bytes, bytearray)):
        return (), hashlib.sha256(source).hexdigest(), len(source)
    if Path(source).is_dir():  # a File Geodatabase folder (read into the store: no reference kept)
        from layers.readers.filegdb import folder_sha256  # every reader: loaded on first use, not at start-up time

        files = [p for p in Path(source).iterdir() if p.is_file()]
        return (), folder_sha256(source), sum(p.stat().st_size for p in files)
    ref = file_ref(source)
    return ((ref,) if storage == "reference" else ()), ref.sha256, ref.size


def register_vector(store, source: str | Path | bytes, role: str, *, filename: str | None = None,
                    kind: str | None = None, kind_field: str | None = None, kind_map: dict | None = None,
                    layer: str | None = None, assume_crs: str | None = None, gcj02: bool = False,
                    name: str | None = None, source_text: str = "", licence: str = "", year: int | None = None,
                    name_field: str | None = None, use: bool = False, actor=None, swap_axes: bool = False,
                    params: dict | None = None) -> Dataset:
    """Register a vector dataset (transport, redline, zones, parks, or a declared vector input) from
    upload bytes or a path.

    Transport: ``kind`` for the whole file, or ``kind_field`` (+ ``kind_map`` value → kind; by
    default the values must be kind names). Red line / zones replace the proxy / schematic layer
    when in use. Parks are added to the saved parks. ``params``: what the parser of an input declared
    with ``params`` read after ``FILE:`` (an exclusion layer's kind and buffer, a grid layer's kind),
    kept in the record and required for such an input; ``use`` adds it to a "many" slot's datasets."""
    spec = next((i for i in inputs.all_inputs() if i.role == role and i.is_vector), None)
    if spec is None:
        raise InputError(f"未知用途 {role!r}。", f"unknown role {role!r}.")
    check_params(spec, params)
    filename = filename or Path(str(source)).name
    storage = "store"
    res = _read(source, filename, polygons_only=spec.kind == "polygons", layer=layer, assume_crs=assume_crs,
                gcj02=gcj02, swap_axes=swap_axes)
    gdf, notes = res.gdf, [tuple(n) for n in res.notes]
    refs, sha, size = _refs_for(source, "store")
    did = new_id()
    base = dict(id=did, role=role, name=name or Path(filename).stem, original_filename=filename, storage=storage,
                files=refs, sha256=sha, size_bytes=size, crs=res.source_crs, resolution="vector",
                extent=tuple(float(v) for v in gdf.total_bounds), year=year, n_features=len(gdf),
                source=source_text, licence=licence, added_at=timestamp())
    if role == "transport":
        kinds = _transport_kinds(gdf, kind, kind_field, kind_map, filename)
        rec = Dataset(**base, kind=kind or "mapped", kinds=tuple(sorted(set(kinds), key=TRANSPORT_KINDS.index)),
                      notes=tuple(notes))
        store.add_dataset(did, role, rec.to_record(), features=gdf[["geometry"]], kinds=kinds,
                          use=("transport", in_use(store)["transport"] + [did]) if use else None, actor=actor)
        return rec
    ds = Dataset(**base, notes=tuple(notes), params=dict(params or {}))
    rec = ds.to_record()
    if role not in REPLACES and role != "parks":  # a declared input (a distance criterion …): its features
        store.add_dataset(did, role, rec, features=gdf[["geometry"]].to_crs(4326),
                          use=use_arg(store, spec, ds) if use else None, actor=actor)
        return get(store, did)
    if role in REPLACES:
        store.save_user_layer(_normalised(gdf, role, name_field), replaces=REPLACES[role], name=base["name"],
                              original_filename=filename, source_crs=res.source_crs, active=use,
                              dataset=(did, role, rec), actor=actor)
        return get(store, did)
    # parks
    field_ = name_field or next((c for c in ("name", "name_zh", "名称", "NAME", "Name") if c in gdf.columns), None)
    names = [str(v) for v in gdf[field_]] if field_ else [f"{base['name']} {i + 1}" for i in range(len(gdf))]
    store.add_parks(gdf, names=names, source="upload", source_file=filename, source_crs=res.source_crs,
                    dataset=(did, role, rec), actor=actor)
    return get(store, did)


def _normalised(gdf, role: str, name_field: str | None):
    if role == "zones":
        from layers.catalog import normalise_zone_layer  # geopandas: loaded on first use, not at start-up time

        return normalise_zone_layer(gdf, name_field)
    return gdf


def _transport_kinds(gdf, kind, kind_field, kind_map, filename) -> list[str]:
    import shapely

    if kind is not None:
        if kind not in TRANSPORT_KINDS:
            raise InputError(f"未知交通类型 {kind!r}；可用：{', '.join(TRANSPORT_KINDS)}。",
                             f"unknown transport kind {kind!r}; use one of {', '.join(TRANSPORT_KINDS)}.")
        kinds = [kind] * len(gdf)
    elif kind_field:
        if kind_field not in gdf.columns:
            raise InputError(f"{filename} 没有字段“{kind_field}”（字段：{', '.join(map(str, gdf.columns.drop('geometry')))}）。",
                             f"{filename} has no field '{kind_field}' (fields: {', '.join(map(str, gdf.columns.drop('geometry')))}).")
        m = kind_map or {k: k for k in TRANSPORT_KINDS}
        kinds = [m.get(str(v)) for v in gdf[kind_field]]
        if not any(kinds):
            raise InputError(f"{filename} 的字段“{kind_field}”中没有可识别的交通类型。",
                             f"no value of field '{kind_field}' in {filename} maps to a transport kind.")
    else:
        raise InputError("请指定交通类型（如 railway），或指定记录类型的字段。",
                         "give the transport kind (e.g. railway), or the field that holds it.")
    kinds = [k for k in kinds]
    types = shapely.get_type_id(gdf.geometry.values)
    lines = np.isin(types, (1, 2, 5))
    for k in set(filter(None, kinds)):
        sel = np.array([x == k for x in kinds])
        if k in LINE_KINDS and not lines[sel].any():
            raise InputError(f"{filename} 没有线要素：{ROLE_LABELS['transport'].zh}类型“{k}”需要线（道路、铁路）。",
                             f"{filename} has no lines: transport kind '{k}' needs line features (roads, railways).")
    if any(k is None for k in kinds):
        raise InputError("部分要素没有对应的交通类型，请补全映射。", "some features map to no transport kind: complete the mapping.")
    return kinds


def register_osm(store, path: str | Path, *, name: str | None = None, source_text: str = "", licence: str = "",
                 year: int | None = None, use: bool = False, actor=None) -> Dataset:
    """An OSM extract (.osm.pbf / .osm) read with the declared tag rules into several kinds."""
    import geopandas as gpd
    import pandas as pd

    from layers import readers  # every reader (pyogrio, geopandas): loaded on first use, not at start-up time

    p = Path(path)
    layers = readers.read_osm(p)
    if not layers:
        raise InputError(f"OSM 文件 {p.name} 中没有符合规则的交通要素（高速、干线公路、铁路、车站、机场）。",
                         f"the OSM file {p.name} holds no feature matching the transport tag rules "
                         "(motorway, trunk/primary, railway, station, aerodrome).")
    frames, kinds = [], []
    for k, g in layers.items():
        frames.append(g[["geometry"]].to_crs(4326))
        kinds += [k] * len(g)
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    ref = file_ref(p)
    did = new_id()
    rec = Dataset(id=did, role="transport", name=name or p.name.split(".")[0], original_filename=p.name,
                  storage="store", files=(ref,), sha256=ref.sha256, size_bytes=ref.size, crs="EPSG:4326",
                  resolution="vector (OSM)", extent=tuple(float(v) for v in gdf.total_bounds), year=year,
                  kind="osm", kinds=tuple(k for k in TRANSPORT_KINDS if k in layers), n_features=len(gdf),
                  source=source_text or "OpenStreetMap", licence=licence or "ODbL", added_at=timestamp())
    store.add_dataset(did, "transport", rec.to_record(), features=gdf, kinds=kinds,
                      use=("transport", in_use(store)["transport"] + [did]) if use else None, actor=actor)
    return rec


def transport_layers(store, ids: Iterable[str], builtin_airports=None) -> dict:
    """{kind: GeoDataFrame (EPSG:4326)} merged over the datasets in use."""
    import geopandas as gpd
    import pandas as pd

    out: dict[str, list] = {}
    for i in ids:
        if i == BUILTIN_AIRPORTS:
            if builtin_airports is not None and len(builtin_airports):
                out.setdefault("airport", []).append(builtin_airports[["geometry"]].to_crs(4326))
            continue
        feats = store.dataset_features(i)
        for k, g in feats.groupby("kind"):
            out.setdefault(k, []).append(g[["geometry"]])
    return {k: gpd.GeoDataFrame(pd.concat(v, ignore_index=True), crs="EPSG:4326")
            for k, v in out.items() if k in TRANSPORT_KINDS}


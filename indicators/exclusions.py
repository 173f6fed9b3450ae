"""Exclusion layers and the compliance check (合规性审查) of candidate parks.

The three control lines of 三区三线 (生态保护红线, 永久基本农田, 城镇开发边界) and protected areas
(自然保护地, 湿地公园) are exclusions, often with a buffer. Per park and layer kind::

    excl_<kind>_overlap_km2   area of the park inside the layer (equal-area, layer dissolved first;
                              under 1 m² counts as 0: a sliver along a shared boundary)
    excl_<kind>_overlap_pct   that area as a share of the park's area
    excl_<kind>_dist_km       geodesic distance to the nearest layer feature (0 when touching/inside)
    excl_<kind>_buffer_km2    area of the park within buffer_m of the layer but outside it
    excl_<kind>_verdict       conflict (overlap > 0) / within_buffer (no overlap, distance <= buffer,
                              buffer > 0) / clear
    excl_<kind>_note_zh/_en   what the layer did not allow to check (empty layer, repairs)

The urban development boundary (城镇开发边界) is the other way round: under the 三区三线 rules urban and
industrial construction belongs inside it, so a park with any part outside it is in conflict (its
``overlap`` columns hold the part inside; no buffer applies).

``compliance`` puts several layers side by side with the worst verdict (conflict > within_buffer >
clear) and a one-line bilingual reason, as the GB/T 39972 "一张图" check does for a project polygon
against 三区三线.

Methods. Overlap: ``indicators.conflicts.redline_overlap`` (Albers China equal-area, the layer's
polygons that touch a park unioned before measuring, so overlapping features count once).
Distance: ``indicators.transport.nearest_km`` (WGS84 ellipsoid). Buffer ring: per park, in an
azimuthal equidistant projection (``+proj=aeqd``, ellipsoidal) centred on the park's centroid, the
layer's polygons near the park are unioned, buffered by ``buffer_m`` (64 segments per quarter
circle) and the layer itself removed; the park's part of that ring is taken back to lon/lat and
measured in Albers China like the overlap. Distances from the centre are exact geodesics in aeqd;
between two other points at most ρ from the centre the relative error is ≲ ρ²/(6R²) (R ≈ 6371 km):
1e-6 for ρ = 25 km (a 20 km park with a 5 km buffer), i.e. 5 mm on a 5 km buffer. The polygonal arc
is inscribed in the true circle: it falls short by at most buffer_m·(1 − cos(0.7°)) = 7.5e-5 of the
buffer (4 cm at 500 m) at rounded corners only; straight stretches of the ring are exact.
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core.crs import EQUAL_AREA, WGS84, equal_area_km2
from core.errors import InputError
from core.geom import POLYGON_TYPES, make_valid_where_needed, polygonal_parts
from core.text import Text
from indicators import table
from indicators.conflicts import redline_overlap
from indicators.transport import lonlat_dense, nearest_km

EXCLUSION_LABELS: dict[str, Text] = table.EXCLUSION_KINDS  # one home: the indicator table's columns use them
EXCLUSION_KINDS = tuple(EXCLUSION_LABELS)
VERDICTS = ("conflict", "within_buffer", "clear")  # worst first
VERDICT_LABELS: dict[str, Text] = {
    "conflict": Text("冲突", "conflict"),
    "within_buffer": Text("缓冲区内", "within buffer"),
    "clear": Text("无冲突", "clear"),
}
QUAD_SEGS = 64  # segments per quarter circle of the buffer
# An overlap under 1 m² is a sliver along a shared boundary (a park drawn along a control line: the
# two outlines, reprojected vertex by vertex, no longer coincide exactly), not a conflict: set to 0.
SLIVER_KM2 = 1e-6
INSIDE_KINDS = frozenset({"urban_boundary"})  # a park must lie inside these (the part outside conflicts)


def columns(kind: str) -> list[str]:
    """The columns ``exclusion_measures`` gives for one kind, in order."""
    return [f"excl_{kind}_{c}" for c in ("overlap_km2", "overlap_pct", "dist_km", "buffer_km2", "verdict",
                                         "note_zh", "note_en")]


def check_kind(kind: str) -> None:
    if kind not in EXCLUSION_KINDS:
        raise InputError(f"未知排除图层类型 {kind!r}；可用类型：{list(EXCLUSION_KINDS)}",
                         f"unknown exclusion kind {kind!r}; use one of {list(EXCLUSION_KINDS)}")


def _check_buffer(buffer_m, kind: str) -> float:
    try:
        b = float(buffer_m)
    except (TypeError, ValueError):
        b = math.nan
    if not math.isfinite(b) or b < 0:
        label = EXCLUSION_LABELS[kind]
        raise InputError(f"{label.zh}的缓冲距离须为非负米数，收到 {buffer_m!r}",
                         f"the buffer of {label.en} must be a non-negative number of metres, got {buffer_m!r}")
    return b


def _parks(parks) -> gpd.GeoSeries:
    """Park polygons, invalid ones repaired (polygonal part kept); a missing one is an error."""
    gs = parks.geometry if isinstance(parks, gpd.GeoDataFrame) else parks
    if gs.crs is None:
        raise InputError("园区图层没有坐标参考系；请先设置（如 EPSG:4326）", "the parks layer has no CRS; set one (e.g. EPSG:4326)")
    geoms, _ = make_valid_where_needed(np.asarray(gs.values, dtype=object))
    out = []
    for i, g in enumerate(geoms):
        p = None if g is None or shapely.is_empty(g) else polygonal_parts(g)
        if p is None:
            raise InputError(f"园区第 {i + 1} 行：没有面几何", f"park row {i + 1}: no polygon geometry")
        out.append(p)
    return gpd.GeoSeries(out, index=gs.index, crs=gs.crs)


def _crs_checked(layer, kind: str) -> gpd.GeoSeries:
    gs = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    if gs.crs is None:
        label = EXCLUSION_LABELS[kind]
        raise InputError(f"{label.zh}图层没有坐标参考系；请先设置（如 EPSG:4326）",
                         f"the {label.en} layer has no CRS; set one (e.g. EPSG:4326)")
    return gs


def _layer(layer, kind: str) -> tuple[gpd.GeoSeries, Text | None]:
    """The layer's polygons (repaired, in its own CRS) and a note on what was left out or fixed."""
    label = EXCLUSION_LABELS[kind]
    gs = _crs_checked(layer, kind)
    geoms, repaired = make_valid_where_needed(np.asarray(gs.values, dtype=object))
    geoms = geoms[~shapely.is_missing(geoms)]
    parts = shapely.get_parts(geoms)
    polys = parts[np.isin(shapely.get_type_id(parts), POLYGON_TYPES) & ~shapely.is_empty(parts)]
    dropped = int((~np.isin(shapely.get_type_id(parts), POLYGON_TYPES)).sum())
    notes = []
    if not polys.size:
        notes.append(Text(f"{label.zh}图层为空（没有面要素），未检查，按无冲突计",
                          f"{label.en} layer is empty (no polygons): not checked, counted as clear"))
    if repaired:
        notes.append(Text(f"{label.zh}图层中 {repaired} 个无效几何已修复",
                          f"{repaired} invalid geometries of the {label.en} layer repaired"))
    if dropped:
        notes.append(Text(f"{label.zh}图层中 {dropped} 个非面要素已忽略",
                          f"{dropped} non-polygon features of the {label.en} layer ignored"))
    note = Text("；".join(n.zh for n in notes), "; ".join(n.en for n in notes)) if notes else None
    return gpd.GeoSeries(polys, crs=gs.crs), note


def _aeqd(lon: float, lat: float) -> pyproj.CRS:
    return pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat:.9f} +lon_0={lon:.9f} +ellps=WGS84 +units=m +no_defs")


def _ring_km2(parks_ll: np.ndarray, feats_ll: np.ndarray, need: np.ndarray, buffer_m: float) -> np.ndarray:
    """Area (km²) of each park within ``buffer_m`` of the features but outside them (see module doc)."""
    out = np.zeros(len(parks_ll))
    if not feats_ll.size:
        return out
    tree = shapely.STRtree(feats_ll)
    # A lon/lat box around the park wider than buffer_m on every side: a degree of latitude is
    # >= 110.5 km, a degree of longitude >= 111.3 km·cos(lat) on WGS84. The layer is clipped to it:
    # every point of the layer within buffer_m of the park lies inside the box, so nothing changes.
    dlat = 1.1 * buffer_m / 110_000.0
    for i in np.flatnonzero(need):
        p = parks_ll[i]
        x0, y0, x1, y1 = shapely.bounds(p)
        far = min(max(abs(y0), abs(y1)) + dlat, 89.999)
        dlon = min(1.1 * buffer_m / (111_000.0 * math.cos(math.radians(far))), 360.0)
        box = (x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)
        near = shapely.clip_by_rect(feats_ll[tree.query(shapely.box(*box))], *box)
        if not near.size:
            continue
        c = shapely.centroid(p)
        crs = _aeqd(c.x, c.y)
        fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
        inv = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        P = shapely.transform(p, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
        near = shapely.segmentize(near, 0.001)  # clip edges: keep them parallels/meridians
        near = shapely.transform(near, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
        U = shapely.union_all(make_valid_where_needed(near)[0])  # a reprojected ring may self-touch
        zone = shapely.buffer(U, buffer_m, quad_segs=QUAD_SEGS)
        ring = polygonal_parts(shapely.difference(shapely.intersection(P, zone), U))
        if ring is None:
            continue
        ring = shapely.segmentize(ring, 100.0)
        ring_ll = shapely.transform(ring, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))
        out[i] = equal_area_km2(gpd.GeoSeries([ring_ll], crs=WGS84))[0]
    return out


def exclusion_measures(parks: gpd.GeoSeries, layer: gpd.GeoDataFrame, kind: str,
                       buffer_m: float = 0.0) -> pd.DataFrame:
    """Overlap, distance, buffer ring and verdict of each park against one exclusion layer (module
    doc). Inputs in any CRS; one row per park, same index as ``parks``."""
    check_kind(kind)
    buffer_m = _check_buffer(buffer_m, kind)
    p = _parks(parks)
    polys, note = _layer(layer, kind)
    n = len(p)
    c = dict(zip(("km2", "pct", "dist", "ring", "verdict", "note_zh", "note_en"), columns(kind)))
    park_km2 = equal_area_km2(p)
    if len(polys):
        ov = redline_overlap(p.to_crs(EQUAL_AREA).values, park_km2, gpd.GeoDataFrame(geometry=polys))
        sliver = ov["redline_overlap_km2"].to_numpy() < SLIVER_KM2
        km2 = np.where(sliver, 0.0, ov["redline_overlap_km2"].to_numpy())
        pct = np.where(sliver & (park_km2 > 0), 0.0, ov["redline_overlap_pct"].to_numpy())
        dist = nearest_km(p, polys)
        need = dist <= buffer_m / 1000.0  # NaN compares False
        ring = np.zeros(n)
        if buffer_m > 0 and need.any():
            ring = _ring_km2(lonlat_dense(p, "parks"), shapely.get_parts(lonlat_dense(polys, "layer")), need, buffer_m)
    else:
        km2, pct, dist, ring = np.zeros(n), np.zeros(n), np.full(n, np.nan), np.zeros(n)
    if kind in INSIDE_KINDS:  # a park belongs inside the urban development boundary: the part outside conflicts
        outside = np.asarray(park_km2, dtype="float64") - km2
        verdict = np.where(outside >= SLIVER_KM2, "conflict", "clear")
    else:
        verdict = np.where(km2 > 0, "conflict",
                           np.where((buffer_m > 0) & (dist <= buffer_m / 1000.0), "within_buffer", "clear"))
    return pd.DataFrame({c["km2"]: km2, c["pct"]: pct, c["dist"]: dist, c["ring"]: ring, c["verdict"]: verdict,
                         c["note_zh"]: note.zh if note else "", c["note_en"]: note.en if note else ""},
                        index=p.index)


# --- the compliance check ------------------------------------------------------------------------
def _num(x: float) -> str:
    if not math.isfinite(x):
        return "?"
    return f"{x:.0f}" if x >= 100 else f"{x:.2f}" if x >= 1 else f"{x:.3g}"


def _merge(layers) -> list[tuple[str, gpd.GeoSeries, float]]:
    """One entry per kind: layers of the same kind and buffer are put together (in WGS84)."""
    merged: dict[str, tuple[list, float]] = {}
    for kind, layer, buffer_m in layers:
        check_kind(kind)
        b = _check_buffer(buffer_m, kind)
        gs = _crs_checked(layer, kind)
        if kind in merged and merged[kind][1] != b:
            label = EXCLUSION_LABELS[kind]
            raise InputError(f"{label.zh}图层给了两次且缓冲距离不同（{_num(merged[kind][1])} m、{_num(b)} m）；请合并为一个文件",
                             f"{label.en} is given twice with different buffers ({_num(merged[kind][1])} m, "
                             f"{_num(b)} m); merge them into one file")
        merged.setdefault(kind, ([], b))[0].append(gs)
    out = []
    for kind, (parts, b) in merged.items():
        gs = parts[0] if len(parts) == 1 else gpd.GeoSeries(pd.concat([g.to_crs(WGS84) for g in parts],
                                                                      ignore_index=True), crs=WGS84)
        out.append((kind, gs, b))
    return out


def _reason(row: pd.Series, used: list[tuple[str, float]]) -> Text:
    conflict, outside, near, empty = [], [], [], []
    for kind, b in used:
        label = EXCLUSION_LABELS[kind]
        v = row[f"excl_{kind}_verdict"]
        if v == "conflict" and kind in INSIDE_KINDS:
            out_pct = 100.0 - row[f"excl_{kind}_overlap_pct"]
            outside.append((f"位于{label.zh}之外（园区 {_num(out_pct)}% 在边界外）",
                            f"outside the {label.en} ({_num(out_pct)}% of the park outside it)"))
        elif v == "conflict":
            km2, pct = row[f"excl_{kind}_overlap_km2"], row[f"excl_{kind}_overlap_pct"]
            conflict.append((f"{label.zh}（重叠 {_num(km2)} km²，{_num(pct)}%）",
                             f"{label.en} ({_num(km2)} km² overlap, {_num(pct)}%)"))
        elif v == "within_buffer":
            d = row[f"excl_{kind}_dist_km"]
            near.append((f"{label.zh}（相距 {_num(d)} km，缓冲 {_num(b)} m）",
                         f"{label.en} ({_num(d)} km away, buffer {_num(b)} m)"))
        if not math.isfinite(row[f"excl_{kind}_dist_km"]) and row[f"excl_{kind}_note_en"]:
            empty.append((label.zh, label.en))
    zh, en = [], []
    if conflict:
        zh.append("冲突：" + "、".join(z for z, _ in conflict))
        en.append("conflict with " + ", ".join(e for _, e in conflict))
    if outside:
        zh.append("；".join(z for z, _ in outside))
        en.append("; ".join(e for _, e in outside))
    if near:
        zh.append("缓冲区内：" + "、".join(z for z, _ in near))
        en.append("within the buffer of " + ", ".join(e for _, e in near))
    if not conflict and not near and not outside:
        checked = [EXCLUSION_LABELS[k] for k, _ in used]
        zh.append("无冲突（已检查：" + "、".join(t.zh for t in checked) + "）")
        en.append("clear (checked: " + ", ".join(t.en for t in checked) + ")")
    if empty:
        zh.append("图层为空、未检查：" + "、".join(z for z, _ in empty))
        en.append("empty layer, not checked: " + ", ".join(e for _, e in empty))
    return Text("；".join(zh), "; ".join(en))


def compliance(parks: gpd.GeoSeries, layers: list[tuple[str, gpd.GeoDataFrame, float]]) -> pd.DataFrame:
    """合规性审查: every column of ``exclusion_measures`` for each layer, then ``compliance_verdict``
    (the worst of the layers' verdicts) and ``compliance_reason_zh``/``_en`` (one line naming the
    layers in conflict and those whose buffer the park is in). ``layers``: (kind, layer, buffer_m);
    two layers of one kind with the same buffer are checked as one."""
    merged = _merge(layers)
    if not merged:
        raise InputError("合规性审查至少需要一个排除图层", "the compliance check needs at least one exclusion layer")
    parts = [exclusion_measures(parks, layer, kind, b) for kind, layer, b in merged]
    out = pd.concat(parts, axis=1)
    verdicts = out[[f"excl_{k}_verdict" for k, _, _ in merged]].to_numpy()
    worst = np.array([min(VERDICTS.index(v) for v in row) for row in verdicts], dtype=int)
    out["compliance_verdict"] = np.asarray(VERDICTS, dtype=object)[worst]
    used = [(k, b) for k, _, b in merged]
    reasons = [_reason(row, used) for _, row in out.iterrows()]
    out["compliance_reason_zh"] = [r.zh for r in reasons]
    out["compliance_reason_en"] = [r.en for r in reasons]
    return out


def verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """The compliance verdicts of a run's parks from its columns: park_id, one column per layer in
    the run (the red line in use, from ``redline_overlap_km2``, unless an exclusion layer of kind
    redline was given; every ``excl_<kind>_verdict``), and ``overall`` (the worst). For the Siting
    PDF and the export's audit record."""
    out = pd.DataFrame({"park_id": df["park_id"].astype(str).to_numpy()})
    if "redline_overlap_km2" in df.columns and "excl_redline_verdict" not in df.columns:
        km2 = pd.to_numeric(df["redline_overlap_km2"], errors="coerce").to_numpy(float)
        out["redline"] = np.where(np.isnan(km2), "", np.where(km2 > 0, "conflict", "clear"))
    for k in EXCLUSION_KINDS:
        if f"excl_{k}_verdict" in df.columns:
            out[k] = df[f"excl_{k}_verdict"].fillna("").astype(str).to_numpy()
    layers = [c for c in out.columns if c != "park_id"]
    rank = {v: i for i, v in enumerate(VERDICTS)}
    out["overall"] = [min((v for v in row if v in rank), key=rank.get, default="")
                      for row in out[layers].itertuples(index=False)] if layers else ""
    return out

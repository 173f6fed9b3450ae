"""Cut parks at zone boundaries so each piece takes its own zone's carbon densities.

A park inside one zone is one piece (its whole-park code areas are reused, nothing is read
again); a park across zones becomes one piece per zone it touches plus, where part of it lies in
no zone with densities, a remainder that takes the province default. Pieces are exact polygon
intersections, read with the same exact coverage fractions as whole parks.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from core.crs import equal_area_km2

KEY_FIELDS = ("zone_id", "name_zh", "name_en", "zone", "name")
WHOLE_SHARE = 1 - 1e-9  # a park with this share of its area in one zone is that zone's, whole


@dataclass(frozen=True)
class Piece:
    park: int  # row of the park
    key: str | None  # zone key of the density table (None: province default)
    geom: object | None  # None: the whole park


def zone_keys(zones: gpd.GeoDataFrame, table) -> list[str | None]:
    """For each zone polygon, the key of ``table`` (``pooltable.PoolTable``) it matches by id or name."""
    cols = [c for c in KEY_FIELDS if c in zones.columns]
    return [table.match_zone(*(row[c] for c in cols)) for _, row in zones[cols].iterrows()] if cols else \
        [None] * len(zones)


def split(parks: gpd.GeoSeries, zones: gpd.GeoDataFrame, keys: list[str | None]) -> list[Piece]:
    """Pieces of every park (in the parks' CRS): whole-park pieces first for parks in one zone or
    in none, then the cut pieces of parks across zones, in park order."""
    matched = [(k, g) for k, g in zip(keys, zones.geometry.to_crs(parks.crs).values) if k and g is not None]
    by_key: dict[str, object] = {}
    for k, g in matched:
        by_key[k] = shapely.union(by_key[k], g) if k in by_key else g
    names = list(by_key)
    shapes = np.array([by_key[k] for k in names], dtype=object)
    tree = shapely.STRtree(shapes) if len(shapes) else None
    cand: list[tuple[int, list]] = []  # parks touching zones: (row, [(key, intersection)])
    whole: dict[int, Piece] = {}
    for i, g in enumerate(parks.values):
        hits = [] if tree is None else sorted(int(j) for j in tree.query(g, predicate="intersects"))
        if hits:
            cand.append((i, [(names[j], shapely.intersection(g, shapes[j])) for j in hits]))
        else:
            whole[i] = Piece(i, None, None)
    flat = [p for _, parts in cand for _, p in parts]
    part_km2 = _km2(flat, parks.crs)
    park_km2 = _km2([parks.values[i] for i, _ in cand], parks.crs)
    cut: dict[int, list[Piece]] = {}
    k0 = 0
    for (i, parts), total in zip(cand, park_km2):
        areas = part_km2[k0:k0 + len(parts)]
        k0 += len(parts)
        if len(parts) == 1 and total > 0 and areas[0] >= total * WHOLE_SHARE:
            whole[i] = Piece(i, parts[0][0], None)
            continue
        pieces = [Piece(i, k, p) for (k, p), a in zip(parts, areas) if a > 0]
        rest = shapely.difference(parks.values[i], shapely.union_all([p for _, p in parts]))
        if not shapely.is_empty(rest) and _km2([rest], parks.crs)[0] > 0:
            pieces.append(Piece(i, None, rest))
        cut[i] = pieces
    return [whole[i] for i in sorted(whole)] + [p for i in sorted(cut) for p in cut[i]]


def _km2(geoms: list, crs) -> np.ndarray:
    return equal_area_km2(gpd.GeoSeries(geoms, crs=crs)) if geoms else np.zeros(0)

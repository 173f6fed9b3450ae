"""Geometry repair shared by the readers (uploads) and the indicator engine.

- ``make_valid_where_needed``: GEOS MakeValid only on the invalid geometries of an array (it costs
  far more than the validity test, and province-scale layers are usually valid already).
- ``polygonal_parts``: the polygonal part of one geometry (MakeValid may add lines/points next to
  polygons); ``None`` when nothing polygonal is left.
"""
from __future__ import annotations

import numpy as np
import shapely

POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def make_valid_where_needed(geoms) -> tuple[np.ndarray, int]:
    """(array with every invalid geometry repaired, number repaired); missing geometries stay."""
    geoms = np.asarray(geoms, dtype=object).copy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms, int(bad.sum())


def polygonal_parts(g):
    if shapely.get_type_id(g) in POLYGON_TYPES and not g.is_empty:
        return g
    parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in POLYGON_TYPES and not p.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]

"""Geometry for display: what the browser gets, never what the numbers are computed on.

A park outline can have hundreds of thousands of vertices (a detailed survey, or a hostile
upload); sent whole, one such park made every visit of the Map page download 8 MB. The maps
get a copy simplified with its topology kept (``shapely.simplify(preserve_topology=True)``):

- at least ``MIN_TOLERANCE`` (1e-4°, about 11 m in Gansu): finer than a screen pixel at the
  zoom a single park is looked at (zoom 13–14: ~10–20 m per pixel), so nothing visible is lost;
- coarser, step by step up to ``MAX_TOLERANCE`` (0.01°, about 1 km), only while the layer still
  has more than ``LAYER_VERTEX_CAP`` vertices. Up to 2e-3° (~200 m) this is still below a pixel
  at the province view the Map page opens with (zoom 6–7: ~1–2 km per pixel); beyond that only a
  layer of very many detailed parks is reached;
- coordinates rounded to ``DECIMALS`` (1e-5°, about 1 m): half the JSON of full floats.

``LAYER_VERTEX_CAP`` = 10,000 vertices per layer keeps a layer's JSON near 200 KB (about 21 bytes
per rounded vertex) while leaving a few hundred vertices to each of dozens of real park outlines.
``MAX_DRAWN_VERTICES`` = 10,000 is the cap of a park drawn on the map: a hand drawing has tens
or hundreds of vertices, so anything beyond is not a drawing (a forged widget value); a detailed
boundary is uploaded as a file (``core.limits.MAX_VERTICES`` then applies).
"""
from __future__ import annotations

import numpy as np
import shapely
import shapely.geometry

from core.errors import InputError
from core.i18n import t

MIN_TOLERANCE = 1e-4  # degrees (~11 m)
MAX_TOLERANCE = 1e-2  # degrees (~1 km)
LAYER_VERTEX_CAP = 10_000
MAX_DRAWN_VERTICES = 10_000
DECIMALS = 5


def for_display(geoms, cap: int = LAYER_VERTEX_CAP, min_tolerance: float = MIN_TOLERANCE) -> np.ndarray:
    """Display copies of lon/lat ``geoms`` (an array; points pass as they are), simplified and
    rounded as the module docstring says. A geometry of more than ``cap`` vertices is first
    thinned (``thin``): Douglas–Peucker is quadratic on a jagged outline (9 s for a 200,000-vertex
    zigzag), the thinning linear."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    geoms = np.array([thin(g, cap) for g in geoms], dtype=object)
    tol = max(min_tolerance, MIN_TOLERANCE)
    out = shapely.simplify(geoms, tol, preserve_topology=True)
    while int(shapely.get_num_coordinates(out).sum()) > cap and tol < MAX_TOLERANCE:
        tol = min(tol * 2, MAX_TOLERANCE)
        out = shapely.simplify(geoms, tol, preserve_topology=True)
    return shapely.transform(out, lambda xy: np.round(xy, DECIMALS))


def thin(geom, limit: int):
    """``geom`` with at most about ``limit`` vertices: every k-th vertex of each ring or line kept
    (ends and ring closure kept, at least 3 distinct vertices per ring). Display only: a thinned
    ring may touch itself, which Leaflet draws all the same."""
    if geom is None or geom.is_empty or shapely.get_num_coordinates(geom) <= limit:
        return geom
    k = -(-int(shapely.get_num_coordinates(geom)) // limit)  # ceil

    def ring(r):
        c = shapely.get_coordinates(r)[:-1]
        keep = c[::k] if len(c) // k >= 3 else c[:: max(1, len(c) // 3)]
        return np.vstack([keep, keep[:1]])

    def part(g):
        if g.geom_type == "Polygon":
            return shapely.Polygon(ring(g.exterior), [ring(h) for h in g.interiors])
        if g.geom_type == "LineString":
            c = shapely.get_coordinates(g)
            return shapely.LineString(np.vstack([c[:-1][::k], c[-1:]]))
        if g.geom_type.startswith("Multi") or g.geom_type == "GeometryCollection":
            return type(g)([part(x) for x in g.geoms])
        return g

    return part(geom)


def drawn_polygon(geometry: dict) -> shapely.Polygon:
    """The polygon of a drawing (GeoJSON geometry as Leaflet.draw returns it): InputError
    (bilingual) when it has more than ``MAX_DRAWN_VERTICES`` vertices (checked before it is built)
    or is not one valid polygon."""
    rings = (geometry or {}).get("coordinates") if isinstance(geometry, dict) else None
    # vertices of the rings (a ring repeats its first vertex at the end: not counted twice)
    n = sum(max(len(r) - 1, 0) for r in rings if isinstance(r, list)) if isinstance(rings, list) else 0
    if n > MAX_DRAWN_VERTICES:
        raise InputError(f"所绘图形有 {n:,} 个顶点，超过上限 {MAX_DRAWN_VERTICES:,}：请简化后再画，或将边界作为文件上传。",
                         f"The drawn shape has {n:,} vertices, more than the limit of {MAX_DRAWN_VERTICES:,}: "
                         "draw a simpler outline, or upload the boundary as a file.")
    try:
        poly = shapely.geometry.shape(geometry)
    except Exception:  # anything the browser may send: not a polygon
        poly = None
    if poly is None or poly.geom_type != "Polygon" or poly.is_empty or not poly.is_valid:
        raise InputError(t("parks.draw.invalid", "zh"), t("parks.draw.invalid", "en"))
    return poly

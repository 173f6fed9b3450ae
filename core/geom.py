"""Geometry repair shared by the readers (uploads) and the indicator engine.

- ``make_valid_where_needed``: GEOS MakeValid only on the invalid geometries of an array (it costs
  far more than the validity test, and province-scale layers are usually valid already).
- ``polygonal_parts``: the polygonal part of one geometry (MakeValid may add lines/points next to
  polygons); ``None`` when nothing polygonal is left.
- the edges of the world: ``wkb_surfaces_as_polygons``/``surface_footprint`` (TIN,
  PolyhedralSurface, MultiPatch → footprint), ``crosses_antimeridian``/``split_antimeridian``
  (RFC 7946 cut at ±180°), ``albers_ok``/``geodesic_area_km2`` (areas far from China on the
  ellipsoid).
"""
from __future__ import annotations

import struct as _struct

import numpy as np
import shapely

from core.geodesic import geodesic_area_m2

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


# --- the edges of the world: 3-D surfaces, the antimeridian, areas far from China ----------------
# Surfaces: the WKB of a PolyhedralSurface (15) or a TIN (16) is laid out exactly like a
# MultiPolygon's (a count, then polygons), a Triangle (17) like a Polygon's: rewriting the type
# codes turns them into geometries GEOS reads; their 2-D footprint is the union of the faces.
SURFACE_TYPES = {15: "PolyhedralSurface", 16: "TIN", 17: "Triangle"}
_SURFACE_AS = {15: 6, 16: 6, 17: 3}


def wkb_surface_kind(wkb: bytes) -> str | None:
    """The surface type name (``TIN`` …) of a WKB geometry, or of the first surface in a
    collection; None when it holds no surface."""
    found: list[str] = []
    try:
        _walk_wkb(bytearray(wkb), 0, found, rewrite=False)
    except (IndexError, ValueError, struct_error):
        return None
    return found[0] if found else None


def wkb_surfaces_as_polygons(wkb: bytes) -> bytes:
    """The WKB with every PolyhedralSurface/TIN typed as a MultiPolygon and every Triangle as a
    Polygon (the bytes of their coordinates are unchanged). Raises ValueError on a WKB it cannot
    walk."""
    buf = bytearray(wkb)
    try:
        _walk_wkb(buf, 0, [], rewrite=True)
    except (IndexError, struct_error) as e:
        raise ValueError(f"truncated WKB ({e})") from None
    return bytes(buf)


struct_error = _struct.error


def _walk_wkb(buf: bytearray, pos: int, found: list, rewrite: bool) -> int:
    """Walk one WKB geometry from ``pos`` (ISO and EWKB flags); returns the position after it."""
    order = "<" if buf[pos] == 1 else ">"
    type_pos = pos + 1
    raw = _struct.unpack_from(order + "I", buf, type_pos)[0]
    pos += 5
    flags = raw & 0xE0000000  # EWKB Z/M/SRID flags
    code = raw & 0x0FFFFFFF
    if flags & 0x20000000:  # EWKB SRID
        pos += 4
    base, iso = code % 1000, code // 1000  # ISO: 1000 Z, 2000 M, 3000 ZM
    dims = 2 + (iso in (1, 3)) + (iso in (2, 3)) + bool(flags & 0x80000000) + bool(flags & 0x40000000)
    if base in SURFACE_TYPES:
        found.append(SURFACE_TYPES[base])
        base = _SURFACE_AS[base]
        if rewrite:
            _struct.pack_into(order + "I", buf, type_pos, flags | (iso * 1000 + base))
    if base == 1:
        return pos + 8 * dims
    if base == 2:
        n = _struct.unpack_from(order + "I", buf, pos)[0]
        return pos + 4 + 8 * dims * n
    if base == 3:
        rings = _struct.unpack_from(order + "I", buf, pos)[0]
        pos += 4
        for _ in range(rings):
            n = _struct.unpack_from(order + "I", buf, pos)[0]
            pos += 4 + 8 * dims * n
        return pos
    if base in (4, 5, 6, 7):
        n = _struct.unpack_from(order + "I", buf, pos)[0]
        pos += 4
        for _ in range(n):
            pos = _walk_wkb(buf, pos, found, rewrite)
        return pos
    raise ValueError(f"WKB type {code}")


def surface_footprint(g):
    """The 2-D footprint of a surface read as polygons (faces of a TIN, a PolyhedralSurface or a
    MultiPatch): the union of its faces projected on the plane; vertical faces (no area on the
    plane) vanish. None when nothing polygonal is left."""
    faces = [shapely.force_2d(p) for p in shapely.get_parts(g)
             if shapely.get_type_id(p) in POLYGON_TYPES]
    flat = []
    for f in faces:
        f = f if f.is_valid else polygonal_parts(shapely.make_valid(f))
        if f is not None and not f.is_empty and f.area > 0:
            flat.append(f)
    if not flat:
        return None
    return polygonal_parts(shapely.union_all(flat))


def crosses_antimeridian(g) -> bool:
    """A lon/lat geometry with an edge jumping more than 180° of longitude (e.g. 179.5 → -179.5):
    drawn the short way round across ±180°, not the long way across Greenwich."""
    for part in shapely.get_parts(g):
        rings = [part.exterior, *part.interiors] if shapely.get_type_id(part) == 3 else [part]
        for r in rings:
            xy = shapely.get_coordinates(r)
            if len(xy) < 2:
                continue
            x, y = xy[:, 0], xy[:, 1]
            jump = np.abs(np.diff(x)) > 180
            # not crossings: an edge along a pole, or one joining -180 and 180 (the closing edge of
            # a world-spanning ring such as Natural Earth's Antarctica, drawn the long way on purpose)
            at_pole = (np.abs(y[:-1]) >= 90 - 1e-9) & (np.abs(y[1:]) >= 90 - 1e-9)
            at_edge = (np.abs(x[:-1]) >= 180 - 1e-6) & (np.abs(x[1:]) >= 180 - 1e-6)
            if (jump & ~at_pole & ~at_edge).any():
                return True
    return False


def split_antimeridian(g):
    """A polygon whose edges cross ±180° (see ``crosses_antimeridian``), cut there into parts
    within [-180, 180] (RFC 7946 §3.1.9). Negative longitudes are shifted by +360 so each ring is
    continuous, then the shape is cut at 180 and the eastern part shifted back."""
    def shift(xy):
        out = xy.copy()
        out[:, 0] = np.where(out[:, 0] < 0, out[:, 0] + 360.0, out[:, 0])
        return out

    polys = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in POLYGON_TYPES]
    pieces = []
    for p in polys:
        if not crosses_antimeridian(p):
            pieces.append(p)
            continue
        q = shapely.transform(p, shift)
        q = q if q.is_valid else (polygonal_parts(shapely.make_valid(q)) or q)
        west = shapely.intersection(q, shapely.box(-180.0, -90.0, 180.0, 90.0))
        east = shapely.transform(shapely.intersection(q, shapely.box(180.0, -90.0, 540.0, 90.0)),
                                 lambda xy: xy - np.array([360.0, 0.0]))
        pieces += [x for x in (polygonal_parts(west), polygonal_parts(east)) if x is not None]
    if not pieces:
        return g
    return shapely.union_all(pieces) if len(pieces) > 1 else pieces[0]


# China and its neighbours, where the Albers equal-area projection for China (``core.crs.EQUAL_AREA``)
# is used for areas; an Antarctic, polar, antimeridian or world-spanning polygon is measured on the
# ellipsoid instead (Albers China of Antarctica is ~50 times too large).
ALBERS_EXTENT = (60.0, 0.0, 150.0, 60.0)


def albers_ok(geoms_4326) -> np.ndarray:
    """True for lon/lat geometries inside ``ALBERS_EXTENT`` (an empty/missing one: True)."""
    geoms = np.asarray(geoms_4326, dtype=object)
    b = shapely.bounds(geoms)
    x0, y0, x1, y1 = ALBERS_EXTENT
    ok = (b[:, 0] >= x0) & (b[:, 2] <= x1) & (b[:, 1] >= y0) & (b[:, 3] <= y1)
    return ok | np.isnan(b).any(axis=1)


def geodesic_area_km2(geoms_4326) -> np.ndarray:
    """Area in km² of lon/lat (EPSG:4326) geometries on the WGS84 ellipsoid. Edges are followed
    every 0.5° along their lon/lat straight line (a parallel stays a parallel; a ring closed
    through a pole, as Natural Earth's Antarctica, encloses the pole)."""
    geoms = np.asarray(geoms_4326, dtype=object)
    out = np.zeros(len(geoms))
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        dense = shapely.segmentize(shapely.force_2d(g), 0.5)
        out[i] = sum(geodesic_area_m2(p) for p in shapely.get_parts(dense)
                     if shapely.get_type_id(p) == 3) / 1e6
    return out

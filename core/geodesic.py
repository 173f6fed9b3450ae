"""The WGS84 ellipsoid: ``GEOD`` (pyproj.Geod) and the area of one lon/lat geometry on it.

The bottom of ``core``'s geometry: ``core.geom`` (areas far from China, ``geodesic_area_km2``)
and ``core.crs`` build on it; callers import ``GEOD`` and ``geodesic_area_m2`` from here. Imports
nothing of ours.
"""
from __future__ import annotations

import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area of a lon/lat (WGS84) geometry on the ellipsoid, in square metres."""
    area, _ = GEOD.geometry_area_perimeter(shapely.force_2d(geom))
    return abs(area)

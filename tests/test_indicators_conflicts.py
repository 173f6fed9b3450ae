"""Red-line overlap and zone membership on hand-computed cases in the equal-area CRS: an invalid
(bow-tie) red-line polygon is repaired before measuring, overlapping red-line polygons are not
counted twice, and a park split between zones takes the zone with the larger share."""
import geopandas as gpd
import numpy as np
import pytest
import shapely

from indicators.conflicts import redline_overlap, zone_membership
from core.crs import EQUAL_AREA

KM = 1000.0


def _park():
    g = shapely.box(0, 0, 2 * KM, 2 * KM)  # 4 km²
    return np.array([g], dtype=object), np.array([4.0])


def test_bowtie_red_line_is_repaired_and_overlaps_are_not_double_counted():
    bowtie = shapely.Polygon([(0, 0), (2 * KM, 2 * KM), (2 * KM, 0), (0, 2 * KM), (0, 0)])
    assert not bowtie.is_valid  # two triangles meeting at (1 km, 1 km): 1 km² each
    left = shapely.Polygon([(0, 0), (1 * KM, 1 * KM), (0, 2 * KM)])  # the bow-tie's left triangle again
    red = gpd.GeoDataFrame(geometry=[bowtie, left], crs=EQUAL_AREA)
    parks, km2 = _park()
    out = redline_overlap(parks, km2, red)
    # triangles (0,0)-(1,1)-(0,2) and (2,0)-(1,1)-(2,2): 1 km² each; the duplicate adds nothing
    assert out["redline_overlap_km2"].iloc[0] == pytest.approx(2.0, rel=1e-9)
    assert out["redline_overlap_pct"].iloc[0] == pytest.approx(50.0, rel=1e-9)


def test_park_between_two_zones_takes_the_larger_share():
    west = shapely.box(-10 * KM, -10 * KM, 0.5 * KM, 10 * KM)   # 0.5 km × 2 km of the park = 1 km²
    east = shapely.box(0.5 * KM, -10 * KM, 10 * KM, 10 * KM)    # 1.5 km × 2 km = 3 km²
    east_part2 = shapely.box(10 * KM, -10 * KM, 20 * KM, 10 * KM)  # same zone, second polygon
    zones = gpd.GeoDataFrame({"zone": ["W", "E", "E"]}, geometry=[west, east, east_part2], crs=EQUAL_AREA)
    parks, km2 = _park()
    out = zone_membership(parks, km2, zones)
    assert out["zone"].iloc[0] == "E"
    assert out["zone_share_pct"].iloc[0] == pytest.approx(75.0, rel=1e-9)
    assert out["zones"].iloc[0] == "E; W"


def test_make_valid_where_needed_repairs_only_the_invalid_ones():
    from core.geom import make_valid_where_needed, polygonal_parts

    ok = shapely.box(0, 0, 1, 1)
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    out, n = make_valid_where_needed([ok, bowtie, None])
    assert n == 1
    assert out[0] is ok and out[2] is None  # valid and missing geometries are left as they are
    assert out[1].is_valid and out[1].area == pytest.approx(2.0)
    mixed = shapely.GeometryCollection([shapely.LineString([(0, 0), (1, 1)]), ok])
    assert polygonal_parts(mixed).equals(ok)
    assert polygonal_parts(shapely.LineString([(0, 0), (1, 1)])) is None

"""Distances to transport (vs pyproj.Geod brute force) and red-line / zone conflicts."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from indicators.conflicts import redline_overlap, zone_membership
from core.errors import InputError
from indicators.transport import distances, nearest_km, parse_source
from layers.readers import read_osm
from core.crs import EQUAL_AREA
from tests.indicator_fixtures import brute_distance_km


def _gs(geoms, crs=4326):
    return gpd.GeoSeries(list(geoms), crs=crs)


@pytest.mark.parametrize("lon, lat", [(95.0, 40.0), (107.0, 35.0)])
def test_distances_match_geodesic_brute_force_west_and_east(lon, lat):
    park = shapely.Polygon([(lon, lat), (lon + 0.06, lat + 0.01), (lon + 0.05, lat + 0.05), (lon - 0.01, lat + 0.04)])
    feats = [shapely.LineString([(lon + 0.35, lat - 0.6), (lon + 0.25, lat + 0.7)]),
             shapely.LineString([(lon - 0.5, lat + 0.4), (lon + 0.6, lat + 0.45)]),
             shapely.Point(lon - 0.2, lat - 0.1)]
    got = nearest_km(_gs([park]), _gs(feats))[0]
    expected = min(brute_distance_km(park, f) for f in feats)
    assert got == pytest.approx(expected, rel=5e-3)
    assert got == pytest.approx(expected, rel=1e-4)  # in fact far better than required


def test_distance_across_utm_zone_boundary_and_projected_inputs():
    # UTM 47/48 boundary at 102E; park straddles it, the road lies in the other zone.
    park = shapely.box(101.95, 37.0, 102.03, 37.05)
    road = shapely.LineString([(102.25, 36.6), (102.32, 37.4)])
    expected = brute_distance_km(park, road)
    assert nearest_km(_gs([park]), _gs([road]))[0] == pytest.approx(expected, rel=5e-3)
    # Same features given in a single UTM zone (47N) and CGCS2000 GK: same geodesic answer.
    for crs in ("EPSG:32647", "EPSG:4545"):
        p2, r2 = _gs([park]).to_crs(crs), _gs([road]).to_crs(crs)
        assert nearest_km(p2, r2)[0] == pytest.approx(expected, rel=5e-3)


def test_touching_and_inside_give_zero_and_kinds_are_columns():
    park = shapely.box(100.0, 36.0, 100.1, 36.1)
    touching = shapely.LineString([(100.1, 35.9), (100.1, 36.2)])
    inside = shapely.Point(100.05, 36.05)
    far = shapely.Point(100.5, 36.05)
    out = distances(_gs([park]), {"railway": _gs([touching]), "station": _gs([inside, far]),
                                  "airport": _gs([far])})
    assert out.loc[0, "dist_railway_km"] == 0.0
    assert out.loc[0, "dist_station_km"] == 0.0
    assert out.loc[0, "dist_airport_km"] == pytest.approx(brute_distance_km(park, far), rel=1e-4)
    assert list(out.columns) == ["dist_railway_km", "dist_station_km", "dist_airport_km"]
    with pytest.raises(InputError, match="unknown transport kind"):
        distances(_gs([park]), {"tram": _gs([far])})


def test_parse_source():
    assert parse_source("C:/data/roads.gpkg:expressway")[1] == "expressway"
    with pytest.raises(InputError):
        parse_source("roads.gpkg")


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="36.00" lon="103.80"/><node id="2" lat="36.00" lon="103.90"/>
  <node id="3" lat="36.10" lon="103.80"/><node id="4" lat="36.10" lon="103.90"/>
  <node id="5" lat="36.05" lon="103.95"><tag k="railway" v="station"/><tag k="name" v="S"/></node>
  <node id="6" lat="36.25" lon="103.70"><tag k="aeroway" v="aerodrome"/></node>
  <node id="7" lat="36.20" lon="103.80"/><node id="8" lat="36.20" lon="103.90"/>
  <node id="9" lat="36.25" lon="103.75"><tag k="railway" v="halt"/></node>
  <node id="20" lat="36.30" lon="103.60"/><node id="21" lat="36.30" lon="103.62"/>
  <node id="22" lat="36.32" lon="103.62"/><node id="23" lat="36.32" lon="103.60"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/><tag k="railway" v="rail"/></way>
  <way id="12"><nd ref="1"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="13"><nd ref="7"/><nd ref="8"/><tag k="highway" v="trunk"/></way>
  <way id="14"><nd ref="2"/><nd ref="4"/><tag k="highway" v="primary"/></way>
  <way id="15"><nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="20"/>
    <tag k="aeroway" v="aerodrome"/><tag k="name" v="Field"/></way>
</osm>
"""


def test_osm_tag_rules_through_gdal_osm_driver(tmp_path):
    # GDAL's OSM driver reads .osm XML and .osm.pbf alike; XML is written here because making a
    # .pbf needs extra tools (osmium), which the project does not depend on.
    path = tmp_path / "extract.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    got = read_osm(path)
    assert sorted(got) == ["airport", "expressway", "major_road", "railway", "station"]
    assert len(got["expressway"]) == 1 and len(got["railway"]) == 1
    assert len(got["major_road"]) == 2  # trunk + primary; residential ignored
    assert len(got["station"]) == 1  # railway=halt is not a station
    assert sorted(got["airport"].geom_type) == ["MultiPolygon", "Point"]
    park = _gs([shapely.box(103.82, 36.02, 103.86, 36.04)])
    d = distances(park, got)
    assert d.loc[0, "dist_expressway_km"] == pytest.approx(brute_distance_km(park[0], got["expressway"].geometry[0]), rel=1e-3)


def test_overlapping_redline_polygons_are_not_double_counted():
    park = shapely.box(0, 0, 1000, 1000)  # 1 km², EQUAL_AREA metres
    red = gpd.GeoDataFrame(geometry=[shapely.box(500, -100, 1500, 1100), shapely.box(600, 0, 1200, 500),
                                     shapely.box(-200, 800, 200, 1200)], crs=EQUAL_AREA)
    out = redline_overlap(np.array([park]), np.array([1.0]), red)
    # right half 0.5 km² (the second polygon lies inside it) + corner 200 x 200 m = 0.04 km²
    assert out.loc[0, "redline_overlap_km2"] == pytest.approx(0.54)
    assert out.loc[0, "redline_overlap_pct"] == pytest.approx(54.0)


def test_zone_with_largest_share_and_all_zones_touched():
    park = shapely.box(0, 0, 1000, 1000)
    zones = gpd.GeoDataFrame({"zone": ["A", "B", "B", "C"]},
                             geometry=[shapely.box(-500, -500, 300, 1500), shapely.box(300, -500, 800, 1500),
                                       shapely.box(800, -500, 900, 1500), shapely.box(2000, 0, 3000, 1000)],
                             crs=EQUAL_AREA).to_crs(4326)
    out = zone_membership(np.array([park]), np.array([1.0]), zones)
    assert out.loc[0, "zone"] == "B"
    assert out.loc[0, "zone_share_pct"] == pytest.approx(60.0, rel=1e-6)
    assert out.loc[0, "zones"] == "B; A"
    with pytest.raises(InputError, match="no field"):
        zone_membership(np.array([park]), np.array([1.0]), zones, "name")

"""GCJ-02, CGCS2000 Gauss-Krüger zones and equal-area helpers, against independent oracles."""
import numpy as np
import prcoords
import pyproj
import pytest
import shapely

from core import crs
from core.geodesic import geodesic_area_m2

# 20 points spread over Gansu's extent (lon 92.5-108.5, lat 32.8-42.5)
LONS = np.linspace(92.5, 108.5, 5)
LATS = np.linspace(32.8, 42.5, 4)
POINTS = [(lo, la) for lo in LONS for la in LATS]


def test_twenty_points_round_trip_within_1mm():
    """docs/data.md: "round trip < 1 mm" — checked at that promise, not at 1 m."""
    lon = np.array([p[0] for p in POINTS])
    lat = np.array([p[1] for p in POINTS])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    err = crs.geodesic_distance_m(lon, lat, wlon, wlat)
    assert len(POINTS) == 20
    assert err.max() < 1e-3, err.max()


def test_round_trip_within_1mm_on_a_dense_grid_and_from_the_gcj02_side():
    """Both directions over a 40×40 grid of Gansu: WGS84 → GCJ-02 → WGS84 and GCJ-02 → WGS84 →
    GCJ-02 (a Gaode coordinate read in and written back out)."""
    lon, lat = np.meshgrid(np.linspace(92.5, 108.5, 40), np.linspace(32.8, 42.5, 40))
    lon, lat = lon.ravel(), lat.ravel()
    w = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert crs.geodesic_distance_m(lon, lat, w[0], w[1]).max() < 1e-3
    g = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lon, lat))
    assert crs.geodesic_distance_m(lon, lat, g[0], g[1]).max() < 1e-3


def test_forward_matches_public_domain_oracle():
    for lon, lat in POINTS:
        g = prcoords.wgs_gcj((lat, lon))
        ours = crs.wgs84_to_gcj02(lon, lat)
        assert crs.geodesic_distance_m(g.lon, g.lat, float(ours[0]), float(ours[1])) < 0.01


# DOMAIN.md §5 / docs/data.md "Coordinates and areas": the public formula shifts points by 18–556 m in the
# Gansu bounding box; Lanzhou ≈ 219 m, Jiuquan ≈ 106 m, Qingyang ≈ 430 m (city centres below)
GANSU_BBOX = (92.34, 32.60, 108.71, 42.79)  # the province's bounding box (cnmaps outline, WGS84)


@pytest.mark.parametrize("lon,lat,metres", [(103.834, 36.061, 219), (98.494, 39.733, 106), (107.638, 35.734, 430)],
                         ids=["Lanzhou", "Jiuquan", "Qingyang"])
def test_city_shifts_are_the_stated_figures(lon, lat, metres):
    g = crs.wgs84_to_gcj02(lon, lat)
    d = float(crs.geodesic_distance_m(lon, lat, g[0], g[1]))
    assert abs(d - metres) < 1.0, d
    o = prcoords.wgs_gcj((lat, lon))  # the independent implementation agrees to the centimetre
    assert abs(float(crs.geodesic_distance_m(lon, lat, o.lon, o.lat)) - d) < 0.01


def test_shift_range_in_the_gansu_bounding_box_is_the_stated_one():
    """18 m at the least (17.6 m, near 96.6°E 37.1°N) and at most 531 m (the north-east corner) on a
    600 × 400 grid of the box — inside the stated 18–556 m."""
    lon, lat = np.meshgrid(np.linspace(GANSU_BBOX[0], GANSU_BBOX[2], 600), np.linspace(GANSU_BBOX[1], GANSU_BBOX[3], 400))
    g = crs.wgs84_to_gcj02(lon.ravel(), lat.ravel())
    d = crs.geodesic_distance_m(lon.ravel(), lat.ravel(), g[0], g[1])
    assert round(d.min()) == 18, d.min()
    assert 529.0 < d.max() <= 556.0, d.max()


def test_no_offset_outside_china():
    g = crs.wgs84_to_gcj02(2.35, 48.85)
    assert float(g[0]) == 2.35 and float(g[1]) == 48.85


def test_geometry_round_trip_within_1mm():
    poly = shapely.box(103.7, 36.0, 103.9, 36.1).segmentize(0.01)
    shifted = crs.geom_wgs84_to_gcj02(poly)
    back = crs.geom_gcj02_to_wgs84(shifted)
    a, b = shapely.get_coordinates(poly), shapely.get_coordinates(back)
    assert a.shape == b.shape
    assert crs.geodesic_distance_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 1e-3
    # and the geometry really went through GCJ-02 (≈ 220 m at Lanzhou), not an identity
    s = shapely.get_coordinates(shifted)
    assert crs.geodesic_distance_m(a[:, 0], a[:, 1], s[:, 0], s[:, 1]).min() > 100


@pytest.mark.parametrize("lon,width,prefix,expected", [
    (108.0, 3, True, 4524), (108.0, 3, False, 4545), (93.2, 3, True, 4519),
    (105.0, 6, True, 4496), (105.0, 6, False, 4507)])
def test_cgcs2000_gauss_kruger_epsg(lon, width, prefix, expected):
    code = crs.cgcs2000_gk_epsg(lon, width, prefix)
    assert code == expected
    c = pyproj.CRS.from_epsg(code)
    assert "CGCS2000" in c.name and "Gauss-Kruger" in c.name
    cm = next(p.value for p in c.coordinate_operation.params if "longitude" in p.name.lower())
    assert abs(lon - cm) <= width / 2


def test_every_gansu_longitude_has_a_zone():
    for lon in np.arange(92.0, 109.0, 0.25):
        for width in (3, 6):
            c = pyproj.CRS.from_epsg(crs.cgcs2000_gk_epsg(float(lon), width))
            cm = next(p.value for p in c.coordinate_operation.params if "longitude" in p.name.lower())
            assert abs(lon - cm) <= width / 2 + 1e-9


def test_equal_area_matches_geodesic_for_a_one_degree_cell():
    import geopandas as gpd

    cell = shapely.box(103, 36, 104, 37)
    g = gpd.GeoSeries([cell], crs=4326)
    ea = crs.equal_area_km2(g)[0]
    geod = geodesic_area_m2(cell) / 1e6
    # hand check: 1°x1° at 36.5N ≈ 111.0 km × 89.4 km ≈ 9,930 km²
    assert 9850 < geod < 10000
    assert abs(ea - geod) / geod < 1e-3


def test_equal_area_km2_measures_a_polar_cap_on_the_ellipsoid_not_in_albers_china():
    """The shared area function (catalog, Home figures, park areas) switches to the ellipsoid far
    from China; the south polar cap below 60°S by the closed form of an ellipsoidal zone."""
    import math

    import geopandas as gpd
    import shapely

    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(phi):
        s = math.sin(math.radians(phi))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    cap_km2 = math.pi * a * a * (1 - e2) * (q(-60) - q(-90)) / 1e6
    cap = gpd.GeoSeries([shapely.box(-180, -90, 180, -60)], crs=4326)
    gansu = gpd.GeoSeries([shapely.box(103, 36, 104, 37)], crs=4326)
    got = crs.equal_area_km2(cap)[0]
    assert got == pytest.approx(cap_km2, rel=1e-3)  # ~34.4 million km²
    assert crs.equal_area_km2(gpd.GeoDataFrame(geometry=gansu))[0] == pytest.approx(
        gansu.to_crs(crs.EQUAL_AREA).area.iloc[0] / 1e6, rel=1e-12)  # near China: Albers as before

"""Area-weighted criterion statistics (``zonal.rasterstats``) and DEM terrain (``zonal.terrain``), on
rasters written here with rasterio.

- Weighted mean/min/max/p10/p90 by hand on a 2 × 6 raster; nodata and zero-coverage cells left out.
- The mean equals exactextract's ``mean`` (1e-9 relative) on irregular parks on an equal-area raster
  (there exactextract's coverage weighting and the area weighting coincide); the geodesic weighting
  of a geographic raster is checked by hand on two rows of very different latitude.
- Slope (Horn) of planes of known gradient: atan(g) within 0.01°, projected (UTM 48N, 30 m) and
  geographic (1/1200°, the plane built from geodesic distances); a kinked surface for the p90; nodata
  and the raster's edge leave cells without slope.
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from zonal.rasterstats import criterion_stats
from zonal.terrain import terrain_stats

ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=krass +units=m +no_defs"
UTM48 = "EPSG:32648"
ALL = ("mean", "min", "max", "p10", "p90")


def write(path, data, transform, crs, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data, 1)
    return str(path)


def to_map(coords, x0, y0, cell):
    """Pixel (column u, row v) coordinates to map coordinates of a north-up grid."""
    return [(x0 + u * cell, y0 - v * cell) for u, v in coords]


def series(geoms, crs):
    return gpd.GeoSeries(geoms, crs=crs)


# --- criterion statistics by hand ---------------------------------------------------------------
X0, Y0, C = 500000.0, 4000000.0, 10.0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Row 0: values 1 2 3 4 5 100, row 1: 200 200 nodata 7 200 200 (Albers, 10 m cells).

    The park (pixel coordinates) covers row 0 from u = 0.75 to 4.25 with a notch taking the top
    half of column 2, and in row 1 the columns u = 2 … 3.25. Coverage: row 0 = .25 1 .5 1 .25 0,
    row 1 = 0 0 1 .25 0 0 (all of the nodata cell, a quarter of the 7). Valid weights (cell units):
    value 1: .25, 2: 1, 3: .5, 4: 1, 5: .25, 7: .25 → W = 3.25.
    """
    data = np.array([[1, 2, 3, 4, 5, 100], [200, 200, -9999, 7, 200, 200]], dtype="float32")
    path = write(tmp_path_factory.mktemp("tiny") / "crit.tif", data, Affine(C, 0, X0, 0, -C, Y0), ALBERS,
                 nodata=-9999)
    park = shapely.Polygon(to_map([(0.75, 0), (2, 0), (2, 0.5), (3, 0.5), (3, 0), (4.25, 0), (4.25, 1), (3.25, 1),
                                   (3.25, 2), (2, 2), (2, 1), (0.75, 1)], X0, Y0, C))
    return path, park


def test_weighted_stats_by_hand(tiny):
    path, park = tiny
    r = criterion_stats(series([park], ALBERS), path, ALL).iloc[0]
    # mean = (.25·1 + 1·2 + .5·3 + 1·4 + .25·5 + .25·7) / 3.25 = 10.75 / 3.25
    assert r["mean"] == pytest.approx(10.75 / 3.25, rel=1e-12)
    # cumulative weights by value: 1 → .25, 2 → 1.25, 3 → 1.75, 4 → 2.75, 5 → 3.0, 7 → 3.25
    assert r["p10"] == 2.0  # first cumulative ≥ 0.325 (an unweighted quantile would give 1)
    assert r["p90"] == 5.0  # first cumulative ≥ 2.925
    assert r["min"] == 1.0
    assert r["max"] == 7.0  # not 200 (zero coverage inside the window), not 100, not nodata


def test_nan_outside_and_only_nodata(tiny):
    path, _ = tiny
    outside = shapely.box(X0 - 100, Y0 + 50, X0 - 50, Y0 + 100)
    only_nodata = shapely.Polygon(to_map([(2.1, 1.1), (2.9, 1.1), (2.9, 1.9), (2.1, 1.9)], X0, Y0, C))
    df = criterion_stats(series([outside, only_nodata, None], ALBERS), path, ALL)
    assert df.isna().all().all()
    assert list(df.columns) == list(ALL)


def test_park_in_another_crs_is_reprojected(tiny):
    path, park = tiny
    ll = series([park], ALBERS).to_crs(4326)
    r = criterion_stats(ll, path, ("mean", "p90")).iloc[0]
    assert r["mean"] == pytest.approx(10.75 / 3.25, rel=1e-7)
    assert r["p90"] == 5.0


# --- mean against exactextract -------------------------------------------------------------------
def star(cx, cy, r_out, r_in, n=7):
    pts = []
    for k in range(2 * n):
        r = r_out if k % 2 == 0 else r_in
        a = math.pi * k / n + 0.1
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return shapely.Polygon(pts)


@pytest.fixture(scope="module")
def albers_field(tmp_path_factory):
    """120 × 100 cells of 30 m in Albers: GHI-like values (1600 ± 80 kWh/m²/yr, random), a block and
    scattered cells of nodata.

    exactextract keeps coverage fractions as float32 (ours rounded to float32 equal its fractions
    cell for cell), so the two means differ by ~1e-8 × spread/mean / √cells; on this field the
    largest difference over 20 seeds was 3.5e-10 (the sliver). With 500 ± 120 the sliver reached
    1.8e-9: the 1e-9 agreement is that of float32 weights, not a defect of either side."""
    rng = np.random.default_rng(7)
    data = rng.normal(1600.0, 80.0, (120, 100))
    data[40:52, 30:45] = -9999.0
    data[rng.random(data.shape) < 0.02] = -9999.0
    x0, y0, c = 200000.0, 4100000.0, 30.0
    path = write(tmp_path_factory.mktemp("field") / "field.tif", data, Affine(c, 0, x0, 0, -c, y0), ALBERS,
                 nodata=-9999.0)
    m = lambda u, v: (x0 + u * c, y0 - v * c)  # noqa: E731 - pixel → map
    concave = star(*m(30.3, 30.7), 600.0, 170.0)
    ring = shapely.Polygon([m(55.2, 20.1), m(90.4, 22.9), m(88.7, 60.3), m(57.9, 58.8)],
                           holes=[[m(65.5, 30.2), m(80.1, 33.3), m(77.7, 50.6), m(66.6, 47.1)]])
    partly_out = shapely.Polygon([m(-12.3, -7.7), m(20.6, -3.1), m(25.2, 14.4), m(6.5, 25.9), m(-9.9, 18.2)])
    l_shape = shapely.Polygon([m(10.2, 70.3), m(60.7, 70.3), m(60.7, 80.9), m(25.1, 80.9), m(25.1, 110.6),
                               m(10.2, 110.6)])
    multi = shapely.MultiPolygon([star(*m(80.5, 95.5), 400.0, 200.0, 5), shapely.box(*m(70.2, 118.8), *m(99.6, 112.1))])
    sliver = shapely.Polygon([m(35.05, 85.0), m(95.3, 102.2), m(95.0, 103.1)])
    return path, [concave, ring, partly_out, l_shape, multi, sliver]


def test_mean_equals_exactextract(albers_field):
    from exactextract import exact_extract

    path, parks = albers_field
    gs = series(parks, ALBERS)
    ours = criterion_stats(gs, path, ("mean",))["mean"].to_numpy()
    theirs = exact_extract(path, gpd.GeoDataFrame(geometry=gs), ["mean"], output="pandas")["mean"].to_numpy()
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)


def test_geodesic_weighting_two_latitudes(tmp_path):
    """Geographic raster, one column of 10° and two rows of 15°: 55–70°N (value 10) and 40–55°N
    (value 20). Each row's weight is its ground area, measured here with pyproj.Geod on the cell
    outline densified along the parallels; a coverage-only mean (exactextract's) would be 15."""
    data = np.array([[10.0], [20.0]])
    path = write(tmp_path / "geo.tif", data, Affine(10.0, 0, 100.0, 0, -15.0, 70.0), "EPSG:4326")
    geod = pyproj.Geod(ellps="WGS84")

    def cell_area(lat_s, lat_n):
        lons = np.linspace(100.0, 110.0, 2001)
        xs = np.concatenate([lons, lons[::-1]])
        ys = np.concatenate([np.full(lons.size, lat_s), np.full(lons.size, lat_n)])
        return abs(geod.polygon_area_perimeter(xs, ys)[0])

    a_top, a_bottom = cell_area(55.0, 70.0), cell_area(40.0, 55.0)
    expected = (10.0 * a_top + 20.0 * a_bottom) / (a_top + a_bottom)
    assert abs(expected - 15.0) > 0.5  # the two rows really differ in area
    park = shapely.box(100.0, 40.0, 110.0, 70.0)
    r = criterion_stats(series([park], "EPSG:4326"), path, ("mean", "p10", "p90")).iloc[0]
    assert r["mean"] == pytest.approx(expected, rel=1e-6)
    assert (r["p10"], r["p90"]) == (10.0, 20.0)


# --- terrain -----------------------------------------------------------------------------------------
UX0, UY0, UC = 392010.0, 3990000.0, 30.0  # UTM 48N near Lanzhou, 30 m cells
N = 60


def utm_dem(tmp_path, z, name="dem.tif", nodata=None, crs=UTM48):
    return write(tmp_path / name, z, Affine(UC, 0, UX0, 0, -UC, UY0), crs, nodata=nodata)


def cell_centres(n=N):
    u = (np.arange(n) + 0.5) * UC  # easting offset of column centres
    v = -(np.arange(n) + 0.5) * UC  # northing offset of row centres
    return np.meshgrid(u, v)


UTM_PARK = shapely.Polygon(to_map([(8.3, 9.1), (40.2, 6.6), (51.7, 30.4), (30.5, 25.2), (33.3, 50.8), (12.2, 44.4)],
                                  UX0, UY0, UC))


@pytest.mark.parametrize("g", [0.02, 0.3, 1.0, 2.5])
def test_slope_of_plane_projected(tmp_path, g):
    x, _ = cell_centres()
    path = utm_dem(tmp_path, g * x + 1500.0)
    r = terrain_stats(series([UTM_PARK], UTM48), path).iloc[0]
    want = math.degrees(math.atan(g))
    assert abs(r["slope_mean_deg"] - want) < 0.01
    assert abs(r["slope_p90_deg"] - want) < 0.01
    assert 1500.0 < r["elev_mean_m"] < 1500.0 + g * N * UC


def test_slope_of_diagonal_plane_projected(tmp_path):
    x, y = cell_centres()
    a, b = 0.3, -0.4
    path = utm_dem(tmp_path, a * x + b * y + 2000.0)
    r = terrain_stats(series([UTM_PARK], UTM48), path).iloc[0]
    assert abs(r["slope_mean_deg"] - math.degrees(math.atan(math.hypot(a, b)))) < 0.01  # 26.565°


def test_elevation_mean_of_a_plane(tmp_path):
    """A box park on whole cells of an equal-area DEM: the mean of the cell-centre elevations."""
    x, _ = cell_centres()
    z = 0.1 * x + 1000.0
    path = utm_dem(tmp_path, z, crs=ALBERS)
    park = shapely.box(UX0 + 10 * UC, UY0 - 40 * UC, UX0 + 30 * UC, UY0 - 20 * UC)  # columns 10–29
    r = terrain_stats(series([park], ALBERS), path).iloc[0]
    assert r["elev_mean_m"] == pytest.approx(1000.0 + 0.1 * 20.0 * UC, rel=1e-12)  # centre x = 20 cells


LON0, LAT0, G = 103.0, 36.5, 1.0 / 1200.0  # geographic DEM: NW corner, cell size in degrees


def geographic_dem(tmp_path, a, b, n=80):
    """z = a · (geodesic distance east of the west edge) + b · (meridian distance north of the south
    edge), per cell centre on WGS84: a surface rising a m per m eastward and b m per m northward."""
    geod = pyproj.Geod(ellps="WGS84")
    lat = LAT0 - (np.arange(n) + 0.5) * G
    lon = LON0 + (np.arange(n) + 0.5) * G
    lo, la = np.meshgrid(lon, lat)
    east = geod.inv(np.full(lo.size, LON0), la.ravel(), lo.ravel(), la.ravel())[2].reshape(lo.shape)
    south = LAT0 - n * G
    north = geod.inv(np.full(lat.size, LON0), np.full(lat.size, south), np.full(lat.size, LON0), lat)[2]
    z = a * east + b * north[:, None] + 1800.0
    return write(tmp_path / "geo_dem.tif", z, Affine(G, 0, LON0, 0, -G, LAT0), "EPSG:4326")


GEO_PARK = shapely.Polygon([(LON0 + u * G, LAT0 - v * G) for u, v in
                            [(5.5, 6.2), (70.1, 4.4), (60.3, 40.0), (74.2, 72.7), (20.9, 66.1), (33.3, 35.5)]])


@pytest.mark.parametrize("g", [0.05, 0.5, 2.0])
def test_slope_of_plane_geographic(tmp_path, g):
    path = geographic_dem(tmp_path, g, 0.0)
    r = terrain_stats(series([GEO_PARK], "EPSG:4326"), path).iloc[0]
    want = math.degrees(math.atan(g))
    assert abs(r["slope_mean_deg"] - want) < 0.01
    assert abs(r["slope_p90_deg"] - want) < 0.01


def test_slope_of_diagonal_plane_geographic(tmp_path):
    """The east distance of a fixed longitude shrinks northward (∝ cos latitude), so this surface also
    rises a · ∂(east)/∂y ≈ −a · east · tan(lat) / R northward: its true slope is up to ~0.004° above
    atan(hypot(a, b)) at the park's east side; the tolerance (0.01°) is the issue's."""
    path = geographic_dem(tmp_path, 0.12, 0.35)
    r = terrain_stats(series([GEO_PARK], "EPSG:4326"), path).iloc[0]
    assert abs(r["slope_mean_deg"] - math.degrees(math.atan(math.hypot(0.12, 0.35)))) < 0.01  # 20.29°


def test_horn_kernel_on_a_single_bump(tmp_path):
    """Flat DEM (30 m cells) with one cell raised h = 24 m at row 10, column 10; one-cell parks.
    Horn: the cell west of it sees the bump at f: dz/dx = 2h / (8 · 30) = 0.2 → atan(0.2) = 11.31°;
    the cell south-west of it sees it at c: dz/dx = dz/dy = h / 240 = 0.1 → atan(0.1 · √2) = 8.05°
    (a centre-row difference would give 0 there); the bump itself has a flat neighbourhood → 0."""
    z = np.full((20, 20), 500.0)
    z[10, 10] += 24.0
    path = utm_dem(tmp_path, z, crs=ALBERS)
    cell = lambda r, c: shapely.box(UX0 + c * UC, UY0 - (r + 1) * UC, UX0 + (c + 1) * UC, UY0 - r * UC)  # noqa: E731
    df = terrain_stats(series([cell(10, 9), cell(11, 9), cell(10, 10)], ALBERS), path)
    np.testing.assert_allclose(df["slope_mean_deg"], [math.degrees(math.atan(0.2)),
                                                      math.degrees(math.atan(0.1 * math.sqrt(2))), 0.0],
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["elev_mean_m"], [500.0, 500.0, 524.0], rtol=1e-15)


def test_slope_p90_on_a_kinked_surface(tmp_path):
    """z rises g1 per m west of column 30 and g2 per m east of it (equal-area DEM, equal cell areas).
    Horn gives atan(g1) on columns ≤ 29, atan((g1 + g2) / 2) on column 30, atan(g2) on columns ≥ 31.
    The park covers columns 21–32 (9 + 1 + 2 columns) of rows 10–19: weights 9/12, 1/12, 2/12, so
    p90 = atan(g2) (cumulative 10/12 < 0.9 before it), mean = (9 s1 + s_mid + 2 s2) / 12."""
    g1, g2, k = 0.1, 0.6, 30
    x, _ = cell_centres()
    xk = (k + 0.5) * UC
    z = np.where(x <= xk, g1 * x, g1 * xk + g2 * (x - xk)) + 1200.0
    path = utm_dem(tmp_path, z, crs=ALBERS)
    park = shapely.box(UX0 + 21 * UC, UY0 - 20 * UC, UX0 + 33 * UC, UY0 - 10 * UC)
    r = terrain_stats(series([park], ALBERS), path).iloc[0]
    s1, s2, sm = (math.degrees(math.atan(v)) for v in (g1, g2, (g1 + g2) / 2))
    assert r["slope_p90_deg"] == pytest.approx(s2, abs=1e-9)
    assert r["slope_mean_deg"] == pytest.approx((9 * s1 + sm + 2 * s2) / 12, abs=1e-9)


def test_dem_nodata_and_edge_leave_no_slope(tmp_path):
    """A plane (g = 0.25, equal-area DEM) with one nodata cell at row 20, column 20.
    - a park on cell (20, 21) (next to the nodata): elevation, no slope;
    - a park on rows 15–24, columns 15–24 (the nodata inside): slope exactly atan(0.25) (the 8
      neighbours of the hole have no slope, the hole no value), elevation = mean of the 99 others;
    - a park on column 0 (the raster's west edge): elevation, no slope;
    - a park outside the DEM: all NaN."""
    g = 0.25
    x, _ = cell_centres()
    z = g * x + 100.0
    z[20, 20] = -9999.0
    path = utm_dem(tmp_path, z, nodata=-9999.0, crs=ALBERS)
    cell = lambda r, c: shapely.box(UX0 + c * UC, UY0 - (r + 1) * UC, UX0 + (c + 1) * UC, UY0 - r * UC)  # noqa: E731
    block = shapely.box(UX0 + 15 * UC, UY0 - 25 * UC, UX0 + 25 * UC, UY0 - 15 * UC)
    edge = shapely.box(UX0, UY0 - 30 * UC, UX0 + UC, UY0 - 10 * UC)
    outside = shapely.box(UX0 - 900.0, UY0 + 300.0, UX0 - 600.0, UY0 + 600.0)
    df = terrain_stats(series([cell(20, 21), block, edge, outside], ALBERS), path)
    assert df.iloc[0]["elev_mean_m"] == pytest.approx(100.0 + g * 21.5 * UC, rel=1e-12)
    assert np.isnan(df.iloc[0]["slope_mean_deg"]) and np.isnan(df.iloc[0]["slope_p90_deg"])
    want = math.degrees(math.atan(g))
    assert df.iloc[1]["slope_mean_deg"] == pytest.approx(want, abs=1e-9)
    assert df.iloc[1]["slope_p90_deg"] == pytest.approx(want, abs=1e-9)
    assert df.iloc[1]["elev_mean_m"] == pytest.approx((100.0 + g * 20.0 * UC) * 100 / 99 - (100.0 + g * 20.5 * UC) / 99,
                                                      rel=1e-12)
    assert df.iloc[2]["elev_mean_m"] == pytest.approx(100.0 + g * 0.5 * UC, rel=1e-12)
    assert np.isnan(df.iloc[2]["slope_mean_deg"])
    assert df.iloc[3].isna().all()

"""Exact coverage fractions and area-weighted class areas (projected and geographic rasters)."""
from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine

from zonal.coverage import coverage, pieces, strip_cells
from core.errors import InputError
from zonal import polygonstats
from zonal.landcover import class_areas, raster_class_totals, zonal_codes
from zonal.pixelarea import ellipsoidal_cell_area_m2
from layers.legends import get_legend, load_legend_csv
from tests.indicator_fixtures import ALBERS, geodesic_area_m2, legend_csv, parks_gdf, write_raster


def _brute_coverage(geom, transform, shape, row0, col0):
    ref = np.zeros(shape)
    cell = abs(transform.a * transform.e)
    for r in range(shape[0]):
        for c in range(shape[1]):
            x0, y0 = transform.c + transform.a * (col0 + c), transform.f + transform.e * (row0 + r)
            x1, y1 = x0 + transform.a, y0 + transform.e
            box = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            ref[r, c] = box.intersection(geom).area / cell
    return ref


def test_coverage_matches_polygon_clipping_with_holes():
    rng = np.random.default_rng(1)
    t = Affine(0.7, 0, 10.3, 0, -0.7, 50.1)
    for _ in range(5):
        g = shapely.Polygon(rng.uniform(0, 12, (25, 2)) + [10, 38]).buffer(0.4)
        ring = shapely.Point(16, 44).buffer(3).difference(shapely.Point(16, 44).buffer(1))
        g = shapely.make_valid(g.union(ring))
        cov, r0, c0 = coverage(g, t)
        assert np.abs(cov - _brute_coverage(g, t, cov.shape, r0, c0)).max() < 1e-9
        p = pieces(g, t)
        sc = strip_cells(p, 2, 9)  # sparse form (boundary cells + interior runs) of rows 2..8
        dense = np.zeros((7, p.width))
        for r, s, e in zip(sc.run_row, sc.run_start, sc.run_end):
            dense[r, s:e] = 1.0
        dense[sc.row, sc.col] = sc.cov
        assert np.abs(dense - cov[2:9]).max() < 1e-9


def test_pixel_aligned_and_half_pixel_edges_are_exact():
    t = Affine(1, 0, 0, 0, -1, 10)
    cov, r0, c0 = coverage(shapely.box(2, 3, 6, 8), t)
    assert (r0, c0) == (2, 2) and cov.shape == (5, 4) and np.all(cov == 1.0)
    cov, _, _ = coverage(shapely.box(0.5, 0.5, 3.5, 2.5), t)  # edges through cell centres
    expected = np.array([[0.25, 0.5, 0.5, 0.25], [0.5, 1, 1, 0.5], [0.25, 0.5, 0.5, 0.25]])
    assert np.allclose(cov, expected, rtol=0, atol=1e-12)


def test_class_areas_agree_with_exactextract(tmp_path):
    from exactextract import exact_extract

    rng = np.random.default_rng(0)
    data = np.repeat(np.repeat(rng.integers(1, 5, (60, 80)), 3, 0), 3, 1).astype("uint8")
    data[rng.random(data.shape) < 0.1] = rng.integers(1, 5)
    data[:4] = 9  # nodata rows
    t = Affine(30, 0, 100000, 0, -30, 4000000)
    path = write_raster(tmp_path / "r.tif", data, t, nodata=9, tiled=True)
    geoms = [shapely.Point(100000 + rng.uniform(500, 6500), 4000000 - rng.uniform(500, 5000))
             .buffer(rng.uniform(200, 1800)) for _ in range(12)]
    geoms.append(shapely.Polygon([(100500, 3995000), (106000, 3999900), (103000, 3996000)]))
    parks = parks_gdf(geoms)
    ours = zonal_codes(parks, path).code_m2
    ref = exact_extract(str(path), parks, ["unique", "frac", "count"], output="pandas")
    for i in range(len(parks)):
        for code, frac in zip(ref["unique"][i], ref["frac"][i]):
            expected = frac * ref["count"][i] * 900.0
            assert ours.loc[i, int(code)] == pytest.approx(expected, rel=1e-6)


def test_projected_rectangle_half_outside_reports_covered_share(tmp_path):
    data = np.full((10, 10), 1, "uint8")
    data[:, 8:] = 9  # two nodata columns
    t = Affine(100, 0, 0, 0, -100, 1000)
    path = write_raster(tmp_path / "r.tif", data, t, nodata=9)
    legend = load_legend_csv(legend_csv(tmp_path / "legend.csv"))
    # 400 m wide, 200 m tall; x from -200 to 200: half outside the raster on the left
    out = class_areas(parks_gdf([shapely.box(-200, 500, 200, 700), shapely.box(700, 0, 900, 300)]), path, legend)
    assert out.loc[0, "lc_forest_km2"] == pytest.approx(0.04 * 2 / 4 * 2, rel=1e-12)  # 200x200 m
    assert out.loc[0, "landcover_coverage_pct"] == pytest.approx(50.0)
    assert out.loc[0, "landcover_pixels"] == pytest.approx(4.0)
    # second park: 100 m in column 7 (data) and 100 m in column 8 (nodata)
    assert out.loc[1, "lc_forest_km2"] == pytest.approx(0.03)
    assert out.loc[1, "landcover_coverage_pct"] == pytest.approx(50.0)


@pytest.mark.parametrize("lat0", [5.0, 60.0])
def test_geographic_raster_areas_match_geodesic_pixel_pieces(tmp_path, lat0):
    rng = np.random.default_rng(int(lat0))
    d = 0.01
    data = rng.integers(1, 5, (40, 40)).astype("uint8")
    t = Affine(d, 0, 100.0, 0, -d, lat0 + 0.4)
    path = write_raster(tmp_path / "g.tif", data, t, crs="EPSG:4326")
    park = shapely.Polygon([(100.031, lat0 + 0.012), (100.33, lat0 + 0.07), (100.21, lat0 + 0.371),
                            (100.05, lat0 + 0.29)])
    expected = {}
    for r in range(40):
        for c in range(40):
            x0, y1 = t.c + t.a * c, t.f + t.e * r
            piece = shapely.box(x0, y1 - d, x0 + d, y1).intersection(park)
            if not piece.is_empty:
                expected[data[r, c]] = expected.get(data[r, c], 0.0) + geodesic_area_m2(piece)
    got = zonal_codes(parks_gdf([park], crs="EPSG:4326"), path).code_m2.iloc[0]
    for code, area in expected.items():
        assert got[int(code)] == pytest.approx(area, rel=1e-3)
    assert got.sum() == pytest.approx(geodesic_area_m2(park), rel=1e-4)


def test_cell_area_formula_against_geod():
    ell = pyproj.CRS("EPSG:4326").ellipsoid
    for lat in (0.0, 40.0, 70.0):
        for dd in (1 / 12000, 0.05):  # WorldCover 10 m and MCD12C1 cells
            ref = geodesic_area_m2(shapely.box(100, lat, 100 + dd, lat + dd))
            got = ellipsoidal_cell_area_m2(lat, lat + dd, dd, ell.semi_major_metre, ell.semi_minor_metre)
            assert got == pytest.approx(ref, rel=1e-6)
    a40 = ellipsoidal_cell_area_m2(40, 40 + 1 / 12000, 1 / 12000, ell.semi_major_metre, ell.semi_minor_metre)
    a0 = ellipsoidal_cell_area_m2(0, 1 / 12000, 1 / 12000, ell.semi_major_metre, ell.semi_minor_metre)
    assert 0.76 < a40 / a0 < 0.78  # a 10 m WorldCover cell at 40N is ~77% of one at the equator


def test_utm_raster_is_corrected_for_projection_scale(tmp_path):
    utm = "EPSG:32648"  # zone 48N; easting 150 km is ~350 km west of the central meridian
    data = np.ones((200, 200), "uint8")
    t = Affine(30, 0, 150000, 0, -30, 4200000)
    path = write_raster(tmp_path / "u.tif", data, t, crs=utm)
    park = parks_gdf([shapely.box(151000, 4195000, 155000, 4199000)], crs=utm)
    got = zonal_codes(park, path).code_m2.iloc[0, 0]
    truth = geodesic_area_m2(park.to_crs(4326).geometry.iloc[0])
    assert got == pytest.approx(truth, rel=1e-4)
    assert abs(16e6 / truth - 1) > 1e-3  # the uncorrected grid area would be off by > 0.1%


def test_mcd12c1_water_code_zero_and_fill(tmp_path):
    data = np.array([[0, 17, 10, 255]], "uint8")
    path = write_raster(tmp_path / "m.tif", data, Affine(0.05, 0, 100, 0, -0.05, 36), crs="EPSG:4326", nodata=255)
    out = class_areas(parks_gdf([shapely.box(100, 35.95, 100.2, 36)], crs="EPSG:4326"), path, "igbp")
    cell = ellipsoidal_cell_area_m2(35.95, 36, 0.05, 6378137.0, 6356752.314245179) / 1e6
    assert out.loc[0, "lc_water_km2"] == pytest.approx(2 * cell)
    assert out.loc[0, "lc_grassland_km2"] == pytest.approx(cell)
    assert out.loc[0, "landcover_coverage_pct"] == pytest.approx(75.0, rel=1e-6)
    assert out.loc[0, "landcover_pixels"] == pytest.approx(4.0)


def test_unknown_code_for_legend_is_an_error(tmp_path):
    path = write_raster(tmp_path / "r.tif", np.array([[1, 42]], "uint8"), Affine(30, 0, 0, 0, -30, 30))
    with pytest.raises(InputError, match=r"\[42\]"):
        class_areas(parks_gdf([shapely.box(0, 0, 60, 30)]), path, "clcd")


def test_raster_without_crs_is_an_error(tmp_path):
    path = write_raster(tmp_path / "r.tif", np.ones((2, 2), "uint8"), Affine(30, 0, 0, 0, -30, 60), crs=None)
    with pytest.raises(InputError, match="no CRS"):
        class_areas(parks_gdf([shapely.box(0, 0, 30, 30)]), path, "clcd")


def test_raster_class_totals_whole_masked_and_geographic(tmp_path):
    data = np.array([[1, 1, 2, 0], [3, 3, 2, 0]], "uint8")
    path = write_raster(tmp_path / "r.tif", data, Affine(30, 0, 0, 0, -30, 60), nodata=0)
    tot = raster_class_totals(path, "clcd").set_index("code")["area_km2"]
    assert tot.to_dict() == pytest.approx({1: 0.0018, 2: 0.0018, 3: 0.0018})
    assert raster_class_totals(path, "clcd").attrs["nodata_km2"] == pytest.approx(0.0018)
    masked = raster_class_totals(path, "clcd", mask_geom=shapely.box(15, 0, 75, 30), mask_crs=ALBERS)
    assert masked.set_index("code")["area_km2"].to_dict() == pytest.approx({2: 0.00045, 3: 0.00135})
    g = write_raster(tmp_path / "g.tif", data, Affine(0.05, 0, 100, 0, -0.05, 40), crs="EPSG:4326", nodata=0)
    gt = raster_class_totals(g, get_legend("clcd")).set_index("code")["area_km2"]
    row1 = ellipsoidal_cell_area_m2(39.95, 40, 0.05, 6378137.0, 6356752.314245179) / 1e6
    row2 = ellipsoidal_cell_area_m2(39.9, 39.95, 0.05, 6378137.0, 6356752.314245179) / 1e6
    assert gt[1] == pytest.approx(2 * row1) and gt[3] == pytest.approx(2 * row2)
    assert gt[2] == pytest.approx(row1 + row2)


def test_large_polygons_in_row_strips_give_the_same_areas(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    data = rng.integers(1, 5, (120, 150)).astype("uint8")
    path = write_raster(tmp_path / "r.tif", data, Affine(30, 0, 0, 0, -30, 3600), tiled=True)
    parks = parks_gdf([shapely.Point(2200, 1800).buffer(1700), shapely.box(-500, 100, 900, 4000)])
    whole = zonal_codes(parks, path)
    monkeypatch.setattr(polygonstats, "MAX_STRIP_PIXELS", 300)  # force strips of a few rows
    strips = zonal_codes(parks, path)
    assert np.allclose(whole.code_m2.to_numpy(), strips.code_m2.to_numpy(), rtol=1e-12)
    assert np.allclose(whole.nodata_m2, strips.nodata_m2) and np.allclose(whole.pixels, strips.pixels)

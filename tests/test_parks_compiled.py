"""Per-park code areas on the compiled run counter (zonal/polygonstats.py) against the numpy path
(``polygonstats.COMPILED = False``): the three kinds of grid (equal-area, geographic: one pixel area
per row, UTM: one per cell), uint8 and int16 codes, parks that overlap, a park partly outside the
raster, one wholly outside its window, a park with a hole; and the pipelined many-polygon path
against ``polygon_stats`` one polygon at a time (bit-identical)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from zonal import polygonstats
from zonal.landcover import zonal_codes
from zonal.pixelarea import ellipsoidal_cell_area_m2
from zonal.rastersource import LandcoverRaster
from tests.indicator_fixtures import ALBERS, parks_gdf, write_raster

H, W = 90, 110
GRIDS = {  # crs, transform: ~30 m cells
    "equal_area": (ALBERS, Affine(30, 0, 0, 0, -30, 2700)),
    "geographic": ("EPSG:4326", Affine(0.0003, 0, 100.0, 0, -0.0003, 40.0)),
    "utm": ("EPSG:32648", Affine(30, 0, 500_000, 0, -30, 4_400_000)),
}


def _codes() -> np.ndarray:
    """Land-cover-like uint8 codes: patches of 7 × 5 cells (runs of equal codes) and speckle, 0-255."""
    rng = np.random.default_rng(11)
    patches = np.repeat(np.repeat(rng.integers(0, 256, (H // 5 + 1, W // 7 + 1)), 5, axis=0), 7, axis=1)[:H, :W]
    speck = rng.random((H, W)) < 0.1
    return np.where(speck, rng.integers(0, 256, (H, W)), patches).astype(np.uint8)


def _parks(t: Affine, crs) -> pd.DataFrame:
    """Parks drawn in pixel coordinates (column, row), placed on the grid by its transform."""
    star = shapely.Polygon([(40 + 30 * np.cos(a) * (0.6 + 0.4 * (k % 2)), 45 + 30 * np.sin(a) * (0.6 + 0.4 * (k % 2)))
                            for k, a in enumerate(np.linspace(0, 2 * np.pi, 23, endpoint=False))])
    pix = [
        star,
        shapely.Point(60.3, 50.7).buffer(25.2),  # overlaps the star
        shapely.box(-20.5, -10.25, 30.6, 40.4),  # partly outside the raster (left and top)
        shapely.Point(80.1, 40.2).buffer(22.7).difference(shapely.Point(80.4, 40.9).buffer(9.3)),  # a hole
        shapely.box(W + 20.5, 10.5, W + 50.5, 20.5),  # beyond the right edge: its window is outside
        shapely.box(10.2, 80.1, 10.7, 80.6),  # inside one cell: no run
        shapely.box(W - 15.3, H - 12.6, W + 20.2, H + 9.9),  # partly outside (right and bottom)
    ]
    to_crs = lambda xy: np.column_stack([t.a * xy[:, 0] + t.c, t.e * xy[:, 1] + t.f])  # noqa: E731
    return parks_gdf([shapely.transform(g, to_crs) for g in pix], crs=crs)


def _zonal(path, parks, compiled: bool, monkeypatch):
    monkeypatch.setattr(polygonstats, "COMPILED", compiled)
    return zonal_codes(parks, path)


def _assert_close(a, b):
    assert list(a.code_m2.columns) == list(b.code_m2.columns)
    np.testing.assert_allclose(a.code_m2.to_numpy(), b.code_m2.to_numpy(), rtol=1e-12, atol=0)
    for x, y in ((a.total_m2, b.total_m2), (a.nodata_m2, b.nodata_m2), (a.outside_m2, b.outside_m2),
                 (a.pixels, b.pixels)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_compiled_counter_gives_the_numpy_paths_areas_on_every_kind_of_grid(tmp_path, monkeypatch, grid):
    crs, t = GRIDS[grid]
    codes = _codes()
    u8 = write_raster(tmp_path / "u8.tif", codes, t, crs=crs, tiled=True)
    i16 = write_raster(tmp_path / "i16.tif", codes.astype(np.int16) * 3 - 100, t, crs=crs, tiled=True)
    parks = _parks(t, crs)
    monkeypatch.setattr(polygonstats, "MAX_STRIP_PIXELS", 900)  # strips of a few rows
    new, ref = _zonal(u8, parks, True, monkeypatch), _zonal(u8, parks, False, monkeypatch)
    _assert_close(new, ref)
    # not vacuous: every park but the one beyond the edge has land, the clipped one lies partly outside
    inside = new.code_m2.sum(axis=1).to_numpy()
    assert np.all(inside[[0, 1, 2, 3, 5, 6]] > 0) and inside[4] == 0
    assert new.outside_m2[4] == pytest.approx(new.total_m2[4])
    assert 0 < new.outside_m2[2] < new.total_m2[2] and 0 < new.outside_m2[6] < new.total_m2[6]
    assert new.code_m2.shape[1] > 200  # most of the 256 codes are met
    # int16 codes (3c - 100: negative and > 255) go through numpy either way: the same areas per code
    wide_new, wide_ref = _zonal(i16, parks, True, monkeypatch), _zonal(i16, parks, False, monkeypatch)
    _assert_close(wide_new, wide_ref)
    assert wide_new.code_m2.columns.min() == -100 and wide_new.code_m2.columns.max() == 665
    back = wide_new.code_m2.rename(columns=lambda c: (c + 100) // 3)
    np.testing.assert_allclose(back.to_numpy(), new.code_m2[back.columns].to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(wide_new.total_m2, new.total_m2, rtol=1e-12)
    np.testing.assert_allclose(wide_new.pixels, new.pixels, rtol=1e-12)


def test_uint8_runs_take_the_compiled_counter_and_int16_runs_numpy(tmp_path):
    crs, t = GRIDS["equal_area"]
    codes = _codes()
    u8 = write_raster(tmp_path / "u8.tif", codes, t, crs=crs)
    i16 = write_raster(tmp_path / "i16.tif", codes.astype(np.int16), t, crs=crs)
    g = shapely.box(300.5, 300.5, 1500.5, 1500.5)
    for path, compiled in ((u8, True), (i16, False)):
        with LandcoverRaster(path) as src:
            p = polygonstats.pieces(g, src.transform)
            st = polygonstats._cut(src, p, 0, p.height, src.read(*polygonstats._window(src, p, 0, p.height)), None)
        assert (st.areas is not None) is compiled and (st.numpy_runs is not None) is not compiled


@pytest.mark.parametrize("read_ahead", [1500, 10**9])  # strips wait to be counted; every window read ahead
def test_pipelined_parks_are_bit_identical_to_one_polygon_at_a_time(tmp_path, monkeypatch, read_ahead):
    crs, t = GRIDS["geographic"]
    path = write_raster(tmp_path / "u8.tif", _codes(), t, crs=crs, tiled=True)
    geoms = list(_parks(t, crs).geometry.values)
    geoms = geoms[:2] + [None] + geoms[2:] + geoms[:1]  # an empty park, and a large park last
    monkeypatch.setattr(polygonstats, "MAX_STRIP_PIXELS", 700)
    monkeypatch.setattr(polygonstats, "READ_AHEAD_PIXELS", read_ahead)
    with LandcoverRaster(path) as src:
        together = polygonstats.polygons_stats(src, geoms)
        one_by_one = [polygonstats.polygon_stats(src, g) for g in geoms]
    assert together == one_by_one  # dicts of floats compared exactly
    assert together[2] == polygonstats.PolygonStats.empty() and together[-1] == together[0]


def test_a_park_of_whole_cells_on_a_geographic_grid_by_hand(tmp_path):
    """Rows 1-4, columns 1-6 of a 0.01° grid at 40N (rows 2-3, columns 2-5 are runs no edge enters):
    codes counted by hand, each cell the ellipsoidal area of its row."""
    t = Affine(0.01, 0, 100.0, 0, -0.01, 40.0)
    codes = np.array([[9, 9, 9, 9, 9, 9, 9, 9],
                      [9, 1, 1, 2, 2, 3, 3, 9],
                      [9, 1, 4, 4, 4, 4, 1, 9],
                      [9, 2, 5, 5, 6, 6, 2, 9],
                      [9, 3, 3, 3, 3, 3, 3, 9],
                      [9, 9, 9, 9, 9, 9, 9, 9]], np.uint8)
    path = write_raster(tmp_path / "g.tif", codes, t, crs="EPSG:4326")
    a1, a2, a3, a4 = (float(ellipsoidal_cell_area_m2(40 - 0.01 * r, 40 - 0.01 * (r + 1), 0.01, 6378137.0,
                                                     6356752.314245179)) for r in (1, 2, 3, 4))
    z = zonal_codes(parks_gdf([shapely.box(100.01, 39.95, 100.07, 39.99)], crs="EPSG:4326"), path)
    got = z.code_m2.iloc[0]
    want = {1: 2 * a1 + 2 * a2, 2: 2 * a1 + 2 * a3, 3: 2 * a1 + 6 * a4, 4: 4 * a2, 5: 2 * a3, 6: 2 * a3}
    assert sorted(got.index[got > 0]) == sorted(want)
    for code, area in want.items():
        assert got[code] == pytest.approx(area, rel=1e-12), code
    assert z.pixels[0] == pytest.approx(24, rel=1e-12) and z.total_m2[0] == pytest.approx(6 * (a1 + a2 + a3 + a4), rel=1e-12)

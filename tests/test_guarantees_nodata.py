"""docs/data.md: "nodata is never counted as a class" — the raster's own nodata value too when the legend
does not list it. A CLCD raster whose nodata is 200 (CLCD's legend knows only 0 as no data): the
200 cells are no data in the engine (``landcover.zonal_codes``), the tiled engine (whole and split
polygons), the whole-raster totals, zone statistics and the registration scan."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from zonal import landcover, tiled
from indicators import zonestats
from storage import raster_register
from layers.legends import get_legend
from storage.store import Store

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
X0, Y0, PX = -200_000.0, 4_000_000.0, 30.0  # equal-area 30 m cells: 900 m² each
W, H = 60, 40
NODATA = 200


def px_box(c0, r0, c1, r1):
    return shapely.box(X0 + c0 * PX, Y0 - r1 * PX, X0 + c1 * PX, Y0 - r0 * PX)


@pytest.fixture(scope="module")
def raster(tmp_path_factory):
    """Left half forest (2), right half grassland (4); a 10 × 10 block of 200 (the file's nodata)
    in the grassland and a 5 × 4 block of 0 (CLCD's legend nodata) in the forest."""
    a = np.full((H, W), 2, np.uint8)
    a[:, 30:] = 4
    a[5:15, 40:50] = NODATA
    a[30:35, 10:14] = 0
    assert 0 in get_legend("clcd").nodata and NODATA not in get_legend("clcd").nodata | set(get_legend("clcd").codes)
    path = tmp_path_factory.mktemp("nd") / "clcd_nodata200.tif"
    with rasterio.open(path, "w", driver="GTiff", width=W, height=H, count=1, dtype="uint8", crs=ALBERS,
                       transform=Affine(PX, 0, X0, 0, -PX, Y0), nodata=NODATA, tiled=True, blockxsize=16,
                       blockysize=16) as dst:
        dst.write(a, 1)
    return path


UNITS = gpd.GeoDataFrame({"unit": ["west", "east", "all"]},
                         geometry=[px_box(0, 0, 30, 40), px_box(30, 0, 60, 40), px_box(0, 0, 60, 40)], crs=ALBERS)
# hand-counted cells: (code -> cells), no-data cells
EXPECT = [({2: 1200 - 20}, 20), ({4: 1200 - 100}, 100), ({2: 1200 - 20, 4: 1200 - 100}, 120)]


def _check(z):
    assert NODATA not in z.code_m2.columns and 0 not in z.code_m2.columns, list(z.code_m2.columns)
    for i, (codes, nod) in enumerate(EXPECT):
        got = {int(c): v for c, v in z.code_m2.iloc[i].items() if v}
        assert got == pytest.approx({c: n * 900.0 for c, n in codes.items()}, rel=1e-12), i
        assert z.nodata_m2[i] == pytest.approx(nod * 900.0, rel=1e-12), i
        assert z.total_m2[i] == pytest.approx(1200 * 900.0 * (2 if i == 2 else 1), rel=1e-12)


def test_the_engine_counts_the_files_own_nodata_as_no_data(raster):
    _check(landcover.zonal_codes(UNITS, raster, "clcd"))


@pytest.mark.parametrize("split", ["none", "all"])
def test_the_tiled_engine_does_too_whole_and_split(raster, split):
    _check(tiled.zonal_codes(UNITS, raster, "clcd", split=split, tile_side=16, scheduler="synchronous"))


def test_whole_raster_totals_leave_it_out(raster):
    df = landcover.raster_class_totals(raster, "clcd")
    km2 = df.set_index("class")["area_km2"].to_dict()
    assert km2 == pytest.approx({"forest": 1180 * 900 / 1e6, "grassland": 1100 * 900 / 1e6}, rel=1e-12)
    assert df.attrs["nodata_km2"] == pytest.approx(120 * 900 / 1e6, rel=1e-12)


def test_zone_statistics_leave_it_out(raster):
    units = UNITS.iloc[:2].assign(adcode=["W", "E"], name_zh=["西", "东"], name_en=["W", "E"]).to_crs(4326)
    base = zonestats.Level("county", ["W", "E"], ["西", "东"], ["W", "E"], polygons=units)
    df = zonestats.compute(base, [], raster, "clcd").set_index("unit_id")
    # reprojected to WGS84 and back: not exactly cell-aligned any more (1e-6)
    assert df.loc["W", "lc_forest_km2"] == pytest.approx(1180 * 900 / 1e6, rel=1e-6)
    assert df.loc["E", "lc_grassland_km2"] == pytest.approx(1100 * 900 / 1e6, rel=1e-6)
    assert df.loc["E", "landcover_valid_km2"] == pytest.approx(1100 * 900 / 1e6, rel=1e-6)
    assert df.loc["E", "landcover_coverage_pct"] == pytest.approx(100 * 1100 / 1200, rel=1e-6)
    assert df.loc["W", "landcover_coverage_pct"] == pytest.approx(100 * 1180 / 1200, rel=1e-6)


def test_registration_never_lists_it_among_the_codes(raster, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    s = Store(tmp_path / "s.duckdb")
    try:
        d = raster_register.register_landcover(s, [raster], legend="clcd")
        # every code is counted (0 too: the legend's no-data code, left out by the engine), never 200
        assert d.nodata == NODATA and d.codes == {0: 20, 2: 1180, 4: 1100}
    finally:
        s.close()

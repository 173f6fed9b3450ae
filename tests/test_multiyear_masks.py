"""Multi-year statistics and the Targets/Parks transition matrices share the tiled engine; a cell
hidden by the mask band of one year only still counts for the other year (its other side is
"no data"), so each year's areas equal that year read on its own and matrix rows/columns sum to
the class areas of each year."""
import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from indicators import change
from zonal import landcover, tiled

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"
T = Affine(30, 0, 0, 0, -30, 600)  # 20 × 20 cells of 900 m²


def _tif(path, codes, mask=None):
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(path, "w", driver="GTiff", width=20, height=20, count=1, dtype="uint8", crs=ALBERS,
                           transform=T) as ds:  # no nodata value: the mask band says what is missing
            ds.write(codes, 1)
            if mask is not None:
                ds.write_mask(mask)
    return path


def test_a_cell_masked_in_one_year_counts_for_the_other(tmp_path):
    y0 = np.full((20, 20), 2, np.uint8)  # forest everywhere in the first year
    y1 = np.full((20, 20), 8, np.uint8)  # built-up everywhere in the second
    mask1 = np.full((20, 20), 255, np.uint8)
    mask1[:5, :] = 0  # the second year's mask band hides the top 5 rows (100 cells)
    a, b = _tif(tmp_path / "y0.tif", y0), _tif(tmp_path / "y1.tif", y1, mask1)
    unit = gpd.GeoSeries([shapely.box(0, 0, 600, 600)], crs=ALBERS)
    res = tiled.zonal_transitions(unit, [a, b], [2000, 2020], "clcd", scheduler="synchronous")
    areas = res.areas.set_index(["year", "code"])["area_m2"]
    assert areas.loc[(2000, 2)] == pytest.approx(400 * 900.0, rel=1e-12)  # all 400 cells, masked ones too
    assert areas.loc[(2020, 8)] == pytest.approx(300 * 900.0, rel=1e-12)
    assert areas.loc[(2000, 2)] == pytest.approx(landcover.zonal_codes(unit, a, "clcd").code_m2.iloc[0][2], rel=1e-12)
    tr = res.transitions.set_index(["code_from", "code_to"])["area_m2"]
    assert list(tr.index) == [(2, 8)] and tr.loc[(2, 8)] == pytest.approx(300 * 900.0, rel=1e-12)
    m = change.transitions(unit, a, b, "clcd", names=["u"], include_total=False).matrices["u"]
    assert m.loc["forest", "built_up"] == pytest.approx(300 * 900 / 1e6, rel=1e-12)
    assert m.loc["forest", change.NODATA_CLASS] == pytest.approx(100 * 900 / 1e6, rel=1e-12)  # row sums to 0.36 km²
    assert m.loc["forest"].sum() == pytest.approx(0.36, rel=1e-12)
    assert m[change.NODATA_CLASS].sum() == pytest.approx(0.09, rel=1e-12)


def test_a_negative_nodata_value_of_a_signed_raster_is_no_data_on_its_side(tmp_path):
    """int16 land cover with nodata -9999 (common): half of the second year is -9999."""
    def tif(path, codes):
        with rasterio.open(path, "w", driver="GTiff", width=20, height=20, count=1, dtype="int16", crs=ALBERS,
                           transform=T, nodata=-9999) as ds:
            ds.write(codes, 1)
        return path

    y0 = np.full((20, 20), 10, np.int16)  # grassland (IGBP 10)
    y1 = np.full((20, 20), 10, np.int16)
    y1[:, 10:] = -9999
    a, b = tif(tmp_path / "a.tif", y0), tif(tmp_path / "b.tif", y1)
    unit = gpd.GeoSeries([shapely.box(0, 0, 600, 600)], crs=ALBERS)
    res = tiled.zonal_transitions(unit, [a, b], [2000, 2010], "igbp", scheduler="synchronous")
    areas = res.areas.set_index(["year", "code"])["area_m2"]
    assert sorted(areas.index) == [(2000, 10), (2010, 10)]
    assert areas.loc[(2000, 10)] == pytest.approx(400 * 900.0, rel=1e-12)
    assert areas.loc[(2010, 10)] == pytest.approx(200 * 900.0, rel=1e-12)
    m = change.transitions(unit, a, b, "igbp", names=["u"], include_total=False).matrices["u"]
    assert m.loc["grassland", "grassland"] == pytest.approx(200 * 900 / 1e6, rel=1e-12)
    assert m.loc["grassland", change.NODATA_CLASS] == pytest.approx(200 * 900 / 1e6, rel=1e-12)
    assert m.to_numpy().sum() == pytest.approx(0.36, rel=1e-12)


def test_units_split_at_tiles_on_a_gauss_kruger_raster_match_the_whole_polygon_kernel(tmp_path):
    """Projected rasters that are not equal-area (CGCS2000 3° GK zone 35) have a pixel area per
    cell: split counties through the compiled per-cell counter equal the per-polygon kernel."""
    rng = np.random.default_rng(4)
    codes = np.repeat(np.repeat(rng.integers(1, 10, (30, 40)), 20, 0), 20, 1).astype(np.uint8)  # 600 × 800
    path = tmp_path / "gk.tif"
    t = Affine(30, 0, 35_380_000, 0, -30, 4_060_000)
    with rasterio.open(path, "w", driver="GTiff", width=800, height=600, count=1, dtype="uint8", crs="EPSG:4523",
                       transform=t, nodata=0, tiled=True, blockxsize=256, blockysize=256) as ds:
        ds.write(codes, 1)
    x0, y1 = 35_380_000, 4_060_000
    counties = gpd.GeoSeries([shapely.Polygon([(x0 + 500, y1 - 500), (x0 + 23_000, y1 - 1_000), (x0 + 12_000, y1 - 17_000)]),
                              shapely.box(x0 + 3_000, y1 - 17_500, x0 + 23_500, y1 - 9_000).buffer(800)],
                             crs="EPSG:4523")
    split = tiled.zonal_codes(counties, path, "clcd", split="all", tile_side=256, scheduler="synchronous")
    whole = landcover.zonal_codes(counties, path, "clcd")
    a, b = split.code_m2.fillna(0.0), whole.code_m2.fillna(0.0).reindex(columns=split.code_m2.columns, fill_value=0.0)
    # docs/national-scale.md's promise for UTM/GK (pixel areas sampled on a 32-px grid): ~5e-7; 2.3e-7 here
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=5e-7, atol=1e-3)
    assert a.to_numpy().sum() > 1e8  # > 100 km² were counted

"""The engine: carbon (InVEST semantics), vegetated share and its hint flag, reliability, bad input, the table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from indicators import table
from indicators.carbon import CO2_PER_C, load_pools, load_sink_rates
from indicators.engine import compute_parks
from core.errors import InputError
from layers.legends import BUILTIN, CLASS_IDS, load_legend_csv
from tests.indicator_fixtures import POOLS, brute_distance_km, legend_csv, parks_gdf, pools_csv, pools_frame, write_raster

T = Affine(30, 0, 0, 0, -30, 600)  # 20 x 20 cells of 30 m (0.09 ha) in China Albers
BASE = np.array([[1, 1, 2, 2, 3] * 4] * 20, "uint8")
BASE[10:, :] = 4
ALT = np.where(BASE == 1, 3, BASE).astype("uint8")  # forest cleared to built-up


@pytest.fixture()
def files(tmp_path):
    return {
        "base": write_raster(tmp_path / "base.tif", BASE, T, nodata=9),
        "alt": write_raster(tmp_path / "alt.tif", ALT, T, nodata=9),
        "legend": load_legend_csv(legend_csv(tmp_path / "legend.csv")),
        "pools": pools_csv(tmp_path / "pools.csv"),
    }


def _run(files, parks, **kw):
    return compute_parks(parks, landcover=files["base"], legend=files["legend"], carbon_pools=files["pools"], **kw)


def test_stock_of_pixel_aligned_rectangle_is_exact_and_alt_gives_change(files):
    # columns 1..4 (x 30..150), rows 8..11 (y 240..360): 16 cells, rows 8-9 codes 1,2,2,3 and rows 10-11 code 4
    park = shapely.box(30, 240, 150, 360)
    out = _run(files, parks_gdf([park]), landcover_alt=files["alt"]).iloc[0]
    total = {k: sum(v) for k, v in POOLS.items()}
    cells = {1: 2, 2: 4, 3: 2, 4: 8}
    expected = sum(total[c] * n * 0.09 for c, n in cells.items())
    assert abs(out["carbon_stock_tc"] - expected) / expected < 1e-9
    assert out["carbon_stock_tco2e"] == pytest.approx(expected * 44 / 12, rel=1e-12)
    assert out["carbon_above_tc"] == pytest.approx(sum(POOLS[c][0] * n * 0.09 for c, n in cells.items()), rel=1e-12)
    assert out["carbon_soil_tc"] == pytest.approx(sum(POOLS[c][2] * n * 0.09 for c, n in cells.items()), rel=1e-12)
    alt_expected = expected - total[1] * 2 * 0.09 + total[3] * 2 * 0.09
    assert out["carbon_stock_alt_tc"] == pytest.approx(alt_expected, rel=1e-12)
    assert out["carbon_change_tc"] == pytest.approx(alt_expected - expected, rel=1e-9)
    assert out["carbon_change_tco2e"] == pytest.approx((alt_expected - expected) * CO2_PER_C, rel=1e-9)
    assert out["lc_forest_km2"] == pytest.approx(2 * 900 / 1e6)
    assert out["lc_shrub_km2"] == pytest.approx(8 * 900 / 1e6)
    assert out["area_km2"] == pytest.approx(16 * 900 / 1e6, rel=1e-9)
    assert out["landcover_coverage_pct"] == 100.0


def test_vegetated_share_hint_flag_pixel_size_and_reliability(files):
    big = shapely.box(0, 0, 600, 300)  # rows 10..19: all shrub (code 4), 200 cells
    mixed = shapely.box(0, 540, 150, 600)  # rows 0-1, cols 0-4: 1,1,2,2,3 -> vegetated 4/5
    built = shapely.box(120, 300, 150, 600)  # column 4: built-up only
    out = _run(files, parks_gdf([big, mixed, built]))
    assert list(out["vegetated_share_pct"]) == pytest.approx([100.0, 80.0, 0.0])
    assert list(out["landcover_pixel_m"]) == pytest.approx([30.0, 30.0, 30.0])
    # a hint needs >= 100 pixels of <= 30 m: 200 yes, 10 and 10 no; no 20% cap flag on a park
    assert list(out["vegetated_share_hint"]) == [True, False, False]
    assert not {"green_coverage_pct", "green_pass", "green_over_cap"} & set(out.columns)
    assert list(out["reliability"]) == ["ok", "low", "low"]
    assert "only 10 land-cover pixels" in out.loc[1, "warnings"]
    assert "20%" not in out.loc[0, "warnings"]
    only_forest = _run(files, parks_gdf([mixed]), green_classes=["forest"])
    assert only_forest.loc[0, "vegetated_share_pct"] == pytest.approx(40.0)
    # sink: default rates, forest 3.35 t CO2/ha/yr on 4 cells of 0.09 ha
    assert only_forest.loc[0, "carbon_sink_tco2_yr"] == pytest.approx(3.35 * 4 * 0.09)


def test_park_outside_or_half_outside_raster(files):
    outside = shapely.box(5000, 5000, 6000, 6000)
    half = shapely.box(-60, 0, 60, 60)  # 2 of 4 cells inside (codes 4, 4)
    out = _run(files, parks_gdf([outside, half]))
    assert out.loc[0, "reason"].startswith("park outside the land-cover raster")
    assert np.isnan(out.loc[0, "carbon_stock_tc"]) and pd.isna(out.loc[0, "vegetated_share_hint"])
    assert out.loc[0, "area_km2"] == pytest.approx(1.0)
    assert out.loc[1, "landcover_coverage_pct"] == pytest.approx(50.0)
    assert out.loc[1, "lc_shrub_km2"] == pytest.approx(0.0036)
    assert out.loc[1, "carbon_stock_tc"] == pytest.approx(100 * 0.36)
    assert "covers 50.0% of the park" in out.loc[1, "warnings"]
    assert out.loc[1, "reason"] == ""


def test_code_missing_from_pools_lists_the_codes(files):
    pools = pools_frame({1: (1, 1, 1, 1), 2: (1, 1, 1, 1)})
    with pytest.raises(InputError) as err:
        compute_parks(parks_gdf([shapely.box(0, 0, 600, 600)]), landcover=files["base"],
                      legend=files["legend"], carbon_pools=pools)
    assert "[3, 4]" in err.value.en and "[3, 4]" in err.value.zh


def test_bad_parks_input(files, tmp_path):
    good = shapely.box(0, 0, 300, 300)
    with pytest.raises(InputError, match="no CRS"):
        _run(files, parks_gdf([good], crs=None))
    with pytest.raises(InputError, match=r"row 2 \(park_id P2\): empty geometry"):
        _run(files, parks_gdf([good, shapely.Polygon()]))
    with pytest.raises(InputError, match=r"row 1 \(park_id P1\).*Point"):
        _run(files, parks_gdf([shapely.Point(10, 10), good]))
    bowtie = shapely.Polygon([(0, 0), (300, 300), (300, 0), (0, 300)])
    out = _run(files, parks_gdf([bowtie]))
    assert "invalid geometry repaired (Self-intersection" in out.loc[0, "warnings"]
    assert out.loc[0, "area_km2"] == pytest.approx(0.045, rel=1e-9)  # two triangles of 150 x 300 m
    nocrs = write_raster(tmp_path / "nocrs.tif", BASE, T, crs=None)
    with pytest.raises(InputError, match="no CRS"):
        compute_parks(parks_gdf([good]), landcover=nocrs, legend=files["legend"], carbon_pools=files["pools"])


def test_default_tables_follow_domain_and_cite_every_row(tmp_path):
    for legend in BUILTIN.values():
        pools = load_pools(None, legend)
        assert set(pools.index) == set(legend.codes), legend.id
        for code, cls in legend.codes.items():
            row = pools.loc[code]
            if cls == "forest":  # inventory-mean biomass (Guan et al. 2015) + Guan et al. 2016 soil
                assert tuple(row[["c_above", "c_below", "c_soil", "c_dead"]]) == (37.33, 9.33, 175.0, 2.0)
            if cls == "wetland":  # never 0 again: the IPCC mineral-wetland default, 0–30 cm
                assert row["c_soil"] == 87.0 and row["soil_depth_cm"] == 30
                assert "IPCC 2019" in row["source"]
            assert isinstance(row["source"], str) and row["source"]
    rates = load_sink_rates()
    assert rates.loc["forest", "rate_tco2_ha_yr"] == 3.35 and set(rates.index) == set(CLASS_IDS)
    data = np.array([[11, 11], [10, 255]], "uint8")  # IGBP wetland, grassland, fill
    path = write_raster(tmp_path / "m.tif", data, Affine(0.05, 0, 100, 0, -0.05, 36), crs="EPSG:4326", nodata=255)
    out = compute_parks(parks_gdf([shapely.box(100, 35.9, 100.1, 36)], crs="EPSG:4326"), landcover=path)
    assert "wetland carbon density: Gannan zone from alpine marsh/peat" in out.loc[0, "warnings"]
    assert "no cited sink rate for wetland" in out.loc[0, "warnings"]
    assert out.loc[0, "reliability"] == "low"
    assert out.loc[0, "landcover_coverage_pct"] == pytest.approx(75.0, rel=1e-3)


def test_columns_come_from_the_declared_table(files):
    roads = parks_gdf([shapely.LineString([(0, 700), (600, 700)])])
    out = _run(files, parks_gdf([shapely.box(0, 0, 300, 300)]), transport={"railway": roads})
    assert list(out.columns) == table.columns_for(CLASS_IDS, ("railway",), False)
    # 400 m in China Albers, but these cells lie near the equator where that projection
    # stretches distances: the geodesic truth is what must come out.
    park_ll = parks_gdf([shapely.box(0, 0, 300, 300)]).to_crs(4326).geometry[0]
    expected = brute_distance_km(park_ll, roads.to_crs(4326).geometry[0])
    assert out.loc[0, "dist_railway_km"] == pytest.approx(expected, rel=1e-3)
    for col in out.columns:
        assert table.label(col, "zh") != col and table.label(col, "en") != col
    assert {"direction", "unit", "label_zh", "description_en"} <= set(table.table_frame().columns)
    assert table.get("dist_railway_km").direction == -1 and table.get("carbon_stock_tc").direction == 1
    assert table.label("area_km2", "en", with_unit=True) == "Area (km²)"

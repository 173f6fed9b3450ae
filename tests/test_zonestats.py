"""Zone statistics on a constructed raster whose class areas per unit are known, and the
compute-once cache: a second request reads the store, not the raster."""
from __future__ import annotations

import numpy as np
import geopandas as gpd
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from indicators import zonestats
from storage.workspace import sha256_file
from layers.legends import CLASS_IDS

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
X0, Y0, PX = -200_000.0, 4_000_000.0, 30.0  # 30 m equal-area pixels: 900 m² each
W, H = 60, 40
# province-default densities of tables/carbon_density.csv (the test's zones have no density rows):
FOREST_TC_HA = 37.33 + 9.33 + 175.0 + 2.0  # Guan et al. 2015 inventory biomass + Guan et al. 2016 soil
GRASS_TC_HA = 0.395 + 2.446 + 85.4 + 0.0  # Ma et al. 2010 biomass + Loess soil


def make_raster(path, data: np.ndarray) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype="uint8", crs=ALBERS, transform=Affine(PX, 0, X0, 0, -PX, Y0), nodata=0) as ds:
        ds.write(data, 1)
    return str(path)


def px_box(c0, r0, c1, r1):
    return shapely.box(X0 + c0 * PX, Y0 - r1 * PX, X0 + c1 * PX, Y0 - r0 * PX)


@pytest.fixture()
def world(tmp_path):
    """Four counties (30×20 px quadrants), two prefectures (top/bottom), two zones (left/right).
    CLCD codes: NW forest (2), NE grassland (4), SW left half cropland (1) / right half water (5),
    SE grassland with a 10×10 px no-data (0) block."""
    a = np.zeros((H, W), np.uint8)
    a[:20, :30] = 2
    a[:20, 30:] = 4
    a[20:, :15] = 1
    a[20:, 15:30] = 5
    a[20:, 30:] = 4
    a[25:35, 40:50] = 0
    raster = make_raster(tmp_path / "lc.tif", a)
    counties = gpd.GeoDataFrame({
        "adcode": ["1", "2", "3", "4"], "name_zh": ["西北县", "东北县", "西南县", "东南县"],
        "name_en": ["NW", "NE", "SW", "SE"], "prefecture_adcode": ["N", "N", "S", "S"],
        "zone_id": ["west", "east", "west", "east"]},
        geometry=[px_box(0, 0, 30, 20), px_box(30, 0, 60, 20), px_box(0, 20, 30, 40), px_box(30, 20, 60, 40)],
        crs=ALBERS).to_crs(4326)  # given in WGS84 like the dataset: reprojected to the raster's CRS
    prefectures = gpd.GeoDataFrame({"adcode": ["N", "S"], "name_zh": ["北市", "南市"], "name_en": ["N", "S"]},
                                   geometry=[px_box(0, 0, 60, 20), px_box(0, 20, 60, 40)], crs=ALBERS).to_crs(4326)
    zones = gpd.GeoDataFrame({"zone_id": ["west", "east"], "name_zh": ["西区", "东区"], "name_en": ["W", "E"]},
                             geometry=[px_box(0, 0, 30, 40), px_box(30, 0, 60, 40)], crs=ALBERS).to_crs(4326)
    province = gpd.GeoDataFrame({"name_zh": ["某省"], "name_en": ["P"]}, geometry=[px_box(0, 0, 60, 40)],
                                crs=ALBERS).to_crs(4326)
    return raster, province, prefectures, counties, zones


KM2 = 900 / 1e6  # one pixel


def test_class_areas_per_county_prefecture_zone_province_are_known(world, raster_reads):
    raster, province, prefectures, counties, zones = world
    base, levels = zonestats.gansu_levels(province, prefectures, counties, zones)
    before = raster_reads["passes"]
    df = zonestats.compute(base, levels, raster, "clcd")
    assert raster_reads["passes"] == before + 1 and raster_reads["units"] > 0
    by = df.set_index(["level", "unit_id"])
    expect = {  # (level, id): {class: pixels}
        ("county", "1"): {"forest": 600}, ("county", "2"): {"grassland": 600},
        ("county", "3"): {"cropland": 300, "water": 300}, ("county", "4"): {"grassland": 500},
        ("prefecture", "N"): {"forest": 600, "grassland": 600},
        ("prefecture", "S"): {"cropland": 300, "water": 300, "grassland": 500},
        ("zone", "west"): {"forest": 600, "cropland": 300, "water": 300},
        ("zone", "east"): {"grassland": 1100},
        ("province", "province"): {"forest": 600, "grassland": 1100, "cropland": 300, "water": 300},
    }
    for key, cls in expect.items():
        row = by.loc[key]
        for c in CLASS_IDS:
            # reprojection WGS84 → Albers is not perfectly pixel-aligned: 1e-6 relative tolerance
            assert row[f"lc_{c}_km2"] == pytest.approx(cls.get(c, 0) * KM2, rel=1e-6, abs=1e-9), (key, c)
        valid = sum(cls.values())
        for c, n in cls.items():
            assert row[f"lc_{c}_pct"] == pytest.approx(100 * n / valid, rel=1e-6)
    assert by.loc[("county", "4"), "landcover_coverage_pct"] == pytest.approx(500 / 600 * 100, rel=1e-6)
    assert by.loc[("province", "province"), "area_km2"] == pytest.approx(2400 * KM2, rel=1e-6)
    assert by.loc[("county", "1"), "carbon_stock_tc"] == pytest.approx(600 * 0.09 * FOREST_TC_HA, rel=1e-6)
    assert by.loc[("zone", "east"), "carbon_stock_tc"] == pytest.approx(1100 * 0.09 * GRASS_TC_HA, rel=1e-6)
    assert by.loc[("county", "1"), "carbon_sink_tco2_yr"] == pytest.approx(600 * 0.09 * 3.35, rel=1e-6)
    # ranges per unit: forest 140.46–296.03 t C/ha (Guan et al. 2016), grassland 47.54–334.2 (desert
    # steppe low, alpine meadow high); forest sink 2.9–4.3 t CO2/ha/yr
    assert by.loc[("county", "1"), "carbon_stock_low_tc"] == pytest.approx(600 * 0.09 * 140.46, rel=1e-6)
    assert by.loc[("county", "1"), "carbon_stock_high_tc"] == pytest.approx(600 * 0.09 * 296.03, rel=1e-6)
    assert by.loc[("zone", "east"), "carbon_stock_low_tc"] == pytest.approx(1100 * 0.09 * 47.54, rel=1e-6)
    assert by.loc[("zone", "east"), "carbon_stock_high_tc"] == pytest.approx(1100 * 0.09 * 334.2, rel=1e-6)
    assert by.loc[("county", "1"), "carbon_sink_low_tco2_yr"] == pytest.approx(600 * 0.09 * 2.9, rel=1e-6)
    assert by.loc[("county", "1"), "carbon_sink_high_tco2_yr"] == pytest.approx(600 * 0.09 * 4.3, rel=1e-6)
    assert list(df["level"].unique()) == ["county", "province", "prefecture", "zone"]
    assert by.loc[("zone", "west"), "name_zh"] == "西区"


def test_zones_with_their_own_polygons_match_the_county_sums(world):
    raster, province, prefectures, counties, zones = world
    base, levels = zonestats.gansu_levels(province, prefectures, counties, zones, zones_from_counties=False)
    own = zonestats.compute(base, levels, raster, "clcd")
    base2, levels2 = zonestats.gansu_levels(province, prefectures, counties, zones)
    agg = zonestats.compute(base2, levels2, raster, "clcd")
    a = own[own["level"] == "zone"].reset_index(drop=True)
    b = agg[agg["level"] == "zone"].reset_index(drop=True)
    cols = [f"lc_{c}_km2" for c in CLASS_IDS] + ["carbon_stock_tc"]
    pd.testing.assert_frame_equal(a[cols], b[cols], rtol=1e-6)
    assert list(a["name_zh"]) == ["西区", "东区"]


def test_progress_is_reported_and_cache_roundtrip(world, tmp_path):
    from storage import stats_store
    from storage.store import Store

    raster, province, prefectures, counties, zones = world
    base, levels = zonestats.gansu_levels(province, prefectures, counties, zones)
    seen = []
    df = zonestats.compute(base, levels, raster, "clcd", progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (4, 4) and all(n == 4 for _, n in seen)
    s = Store(tmp_path / "c.duckdb")
    stats_store.ensure(s)
    sha = sha256_file(raster)
    key = stats_store.cache_key(sha, "clcd", zonestats.polygons_key(base.polygons, levels), zonestats.ALGO_VERSION)
    assert stats_store.get_zone_stats(s, key) is None
    stats_store.put_zone_stats(s, key, raster_sha256=sha, legend="clcd", polygons_key="p",
                               algo=zonestats.ALGO_VERSION, seconds=0.1, df=df)
    back = stats_store.get_zone_stats(s, key)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    s.close()


def test_zone_stats_cache_keeps_only_the_newest_entries(tmp_path):
    from storage import stats_store
    from storage.store import Store

    s = Store(tmp_path / "c.duckdb")
    stats_store.ensure(s)
    df = pd.DataFrame({"unit": ["a"], "km2": [1.0]})
    keys = [f"k{i}" for i in range(5)]
    for k in keys:
        stats_store.put_zone_stats(s, k, raster_sha256=k, legend="igbp", polygons_key="p", algo="t",
                                   seconds=0.0, df=df, max_entries=3)
    left = set(s.query_df("SELECT cache_key FROM zone_stats_cache")["cache_key"])
    assert left == {"k2", "k3", "k4"}  # the two oldest dropped out
    assert stats_store.get_zone_stats(s, "k0") is None and stats_store.get_zone_stats(s, "k4") is not None
    s.close()

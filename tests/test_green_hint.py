"""The map's vegetated share is offered as a greening hint only with >= 100 pixels of <= 30 m land
cover (pixel size from the dataset in use), never for the default 5 km MODIS, and never as the
value the admission check uses. Rasters are built here; the MODIS case runs on the built default."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from core import paths
from indicators import checklist_answers as ca
from indicators import green
from indicators.engine import compute_parks
from layers.legends import load_legend_csv
from tests.indicator_fixtures import legend_csv, parks_gdf, pools_csv, write_raster

GRASS = 2  # code 2 = grassland in the test legend (vegetation); 3 = built-up


def _engine(tmp_path, res: float, parks, crs=None, code=GRASS, size=40):
    data = np.full((size, size), code, "uint8")
    data[:, size // 2:] = 3  # the right half is built-up
    kw = {} if crs is None else {"crs": crs}
    tif = write_raster(tmp_path / f"lc_{res}.tif", data, Affine(res, 0, 0, 0, -res, size * res), nodata=9, **kw)
    return compute_parks(parks, landcover=tif, legend=load_legend_csv(legend_csv(tmp_path / "legend.csv")),
                         carbon_pools=pools_csv(tmp_path / "pools.csv"))


def test_30m_raster_gives_a_hint_at_100_pixels_and_not_below(tmp_path):
    # 30 m Albers cells; park A: 10 x 10 = 100 cells, left 5 columns vegetation -> 50%; park B: 11 x 9 = 99 cells
    a = shapely.box(15 * 30, 0, 25 * 30, 10 * 30)
    b = shapely.box(0, 0, 11 * 30, 9 * 30)
    out = _engine(tmp_path, 30.0, parks_gdf([a, b]))
    assert list(out["landcover_pixels"]) == pytest.approx([100.0, 99.0])
    assert list(out["landcover_pixel_m"]) == pytest.approx([30.0, 30.0])
    assert list(out["vegetated_share_pct"]) == pytest.approx([50.0, 100.0])
    assert list(out["vegetated_share_hint"]) == [True, False]
    hint_a, hint_b = green.map_hint(out.iloc[0]), green.map_hint(out.iloc[1])
    assert hint_a.ok and "map hint: vegetated share 50.0% (100 pixels of 30 m)" in hint_a.text().en
    assert "地图参考" in hint_a.text().zh
    assert not hint_b.ok and "only 99.0 pixels (< 100)" in hint_b.text().en


def test_60m_raster_is_never_a_hint_whatever_the_pixel_count(tmp_path):
    park = shapely.box(0, 0, 20 * 60, 20 * 60)  # 400 cells of 60 m
    out = _engine(tmp_path, 60.0, parks_gdf([park]))
    assert out.loc[0, "landcover_pixels"] == pytest.approx(400.0)
    assert out.loc[0, "landcover_pixel_m"] == pytest.approx(60.0)
    assert out.loc[0, "vegetated_share_hint"] == False  # noqa: E712 - nullable boolean
    assert "pixels of about 60 m, coarser than 30 m" in green.map_hint(out.iloc[0]).text().en


def test_one_arcsecond_lonlat_raster_counts_as_30m(tmp_path):
    """A '30 m' product in lon/lat (1″ cells: ~30.9 m N-S, ~24 m E-W at 38°N): sqrt of the mean ground
    area is about 27 m, a hint; its pixel size follows the ground area of the cells."""
    d = 1 / 3600
    data = np.full((60, 60), GRASS, "uint8")
    tif = write_raster(tmp_path / "ll.tif", data, Affine(d, 0, 100.0, 0, -d, 38.0 + 60 * d), crs="EPSG:4326", nodata=9)
    park = gpd.GeoDataFrame({"park_id": ["L"]}, geometry=[shapely.box(100.0, 38.0, 100.0 + 40 * d, 38.0 + 40 * d)], crs=4326)
    out = compute_parks(park, landcover=tif, legend=load_legend_csv(legend_csv(tmp_path / "legend.csv")),
                        carbon_pools=pools_csv(tmp_path / "pools.csv"))
    ground = out.loc[0, "area_km2"] * 1e6 / 1600  # the park's ellipsoidal area over its 1600 cells
    assert out.loc[0, "landcover_pixels"] == pytest.approx(1600.0)
    assert out.loc[0, "landcover_pixel_m"] == pytest.approx(math.sqrt(ground), rel=1e-6)
    assert 26.0 < out.loc[0, "landcover_pixel_m"] < 28.0
    assert bool(out.loc[0, "vegetated_share_hint"])


def test_default_modis_is_never_a_hint_and_the_check_needs_data():
    parks = gpd.read_file(paths.gpkg_path(), layer="parks_demo")
    parks = gpd.GeoDataFrame({"park_id": parks["park_id"], "name": parks["name_zh"]}, geometry=parks.geometry.values,
                             crs=parks.crs).iloc[[0]]  # 兰州新区, ~93 km²
    out = compute_parks(parks, landcover=paths.landcover_path(), legend="igbp")
    row = out.iloc[0]
    assert row["landcover_pixel_m"] > 1000  # the 5 km MODIS grid (pixel size from the dataset)
    assert row["vegetated_share_hint"] == False  # noqa: E712
    res = ca.evaluate_park({}, row)
    g = res.anhui.table.set_index("id").loc["greening_coverage_pct"]
    assert g["status"] == "needs_data" and "map hint" not in g["note_en"] and "not usable as a hint" in g["note_en"]


def test_a_reliable_hint_is_never_the_value_the_check_uses():
    row = {"vegetated_share_pct": 80.0, "landcover_pixels": 400.0, "landcover_pixel_m": 10.0}
    res = ca.evaluate_park({}, row)
    g = res.anhui.table.set_index("id").loc["greening_coverage_pct"]
    assert g["status"] == "needs_data" and g["value"] is None and "map hint: vegetated share 80.0%" in g["note_en"]
    assert "需要实测或规划数据" in g["note_zh"] and "地图参考" in g["note_zh"]
    entered = {"_greening_value": 10, "_greening_kind": "measured", "_greening_source": "竣工测绘",
               "_greening_date": "2025-03-01"}
    g = ca.evaluate_park(entered, row).anhui.table.set_index("id").loc["greening_coverage_pct"]
    assert g["status"] == "fail" and g["value"] == 10 and g["source"] == "measured"  # 80% on the map changes nothing

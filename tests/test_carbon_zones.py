"""Carbon densities by zone and biome (tables/carbon_density.csv), hand-computed.

Rasters are CLCD-coded (1 cropland … 7 barren … 9 wetland) on an equal-area Albers grid of 30 m
cells (900 m² each), so every class area is a whole number of hectares fractions:

- a park half in a Hexi zone polygon and half in a Gannan zone polygon, barren on the Hexi half
  and wetland on the Gannan half: 450 ha × 16.0 (Hexi Gobi, Zhang & Shao 2014) + 450 ha × 476.53
  (Gannan alpine marsh/peat: 1.32 + 13.21 + 462 + 0) = 221,638.5 t C;
- the same park without zones (province defaults): 450 × 16.0 + 450 × 89.841 (IPCC mineral-wetland
  soil 87 + grassland-proxy biomass 2.841) = 47,628.45 t C;
- at stake: Hexi barren 0.2 × 0.5 × 16 = 1.6 t C/ha; Gannan peat 14.53 + 1.0 × 0.3 × 462 = 153.13.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from core.errors import InputError
from indicators import carbon
from indicators.engine import compute_parks
from layers.legends import get_legend

REPO = Path(__file__).resolve().parent.parent
ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
Y1 = 4_000_000.0


@pytest.fixture(scope="module")
def half_and_half(tmp_path_factory):
    """200 × 200 cells of 30 m: columns 0–99 barren (7), 100–199 wetland (9); zone polygons split
    at column 100; park A spans columns 50–149 (half in each zone)."""
    d = tmp_path_factory.mktemp("zones")
    data = np.full((200, 200), 7, np.uint8)
    data[:, 100:] = 9
    path = d / "clcd.tif"
    with rasterio.open(path, "w", driver="GTiff", width=200, height=200, count=1, dtype="uint8", crs=ALBERS,
                       transform=Affine(30, 0, 0, 0, -30, Y1), nodata=0) as ds:
        ds.write(data, 1)
    y0 = Y1 - 6000
    zones = gpd.GeoDataFrame({"zone_id": ["hexi_qilian", "gannan_yellow"], "name_zh": ["河西", "甘南"]},
                             geometry=[shapely.box(0, y0, 3000, Y1), shapely.box(3000, y0, 6000, Y1)],
                             crs=ALBERS).to_crs(4326)
    parks = gpd.GeoDataFrame({"park_id": ["A", "H", "G"], "name": ["half", "hexi", "gannan"]},
                             geometry=[shapely.box(1500, y0 + 1500, 4500, Y1 - 1500),
                                       shapely.box(300, y0 + 300, 2700, Y1 - 300),
                                       shapely.box(3300, y0 + 300, 5700, Y1 - 300)], crs=ALBERS)
    return str(path), zones, parks


def test_a_park_across_two_zones_takes_each_halfs_density(half_and_half):
    path, zones, parks = half_and_half
    r = compute_parks(parks, landcover=path, legend="clcd", zones=zones, zone_field="name_zh").set_index("park_id")
    assert r.loc["A", "lc_barren_km2"] == pytest.approx(4.5, rel=1e-9)
    assert r.loc["A", "carbon_stock_tc"] == pytest.approx(450 * 16.0 + 450 * 476.53, rel=1e-9)
    assert r.loc["A", "carbon_at_stake_tc"] == pytest.approx(450 * 1.6 + 450 * 153.13, rel=1e-9)
    assert "crosses zones (hexi_qilian, gannan_yellow)" in r.loc["A", "warnings"]
    assert r.loc["H", "carbon_stock_tc_per_ha"] == pytest.approx(16.0, rel=1e-9)
    assert r.loc["G", "carbon_stock_tc_per_ha"] == pytest.approx(476.53, rel=1e-9)
    assert r.loc["G", "carbon_at_stake_tc_per_ha"] == pytest.approx(153.13, rel=1e-9)
    # the same park without zones: province defaults (a single table keeps working)
    plain = compute_parks(parks, landcover=path, legend="clcd").set_index("park_id")
    assert plain.loc["A", "carbon_stock_tc"] == pytest.approx(450 * 16.0 + 450 * 89.841, rel=1e-9)
    assert plain.loc["G", "carbon_stock_tc"] > 0  # a wetland park holds carbon (it was 0)


def test_user_table_with_a_zone_column_and_invest_table_without(half_and_half, tmp_path):
    path, zones, parks = half_and_half
    invest = pd.DataFrame({"lucode": [7, 9], "c_above": [0, 1.0], "c_below": [0, 2.0], "c_soil": [10.0, 50.0],
                           "c_dead": [0, 0]})
    r = compute_parks(parks, landcover=path, legend="clcd", carbon_pools=invest, zones=zones,
                       zone_field="name_zh").set_index("park_id")
    assert r.loc["A", "carbon_stock_tc"] == pytest.approx(450 * 10 + 450 * 53, rel=1e-12)  # InVEST: Σ ha × density
    zoned = pd.concat([invest, pd.DataFrame({"lucode": [9], "c_above": [0.0], "c_below": [0.0], "c_soil": [400.0],
                                             "c_dead": [0.0], "zone": ["gannan_yellow"]})], ignore_index=True)
    r = compute_parks(parks, landcover=path, legend="clcd", carbon_pools=zoned, zones=zones,
                       zone_field="name_zh").set_index("park_id")
    assert r.loc["A", "carbon_stock_tc"] == pytest.approx(450 * 10 + 450 * 400, rel=1e-9)
    bad = pd.DataFrame({"lucode": [9], "c_above": [0.0], "c_below": [0.0], "c_soil": [1.0], "c_dead": [0.0],
                        "zone": ["gannan_yellow"]})
    with pytest.raises(InputError, match="no default row"):
        carbon.load_pool_table(pd.concat([invest.iloc[:1], bad]), get_legend("clcd"))


def test_every_default_row_is_cited_with_depth_and_range():
    t = pd.read_csv(carbon.pooltable.DENSITY_CSV, keep_default_na=False)
    assert set(t.loc[t["zone"] == "", "class"]) == {"forest", "shrub", "grassland", "cropland", "wetland", "water",
                                                   "snow_ice", "barren", "built_up"}
    zone_ids = set(pd.read_csv(REPO / "tables" / "zone_names.csv")["zone_id"])
    assert set(t["zone"]) - {""} <= zone_ids
    carbon_rows = t[t[["c_above", "c_below", "c_soil", "c_dead"]].sum(axis=1) > 0]
    assert (carbon_rows["source"].str.len() > 40).all() and (carbon_rows["soil_depth_cm"].astype(str) != "").all()
    total = t[["c_above", "c_below", "c_soil", "c_dead"]].sum(axis=1)
    assert ((t["c_low"] <= total + 1e-9) & (total <= t["c_high"] + 1e-9)).all()
    forest = t[(t["class"] == "forest") & (t["zone"] == "")].iloc[0]
    assert 44.83 <= forest["c_above"] + forest["c_below"] <= 48.50 + 0.2  # inventory mean, not plot maxima


def _geojson(path: Path, lon: float, lat: float, half: float = 0.02) -> Path:
    gpd.GeoDataFrame({"park_id": ["P"], "name": ["test"]}, geometry=[shapely.box(lon - half, lat - half, lon + half,
                                                                                    lat + half)],
                     crs=4326).to_file(path, driver="GeoJSON")
    return path


def _lonlat_raster(path: Path, lon: float, lat: float, code: int) -> Path:
    data = np.full((100, 100), code, np.uint8)
    with rasterio.open(path, "w", driver="GTiff", width=100, height=100, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=Affine(0.001, 0, lon - 0.05, 0, -0.001, lat + 0.05), nodata=0) as ds:
        ds.write(data, 1)
    return path


@pytest.mark.parametrize("where,lon,lat,code,check", [
    ("hexi_barren", 98.50, 39.75, 7, lambda r: r["carbon_stock_tc_per_ha"] <= 25),
    ("maqu_wetland", 102.07, 34.00, 9, lambda r: r["carbon_stock_tc_per_ha"] >= 50
     and r["zone"] == "甘南高原黄河上游屏障区"),
])
def test_cli_uses_the_built_in_zones_and_their_densities(dataset, tmp_path, where, lon, lat, code, check):
    raster = _lonlat_raster(tmp_path / f"{where}.tif", lon, lat, code)
    parks = _geojson(tmp_path / f"{where}.geojson", lon, lat)
    out = tmp_path / f"{where}.csv"
    res = subprocess.run([sys.executable, "-m", "cli", "parks", "--parks", str(parks), "--landcover", str(raster),
                          "--legend", "clcd", "--out", str(out)], capture_output=True, text=True, cwd=REPO,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    row = pd.read_csv(out).iloc[0]
    assert check(row), row[["carbon_stock_tc_per_ha", "zone"]].to_dict()
    expected = 16.0 if code == 7 else 476.53  # Hexi Gobi; Gannan alpine marsh/peat (玛曲)
    assert row["carbon_stock_tc_per_ha"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_page_shows_the_density_rows_and_the_moved_counties(dataset, lang):
    from streamlit.testing.v1 import AppTest

    from core.i18n import t

    at = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [d.value for d in at.dataframe]
    dens = next(f for f in frames if t("data.density.c_total", lang) in f.columns)
    total = dens.set_index([t("data.density.class", lang), t("data.density.zone", lang)])[t("data.density.c_total", lang)]
    wet, forest = ("湿地", "森林") if lang == "zh" else ("Wetland", "Forest")
    gannan = "甘南高原黄河上游屏障区" if lang == "zh" else "Gannan plateau upper-Yellow-River barrier"
    assert total[(wet, gannan)] == pytest.approx(476.53) and total[(forest, t("data.density.province", lang))] == \
        pytest.approx(223.66)
    assert (dens[t("data.density.source", lang)].str.len() > 0).all()
    moved = next(f for f in frames if t("data.zones.changed.county", lang) in f.columns)
    assert set(moved[t("data.zones.changed.county", lang)]) == {"玛曲县", "积石山保安族东乡族撒拉族自治县", "麦积区"}
    assert set(moved[t("data.zones.changed.to", lang)]) >= {gannan}


def test_docs_density_table_is_the_csv():
    from indicators.pooltable import density_markdown

    text = (REPO / "docs" / "carbon.md").read_text(encoding="utf-8")
    start = text.index("-->\n", text.index("<!-- density table")) + 4
    assert text[start:text.index("<!-- end of density table -->")] == density_markdown()
    for county in ("玛曲县", "麦积区"):
        assert county in text

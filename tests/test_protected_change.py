"""Land-cover change inside red lines / protected areas: matrices, net change, parcels of change
and the writers, against hand-computed answers on synthetic rasters.

Grid: 20 × 20 px of 100 m on an Albers equal-area projection (1 px = 10 000 m² = 0.01 km²), CLCD
codes. Baseline grassland (4) everywhere except the changes below; the alternative year equals the
baseline but for:
  A  3×3 px forest (2) → built-up (8) at rows 2-4, cols 2-4 (crosses the row-4 edge of 4-px blocks)
  B  1 px grassland → cropland (1) at (10, 2)
  C  an L of 5 px grassland → water (5): (7,6) (7,7) (7,8) (7,9) (8,9) — crosses the block edges at
     col 8 and row 8 into three pieces of 2, 2 and 1 px
  D  3×4 px shrub (3) → barren (7) at rows 15-17, cols 12-15
  E  (0,10) no data (0) in the baseline, grassland after; (0,11) grassland, then no data
  F  (5,19) grassland → built-up, outside the red line (cols 0-18)
Red line: px cols 0-18, rows 0-20 (aligned to pixel edges: 18 × 20 = 360 px).
Reserve: cols 0-14.5, rows 12-20 (its east edge halves the pixels of col 14: 14.5 × 8 = 116 px).
"""
from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from core.geodesic import geodesic_area_m2
from core.text import Text
from indicators import change
from indicators.protected_change import parcels_of, protected_change
from layers.legends import CLASS_IDS
from reports.landchange import (degradation_table, landchange_pdf, parcels_bytes, protected_change_excel,
                                protected_change_sheets)

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
X0, Y0, PX = -200_000.0, 4_000_000.0, 100.0
PX_KM2 = PX * PX / 1e6  # 0.01 km²
REL = 1e-9


def write(path, data, crs=ALBERS, transform=Affine(PX, 0, X0, 0, -PX, Y0)) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype="uint8", crs=crs, transform=transform, nodata=0) as ds:
        ds.write(data, 1)
    return str(path)


def px_box(c0, r0, c1, r1):
    return shapely.box(X0 + c0 * PX, Y0 - r1 * PX, X0 + c1 * PX, Y0 - r0 * PX)


@pytest.fixture()
def rasters(tmp_path):
    base = np.full((20, 20), 4, np.uint8)
    base[2:5, 2:5] = 2
    base[15:18, 12:16] = 3
    base[0, 10] = 0
    alt = base.copy()
    alt[2:5, 2:5] = 8  # A
    alt[10, 2] = 1  # B
    for r, c in ((7, 6), (7, 7), (7, 8), (7, 9), (8, 9)):
        alt[r, c] = 5  # C
    alt[15:18, 12:16] = 7  # D
    alt[0, 10], alt[0, 11] = 4, 0  # E
    alt[5, 19] = 8  # F (outside the red line)
    return write(tmp_path / "base.tif", base), write(tmp_path / "alt.tif", alt)


def layers():
    red = gpd.GeoDataFrame({"name": ["r1"]}, geometry=[px_box(0, 0, 18, 20)], crs=ALBERS).to_crs(4326)
    reserve = gpd.GeoDataFrame({"name": ["north part", "south part"]},
                               geometry=[px_box(0, 12, 14.5, 16), px_box(0, 16, 14.5, 20)], crs=ALBERS)
    return [("redline", "生态保护红线|Ecological red line", red), ("reserve", Text("湿地保护区", "Wetland reserve"), reserve)]


def run(rasters, **kw):
    kw.setdefault("min_parcel_m2", 25_000)
    return protected_change(layers(), *rasters, "clcd", base_year=2015, alt_year=2020, **kw)


def test_matrix_km2_equal_the_hand_sums(rasters):
    res = run(rasters)
    red, rsv = res.matrices["redline"], res.matrices["reserve"]
    expect_red = {("forest", "built_up"): 9, ("grassland", "cropland"): 1, ("grassland", "water"): 5,
                  ("shrub", "barren"): 12, ("nodata", "grassland"): 1, ("grassland", "nodata"): 1,
                  ("grassland", "grassland"): 360 - 9 - 1 - 5 - 12 - 1 - 1}
    expect_rsv = {("shrub", "barren"): 2.5 * 3, ("grassland", "grassland"): 14.5 * 8 - 7.5}
    for mat, exp in ((red, expect_red), (rsv, expect_rsv)):
        for f in change.MATRIX_CLASSES:
            for t_ in change.MATRIX_CLASSES:
                assert mat.loc[f, t_] == pytest.approx(exp.get((f, t_), 0) * PX_KM2, rel=REL, abs=1e-15), (f, t_)
    s = res.summary.set_index("layer")
    assert s.loc["redline", "area_km2"] == pytest.approx(360 * PX_KM2, rel=REL)
    assert s.loc["redline", "valid_km2"] == pytest.approx(358 * PX_KM2, rel=REL)
    assert s.loc["redline", "nodata_km2"] == pytest.approx(2 * PX_KM2, rel=1e-6)
    assert s.loc["redline", "changed_km2"] == pytest.approx(27 * PX_KM2, rel=REL)
    assert s.loc["redline", "changed_pct"] == pytest.approx(100 * 27 / 358, rel=REL)
    assert s.loc["reserve", "area_km2"] == pytest.approx(116 * PX_KM2, rel=REL)
    assert s.loc["reserve", "changed_km2"] == pytest.approx(7.5 * PX_KM2, rel=REL)
    assert (s.loc["redline", "name_zh"], s.loc["reserve", "name_en"]) == ("生态保护红线", "Wetland reserve")


def test_net_change_per_class(rasters):
    s = run(rasters).summary.set_index("layer")
    net = {"forest": -9, "built_up": 9, "grassland": -6, "cropland": 1, "water": 5, "shrub": -12, "barren": 12}
    for c in CLASS_IDS:
        assert s.loc["redline", f"{c}_net_km2"] == pytest.approx(net.get(c, 0) * PX_KM2, rel=REL, abs=1e-15), c
    assert s.loc["reserve", "shrub_net_km2"] == pytest.approx(-7.5 * PX_KM2, rel=REL)
    assert s.loc["reserve", "barren_net_km2"] == pytest.approx(7.5 * PX_KM2, rel=REL)


def parcel_set(res, layer):
    p = res.parcels[res.parcels["layer"] == layer]
    return sorted((r.from_class, r.to_class, round(r.area_ha, 9)) for r in p.itertuples())


@pytest.mark.parametrize("block", [4, 2048])
def test_parcels_merge_across_blocks_drop_small_and_clip_halves(rasters, block):
    res = run(rasters, block=block)
    # A: one parcel of 9 px (cut by the row-4 block edge at block=4); C: the L's three pieces (2, 2, 1 px,
    # each under 2.5 px) merged into one of 5 px; B (1 px) below the minimum: dropped; F: outside
    assert parcel_set(res, "redline") == [("forest", "built_up", 9.0), ("grassland", "water", 5.0),
                                          ("shrub", "barren", 12.0)]
    # D clipped at the reserve's east edge x = col 14.5: 2.5 px per row over 3 rows
    assert parcel_set(res, "reserve") == [("shrub", "barren", 7.5)]
    assert res.parcels.crs.to_epsg() == 4326
    clip = res.parcels.loc[res.parcels["layer"] == "reserve"].geometry.iloc[0]
    local = gpd.GeoSeries([clip], crs=4326).to_crs(ALBERS).iloc[0]
    assert local.area == pytest.approx(75_000, rel=1e-7)
    assert local.bounds == pytest.approx((X0 + 12 * PX, Y0 - 18 * PX, X0 + 14.5 * PX, Y0 - 15 * PX), abs=1e-5)
    assert dict(zip(res.summary["layer"], res.summary["parcel_count"])) == {"redline": 3, "reserve": 1}


def test_one_pixel_is_a_parcel_when_the_minimum_allows(rasters):
    res = run(rasters, min_parcel_m2=10_000, block=4)
    assert ("grassland", "cropland", 1.0) in parcel_set(res, "redline")
    res = run(rasters, min_parcel_m2=10_001, block=4)
    assert ("grassland", "cropland", 1.0) not in parcel_set(res, "redline")


def test_cap_keeps_the_largest_and_says_so(rasters):
    res = run(rasters, max_parcels=2)
    assert sorted(res.parcels["area_ha"]) == [9.0, 12.0]
    assert any("4 parcels" in n.en and "largest 2" in n.en for n in res.notes)
    assert dict(zip(res.summary["layer"], res.summary["parcel_count"])) == {"redline": 3, "reserve": 1}  # all found


def test_per_polygon_units_with_a_name_field(rasters):
    res = run(rasters, name_field="name")
    ps = res.polygon_summary.set_index(["layer", "polygon"])
    assert ps.loc[("reserve", "south part"), "changed_km2"] == pytest.approx(2.5 * 2 * PX_KM2, rel=REL)  # rows 16, 17
    assert ps.loc[("reserve", "north part"), "changed_km2"] == pytest.approx(2.5 * PX_KM2, rel=REL)  # row 15
    assert res.polygon_matrices[("redline", "r1")].equals(res.matrices["redline"])


def test_geographic_grid_gives_geodesic_areas(tmp_path):
    d = 0.001  # degrees
    tr = Affine(d, 0, 100.0, 0, -d, 38.0)
    base = np.full((10, 10), 4, np.uint8)
    base[2:5, 2:5] = 2
    alt = base.copy()
    alt[2:5, 2:5] = 8
    alt[7, 7] = 1
    rs = write(tmp_path / "b.tif", base, 4326, tr), write(tmp_path / "a.tif", alt, 4326, tr)
    box = lambda c0, r0, c1, r1: shapely.box(100 + c0 * d, 38 - r1 * d, 100 + c1 * d, 38 - r0 * d)  # noqa: E731
    lay = [("red", "红线|Red line", gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=4326))]
    res = protected_change(lay, *rs, "clcd", base_year=2015, alt_year=2020, min_parcel_m2=0)
    p = res.parcels.set_index("to_class")["area_ha"]
    assert res.area_method == "geodesic"
    assert p["built_up"] * 1e4 == pytest.approx(geodesic_area_m2(box(2, 2, 5, 5)), rel=REL)
    assert p["cropland"] * 1e4 == pytest.approx(geodesic_area_m2(box(7, 7, 8, 8)), rel=REL)
    # the matrix (ellipsoidal cells between parallels) agrees with the geodesic pixel polygons
    assert res.matrices["red"].loc["forest", "built_up"] * 1e6 == pytest.approx(geodesic_area_m2(box(2, 2, 5, 5)),
                                                                               rel=1e-6)
    assert res.summary["area_km2"].iloc[0] * 1e6 == pytest.approx(geodesic_area_m2(box(0, 0, 10, 10)), rel=REL)


def test_grids_must_match(rasters, tmp_path):
    other = write(tmp_path / "shifted.tif", np.full((20, 20), 4, np.uint8),
                  transform=Affine(PX, 0, X0 + 50, 0, -PX, Y0))
    with pytest.raises(change.GridMismatch):
        protected_change(layers(), rasters[0], other, "clcd", base_year=2015, alt_year=2020)
    with pytest.raises(change.GridMismatch):
        parcels_of(px_box(0, 0, 18, 20), rasters[0], other, "clcd")


# --- writers ------------------------------------------------------------------------------------
RAW_IDS = {"layer", "name", "name_zh", "area_km2", "valid_km2", "nodata_km2", "changed_km2", "changed_pct",
           "parcel_count", "from_class", "to_class", "area_ha", *(f"{c}_net_km2" for c in CLASS_IDS), *CLASS_IDS}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_excel_sheets_have_labelled_headers_with_units(rasters, lang):
    res = run(rasters)
    sheets = protected_change_sheets(res, lang)
    summary = next(iter(sheets.values()))
    heads = list(summary.columns)
    assert not RAW_IDS & set(heads), heads
    forest_net = {"zh": "森林净变化 (km²)", "en": "Net change: Forest (km²)"}[lang]
    assert forest_net in heads and any(h.endswith("(%)") for h in heads)
    row = summary.set_index(heads[0]).loc["redline"]
    assert row[forest_net] == pytest.approx(-9 * PX_KM2, rel=REL)
    matrix = sheets[{"zh": "矩阵 生态保护红线", "en": "matrix Ecological red line"}[lang]]
    assert {"zh": "建设用地 (km²)", "en": "Built-up (km²)"}[lang] in matrix.columns
    assert not RAW_IDS & set(matrix.columns) and not RAW_IDS & set(matrix.iloc[:, 0])
    data = protected_change_excel(res, lang)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    first = [c.value for c in next(wb[wb.sheetnames[0]].iter_rows(max_row=1))]
    assert first == heads


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_parcels_download(rasters, fmt, tmp_path):
    res = run(rasters)
    path = tmp_path / f"p.{fmt}"
    path.write_bytes(parcels_bytes(res, fmt))
    back = gpd.read_file(path)
    assert len(back) == 4 and back.crs.to_epsg() == 4326
    assert sorted(back["area_ha"]) == pytest.approx([5.0, 7.5, 9.0, 12.0], rel=1e-9)
    assert set(back["year_from"]) == {2015} and set(back["year_to"]) == {2020}


def pdf_text(data: bytes) -> str:
    import pypdf

    return " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)


DEGRADATION = pd.DataFrame([
    {"level": "county", "unit_id": "620321", "name_zh": "民勤县", "name_en": "Minqin", "period": "2015-2020",
     "improved_km2": 12.5, "stable_km2": 100.0, "degraded_km2": 3.25, "nodata_km2": 0.5,
     "improved_pct": 10.78, "stable_pct": 86.43, "degraded_pct": 2.36, "nodata_pct": 0.43}])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pdf_builds_in_both_languages_with_layer_names(rasters, lang):
    res = run(rasters)
    res.names["reserve"] = Text("<b>湿地</b> & 保护区", "<b>Wetland</b> & reserve")  # markup prints as typed
    traj = pd.DataFrame({"level": "county", "unit_id": "620321", "name_zh": "民勤县", "name_en": "Minqin",
                         "year": [2015, 2020, 2015, 2020], "class": ["barren", "barren", "water", "water"],
                         "area_km2": [1000.0, 990.5, 0.0, 0.0]})
    data = landchange_pdf(title="报告 <i>x</i>", date="2025-06-01", protected=res, degradation=DEGRADATION,
                          trajectories=traj,
                          sources=[{"layer": "CLCD", "source": "Yang & Huang", "licence": "CC BY 4.0", "year": 2020}],
                          provenance={"inputs_sha256": "ab" * 32}, lang=lang)
    assert data[:5] == b"%PDF-"
    text = pdf_text(data)
    names = {"zh": ["生态保护红线", "<b>湿地</b> & 保护区", "县区 620321 民勤县", "森林", "退化 (km²)", "无数据 (%)",
                    "2015 (km²) 2020 (km²) 民勤县 裸地 1,000.0 990.5"],
             "en": ["Ecological red line", "<b>Wetland</b> & reserve", "Counties 620321 Minqin", "Forest",
                    "Degraded (km²)", "No data (%)", "2015 (km²) 2020 (km²) Minqin Barren 1,000.0 990.5"]}[lang]
    for n in names + ["报告 <i>x</i>", "2025-06-01", "3.25"]:
        assert n in text, n
    assert "changed_km2" not in text and "degraded_km2" not in text and "barren" not in text
    traj_part = text.split({"zh": "土地覆被轨迹", "en": "Land-cover trajectories"}[lang])[1]
    assert {"zh": "水体", "en": "Water"}[lang] not in traj_part  # a class at 0 km² in every year is left out


def test_pdf_without_protected_layers_prints_the_degradation_table():
    text = pdf_text(landchange_pdf(date="2025-06-01", degradation=DEGRADATION, lang="en"))
    assert "Land degradation" in text and "Minqin" in text and "12.50" in text
    assert list(degradation_table(DEGRADATION, "en").columns) == [
        "Level", "Unit id", "Unit", "Period", "Improved (km²)", "Stable (km²)", "Degraded (km²)", "No data (km²)",
        "Improved (%)", "Stable (%)", "Degraded (%)", "No data (%)"]
    assert list(degradation_table(DEGRADATION, "zh").columns)[2:8] == [
        "单元名称", "时期", "改善 (km²)", "稳定 (km²)", "退化 (km²)", "无数据 (km²)"]
    assert degradation_table(DEGRADATION, "zh").iloc[0, 2] == "民勤县"


def test_utm_grid_gives_ground_areas_not_planar(tmp_path):
    tr = Affine(PX, 0, 500_000.0, 0, -PX, 4_200_000.0)  # UTM 48N, ~38°N on the central meridian
    base = np.full((8, 8), 2, np.uint8)
    alt = base.copy()
    alt[1:4, 1:4] = 8
    rs = write(tmp_path / "b.tif", base, 32648, tr), write(tmp_path / "a.tif", alt, 32648, tr)
    sq = shapely.box(500_000 + PX, 4_200_000 - 4 * PX, 500_000 + 4 * PX, 4_200_000 - PX)
    lay = [("red", "红线", gpd.GeoDataFrame(geometry=[shapely.box(500_000, 4_199_200, 500_800, 4_200_000)], crs=32648))]
    res = protected_change(lay, *rs, "clcd", base_year=2015, alt_year=2020, min_parcel_m2=0)
    ground = geodesic_area_m2(gpd.GeoSeries([sq], crs=32648).to_crs(4326).iloc[0])
    assert res.area_method == "geodesic_lonlat"
    assert res.parcels["area_ha"].iloc[0] * 1e4 == pytest.approx(ground, rel=REL)
    assert abs(ground / 90_000 - 1) > 5e-4  # the planar area would be off by the areal scale (0.9996²)


def test_pixels_touching_at_a_corner_are_separate_parcels(tmp_path):
    """4-connectivity: within a block (a diagonal pair) and across block edges, where the U-shape P
    (block rows 0-3) and the pixel Q under its gap (block rows 4-7) touch at two corners only: their
    union would be one polygon with a hole, but they are two parcels (5 px and 1 px)."""
    base = np.full((8, 8), 4, np.uint8)
    alt = base.copy()
    for r, c in ((2, 1), (2, 2), (2, 3), (3, 1), (3, 3), (4, 2), (5, 5), (6, 6)):
        alt[r, c] = 5
    rs = write(tmp_path / "b.tif", base), write(tmp_path / "a.tif", alt)
    lay = [("red", "红线", gpd.GeoDataFrame(geometry=[px_box(0, 0, 8, 8)], crs=ALBERS))]
    res = protected_change(lay, *rs, "clcd", base_year=2015, alt_year=2020, min_parcel_m2=0, block=4)
    assert sorted(res.parcels["area_ha"]) == [1.0, 1.0, 1.0, 5.0]


def test_parcels_add_up_to_the_matrix_on_random_rasters(tmp_path):
    """With no minimum area the parcels of each transition cover exactly the matrix cell (km²), the
    polygon cutting pixels included, whatever the block size."""
    rng = np.random.default_rng(7)
    base = rng.integers(1, 4, size=(50, 60)).astype(np.uint8)
    alt = np.where(rng.random((50, 60)) < 0.4, rng.integers(1, 4, size=(50, 60)), base).astype(np.uint8)
    alt[20:23, 30:40] = 0
    rs = write(tmp_path / "b.tif", base), write(tmp_path / "a.tif", alt)
    poly = shapely.Polygon([(X0 + 3.3 * PX, Y0 - 2.5 * PX), (X0 + 57.2 * PX, Y0 - 6.1 * PX),
                            (X0 + 44.7 * PX, Y0 - 48.4 * PX), (X0 + 8.1 * PX, Y0 - 41.6 * PX)])
    lay = [("red", "红线", gpd.GeoDataFrame(geometry=[poly], crs=ALBERS))]
    results = [protected_change(lay, *rs, "clcd", base_year=2015, alt_year=2020, min_parcel_m2=0, block=b)
               for b in (7, 2048)]
    m = results[0].matrices["red"]
    for res in results:
        got = res.parcels.groupby(["from_class", "to_class"])["area_ha"].sum() / 100
        pairs = [(f, t_) for f in CLASS_IDS for t_ in CLASS_IDS if f != t_ and m.loc[f, t_] > 0]
        assert sorted(got.index) == sorted(pairs)
        for f, t_ in pairs:
            assert got[(f, t_)] == pytest.approx(m.loc[f, t_], rel=1e-9)
    a, b = (sorted(np.round(r.parcels["area_ha"], 9)) for r in results)
    assert a == b and len(a) > 50

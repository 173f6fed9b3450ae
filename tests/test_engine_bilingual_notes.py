"""Per-park reasons and warnings in English and Chinese: reason/reason_zh, warnings/warnings_zh.

Every note is made once as an (en, zh) pair, so the columns carry the same notes in the same
order; the English text stays exactly as it was. Real rasters (rasterio) and polygons (shapely).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from indicators import table
from cli.__main__ import main
from core.text import Text
from indicators.engine import compute_parks, join_notes, prepare_parks
from layers.legends import CLASS_IDS, load_legend_csv
from tests.indicator_fixtures import legend_csv, parks_gdf, pools_csv, write_raster

REPO = Path(__file__).resolve().parent.parent
T = Affine(30, 0, 0, 0, -30, 600)  # 20 x 20 cells of 30 m in China Albers, x 0..600, y 0..600
BASE = np.array([[1, 1, 2, 2, 3] * 4] * 20, "uint8")  # 1 forest, 2 grassland, 3 built-up
BASE[10:, :] = 4  # rows 10..19 (y 0..300): shrub
BASE[:3, 15:] = 9  # nodata in the top-right corner (x 450..600, y 510..600)

SINK_SHRUB = "no cited sink rate for shrub (0 used)"
SINK_SHRUB_ZH = "无引用的碳汇速率：灌木（按 0 计）"


def _few(n: int) -> str:
    return f"park spans only {n} land-cover pixels (< 100): class areas are coarse; use finer land cover"


@pytest.fixture()
def files(tmp_path):
    return {
        "base": write_raster(tmp_path / "base.tif", BASE, T, nodata=9),
        "legend": load_legend_csv(legend_csv(tmp_path / "legend.csv")),
        "pools": pools_csv(tmp_path / "pools.csv"),
    }


def _run(files, geoms):
    return compute_parks(parks_gdf(geoms), landcover=files["base"], legend=files["legend"],
                         carbon_pools=files["pools"])


def _zh_notes(row) -> list[str]:
    return row["warnings_zh"].split("；") if row["warnings_zh"] else []


def _same_notes(row, en_notes: list[str]) -> list[str]:
    """The English column is exactly these notes; the Chinese column has as many, in order."""
    assert row["warnings"] == "; ".join(en_notes)
    zh = _zh_notes(row)
    assert len(zh) == len(en_notes), (row["warnings"], row["warnings_zh"])
    assert all(zh)
    return zh


def test_park_partly_outside_the_raster(files):
    half = shapely.box(-60, 0, 60, 60)  # 2 of 4 cells inside the raster (shrub)
    row = _run(files, [half]).iloc[0]
    assert row["reason"] == "" and row["reason_zh"] == ""
    zh = _same_notes(row, [
        "land cover covers 50.0% of the park; areas, carbon and vegetated share refer to that part",
        _few(4), SINK_SHRUB])  # no park-level 20% green-space advisory: that cap is for enterprise plots
    assert zh[0] == "土地覆盖仅覆盖园区的 50.0%，面积、碳储量和植被覆盖占比仅指该部分"
    assert zh[1].startswith("园区仅跨 4 个土地覆盖像元（< 100）：") and "结果仅供参考" in zh[1]
    assert zh[2:] == [SINK_SHRUB_ZH] and "绿地率" not in row["warnings_zh"]


def test_park_fully_outside_and_on_nodata_have_reasons(files):
    outside = shapely.box(5000, 5000, 6000, 6000)
    on_nodata = shapely.box(500, 540, 600, 600)  # only nodata cells
    out = _run(files, [outside, on_nodata])
    assert out.loc[0, "reason"] == "park outside the land-cover raster base.tif"
    assert out.loc[0, "reason_zh"] == "园区位于土地覆盖栅格 base.tif 之外"
    assert out.loc[1, "reason"] == "no land-cover data in the park (nodata in base.tif)"
    assert out.loc[1, "reason_zh"] == "园区内没有土地覆盖数据（base.tif 中为无数据值）"
    for i in range(2):  # no data: no notes about shares, in either language
        assert out.loc[i, "warnings"] == "" and out.loc[i, "warnings_zh"] == ""
        assert np.isnan(out.loc[i, "carbon_stock_tc"])


def test_bowtie_repair_note(files):
    bowtie = shapely.Polygon([(0, 0), (300, 300), (300, 0), (0, 300)])
    row = _run(files, [bowtie]).iloc[0]
    assert row["warnings"].startswith("invalid geometry repaired (Self-intersection")
    repair_en = row["warnings"].split("; ")[0]
    zh = _same_notes(row, [repair_en, _few(50), SINK_SHRUB])
    assert zh[0].startswith("几何无效（自相交") and zh[0].endswith("）已修复")
    # the GEOS location is the same in both languages
    where = repair_en[len("invalid geometry repaired (Self-intersection"):-1]
    assert zh[0] == f"几何无效（自相交{where}）已修复"
    assert row["area_km2"] == pytest.approx(0.045, rel=1e-9)
    # the pairs themselves, straight from the validation step
    _, notes = prepare_parks(parks_gdf([bowtie]))
    assert notes == [[Text(zh[0], repair_en)]]


def test_tiny_park_and_non_polygon_parts(files):
    tiny = shapely.box(0, 540, 60, 600)  # 4 cells: forest, forest / forest, forest
    mixed = shapely.GeometryCollection([shapely.box(0, 0, 90, 90), shapely.LineString([(0, 0), (500, 500)])])
    out = _run(files, [tiny, mixed])
    zh = _same_notes(out.loc[0], [_few(4)])
    assert zh == ["园区仅跨 4 个土地覆盖像元（< 100）：各类面积较粗略，结果仅供参考，宜改用更高分辨率的土地覆盖数据"]
    assert out.loc[0, "reliability"] == "low"
    zh = _same_notes(out.loc[1], ["non-polygon parts dropped", _few(9), SINK_SHRUB])
    assert zh[0] == "已删除非面部分" and zh[1].startswith("园区仅跨 9 个土地覆盖像元")


def test_built_up_park_has_only_the_pixel_note(files):
    built = shapely.box(120, 300, 150, 600)  # column 4, rows 0..9: 10 built-up cells
    row = _run(files, [built]).iloc[0]
    assert _same_notes(row, [_few(10)]) == [
        "园区仅跨 10 个土地覆盖像元（< 100）：各类面积较粗略，结果仅供参考，宜改用更高分辨率的土地覆盖数据"]


def test_sink_note_lists_several_classes_with_chinese_labels(tmp_path):
    data = np.array([[4, 5] * 6] * 12, "uint8")  # shrub / wetland stripes, 144 cells
    path = write_raster(tmp_path / "sw.tif", data, T, nodata=9)
    legend = tmp_path / "sw.csv"
    legend.write_text("code,class\n4,shrub\n5,wetland\n9,\n", encoding="utf-8")
    pools = pools_csv(tmp_path / "sw_pools.csv", {4: (1.0, 1.0, 1.0, 1.0), 5: (2.0, 2.0, 2.0, 2.0)})
    park = shapely.box(0, 240, 360, 600)
    out = compute_parks(parks_gdf([park]), landcover=path, legend=load_legend_csv(legend), carbon_pools=pools)
    zh = _same_notes(out.loc[0], ["no cited sink rate for shrub, wetland (0 used)"])
    assert zh == ["无引用的碳汇速率：灌木、湿地（按 0 计）"]


def test_wetland_and_sink_rate_notes_use_chinese_class_labels(tmp_path):
    data = np.array([[11, 11], [10, 255]], "uint8")  # IGBP wetland, grassland, fill
    path = write_raster(tmp_path / "m.tif", data, Affine(0.05, 0, 100, 0, -0.05, 36), crs="EPSG:4326", nodata=255)
    out = compute_parks(parks_gdf([shapely.box(100, 35.9, 100.1, 36)], crs="EPSG:4326"), landcover=path)
    zh = _same_notes(out.loc[0], [
        "land cover covers 75.0% of the park; areas, carbon and vegetated share refer to that part",
        _few(4),
        "wetland carbon density: Gannan zone from alpine marsh/peat measurements, other zones the IPCC "
        "mineral-wetland default (soil to 30 cm only: an underestimate)",
        "no cited sink rate for wetland (0 used)"])
    assert zh[2] == "湿地碳密度：甘南分区为高寒沼泽/泥炭实测值，其他分区为 IPCC 矿质土湿地默认值（土壤仅计 0–30 cm，偏低）"
    assert zh[3] == "无引用的碳汇速率：湿地（按 0 计）"
    assert zh[0] == "土地覆盖仅覆盖园区的 75.0%，面积、碳储量和植被覆盖占比仅指该部分"


def test_join_notes_and_declared_columns():
    notes = [Text("甲，乙", "a; b"), Text("丙", "c")]
    assert join_notes(notes) == ("a; b; c", "甲，乙；丙")
    assert join_notes([]) == ("", "")
    cols = table.columns_for(CLASS_IDS)
    assert cols[-4:] == ["reason", "reason_zh", "warnings", "warnings_zh"]
    assert table.label("warnings_zh", "zh") == "提示（中文）" and table.label("reason_zh", "en") == "Reason (Chinese)"
    assert table.label("warnings", "zh") == "提示" and table.label("reason", "en") == "Reason"


# --- the command line ------------------------------------------------------------------------
@pytest.fixture()
def cli_inputs(tmp_path):
    write_raster(tmp_path / "lc.tif", BASE, T, nodata=9)
    legend_csv(tmp_path / "legend.csv")
    pools_csv(tmp_path / "pools.csv")
    parks = parks_gdf([shapely.box(-60, 0, 60, 60), shapely.box(9000, 0, 9300, 300)], name=["半园区", "外部"])
    parks.to_file(tmp_path / "parks.gpkg", driver="GPKG")
    return tmp_path


def _args(d: Path, out: str) -> list[str]:
    return ["parks", "--parks", str(d / "parks.gpkg"), "--landcover", str(d / "lc.tif"),
            "--legend-file", str(d / "legend.csv"), "--carbon-pools", str(d / "pools.csv"), "--out", str(d / out)]


def _check_cli(df: pd.DataFrame):
    cols = list(df.columns)
    assert cols.index("reason_zh") == cols.index("reason") + 1
    assert cols.index("warnings_zh") == cols.index("warnings") + 1
    assert df.loc[0, "warnings"].startswith("land cover covers 50.0% of the park; ")
    assert df.loc[0, "warnings_zh"].startswith("土地覆盖仅覆盖园区的 50.0%，")
    assert "园区仅跨 4 个土地覆盖像元（< 100）" in df.loc[0, "warnings_zh"]
    assert df.loc[1, "reason"] == "park outside the land-cover raster lc.tif"
    assert df.loc[1, "reason_zh"] == "园区位于土地覆盖栅格 lc.tif 之外"


def test_cli_csv_has_chinese_columns(cli_inputs):
    res = subprocess.run([sys.executable, "-m", "cli", *_args(cli_inputs, "out.csv")],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    raw = (cli_inputs / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "土地覆盖仅覆盖园区".encode() in raw  # UTF-8 (BOM for Excel)
    _check_cli(pd.read_csv(cli_inputs / "out.csv", keep_default_na=False))


@pytest.mark.parametrize("ext", ["xlsx", "gpkg"])
def test_cli_other_formats_keep_chinese_columns(cli_inputs, ext):
    assert main(_args(cli_inputs, f"out.{ext}")) == 0
    path = cli_inputs / f"out.{ext}"
    if ext == "xlsx":  # Excel has labelled headers (Chinese by default): map them back to the ids
        import reports

        df = pd.read_excel(path, sheet_name="parks", keep_default_na=False)
        assert {"原因", "原因（中文）", "提示", "提示（中文）"} <= set(df.columns)
        df = df.rename(columns={v: k for k, v in reports.labels_for(list(table.BY_ID), "zh").items()})
    else:
        df = pd.DataFrame(gpd.read_file(path).drop(columns="geometry"))
    _check_cli(df)

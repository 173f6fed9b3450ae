"""AppTest: what the pages show is labelled and counted right.

- Home's "parks (illustrative + yours)" counts the user's saved parks too (save one → n + 1).
- In the Chinese UI no table on the Targets page (progress, statistics editor, indicator codes,
  land-cover proxies, change summary and matrix, targets table) has a raw column id as a header:
  every header shown (a column-config label when one is set, else the column name) is a label
  with Chinese text.
"""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import rasterio
import shapely
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import run_page, shown_headers

REPO = Path(__file__).resolve().parent.parent
RAW_ID = re.compile(r"^[A-Za-z0-9_]+$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(page: str, lang: str, **state) -> AppTest:
    return run_page(page, lang, timeout=120, no_errors=True, **state)


def test_home_counts_illustrative_and_user_parks(store):
    at = run("home.py", "en")
    n = int(next(m.value for m in at.metric if m.label == "Parks (illustrative + yours)"))
    assert n >= 10  # the illustrative parks
    park = gpd.GeoDataFrame({"name": ["首页计数园区"]}, geometry=[shapely.box(104.2, 36.5, 104.23, 36.52)], crs=4326)
    store.add_parks(park, names=["首页计数园区"], source="upload")
    at = run("home.py", "zh")
    assert int(next(m.value for m in at.metric if m.label == "园区数（示意+用户）")) == n + 1


def test_targets_tables_have_labelled_headers_in_chinese(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_RASTER_ROOTS", str(tmp_path))  # typed server paths: only inside the allowed folders
    from core import paths

    with rasterio.open(paths.landcover_path()) as src:
        prof, base = src.profile, src.read(1)
    alt = base.copy()
    alt[base == 10] = 16
    for name, arr in (("b.tif", base), ("a.tif", alt)):
        with rasterio.open(tmp_path / name, "w", **prof) as out:
            out.write(arr, 1)
    at = run("targets.py", "zh", targets_change_base_path=str(tmp_path / "b.tif"),
             targets_change_alt_path=str(tmp_path / "a.tif"))
    tables = [shown_headers(d) for d in at.dataframe]
    # every table of the page is drawn: progress, reference values, statistics editor, indicator codes,
    # land-cover proxies (default land cover), change summary and matrix, targets table
    assert len(tables) == 8, tables
    for needle in ("状态", "类别", "数值", "基期年", "数据覆盖率 (%)", "森林净变化 (km²)", "基准期 → 对比期 (km²)", "文件"):
        assert any(needle in h for h in tables), needle
    raw = {"indicator", "region", "year", "value", "unit", "source", "target_year", "target_value",
           "comparator", "direction", "base_year", "source_doc", "source_clause", "label_zh", "label_en"}
    for d in at.dataframe:
        heads = shown_headers(d)
        assert not raw & set(heads), heads
        bad = [h for h in heads if RAW_ID.match(h) or not CJK.search(h)]
        assert not bad, (heads, bad)
    # the statistics editor keeps its CSV column names underneath (saving validates them)
    editor = next(d for d in at.dataframe if d.key == "targets_stats_editor")
    assert list(editor.value.columns) == ["indicator", "region", "year", "value", "unit", "source", "basis",
                                          "source_url", "source_date", "quote", "note", "origin"]  # issue 13
    assert shown_headers(editor)[:4] == ["指标代码（CSV 中使用）", "地区", "年份", "数值"]

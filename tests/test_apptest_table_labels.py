"""Issue 9: in the Chinese UI no table on the Parks and Siting pages shows a raw column id as its
header; every header is a translated label, with the unit where the indicator has one.

``st.dataframe`` sends the table's own column names (a Styler's relabelled index is not shown),
so ``AppTest.dataframe[i].value.columns`` are exactly the headers the user sees; for
``st.data_editor`` the headers are the labels of its ``column_config``.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from core.i18n import TEXT
from tests.apptest_helpers import run_page, shown_headers
from indicators import checklist, siting, table

REPO = Path(__file__).resolve().parent.parent
# every id a table could leak: indicators, siting/checklist columns, derived and page columns
RAW_IDS = (set(table.BY_ID) | set(siting.COLUMN_LABELS) | set(checklist.COLUMN_LABELS)
           | {f"norm_{c}" for c in table.BY_ID} | {"source", "delete", "key", "value", "id", "label", "unit",
                                                   "description", "direction", "siting_direction", "park",
                                                   "table_direction", "note_zh", "note_en"})


def _run(page: str, lang: str = "zh", **state) -> AppTest:
    return run_page(page, lang, **state)


_headers = shown_headers


def _all_tables(at) -> list[list[str]]:
    return [_headers(d) for d in at.dataframe]


def _assert_labelled(heads: list[str]):
    leaked = [h for h in heads if h in RAW_IDS]
    assert not leaked, f"raw column ids shown as headers: {leaked} in {heads}"


def _unit_heads(heads: list[str], lang: str = "zh") -> None:
    for ind in table.INDICATORS:
        if ind.label(lang) in heads:
            assert not ind.unit, f"{ind.id}: header {ind.label(lang)!r} lacks its unit ({ind.unit})"


def test_parks_tables_show_chinese_labels_with_units(store):
    store.add_parks(gpd.GeoDataFrame(geometry=[shapely.box(104.2, 36.5, 104.23, 36.52)], crs=4326),
                    names=["上传园区"], source="upload")
    pid = store.parks()["park_id"].iloc[0]
    at = _run("parks.py", "zh", parks_selected=pid)
    main = at.dataframe[0]  # the indicator table comes first
    heads = _headers(main)
    assert heads[:3] == ["园区编号", "园区名称", "来源"]
    for h in ("面积 (km²)", "碳储量 (t C)", "碳储量（CO2当量） (t CO2e)", "年碳汇 (t CO2/yr)", "植被覆盖占比（地图估算） (%)",
              "距机场距离 (km)", "与红线重叠面积 (km²)", "与红线重叠比例 (%)", "所属屏障分区", "可靠性"):
        assert h in heads, (h, heads)
    _unit_heads(heads)
    assert "低" in set(main.value["可靠性"]) or "良好" in set(main.value["可靠性"])
    # every table of the page: the indicator table, the definitions, the park manager
    tables = _all_tables(at)
    assert len(tables) >= 3
    for heads in tables:
        _assert_labelled(heads)
    editor = next(h for h in tables if "删除" in h)
    assert editor == ["园区编号", "名称", "来源", "删除"]
    definitions = next(h for h in tables if "单位" in h)
    assert definitions[:3] == ["字段", "名称", "单位"]


def test_siting_tables_show_chinese_labels(store):
    at = _run("siting.py", "zh", siting_parks=["P01", "P02", "P03", "P04"], _siting_init=True)
    tables = _all_tables(at)
    assert len(tables) >= 2  # ranking and directions (+ sensitivity when a rank moves)
    for heads in tables:
        _assert_labelled(heads)
    ranking = _headers(at.dataframe[0])
    # no green flag (greening is the checklist's); each weighted criterion's contribution, then the notes
    assert ranking == ["排名", "园区", "综合得分 (0–1)", "得分贡献：单位面积受威胁碳量", "得分贡献：单位面积年碳汇（受威胁）",
                       "得分贡献：距机场距离", "得分贡献：与红线重叠比例", "说明"], ranking
    directions = next(h for h in tables if "方向（选址）" in h)
    assert directions == ["字段", "名称", "单位", "方向（指标表）", "方向（选址）", "说明"]


@pytest.mark.parametrize("page", ["parks.py", "siting.py"])
def test_english_ui_has_english_labels(store, page):
    at = _run(page, "en", **({"siting_parks": ["P01", "P02"], "_siting_init": True} if page == "siting.py" else {}))
    heads = _headers(at.dataframe[0])
    _assert_labelled(heads)
    assert ("Carbon stock (t C)" if page == "parks.py" else "Score (0–1)") in heads
    zh_words = {v["zh"] for v in TEXT.values()} | {i.label("zh") for i in table.INDICATORS}
    assert not set(heads) & zh_words

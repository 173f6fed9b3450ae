"""AppTest of the targets page: both languages, statistics import updates the progress view,
invalid CSVs change nothing, the second visit reads the zone-statistics cache (raster reads
counted), and the change tab on two constructed rasters."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from streamlit.testing.v1 import AppTest

from core import paths

REPO = Path(__file__).resolve().parent.parent
PAGE = str(REPO / "pages" / "targets.py")


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def find_df(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def progress_df(at):
    return next(d.value for d in at.dataframe if "Status" in d.value.columns or "状态" in d.value.columns)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_runs_in_both_languages(dataset, lang):
    at = run(lang)
    assert not at.error, [e.value for e in at.error]
    assert bool(re.search(r"[\u4e00-\u9fff]", at.title[0].value)) == (lang == "zh")
    df = progress_df(at)
    region = "Region" if lang == "en" else "地区"
    province = "Gansu (province)" if lang == "en" else "全省"
    assert len(df) == 23  # one row per target (the plan's are the province's; prefecture values are references)
    assert len(df[df[region].astype(str).str.contains("Gansu|全省|甘肃")]) == 23, province
    text = df.select_dtypes(exclude="number")  # (numbers' gaps are "—" through the styler)
    assert not text.isna().any().any() and not text.astype(str).isin(["None", "nan", "<NA>", ""]).any().any()
    metrics = {m.label: m.value for m in at.metric}
    official = "Forest coverage (official)" if lang == "en" else "森林覆盖率（官方统计）"
    assert metrics[official] == "11.33%"  # seeded, cited
    proxy = "Forest share (land-cover proxy)" if lang == "en" else "森林占比（土地覆被代理）"
    assert proxy in metrics  # shown next to the official value, as a separate proxy
    assert any(p.type == "plotly_chart" for p in at.get("plotly_chart"))


def _apply(at: AppTest, text: str, mode="merge") -> AppTest:
    at.text_area(key="targets_stats_paste").set_value(text)
    at.radio(key="targets_stats_mode").set_value(mode)
    at.button(key="targets_stats_apply").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_uploading_statistics_updates_progress_and_invalid_csv_changes_nothing(dataset):
    from storage import stats_store
    from ui import common

    at = run("en")
    before = stats_store.official_stats(common.cached_store(str(paths.store_path())))
    cases = {
        "indicator,region,year,amount,unit,source\npm25_ugm3,甘肃省,2020,30,µg/m³,x\n": "exactly the columns",
        "indicator,region,year,value,unit,source\npm25_ugm3,甘肃省,2020,thirty,µg/m³,x\n": "non-numeric",
        "indicator,region,year,value,unit,source\nmystery_index,甘肃省,2020,1,%,x\n": "unknown indicator",
    }
    for text, needle in cases.items():
        at = _apply(at, text)
        assert any(needle in e.value and "nothing was changed" in e.value for e in at.error), [e.value for e in at.error]
        after = stats_store.official_stats(common.cached_store(str(paths.store_path())))
        assert after.equals(before)
    at = run("zh")
    at = _apply(at, "indicator,region,year,value,unit,source\nmystery_index,甘肃省,2020,1,%,x\n")
    assert any("未知指标" in e.value for e in at.error)

    at = run("en", targets_run_date=__import__("datetime").date(2024, 1, 1))  # years left from 2024
    at = _apply(at, "indicator,region,year,value,unit,source\n"
                    "pm25_ugm3,甘肃省,2019,31,µg/m³,test bulletin\npm25_ugm3,甘肃省,2023,27,µg/m³,test bulletin\n")
    assert not at.error, [e.value for e in at.error]
    assert any("Saved 2 row(s)" in s.value for s in at.success)
    df = progress_df(at)
    row = df[(df["Indicator"] == "PM2.5 concentration")].iloc[0]
    assert row["Latest official value"] == 27 and row["Latest year"] == 2023
    assert row["Required change per year"] == pytest.approx(-1.0)  # (25 − 27) / 2
    assert row["Historical change per year"] == pytest.approx(-1.0)
    assert row["Status"] == "on track"
    # restore the seeded table for other tests
    stats_store.replace_official_stats(common.cached_store(str(paths.store_path())), before)


def _copy_landcover(dst: Path) -> Path:
    from core import paths

    with rasterio.open(paths.landcover_path()) as src:
        prof = src.profile
        data = src.read(1)
    prof.update(compress="lzw", tiled=False)
    prof.pop("blockxsize", None)
    prof.pop("blockysize", None)
    with rasterio.open(dst, "w", **prof) as out:
        out.write(data, 1)
        out.update_tags(purpose=f"test copy {time.time_ns()}")  # new content hash per test run
    return dst


def test_second_visit_reads_the_cache_not_the_raster(dataset, tmp_path, monkeypatch, raster_reads):
    monkeypatch.setenv("GANSU_RASTER_ROOTS", str(tmp_path))  # typed server paths: only inside the allowed folders
    import streamlit as st

    from ui import jobs
    from ui import targets as ui

    raster = _copy_landcover(tmp_path / "lc_copy.tif")
    monkeypatch.setattr(ui, "SYNC_MAX_PIXELS", 0)  # force the background path
    state = dict(targets_lc_source="path", targets_lc_path=str(raster), targets_lc_legend="igbp")
    passes0 = raster_reads["passes"]
    at = run("en", **state)
    for _ in range(10):  # between two runs, wait for the background job (the timeout bounds a failure)
        if any(m.label.startswith("Forest share") for m in at.metric):
            break
        assert not at.error, [e.value for e in at.error]
        assert jobs.wait_all(timeout=900), "background job did not finish"
        at.run()
    assert any(m.label.startswith("Forest share") for m in at.metric), "the job's result never showed"
    assert raster_reads["passes"] == passes0 + 1 and raster_reads["units"] > 0  # the raster was read
    first = find_df(at, "Data coverage (%)")

    # second visit: new session, in-memory caches and jobs dropped: only the store remains
    st.cache_data.clear()
    jobs.clear()
    units0 = raster_reads["units"]
    at2 = run("en", **state)
    assert raster_reads["passes"] == passes0 + 1
    assert raster_reads["units"] == units0
    assert any("store cache" in c.value for c in at2.caption)
    assert find_df(at2, "Data coverage (%)").equals(first)


def test_change_tab_transition_matrix(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_RASTER_ROOTS", str(tmp_path))  # typed server paths: only inside the allowed folders
    from core import paths

    with rasterio.open(paths.landcover_path()) as src:
        prof, base = src.profile, src.read(1)
    alt = base.copy()
    alt[(base == 10)] = 16  # every grassland pixel becomes barren
    for name, arr in (("b.tif", base), ("a.tif", alt)):
        with rasterio.open(tmp_path / name, "w", **prof) as out:
            out.write(arr, 1)
    at = run("en", targets_change_legend="igbp", targets_change_base_path=str(tmp_path / "b.tif"),
             targets_change_alt_path=str(tmp_path / "a.tif"))
    assert not at.error, [e.value for e in at.error]
    summary = find_df(at, "Net forest change (km²)")
    total = summary[summary["Zone"] == "All zones"].iloc[0]
    assert total["Net grassland change (km²)"] < -1000
    assert total["Carbon stock change (t C)"] < 0
    m = next(d.value for d in at.dataframe if d.value.index.name == "baseline → later (km²)")
    assert m.loc["Grassland", "Barren"] == pytest.approx(-total["Net grassland change (km²)"], rel=1e-6)
    # different grids → a clear message, no resampling
    with rasterio.open(tmp_path / "c.tif", "w", **{**prof, "width": prof["width"] - 1}) as out:
        out.write(base[:, :-1], 1)
    at = run("zh", targets_change_legend="igbp", targets_change_base_path=str(tmp_path / "b.tif"),
             targets_change_alt_path=str(tmp_path / "c.tif"))
    assert any("同一格网" in e.value for e in at.error)


def test_excel_exports_hold_progress_and_transition_matrices(dataset, tmp_path):
    import io

    import openpyxl

    from indicators import change
    from indicators import targets as tg
    from tests.test_change import ALBERS, make_raster, px_box
    from ui import charts
    from ui import targets as ui
    import geopandas as gpd

    tdf = tg.load_targets()
    view = ui.progress_view(tdf, tg.load_seed_stats(), "zh")
    wb = openpyxl.load_workbook(io.BytesIO(ui.workbook({"目标进展": view, "targets": tdf}, "zh")))
    assert wb.sheetnames[:2] == ["目标进展", "targets"]  # (+ the sheet reports.excel_bytes adds describing columns)
    assert wb["目标进展"].max_row == len(view) + 1
    a = np.arange(1, 10, dtype=np.uint8).repeat(4).reshape(6, 6)
    zones = gpd.GeoDataFrame({"n": ["z"]}, geometry=[px_box(0, 0, 6, 6)], crs=ALBERS)
    res = change.transitions(zones, make_raster(tmp_path / "a.tif", a), make_raster(tmp_path / "b.tif", a[::-1]),
                             "clcd", names=["z"])
    sheets = {ui.zone_label(k, "en"): ui.matrix_labelled(v, "en") for k, v in res.matrices.items()}
    wb = openpyxl.load_workbook(io.BytesIO(ui.workbook(sheets, "en")))
    ws = wb["z"]
    assert ws.cell(1, 1).value == "baseline → later (km²)"
    assert ws.max_row == 10 and ws.max_column == 10  # 9 classes + header
    fig = charts.trajectory_figure(tdf, tg.load_seed_stats(), "forest_coverage_pct", "甘肃省", "en")
    html = charts.figure_html(fig)
    assert len(html) > 1_000_000 and b'src="http' not in html  # plotly.js inlined: opens offline

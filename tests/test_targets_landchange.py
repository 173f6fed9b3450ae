"""AppTest of the Targets page's land-change tab on a synthetic three-year CLCD series (TEST DATA made
in code: ``tests/landchange_fixtures.py``) registered through the storage API: the degradation table
per county has labelled headers in Chinese and English and the engine's numbers
(``indicators.landchange.degradation`` computed directly on the same files and counties); the key-
areas preset lists the seed's five counties; editing a cell of the matrix changes the numbers to the
engine's with the edited matrix, and saving it keeps it in the store and chooses it; without a series the tab says how to register one and shows no number."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.i18n import t
from indicators import landchange, ldn, zonestats
from layers import catalog
from storage import series_register
from tests import landchange_fixtures as lf
from tests import workspace_fixtures as wf
from tests.apptest_helpers import capture_downloads, run_page, run_with_editor, shown_headers

NUMBERS = ["improved_km2", "improved_pct", "stable_km2", "stable_pct", "degraded_km2", "degraded_pct", "nodata_km2",
           "nodata_pct", "area_km2", "desertified_km2", "rehabilitated_km2", "desertification_net_km2"]
PERIODS = {"baseline": (2000, 2010), "reporting": (2010, 2020)}


@pytest.fixture()
def page_env(dataset, tmp_path, monkeypatch):
    yield from wf.page_store(tmp_path, monkeypatch)


@pytest.fixture()
def series(page_env, tmp_path):
    files = lf.write_series(tmp_path / "import")
    series_register.register_series(page_env, list(files.items()), legend="clcd", use=True)
    return files


@pytest.fixture(scope="module")
def county_pairs(dataset, tmp_path_factory):
    """The engine on the same files (same content) and the counties alone."""
    files = lf.write_series(tmp_path_factory.mktemp("engine"))
    base, _ = zonestats.gansu_levels(*(catalog.read_default(k) for k in ("province", "prefectures", "counties", "zones")))
    return landchange.unit_pairs(base, [], [files[y] for y in lf.YEARS], list(lf.YEARS), "clcd")


def deg_table(at, lang: str):
    """The degradation table element (found by its labelled "degraded (km²)" header)."""
    label = landchange.LABELS["degraded_km2"].pick(lang)
    found = [d for d in at.dataframe if any(h.lower() == label.lower() for h in shown_headers(d))]
    assert found, f"no table headed {label!r}: {[shown_headers(d) for d in at.dataframe]}"
    return found[0]


def col_of(shown: pd.DataFrame, c: str, lang: str) -> str:
    """The shown header of engine column ``c`` (its label, the first letter capitalised in English)."""
    label = landchange.LABELS[c].pick(lang)
    return next(h for h in shown.columns if h.lower() == label.lower())


def check_equal(shown: pd.DataFrame, expected: pd.DataFrame, lang: str) -> None:
    name = "单元" if lang == "zh" else "Unit"
    period = col_of(shown, "period", lang)
    per = {"基线期": "baseline", "Baseline period": "baseline", "报告期": "reporting", "Reporting period": "reporting"}
    exp = expected.assign(name=expected["name_zh"] if lang == "zh" else expected["name_en"])
    got = shown.assign(_p=shown[period].map(per))
    assert got["_p"].notna().all()
    merged = got.merge(exp, left_on=[name, "_p"], right_on=["name", "period"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", [name, "name"]]
    for c in NUMBERS:
        col = col_of(shown, c, lang)
        np.testing.assert_allclose(merged[col].to_numpy(float), merged[c].to_numpy(float), rtol=1e-9, atol=1e-9,
                                   err_msg=c)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_degradation_table_is_labelled_and_equals_the_engine(series, county_pairs, lang):
    at = run_page("targets.py", lang, timeout=600, no_errors=True, landchange_deg_level="county")
    el = deg_table(at, lang)
    heads = shown_headers(el)
    assert not set(heads) & set(landchange.degradation(county_pairs, PERIODS).columns), heads  # no raw id
    if lang == "zh":
        assert {"单元", "时段", "改善（km²）", "退化（%）", "无数据（km²）", "面积（km²）"} <= set(heads), heads
    else:
        assert {"Unit", "Period", "Degraded (km²)", "No data (%)", "Area (km²)"} <= set(heads), heads
    shown = el.value
    assert len(shown) == 2 * 87  # every county, both periods
    expected = landchange.degradation(county_pairs, PERIODS)
    check_equal(shown, expected, lang)
    # the known changes: grassland → barren degraded in the baseline, barren → grassland improved after
    minqin = expected[(expected["name_zh"] == "民勤县")].set_index("period")
    assert minqin.loc["baseline", "degraded_km2"] > 100 and minqin.loc["baseline", "improved_km2"] == 0
    assert minqin.loc["reporting", "improved_km2"] > 10 and minqin.loc["reporting", "degraded_km2"] == 0
    # the trajectories' table (MapBiomas style) and the trend table are there, labelled
    year_col = "2010 年（km²）" if lang == "zh" else "2010 (km²)"
    assert any(year_col in d.value.columns for d in at.dataframe)


def test_key_areas_preset_lists_the_seed_counties(series, county_pairs):
    at = run_page("targets.py", "zh", timeout=600, no_errors=True, landchange_deg_level="key_areas")
    shown = deg_table(at, "zh").value
    assert set(shown["单元"]) == set(ldn.key_areas()["name_zh"]) == {"民勤县", "环县", "金塔县", "敦煌市", "古浪县"}
    expected = landchange.degradation(county_pairs, PERIODS)
    check_equal(shown, expected[expected["name_zh"].isin(set(shown["单元"]))], "zh")


def test_a_baseline_over_years_not_consecutive_in_the_series_reads_them_in_a_second_pass(series, county_pairs):
    at = run_page("targets.py", "en", timeout=600, no_errors=True, landchange_deg_level="county",
                  landchange_baseline=(2000, 2020), landchange_use_reporting=False)
    shown = deg_table(at, "en").value
    assert set(shown["Years"]) == {"2000–2020"}
    base, _ = zonestats.gansu_levels(*(catalog.read_default(k) for k in ("province", "prefectures", "counties", "zones")))
    files = {y: series[y] for y in (2000, 2020)}
    up = landchange.unit_pairs(base, [], list(files.values()), list(files), "clcd")
    expected = landchange.degradation(up, {"baseline": (2000, 2020)})
    check_equal(shown, expected, "en")
    # grassland → barren → grassland on a third of the blocks: stable over 2000–2020 there
    assert expected["degraded_km2"].sum() < landchange.degradation(county_pairs, PERIODS)["degraded_km2"].sum()


def test_editing_the_matrix_changes_the_numbers(series, county_pairs, page_env):
    page_store = page_env
    at = run_page("targets.py", "en", timeout=600, no_errors=True, landchange_deg_level="county")
    before = deg_table(at, "en").value
    [editor] = [e for e in at.data_editor if e.key and e.key.startswith("landchange_matrix_edit_")]
    assert list(editor.value.columns) == [ldn.UNCCD_LABELS[c].en for c in ldn.UNCCD]  # labelled 7 × 7
    # grassland → other land rated stable instead of degraded
    at = run_with_editor(at, {editor.key: {"edited_rows": {1: {"other land": 0}}}}, timeout=600)
    assert not at.error, [e.value for e in at.error]
    after = deg_table(at, "en").value
    m = ldn.load_matrix()
    m.loc["grassland", "other_land"] = 0
    check_equal(after, landchange.degradation(county_pairs, PERIODS, m), "en")
    deg, stable = "Degraded (km²)", "Stable (km²)"
    base = before["Period"] == "Baseline period"
    assert before.loc[base, deg].sum() > 1000 and after.loc[base, deg].sum() == 0
    np.testing.assert_allclose(after.loc[base, stable].to_numpy(),
                               (before.loc[base, stable] + before.loc[base, deg]).to_numpy(), rtol=1e-9)
    # saved under a name: kept in the store as a versioned table, chosen, the numbers stay the edited ones
    at.text_input(key="landchange_matrix_name").set_value("退耕还草 stable")
    at.button(key="landchange_matrix_save").click()
    at.run(timeout=600)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="landchange_matrix_pick").value == "退耕还草 stable@1"
    assert ldn.load_matrix(page_store.result_table("退耕还草 stable@1")).equals(m)
    check_equal(deg_table(at, "en").value, landchange.degradation(county_pairs, PERIODS, m), "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_a_series_the_tab_says_how_to_register_one(page_env, lang):
    at = run_page("targets.py", lang, timeout=600, no_errors=True)
    infos = [i.value for i in at.info]
    assert any("gansu workspace add-series" in i and ("数据" in i if lang == "zh" else "Data page" in i) for i in infos), infos
    assert not any(landchange.LABELS["degraded_km2"].pick(lang).lower() in [h.lower() for h in shown_headers(d)]
                   for d in at.dataframe)


@pytest.fixture()
def downloads(monkeypatch):
    """The files the page hands to its download buttons, by file name (``apptest_helpers.capture_downloads``)."""
    return capture_downloads(monkeypatch)


def test_exports_hold_every_table_with_provenance(series, county_pairs, downloads):
    import io

    import openpyxl
    import pypdf

    run_page("targets.py", "en", timeout=600, no_errors=True)
    wb = openpyxl.load_workbook(io.BytesIO(downloads["land_change.xlsx"]), read_only=True)
    assert {"trajectories", "trends", "degradation", "matrix used", "provenance"} <= set(wb.sheetnames), wb.sheetnames
    assert t("lchg.sheet.summary", "en") in wb.sheetnames, wb.sheetnames  # the red-line change report's sheets
    rows = list(wb["degradation"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Level", "Unit", "Period")
    minqin = [r for r in rows if r[1] == "Minqin County" and r[2] == "Baseline period"]
    expected = landchange.degradation(county_pairs, PERIODS).set_index(["name_en", "period"])
    assert minqin and minqin[0][rows[0].index("Degraded (km²)")] == pytest.approx(
        expected.loc[("Minqin County", "baseline"), "degraded_km2"], rel=1e-12)
    prov = dict(list(wb["provenance"].iter_rows(values_only=True))[1:])
    assert any("ldn_matrix" in str(k) for k in prov), prov  # the matrix used is hashed in the provenance
    matrix = pd.read_csv(io.BytesIO(downloads["ldn_matrix.csv"]))
    assert ldn.load_matrix(matrix).equals(ldn.load_matrix())  # the CSV reads back as the matrix used
    pdf = downloads["land_change.pdf"]
    assert pdf[:5] == b"%PDF-"
    text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Land-change report" in text


def test_a_large_series_runs_in_the_background_then_comes_from_the_store(series, county_pairs, monkeypatch):
    import streamlit as st

    from ui import jobs
    from ui import targets_landchange as tl

    from ui import landchange_degradation as ldeg
    from ui import landchange_protected as lprot

    for mod, name in ((tl, "SYNC_MAX_PIXELS"), (ldeg, "VERDICT_SYNC_PIXELS"), (lprot, "SYNC_MAX_PIXELS")):
        monkeypatch.setattr(mod, name, 0)  # every series is "large": background jobs
    calls = []
    real = landchange.unit_pairs
    monkeypatch.setattr(landchange, "unit_pairs", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = run_page("targets.py", "en", timeout=600, no_errors=True, landchange_deg_level="county")
    assert len(at.get("progress")) == 1 and not any(d.key and "matrix" in d.key for d in at.data_editor)
    assert jobs.wait_all(timeout=600), "the background job did not finish"
    at.run(timeout=600)
    check_equal(deg_table(at, "en").value, landchange.degradation(county_pairs, PERIODS), "en")
    assert len(calls) == 1
    waiting = [i.value for i in at.info if "in the background" in i.value]
    assert len(waiting) == 2, waiting  # the verdict raster and the red-line change: jobs of their own
    assert jobs.wait_all(timeout=600)
    at.run(timeout=600)
    assert not any("in the background" in i.value for i in at.info)
    assert any("Changed (km²)" in shown_headers(d) for d in at.dataframe)  # the red-line change, from its job
    st.cache_data.clear()  # a new visit: only the store remains
    st.cache_resource.clear()
    jobs.clear()
    at = run_page("targets.py", "en", timeout=600, no_errors=True, landchange_deg_level="county")
    assert len(calls) == 1 and any("Class areas per year from the store cache" in c.value for c in at.caption)
    check_equal(deg_table(at, "en").value, landchange.degradation(county_pairs, PERIODS), "en")

"""Issue 14: user flows through AppTest that had no test — Parks rename / attribute edit / delete,
Checklist save → reload → overall banner → credit check, Siting "load scenario" restoring its
weights, Data page replacement and revert. Real store (the session's), real pages."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from core import paths
from storage.store import Store
from tests.apptest_helpers import run_page, run_with_editor
from ui.mdtext import unescape


def _park(lon, lat):
    return gpd.GeoDataFrame({"名称": ["x"]}, geometry=[shapely.box(lon, lat, lon + 0.03, lat + 0.02)], crs=4326)


def texts(at, *kinds) -> str:
    return " ".join(str(e.value) for k in kinds for e in getattr(at, k))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_parks_rename_and_delete_through_the_manage_table(store, lang):
    a = store.add_parks(_park(104.2, 36.5), names=["改名前"], source="upload")[0]
    b = store.add_parks(_park(104.3, 36.5), names=["将删除"], source="upload")[0]
    at = run_page("parks.py", lang)
    assert list(store.parks()["park_id"]) == [a, b]
    edits = {"parks_editor": {"edited_rows": {0: {"name": "  改名后  "}, 1: {"delete": True}}}}
    run_with_editor(at, edits)  # the user edits the table (a rerun) …
    at.button(key="parks_manage_apply").click()
    run_with_editor(at, edits)  # … then applies; the frontend still sends the edits
    s = Store(paths.store_path())
    assert list(s.parks()["park_id"]) == [a] and list(s.parks()["name"]) == ["改名后"]  # stripped
    assert b in set(s.bin_entries()["item_id"])  # to the recycle bin, restorable
    assert not at.error, texts(at, "error")
    assert texts(at, "success")
    # the page shows the new name and not the deleted park
    at = run_page("parks.py", lang)
    table = at.dataframe[0].value.astype(str).to_string()
    assert "改名后" in table and "将删除" not in table and "改名前" not in table


def test_parks_attribute_edit_is_saved_and_shown_again(store):
    pid = store.add_parks(_park(104.2, 36.5), names=["属性园区"], source="upload")[0]
    at = run_page("parks.py", "en", parks_attr_target=pid)
    at.button(key="parks_attr_save").click()
    run_with_editor(at, {"parks_attr_editor": {"added_rows": [{"key": "行业", "value": "光伏"},
                                                              {"key": "  ", "value": "dropped"}]}})
    assert texts(at, "success") and not at.error, texts(at, "error")
    attrs = Store(paths.store_path()).parks().set_index("park_id").loc[pid, "attrs"]
    assert attrs == {"行业": "光伏", **{k: v for k, v in attrs.items() if k != "行业"}} and "  " not in attrs
    assert attrs["行业"] == "光伏"
    # reopened: the attribute table holds it
    at = run_page("parks.py", "en", parks_attr_target=pid)
    [shown] = [e for e in at.data_editor if e.key == "parks_attr_editor"]
    assert "光伏" in shown.value.to_string()


ALL_PASS = {"coal_decline_pct": "3", "renewable_electricity_pct": "40", "waste_heat_recovery_pct": "10",
            "nev_share_pct": "30", "charger_coverage_pct": "10", "pollution_compliance_pct": "100",
            "green_lighting_pct": "90", "ghg_inventory_pct": "100", "env_disclosure_pct": "100",
            "clean_audit_pct": "100", "greening_coverage_pct": "20", "greening_source": "控制性详细规划",
            "greening_date": "2024-06"}
BOOLS = ("policy_law_compliance", "zero_carbon_strategy", "carbon_management_system", "no_major_incident",
         "env_quality_standard", "accounting_scope", "equipment_grade1", "discharge_within_standards",
         "solid_waste_within_standards", "noise_gb12348", "public_bicycles", "charging_points", "iso_certified",
         "info_platform", "allowance_surrender")


def _fill(at, pid: str, values: dict, em: str, cr: str) -> None:
    for cid in BOOLS:
        at.selectbox(key=f"check_{pid}_{cid}").set_value("yes")
    at.selectbox(key=f"check_{pid}_greening_kind").set_value("planned")
    for cid, v in values.items():
        at.text_input(key=f"check_{pid}_{cid}").set_value(v)
    at.text_input(key=f"check_{pid}_em").set_value(em)
    at.text_input(key=f"check_{pid}_cr").set_value(cr)


def _submit(at, lang: str):
    from core.i18n import t

    [b] = [b for b in at.button if b.label == t("check.save", lang)]
    return b


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_checklist_save_reload_overall_banner_and_credit_check(store, lang):
    """Fill every criterion at its threshold (every yes/no item yes, the greening coverage entered
    as a planned 20% with its source and date) with credits at exactly 5% of emissions: saved; a
    fresh session reloads the values into the form, the overall banner says every criterion is met
    and the credit check passes. One value below its threshold and credits over 5%: the banner and
    the credit check turn to fail. A veto answered "no" fails the park whatever else passes."""
    from core.i18n import t

    pid = "P01"
    at = run_page("checklist.py", lang, check_park=pid)
    _fill(at, pid, ALL_PASS, "100000", "5000")
    _submit(at, lang).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("check.saved", lang) in texts(at, "success"), texts(at, "error")
    saved = Store(paths.store_path()).checklist(pid)
    assert saved["renewable_electricity_pct"] in ("40", 40, 40.0) and saved["_credits_tco2"] == "5000"
    assert (saved["_greening_value"], saved["_greening_kind"], saved["_greening_date"]) == ("20", "planned", "2024-06")
    # a fresh session: the form is prefilled from the store, banner and credit check pass
    at = run_page("checklist.py", lang, check_park=pid)
    assert at.text_input(key=f"check_{pid}_renewable_electricity_pct").value == "40"
    assert at.text_input(key=f"check_{pid}_cr").value == "5000"
    assert at.selectbox(key=f"check_{pid}_iso_certified").value == "yes"
    assert at.selectbox(key=f"check_{pid}_greening_kind").value == "planned"
    assert t("check.overall.pass", lang) in texts(at, "success")
    assert "5%" in texts(at, "success") and not at.error  # the credit check's note, passing
    # one criterion below its threshold, credits above 5%: both fail, and nothing else changes
    at.text_input(key=f"check_{pid}_renewable_electricity_pct").set_value("39.9")
    at.text_input(key=f"check_{pid}_cr").set_value("5001")
    _submit(at, lang).click().run()
    errors = texts(at, "error")
    assert t("check.overall.fail", lang) in errors and "5%" in errors, errors
    assert Store(paths.store_path()).checklist(pid)["renewable_electricity_pct"] in ("39.9", 39.9)
    # back to 40 and 5000, but a veto answered no: the park fails on the veto alone
    at.text_input(key=f"check_{pid}_renewable_electricity_pct").set_value("40")
    at.text_input(key=f"check_{pid}_cr").set_value("5000")
    at.selectbox(key=f"check_{pid}_no_major_incident").set_value("no")
    _submit(at, lang).click().run()
    assert t("check.overall.fail", lang) in texts(at, "error") and "5%" in texts(at, "success")
    Store(paths.store_path()).save_checklist(pid, {})


def test_siting_load_scenario_restores_selection_and_weights(store):
    weights = {"carbon_at_stake_tc_per_ha": 7.0, "carbon_sink_tco2_ha_yr": 0.5, "dist_airport_km": 0.0,
               "redline_overlap_pct": 9.5}
    # saved before the map's green share stopped being a criterion and while the total sink counted as a
    # benefit: those weights are not used, and the page says so
    Store(paths.store_path()).save_scenario("载入测试", ["P01", "P02", "P09"],
                                           {**weights, "green_coverage_pct": 3.0, "carbon_sink_tco2_yr": 4.0},
                                           {"exclude_redline": False, "green_threshold_pct": 20.0})
    try:
        at = run_page("siting.py", "en")
        assert at.slider(key="siting_w_carbon_at_stake_tc_per_ha").value == 1.0  # defaults before loading
        at.sidebar.selectbox(key="siting_load_pick").set_value("载入测试").run()
        at.sidebar.button(key="siting_load_btn").click().run()
        assert not at.exception, [e.value for e in at.exception]
        for c, w in weights.items():
            assert at.slider(key=f"siting_w_{c}").value == w, c
        warned = " ".join(w.value for w in at.sidebar.warning)
        assert "not used" in warned and "Annual carbon sink" in warned, warned
        assert at.multiselect(key="siting_parks").value == ["P01", "P02", "P09"]
        assert at.session_state["siting_name"] == "载入测试" and at.session_state["siting_exclude"] is False
        # the normalised weights shown follow the loaded ones: 7 / 17 = 41%
        assert "41%" in texts(at, "caption"), texts(at, "caption")
    finally:
        Store(paths.store_path()).delete_scenario("载入测试")


def test_data_page_replacement_then_revert(dataset, tmp_path, monkeypatch):
    """Replace the protection proxy with an uploaded red line: saved, in use, named on the page;
    revert: back to the proxy, nothing in use, the upload no longer active."""
    import streamlit as st

    from storage import workspace as ws
    from ui import jobs

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    st.cache_resource.clear()
    st.cache_data.clear()
    jobs.clear()
    try:
        red = gpd.GeoDataFrame({"名称": ["替换红线"]}, geometry=[shapely.box(103.5, 36.2, 103.8, 36.5)], crs=4326)
        at = run_page("data.py", "en", data_replace_target="protection_proxy")
        assert "data_revert" not in [b.key for b in at.button]  # nothing to revert yet
        at.file_uploader(key="data_replace_file").set_value(("hx.geojson", red.to_json().encode(), "application/geo+json"))
        at.run()
        at.button(key="data_replace_save").click().run()
        assert not at.exception, [e.value for e in at.exception]
        s = Store(tmp_path / "store.duckdb")
        [d] = ws.datasets(s)
        assert d.role == "redline" and ws.in_use(s)["redline"] == [d.id]
        assert s.active_user_layer("protection_proxy")["upload_id"] == d.upload_id
        s.close()
        at = run_page("data.py", "en", data_replace_target="protection_proxy")
        assert any("hx.geojson" in unescape(i.value) for i in at.info)  # names are escaped Markdown
        at.button(key="data_revert").click().run()
        assert not at.exception, [e.value for e in at.exception]
        s = Store(tmp_path / "store.duckdb")
        assert s.active_user_layer("protection_proxy") is None and ws.in_use(s)["redline"] == []
        s.close()
        at = run_page("data.py", "en", data_replace_target="protection_proxy")
        assert not any("hx.geojson" in i.value for i in at.info)
        assert "data_revert" not in [b.key for b in at.button]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        jobs.clear()

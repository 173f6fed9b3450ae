"""Criterion rasters, a DEM, exclusion and grid layers as workspace datasets: registered (functions,
``gansu workspace add``, the Data page), put in use (several at once for criterion, exclusion and
grid) and run on the data in use (``runs.inputs_from_workspace`` + ``compute_cached``, what the Parks
and Siting pages call) to the same columns and values as ``gansu parks`` with the equivalent flags on
the same files.

The files are those of tests/test_siting_criteria_cli.py (its ``files`` fixture): three 600 m parks in
UTM 48N, a DEM plane of gradient 0.1, a GHI raster in three bands (park B in the 1600 band, C in the
1700 one), a reserve over the western half of park A (park B 700 m from its edge: within an 800 m
buffer, clear of a 500 m one) and substations 2 km north of the parks' centres. The store tests run
on DuckDB and on PostgreSQL (``store_at``).
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cli.__main__ import main
from core import paths
from core.errors import InputError
from indicators import measures, runs
from storage import raster_register, vector_register
from storage import workspace as ws
from storage.store import Store
from tests import workspace_fixtures as wf
from tests.indicator_fixtures import write_raster
from tests.test_siting_criteria_cli import K, T, UTM, files  # noqa: F401 (files: the fixture of the synthetic data)

GHI = "ghi:mean:higher:kWh/m2/yr"
GHI_P90 = "ghi:p90:higher:kWh/m2/yr"
MEASURED = ["crit_ghi_mean", "crit_ghi_p90", "elev_mean_m", "slope_mean_deg", "slope_p90_deg",
            "excl_reserve_overlap_km2", "excl_reserve_overlap_pct", "excl_reserve_dist_km", "excl_reserve_buffer_km2",
            "excl_reserve_verdict", "dist_substation_km"]


@pytest.fixture()
def store(dataset, tmp_path, monkeypatch, store_at):
    """The pages' and the CLI's store (GANSU_STORE), on DuckDB and on PostgreSQL."""
    yield from wf.page_store(tmp_path, monkeypatch, store_at("store"))


def cli(capsys, *argv) -> str:
    """``gansu …`` in this process: its last line of output (``workspace add`` prints the new id)."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return out.strip().splitlines()[-1]


def parse(kind: str, value: str) -> dict:
    return measures.PARSERS[kind](value)[1]


def register_all(s: Store, files, capsys) -> dict:
    """The four inputs through the workspace: two criteria and a grid layer by function, a DEM and an
    exclusion layer by ``gansu workspace add`` (the store closed meanwhile: one writer at a time)."""
    ghi = raster_register.register_raster(s, files / "ghi.tif", "criterion", params=parse("criterion", f"x:{GHI}"),
                                          use=True)
    ghi90 = raster_register.register_raster(s, files / "ghi.tif", "criterion", name="ghi p90",
                                            params=parse("criterion", f"x:{GHI_P90}"), use=True)
    grid = vector_register.register_vector(s, files / "subs.gpkg", "grid", params=parse("grid", "x:substation"),
                                           use=True)
    s.close()
    dem = cli(capsys, "workspace", "add", files / "dem.tif", "--role", "dem", "--use")
    excl = cli(capsys, "workspace", "add", files / "reserve.gpkg", "--role", "exclusion", "--params", "reserve:800",
               "--use")
    return {"ghi": ghi.id, "ghi90": ghi90.id, "grid": grid.id, "dem": dem, "exclusion": excl}


def parks(files) -> gpd.GeoDataFrame:
    raw = gpd.read_file(files / "parks.gpkg")
    return gpd.GeoDataFrame({"park_id": raw["park_id"], "name": raw["name"]}, geometry=raw.geometry.values, crs=raw.crs)


def test_the_workspace_run_gives_the_columns_and_values_of_gansu_parks(files, store, capsys):
    ids = register_all(store, files, capsys)
    s = Store(paths.store_path())
    try:
        chosen = ws.in_use(s)
        assert chosen["criterion"] == [ids["ghi"], ids["ghi90"]]  # "many": the second added to the first
        assert (chosen["dem"], chosen["exclusion"], chosen["grid"]) == ([ids["dem"]], [ids["exclusion"]], [ids["grid"]])
        assert ws.get(s, ids["exclusion"]).params == {"kind": "reserve", "buffer_m": 800.0}
        assert ws.get(s, ids["ghi"]).params == {"name": "ghi", "stat": "mean", "direction": 1, "unit": "kWh/m2/yr",
                                                 "column": "crit_ghi_mean"}
        run = runs.inputs_from_workspace(s)
        assert measures.run_columns(run.extra) == MEASURED
        assert {d[0] for d in run.datasets} >= {"criterion", "dem", "exclusion", "grid"}
        # every dataset's id, content and parameters, then what the declaration computes
        g = ws.get(s, ids["ghi"])
        assert run.parts["criterion"][0] == [g.id, ws.sha256_file(files / "ghi.tif"), g.params]
        assert run.parts["criterion"][-1] == "raster_criterion" and len(run.parts["criterion"]) == 3
        assert run.parts["exclusion"] == [[ids["exclusion"], ws.sha256_file(files / "reserve.gpkg"),
                                           {"kind": "reserve", "buffer_m": 800.0}], "exclusion"]
        got = runs.compute_cached(s, parks(files), run).set_index("park_id")
    finally:
        s.close()
    out = files / "cli.csv"
    cli(capsys, "parks", "--parks", files / "parks.gpkg", "--landcover", files / "lc.tif", "--no-zones",
        "--criterion", f"{files / 'ghi.tif'}:{GHI}", "--criterion", f"{files / 'ghi.tif'}:{GHI_P90}",
        "--dem", files / "dem.tif", "--exclusion", f"{files / 'reserve.gpkg'}:reserve:800",
        "--grid", f"{files / 'subs.gpkg'}:substation", "--out", out)
    want = pd.read_csv(out).set_index("park_id")
    assert [c for c in want.columns if c in MEASURED] == MEASURED  # the same columns, in the same order
    assert [c for c in got.columns if c in MEASURED] == MEASURED
    for c in MEASURED:
        if c == "excl_reserve_verdict":
            assert got[c].to_dict() == want[c].to_dict() == {"A": "conflict", "B": "within_buffer", "C": "clear"}
        else:  # the workspace keeps vector features in EPSG:4326: the same numbers to the last millimetre
            assert got[c].to_numpy() == pytest.approx(want[c].to_numpy(), rel=1e-6, abs=1e-9), c
    # and the hand-computed values (tests/test_siting_criteria_cli.py)
    assert got["crit_ghi_mean"].tolist() == pytest.approx([1500.0, 1600.0, 1700.0], rel=1e-12)
    assert got["slope_mean_deg"].tolist() == pytest.approx([math.degrees(math.atan(0.1))] * 3, abs=0.01)
    assert got.loc["A", "excl_reserve_overlap_km2"] == pytest.approx(0.18 / K**2, rel=1e-6)
    assert got.loc["B", "dist_substation_km"] == pytest.approx(2.0 / K, rel=1e-6)


def test_changing_the_parameters_changes_the_fingerprint_and_the_values(files, store, capsys):
    ids = register_all(store, files, capsys)
    s = Store(paths.store_path())
    try:
        before = runs.inputs_from_workspace(s)
        assert runs.compute_cached(s, parks(files), before)["excl_reserve_verdict"].tolist()[1] == "within_buffer"
    finally:
        s.close()
    assert cli(capsys, "workspace", "params", ids["exclusion"], "reserve:500").endswith("reserve:500")
    s = Store(paths.store_path())
    try:
        assert ws.get(s, ids["exclusion"]).params == {"kind": "reserve", "buffer_m": 500.0}
        after = runs.inputs_from_workspace(s)
        assert after.fingerprint != before.fingerprint
        assert after.parts["exclusion"][0][2] == {"kind": "reserve", "buffer_m": 500.0}
        # B is 700 m from the reserve: clear of a 500 m buffer (the cache keyed by the fingerprint: recomputed)
        assert runs.compute_cached(s, parks(files), after)["excl_reserve_verdict"].tolist() == \
            ["conflict", "clear", "clear"]
    finally:
        s.close()
    assert main(["workspace", "params", ids["exclusion"], "lake"]) == 2  # the parser's refusal, both languages
    err = capsys.readouterr().err
    assert "--exclusion expects FILE:KIND[:BUFFER_M]" in err and "格式应为" in err


def test_a_criterion_direction_changed_in_a_running_process_takes_the_new_meaning(files, store):
    """The dashboard is one long process: a criterion's column declared "higher is better" by one run is
    declared again with the dataset's new direction by the next, never refused as a second meaning."""
    from indicators import table

    before = table.DECLARED.get("crit_ghi_mean")
    try:
        g = raster_register.register_raster(store, files / "ghi.tif", "criterion", params=parse("criterion", f"x:{GHI}"),
                                            use=True)
        runs.inputs_from_workspace(store)
        assert table.get("crit_ghi_mean").direction == 1
        ws.set_params(store, g.id, measures.read_params("criterion", "x:ghi:mean:lower:kWh/m2/yr")[1])
        run = runs.inputs_from_workspace(store)
        assert table.get("crit_ghi_mean").direction == -1 and run.extra["criterion"][0][1]["direction"] == -1
    finally:  # the indicator table is the process's: as the other tests expect it
        table.DECLARED.pop("crit_ghi_mean", None)
        if before is not None:
            table.DECLARED["crit_ghi_mean"] = before


def test_a_changed_criterion_raster_is_refused(files, store, capsys):
    register_all(store, files, capsys)
    write_raster(files / "ghi.tif", np.full((40, 100), 1999, "float32"), T, crs=UTM, nodata=-9999)
    s = Store(paths.store_path())
    try:
        with pytest.raises(InputError) as e:
            runs.inputs_from_workspace(s)
        assert "ghi.tif changed after it was registered" in e.value.en and "已被修改" in e.value.zh
    finally:
        s.close()


def test_params_are_required_checked_and_two_datasets_filling_one_column_are_refused(files, store, capsys):
    with pytest.raises(InputError, match="needs its parameters"):
        raster_register.register_raster(store, files / "ghi.tif", "criterion")
    with pytest.raises(InputError, match="takes no parameters"):
        raster_register.register_raster(store, files / "dem.tif", "dem", params={"kind": "x"})
    a = vector_register.register_vector(store, files / "reserve.gpkg", "exclusion", params=parse("exclusion", "x:reserve"),
                                        use=True)
    b = vector_register.register_vector(store, files / "reserve.gpkg", "exclusion",
                                        params=parse("exclusion", "x:reserve:100"))
    with pytest.raises(InputError) as e:
        ws.use(store, "exclusion", [a.id, b.id])
    assert "would fill the same columns (reserve)" in e.value.en and "同一结果列" in e.value.zh
    assert ws.in_use(store)["exclusion"] == [a.id]
    store.close()
    rc = main(["workspace", "add", str(files / "ghi.tif"), "--role", "criterion", "--params", "ghi:median:higher"])
    assert rc == 2 and "--criterion STAT must be one of" in capsys.readouterr().err
    rc = main(["workspace", "add", str(files / "ghi.tif"), "--role", "criterion"])
    assert rc == 2 and "needs --params NAME:STAT:DIRECTION[:UNIT]" in capsys.readouterr().err
    s = Store(paths.store_path())
    try:
        assert [d.role for d in ws.datasets(s)] == ["exclusion", "exclusion"]  # nothing registered by the refusals
    finally:
        s.close()


def test_a_record_without_parameters_still_loads():
    rec = ws.Dataset(id="D1", role="transport", name="roads", original_filename="roads.gpkg", storage="store").to_record()
    rec.pop("params")
    d = ws.Dataset.from_record(rec)
    assert d.params == {} and d.name == "roads"
    assert ws.params_text({"name": "ghi", "stat": "mean", "direction": -1, "unit": ""}) == "ghi:mean:lower"


def test_the_data_page_registers_and_puts_several_in_use(files, store):
    from streamlit.testing.v1 import AppTest

    dem = raster_register.register_raster(store, files / "dem.tif", "dem")
    grid = vector_register.register_vector(store, files / "subs.gpkg", "grid", params=parse("grid", "x:substation"))
    excl = vector_register.register_vector(store, files / "reserve.gpkg", "exclusion",
                                           params=parse("exclusion", "x:reserve:800"))
    store.close()  # the page opens the store itself
    at = AppTest.from_file(str(paths.REPO / "pages" / "data.py"), default_timeout=180)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # upload a criterion raster with its parameters; a malformed one first: the parser's message, nothing saved
    at.selectbox(key="ws_add_role").set_value("criterion")
    at.run()
    at.file_uploader(key="ws_add_file_criterion_0").set_value(("ghi.tif", (files / "ghi.tif").read_bytes(), "image/tiff"))
    at.run()
    box = at.text_input(key="ws_add_params_criterion")
    assert box.label == "Parameters NAME:STAT:DIRECTION[:UNIT]"
    box.input("ghi:median:higher")
    at.run()
    at.button(key="ws_add_register").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("--criterion STAT must be one of" in e.value for e in at.error), [e.value for e in at.error]
    at.text_input(key="ws_add_params_criterion").input(GHI)
    at.run()
    at.button(key="ws_add_register").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Registered" in e.value for e in at.success), [e.value for e in at.error]
    # the selectors of the data in use: labels from the declarations, several criteria/exclusions/grids
    crit = at.multiselect(key="ws_use_criterion")
    assert crit.label == "Criterion raster" and at.selectbox(key="ws_use_dem").label == "DEM"
    assert at.multiselect(key="ws_use_exclusion").label == "Exclusion layer"
    assert at.multiselect(key="ws_use_grid").label == "Grid"
    s = Store(paths.store_path())
    try:
        [up] = ws.datasets(s, "criterion")
        assert up.params["column"] == "crit_ghi_mean" and up.storage == "workspace" and up.original_filename == "ghi.tif"
        assert ws.in_use(s)["criterion"] == [up.id]  # "use it right away" (an admin in single-user mode)
    finally:
        s.close()
    assert crit.value == [up.id]
    at.selectbox(key="ws_use_dem").set_value(dem.id)
    at.multiselect(key="ws_use_exclusion").set_value([excl.id])
    at.multiselect(key="ws_use_grid").set_value([grid.id])
    at.button(key="ws_use_apply").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    s = Store(paths.store_path())
    try:
        chosen = ws.in_use(s)
        assert (chosen["dem"], chosen["exclusion"], chosen["grid"]) == ([dem.id], [excl.id], [grid.id])
        run = runs.inputs_from_workspace(s)
        assert measures.run_columns(run.extra)[:3] == ["crit_ghi_mean", "elev_mean_m", "slope_mean_deg"]
    finally:
        s.close()
    # the datasets table shows the parameters in the flag's syntax
    table = at.dataframe[0].value
    assert set(table["Parameters"]) >= {GHI, "reserve:800", "substation"}


def test_the_import_folder_registers_a_criterion_raster_in_place_with_its_parameters(files, store):
    import shutil

    from streamlit.testing.v1 import AppTest

    shutil.copy(files / "ghi.tif", paths.import_dir() / "ghi.tif")
    store.close()
    at = AppTest.from_file(str(paths.REPO / "pages" / "data.py"), default_timeout=180)
    at.session_state["lang"] = "zh"
    at.run()
    at.selectbox(key="ws_imp_role").set_value("criterion")
    at.run()
    at.multiselect(key="ws_imp_files").set_value(["ghi.tif"])
    at.text_input(key="ws_imp_params_criterion").input("wind:p10:lower:m/s")
    at.run()
    at.button(key="ws_imp_register").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已登记" in e.value for e in at.success), [e.value for e in at.error]
    s = Store(paths.store_path())
    try:
        [d] = ws.datasets(s, "criterion")
        assert d.storage == "reference" and d.raster_path == str((paths.import_dir() / "ghi.tif").resolve())
        assert ws.params_text(d.params) == "wind:p10:lower:m/s" and d.params["column"] == "crit_wind_p10"
    finally:
        s.close()

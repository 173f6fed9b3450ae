"""Every page computes on the data in use (issue 10): AppTest with real files made in code
(tests/workspace_fixtures.py) registered in a temporary store and workspace.

- a 30 m CLCD land cover in use → the Parks page's numbers for 兰州新区 P01, 白银 P02 and 兰州经开区
  P09 equal ``python -m cli parks`` on the same file (1e-9 relative), reliability is not
  low, the demo warning is gone, Home names the land cover;
- an OSM extract in use → four distance columns on Parks and four distance criteria (plus the
  airports) on Siting;
- two years in use → the carbon change column equals the CLI's ``--landcover-alt`` result, the
  detail card shows the park's transitions, Targets defaults to the pair in use;
- missing rows are computed in the background with a progress bar, cached rows show at once, a
  save computes that park alone; a changed referenced file gives a bilingual error;
- the Excel export's sources sheet and the PDF report name the file and its SHA-256.
"""
from __future__ import annotations

import io
import subprocess
import sys
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import streamlit as st
from streamlit.testing.v1 import AppTest

from indicators import runs
from layers import catalog
from storage import raster_register, vector_register
from storage.store import Store
from reports import column_label, value_text
from tests import workspace_fixtures as wf
from ui.mdtext import unescape

REPO = Path(__file__).resolve().parent.parent
LANZHOU = ["P01", "P02", "P09"]
DIST = [f"dist_{k}_km" for k in ("expressway", "major_road", "railway", "station")]


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory, dataset):
    d = tmp_path_factory.mktemp("in_use")
    return {"base": wf.clcd_landcover(d / "clcd_2020.tif"), "alt": wf.clcd_landcover(d / "clcd_2023.tif", shift=2),
            "osm": wf.osm_near(103.66, 36.52, d / "lanzhou.osm")}


def _demo_parks() -> gpd.GeoDataFrame:
    demo = catalog.read_default("parks_demo")
    return gpd.GeoDataFrame({"park_id": demo["park_id"], "name": demo["name_zh"]}, geometry=demo.geometry.values,
                            crs=demo.crs)


@pytest.fixture(scope="module")
def cli(files, tmp_path_factory):
    """``python -m cli parks`` on the same files (both years, the OSM extract, the built-in
    airports, protection proxy and zones): the reference numbers."""
    d = tmp_path_factory.mktemp("cli")
    parks = d / "parks.gpkg"
    _demo_parks().to_file(parks, layer="parks")
    layers = {}
    for lid in ("zones", "protection_proxy", "airports"):
        layers[lid] = d / f"{lid}.gpkg"
        catalog.read_default(lid).to_file(layers[lid], layer=lid)
    out = d / "cli.csv"
    cmd = [sys.executable, "-m", "cli", "parks", "--parks", str(parks), "--name-field", "name",
           "--id-field", "park_id", "--landcover", str(files["base"]), "--legend", "clcd",
           "--landcover-alt", str(files["alt"]), "--osm", str(files["osm"]),
           "--transport", f"{layers['airports']}:airport", "--redline", str(layers["protection_proxy"]),
           "--zones", str(layers["zones"]), "--zone-field", "name_zh", "--out", str(out)]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return pd.read_csv(out, dtype={"park_id": str}).set_index("park_id")


@pytest.fixture()
def store(dataset, tmp_path, monkeypatch):
    """A temporary store, workspace and import folder for the app; caches and jobs cleared."""
    from ui import jobs

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    st.cache_data.clear()
    st.cache_resource.clear()
    jobs.clear()
    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    jobs.clear()


def use_landcover(s: Store, files, alt: bool = False):
    base = raster_register.register_landcover(s, [files["base"]], legend="clcd", year=2020, source="made in code",
                                              licence="CC0", use=True)
    if alt:
        raster_register.register_landcover(s, [files["alt"]], legend="clcd", year=2023, use=True, use_as="landcover_alt")
    return base


def page(name: str, lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / name), default_timeout=300)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    return at


def run_done(at: AppTest, tries: int = 20) -> AppTest:
    """Run the page until no background computation shows its progress bar: between two runs,
    wait for the background jobs to finish (the timeout bounds a failure only)."""
    from ui import jobs

    at.run()
    for _ in range(tries):
        if not at.get("progress"):
            return at
        assert jobs.wait_all(timeout=900), "a background computation did not finish"
        at.run()
    raise AssertionError("the park indicators never finished")


def parks_table(at: AppTest) -> pd.DataFrame:
    t = at.dataframe[0].value  # the indicator table is the page's first table
    return t.set_index(column_label("park_id", "en"))


def close(a, b, col):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=0, equal_nan=True,
                               err_msg=col)


# --- Parks, Home on a 30 m land cover ------------------------------------------------------------
def test_parks_page_on_clcd_equals_the_cli(store, files, cli):
    d = use_landcover(store, files)
    at = run_done(page("parks.py"))
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    assert not any("5 km MODIS" in w.value for w in at.warning)  # no "demo numbers" warning
    table = parks_table(at)
    for col in ("area_km2", "carbon_stock_tc", "carbon_sink_tco2_yr", "vegetated_share_pct", "redline_overlap_km2",
                "dist_airport_km"):
        close(table.loc[LANZHOU, column_label(col, "en")], cli.loc[LANZHOU, col], col)
    low = value_text("reliability", "low", "en")
    assert (table.loc[LANZHOU, column_label("reliability", "en")] != low).all()
    # every column of the rows the page computed (cached in the store): class areas too
    rows = runs.compute_cached(store, _demo_parks(), runs.inputs_from_workspace(store)).set_index("park_id")
    assert runs.missing(store, _demo_parks(), runs.inputs_from_workspace(store)) == []
    for col in [c for c in rows.columns if rows[c].dtype.kind == "f"]:
        close(rows.loc[LANZHOU, col], cli.loc[LANZHOU, col], col)
    assert rows.loc["P01", "lc_cropland_km2"] > 0 and (rows.loc[LANZHOU, "reliability"] == "ok").all()
    # Home names the land cover in use
    home = page("home.py")
    home.run()
    assert not home.exception
    heads = unescape(" ".join(h.value for h in home.subheader))  # names are escaped Markdown
    assert d.name in heads and "MODIS" not in heads, heads


def test_default_land_cover_keeps_the_demo_warning(store):
    at = run_done(page("parks.py"))
    assert not at.exception
    assert any("5 km MODIS" in w.value for w in at.warning)
    home = page("home.py", "zh")
    home.run()
    assert any("默认 MODIS 2019" in h.value for h in home.subheader)


# --- transport: OSM → four distances on Parks and four criteria on Siting ------------------------
def test_osm_in_use_gives_distance_columns_and_siting_criteria(store, files, cli):
    vector_register.register_osm(store, files["osm"], use=True)
    at = run_done(page("parks.py"))
    assert not at.exception, [e.value for e in at.exception]
    table = parks_table(at)
    for col in DIST + ["dist_airport_km"]:
        close(table.loc[LANZHOU, column_label(col, "en")], cli.loc[LANZHOU, col], col)
    si = page("siting.py", "en", siting_parks=LANZHOU, _siting_init=True)
    si.run()
    assert not si.exception, [e.value for e in si.exception]
    keys = {s.key for s in si.slider}
    assert {f"siting_w_{c}" for c in DIST + ["dist_airport_km"]} <= keys, keys
    labels = {s.label for s in si.slider}
    assert column_label("dist_railway_km", "en") in labels


# --- two years: carbon change, the park's transitions, Targets' default pair ---------------------
def test_two_years_give_carbon_change_and_transitions(store, files, cli):
    use_landcover(store, files, alt=True)
    at = run_done(page("parks.py", parks_selected="P01"))
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    table = parks_table(at)
    for col in ("carbon_change_tc", "carbon_stock_alt_tc", "carbon_stock_tc"):
        close(table.loc[LANZHOU, column_label(col, "en")], cli.loc[LANZHOU, col], col)
    assert table.loc["P01", column_label("carbon_change_tc", "en")] != 0
    m = next(d.value for d in at.dataframe if "Cropland" in map(str, d.value.columns) and d.value.shape[0] > 1)
    assert "Cropland" in [str(c) for c in m.columns], list(m.columns)  # a labelled matrix, classes in words
    valid = sum(cli.loc["P01", c] for c in cli.columns if c.startswith("lc_") and c.endswith("_km2"))
    assert m.to_numpy(float).sum() == pytest.approx(valid, rel=1e-6)
    tg = page("targets.py")
    tg.run()
    assert not tg.exception, [e.value for e in tg.exception]
    assert tg.radio(key="targets_change_source").value == "in_use"
    assert any("Area that changed class (km²)" in map(str, d.value.columns) for d in tg.dataframe)
    lc_label = tg.radio(key="targets_lc_source").options[0]
    assert "clcd_2020" in lc_label or "2020" in lc_label, lc_label


# --- background computation, a save computes one park, a changed file ----------------------------
def test_missing_rows_are_computed_in_the_background_and_a_save_computes_one_park(store, files, monkeypatch):
    from ui import parks as parks_ui

    use_landcover(store, files)
    computed = []
    real_engine, real_cached = runs.compute_parks, runs.compute_cached

    def engine(parks, **kw):
        computed.append(len(parks))
        return real_engine(parks, **kw)

    gate = threading.Event()  # holds the background job until the test has seen its progress bar

    def gated(s, parks, inputs, progress=None, batch=runs.BATCH):
        if progress is not None:  # the background job
            assert gate.wait(timeout=900), "the test never let the background job go on"
        return real_cached(s, parks, inputs, progress=progress, batch=batch)

    monkeypatch.setattr(runs, "compute_parks", engine)
    monkeypatch.setattr(runs, "compute_cached", gated)
    monkeypatch.setattr(parks_ui, "WAIT_S", 0.0)
    at = page("parks.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("progress"), "no progress bar while computing"
    gate.set()
    at = run_done(at)
    n = len(parks_table(at))
    assert n >= 14 and sum(computed) == n
    # a second visitor (new session, caches cleared): every row from the store, nothing computed
    st.cache_data.clear()
    computed.clear()
    at2 = run_done(page("parks.py"))
    assert len(parks_table(at2)) == n and computed == []
    # a saved park: the cached rows show at once with a progress bar, then the new park alone is computed
    store.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(103.62, 36.45, 103.65, 36.47)], crs=4326),
                    names=["新园区"], source="upload")
    gate.clear()
    at3 = page("parks.py")
    at3.run()
    assert at3.get("progress") and len(parks_table(at3)) == n
    gate.set()
    at3 = run_done(at3)
    assert len(parks_table(at3)) == n + 1 and computed == [1]


@pytest.mark.parametrize("lang,needle", [("en", "changed after it was registered"), ("zh", "在登记后已被修改")])
def test_a_changed_referenced_file_is_reported_and_the_page_stays_usable(store, files, tmp_path, lang, needle):
    import rasterio

    copy = tmp_path / "clcd_copy.tif"
    copy.write_bytes(files["base"].read_bytes())
    raster_register.register_landcover(store, [copy], legend="clcd", year=2020, use=True)
    with rasterio.open(copy, "r+") as t:
        a = t.read(1)
        a[100, 100] = 5 if a[100, 100] != 5 else 6
        t.write(a, 1)
    for name in ("parks.py", "siting.py", "checklist.py", "home.py"):
        at = page(name, lang)
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert any(needle in e.value for e in at.error), (name, [e.value for e in at.error])
    at = page("parks.py", lang)
    at.run()
    assert [u for u in at.file_uploader if u.key == "parks_upload"]  # adding parks still works


# --- exports name the data in use ----------------------------------------------------------------
def test_exports_name_the_file_and_its_sha256(store, files):
    import openpyxl
    import pypdf

    from indicators import siting, siting_sensitivity
    from reports.excel import SOURCES_SHEET
    from ui import parks as parks_ui
    from ui import report

    d = use_landcover(store, files)
    run_done(page("parks.py"))  # computes and caches the rows
    df = parks_ui.current()
    for lang in ("en", "zh"):
        recs = report.sources_records(lang)
        wb = openpyxl.load_workbook(io.BytesIO(report.parks_excel(df, lang, recs)))
        assert SOURCES_SHEET in wb.sheetnames and wb.sheetnames[0] == "parks"
        cells = [[c for c in row] for row in wb[SOURCES_SHEET].iter_rows(values_only=True)]
        flat = [str(c) for row in cells for c in row if c is not None]
        assert "clcd_2020.tif" in flat and d.sha256 in flat and "made in code" in flat and "CC0" in flat
        assert ("File SHA-256" if lang == "en" else "文件 SHA-256") in cells[0]
        assert "gansu.gpkg" in flat  # the built-in layers' provenance from the manifest
    sub = df[df["park_id"].isin(LANZHOU)].reset_index(drop=True)
    ranked = siting.rank(sub, {c: 1.0 for c in siting.default_criteria(sub)})
    pdf = report.scenario_pdf("方案", sub, ranked, "en", report.sources_records("en"))
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())
    assert "clcd_2020.tif" in flat and d.sha256 in flat
    xl = report.scenario_excel(sub, ranked, siting_sensitivity.sensitivity(sub, {c: 1.0 for c in siting.default_criteria(sub)}),
                               "en", report.sources_records("en"))
    wb = openpyxl.load_workbook(io.BytesIO(xl))
    assert SOURCES_SHEET in wb.sheetnames

"""What every session used to recompute is made once and shared (docs/performance.md, "Capacity"):
the reads one page run repeats (``ui.run_memo``), the layer catalog written to the store, the
build's layer list, the Home chart and the Parks card's charts (``st.cache_*``), and the server's
frozen heap (``ui.heap``). Each cache test counts the calls of the real function behind the cache (a
counting wrapper around it, as conftest's ``raster_reads``) over two sessions (two AppTests), then
makes a change (a park saved in the run or by another process, another land cover in use, another
language or park) and sees it reach the page."""
from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from layers import catalog
from storage.store import Store
from tests import workspace_fixtures as wf
from tests.apptest_helpers import run_page
from ui import charts, common, heap, parks_card

REPO = Path(__file__).resolve().parent.parent
SMALL_BOX = (103.55, 36.35, 103.75, 36.5)  # a few hundred 30 m pixels a side, near 兰州新区


def counting(monkeypatch, owner, name: str) -> dict:
    """Count the calls of ``owner.name`` (the real function still runs)."""
    n = {"calls": 0}
    real = getattr(owner, name)

    def wrapper(*a, **k):
        n["calls"] += 1
        return real(*a, **k)

    monkeypatch.setattr(owner, name, wrapper)
    return n


@pytest.fixture()
def env(dataset, tmp_path, monkeypatch):
    """A fresh store and workspace, Streamlit's caches forgotten before and after."""
    yield from wf.page_store(tmp_path, monkeypatch)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- reads kept for one run (ui.run_memo) ----------------------------------------------------------
def _versions():
    """Reads the parks version twice; with ``save`` in the session, saves a park and reads it again."""
    import geopandas as gpd
    import shapely
    import streamlit as st

    from ui import common, parks

    seen = [parks.parks_version(), parks.parks_version()]
    if st.session_state.get("save"):
        g = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(104.3, 36.5, 104.33, 36.52)], crs=4326)
        common.store().add_parks(g, names=["缓存测试园区"], source="drawn", actor=common.actor())
        seen.append(parks.parks_version())
    st.session_state["seen"] = seen


def test_a_run_reads_the_parks_version_once_and_again_after_a_park_is_saved(store, monkeypatch):
    reads = counting(monkeypatch, Store, "parks_version")
    at = _run(AppTest.from_function(_versions, default_timeout=120))
    first, again = at.session_state["seen"]
    assert (first, reads["calls"]) == (again, 1)  # asked twice in the run, read once
    at.session_state["save"] = True
    _run(at)  # the next run reads again; the park saved in the run is seen at once (the store counts its writes)
    before, _, after = at.session_state["seen"]
    assert before == first and after != before and reads["calls"] == 3
    # another process (here: another Store object on the same store) saves a park: the next run sees it
    import geopandas as gpd
    import shapely

    store.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(104.4, 36.5, 104.43, 36.52)], crs=4326),
                    names=["另一进程的园区"], source="drawn")
    at.session_state["save"] = False
    _run(at)
    assert at.session_state["seen"][0] not in (first, after) and reads["calls"] == 4


def _mutate_in_use():
    import streamlit as st

    from ui import common

    common.in_use().setdefault("landcover", []).append("not-a-dataset")
    st.session_state["again"] = common.in_use()


def test_a_caller_changing_what_it_read_does_not_change_what_the_next_caller_reads(dataset):
    at = _run(AppTest.from_function(_mutate_in_use, default_timeout=120))
    assert "not-a-dataset" not in at.session_state["again"].get("landcover", [])


# --- shared by every session (st.cache_resource / st.cache_data) ----------------------------------------
def test_the_layer_catalog_is_written_once_per_store_and_build(env, tmp_path, monkeypatch):
    syncs = counting(monkeypatch, Store, "sync_catalog")
    run_page("home.py", "zh")
    run_page("home.py", "en")  # a second session on the same store and build: no second write
    assert syncs["calls"] == 1
    assert set(env.catalog()["layer_id"]) == {r["layer_id"] for r in catalog.catalog_rows()}
    other = tmp_path / "other.duckdb"  # another store: its catalog is written too
    monkeypatch.setenv("GANSU_STORE", str(other))
    run_page("home.py", "zh")
    assert syncs["calls"] == 2
    s = Store(other)
    try:
        assert set(s.catalog()["layer_id"]) == {r["layer_id"] for r in catalog.catalog_rows()}
    finally:
        s.close()


def test_the_map_lists_the_build_layers_once(dataset, monkeypatch):
    run_page("map.py", "zh")  # the store's catalog written, the caches warm
    want = {f"map_vis_{s.id}" for s in catalog.available_layers()}
    common._available_layers.clear()
    listed = counting(monkeypatch, catalog, "available_layers")
    for lang in ("zh", "en"):  # two sessions: one switch per layer of the build in each
        at = run_page("map.py", lang, no_errors=True)
        assert {c.key for c in at.sidebar.checkbox if (c.key or "").startswith("map_vis_")} == want
    assert listed["calls"] == 1
    common._available_layers("another-build")  # a new build is listed afresh
    assert listed["calls"] == 2


def _subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def test_the_home_chart_is_made_once_per_land_cover_and_language(env, tmp_path, monkeypatch):
    from storage import raster_register

    made = counting(monkeypatch, charts, "landcover_bars")
    run_page("home.py", "zh", no_errors=True)
    at = run_page("home.py", "zh", no_errors=True)  # a second session
    assert made["calls"] == 1 and len(at.get("plotly_chart")) == 1
    run_page("home.py", "en", no_errors=True)
    assert made["calls"] == 2  # its labels are in the language
    raster_register.register_landcover(env, [wf.clcd_landcover(tmp_path / "lc.tif", box=SMALL_BOX)], legend="clcd",
                                       year=2020, name="缓存测试覆被", use=True)
    at = run_page("home.py", "zh", no_errors=True)  # another land cover in use: its own chart
    assert made["calls"] == 3 and any("缓存测试覆被 2020" in h for h in _subheaders(at))


def test_the_shared_home_chart_is_only_read_by_the_pages_that_show_it(env):
    """The chart is one object for every session (st.cache_resource): showing it must not change it."""
    from ui import figures

    run_page("home.py", "zh", no_errors=True)
    run_page("home.py", "zh", no_errors=True)  # two sessions showed it
    raster, legend, sha, _ = figures.landcover_in_use("zh")
    fig = figures.landcover_figure(sha, raster, legend, common.build_id(), "zh")  # the cache's object
    fresh = charts.landcover_bars(figures.landcover_shares_of(sha, raster, legend, common.build_id()), "zh")
    assert fig.to_json() == fresh.to_json()


def _card_title(at: AppTest) -> str:
    return next(h for h in _subheaders(at) if h.endswith(")"))


def test_the_park_card_charts_are_made_once_per_park_and_language(env, monkeypatch):
    parks_card._pie.clear()
    parks_card._bars.clear()
    pies, bars = counting(monkeypatch, charts, "composition_pie"), counting(monkeypatch, charts, "pools_bar")
    first = run_page("parks.py", "zh", no_errors=True)
    run_page("parks.py", "zh", no_errors=True)  # a second session, the same park
    assert (pies["calls"], bars["calls"]) == (1, 1)
    run_page("parks.py", "en", no_errors=True)
    assert (pies["calls"], bars["calls"]) == (2, 2)
    other = run_page("parks.py", "zh", no_errors=True, parks_selected="P02")  # another park: its own charts
    assert (pies["calls"], bars["calls"]) == (3, 3)
    assert "(P02)" in _card_title(other) and _card_title(other) != _card_title(first)


# --- the Map's point layers: one element per layer, not two per point ---------------------------------
def _point_payloads(script: str) -> list[dict]:
    """The JSON payloads of the ``PointMarkers`` elements in a map's script."""
    import json

    dec, out, i = json.JSONDecoder(), [], script.find('{"points"')
    while i >= 0:
        out.append(dec.raw_decode(script, i)[0])
        i = script.find('{"points"', i + 1)
    return out


def test_every_point_of_the_airports_and_every_park_marker_is_drawn_with_its_label(dataset):
    """The airports (a point layer) and the illustrative parks' centroid markers are drawn by one
    script each from a payload: one marker per feature at its place, the label as typed (escaped)."""
    from tests.apptest_helpers import map_script
    from ui import map_vectors

    at = run_page("map.py", "zh", no_errors=True, map_vis_airports=True, map_vis_parks_demo=True)
    script = map_script(at.get("component_instance")[0])
    payloads = _point_payloads(script)
    airports = catalog.read_default("airports")
    parks = catalog.read_default("parks_demo")
    assert sorted(len(p["points"]) for p in payloads) == sorted([len(airports), len(parks)])
    assert script.count("L.circleMarker(") == 2  # one drawing script per layer, not one marker element per point
    pts = next(p["points"] for p in payloads if len(p["points"]) == len(airports))
    want = sorted((round(g.y, 6), round(g.x, 6)) for g in airports.geometry)
    assert sorted((round(p[0], 6), round(p[1], 6)) for p in pts) == want
    labels = {p[2] for p in next(p["points"] for p in payloads if len(p["points"]) == len(parks))}
    assert {map_vectors.escape_text(n) for n in parks["name_zh"]} <= {part for lb in labels for part in lb.split(" · ")}


def test_the_map_reports_its_view_only_while_the_export_asks_for_it(dataset):
    """Each value the map sends reruns its part of the page: it opens reporting clicks and drawings
    only; "current view" chosen for the export makes it report its view (the export's button waits)."""
    import json

    args = json.loads(run_page("map.py", "zh", no_errors=True).get("component_instance")[0].proto.json_args)
    assert args["returned_objects"] == ["last_clicked", "last_active_drawing"]
    assert '{"view": false}' in args["feature_group"]
    at = run_page("map.py", "zh", no_errors=True, map_export_extent="view")
    asked = json.loads(at.get("component_instance")[0].proto.json_args)
    assert '{"view": true}' in asked["feature_group"] and asked["script"] == args["script"]  # the same map
    assert at.button(key="map_export_make").disabled  # until the view has arrived
    at = run_page("map.py", "zh", no_errors=True, map_export_extent="view",
                  main_map={"last_clicked": None, "last_active_drawing": None,
                            "bounds": {"_southWest": {"lat": 36.0, "lng": 103.0}, "_northEast": {"lat": 37.0, "lng": 104.5}}})
    assert not at.button(key="map_export_make").disabled


# --- the server's heap (ui.heap) ---------------------------------------------------------------------
def test_settle_freezes_what_was_imported_only_when_no_other_run_is_in_flight(monkeypatch):
    monkeypatch.setattr(heap, "_STATE", {"enabled": False, "modules": 0, "freezes": 0})
    try:
        assert heap.settle() is False  # not the server ui.serve starts: Python's defaults kept
        heap._STATE.update(enabled=True, modules=len(sys.modules) - 1)  # a module imported since
        release = threading.Event()
        other = threading.Thread(target=release.wait, name=heap.SCRIPT_THREAD)
        other.start()
        try:
            assert heap.settle() is False and gc.get_freeze_count() == 0  # another session's run is in flight
        finally:
            release.set()
            other.join()
        assert heap.settle() is True and gc.get_freeze_count() > 0
        assert heap.settle() is False and heap._STATE["freezes"] == 1  # nothing imported since
    finally:
        gc.unfreeze()


def test_preload_imports_the_pages_libraries_but_no_streamlit_component():
    """A component declared before the server exists is never served (the map stayed blank):
    streamlit_folium is imported by the pages, not by the preload."""
    code = ("import sys, gc; from ui import heap; n = heap.preload_and_freeze(); "
            "print(n > 100000, 'indicators.placesearch' in sys.modules, 'plotly.express' in sys.modules, "
            "'streamlit_folium' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True", "True", "False"]


def test_a_background_job_at_work_also_holds_the_freeze_back(monkeypatch):
    from ui import jobs

    monkeypatch.setattr(heap, "_STATE", {"enabled": True, "modules": len(sys.modules) - 1, "freezes": 0})
    release = threading.Event()
    job = jobs.submit(("heap-test", id(release)), lambda job: release.wait(60), name="heap-test-job")
    try:
        assert heap.settle() is False and gc.get_freeze_count() == 0  # the job's temporaries are not frozen
    finally:
        release.set()
        job.thread.join(60)
    try:
        assert heap.settle() is True and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_cycle_frozen_earlier_and_dropped_since_is_freed_by_the_next_freeze():
    """A session's state alive at one freeze and ended since (a reference cycle) is not kept for ever."""
    import weakref

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    try:
        heap.freeze()
        del a, b
        gc.collect()
        assert gone() is not None  # frozen: out of the collector's sight
        heap.freeze()  # the next freeze thaws and collects first
        assert gone() is None
    finally:
        gc.unfreeze()

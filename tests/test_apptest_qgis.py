"""The pages offer what the readers can do (AppTest, the real pages): the layer box for a source with
several layers (a zipped File Geodatabase, an Excel workbook), and the "swap the axes" box once a
file's axes look exchanged — on the Parks page upload and the Data page registration — then the
file reads right and is saved."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from storage import workspace as ws
from storage.accounts import SHELL
from tests.hostile import corpus

REPO = Path(__file__).resolve().parent.parent
PEERS = REPO / "tests" / "data" / "peers"
LON, LAT = corpus.LON, corpus.LAT
BOX = shapely.box(LON, LAT, LON + 0.03, LAT + 0.02)
SWAP_LABEL = {"zh": "交换坐标轴", "en": "Swap the axes"}


def page(name: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / name), default_timeout=180)
    at.session_state["lang"] = lang
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _gk_swapped_gpkg() -> bytes:
    t = pyproj.Transformer.from_crs(4490, "EPSG:4523", always_xy=True)
    e, n = t.transform([LON, LON + 0.03, LON + 0.03, LON], [LAT, LAT, LAT + 0.02, LAT + 0.02])
    return corpus.gpkg_bytes(gpd.GeoDataFrame({"name": ["测绘园区"]}, geometry=[shapely.Polygon(zip(n, e))],
                                              crs="EPSG:4523"))


def _checkbox(at: AppTest, key: str):
    return next((c for c in at.checkbox if c.key == key), None)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_parks_page_offers_the_swap_then_saves_the_park_where_it_is(store, lang):
    at = run(page("parks.py", lang))
    assert _checkbox(at, "parks_swap") is None  # not offered before a file needs it
    at.file_uploader(key="parks_upload").set_value(("survey.gpkg", _gk_swapped_gpkg(), "application/octet-stream"))
    run(at)
    errs = " ".join(e.value for e in at.error)
    assert ("北坐标、东坐标" if lang == "zh" else "northing, easting") in errs
    box = _checkbox(at, "parks_swap")
    assert box is not None and SWAP_LABEL[lang] in box.label and not box.value
    box.check()
    run(at)
    assert not at.error, [e.value for e in at.error]
    assert _checkbox(at, "parks_swap").value  # still shown while ticked
    at.button(key="parks_upload_save").click()
    run(at)
    saved = store.parks()
    assert len(saved) == 1
    g = gpd.GeoSeries(saved.geometry.values, crs=saved.crs).to_crs(4326).values[0]
    assert shapely.hausdorff_distance(g, BOX) < 1e-8


def test_parks_page_layer_box_for_a_file_geodatabase_and_a_workbook(store, tmp_path):
    at = run(page("parks.py", "en"))
    at.file_uploader(key="parks_upload").set_value(("t.gdb.zip", (PEERS / "fiona" / "testopenfilegdb.gdb.zip").read_bytes(),
                                                    "application/zip"))
    run(at)
    layer = at.selectbox(key="parks_layer")
    assert "polygon" in layer.options and "none" not in layer.options  # feature classes, not tables
    layer.set_value("polygon")
    run(at)
    assert not at.error, [e.value for e in at.error]
    at.button(key="parks_upload_save").click()
    run(at)
    assert len(store.parks()) == 5
    p = tmp_path / "parks.xlsx"
    with pd.ExcelWriter(p) as w:
        pd.DataFrame({"name": ["甲"], "wkt": [BOX.wkt]}).to_excel(w, sheet_name="边界", index=False)
        pd.DataFrame({"name": ["乙"], "lon": [LON], "lat": [LAT], "area_km2": [1.0]}).to_excel(w, sheet_name="点位",
                                                                                            index=False)
    gen = at.session_state["parks_upload_gen"]
    at.file_uploader(key=f"parks_upload_{gen}").set_value(("parks.xlsx", p.read_bytes(), "application/octet-stream"))
    run(at)
    assert at.selectbox(key="parks_layer").options == ["边界", "点位"]


def test_data_page_registration_offers_the_swap(store, tmp_path, monkeypatch):
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "ws"))
    monkeypatch.setenv("GANSU_IMPORT_DIR", str(tmp_path / "import"))
    before = {d.id for d in ws.datasets(store)}
    at = run(page("data.py", "en"))
    at.selectbox(key="ws_add_role").set_value("parks")
    run(at)
    gen = at.session_state["ws_add_gen"] if "ws_add_gen" in at.session_state else 0
    at.file_uploader(key=f"ws_add_file_parks_{gen}").set_value(("survey.gpkg", _gk_swapped_gpkg(),
                                                                "application/octet-stream"))
    run(at)
    assert _checkbox(at, "ws_add_swap") is None
    at.button(key="ws_add_register").click()
    run(at)
    assert "northing, easting" in " ".join(e.value for e in at.error)
    _checkbox(at, "ws_add_swap").check()
    run(at)
    at.button(key="ws_add_register").click()
    run(at)
    assert any("Registered" in s.value for s in at.success), [e.value for e in at.error]
    new = [d for d in ws.datasets(store) if d.id not in before]
    assert len(new) == 1 and new[0].role == "parks"
    assert any("axes swapped as you chose" in en for _, en in new[0].notes)
    assert shapely.hausdorff_distance(store.parks().to_crs(4326).geometry.values[0], BOX) < 1e-8
    ws.remove(store, new[0].id, confirm=True, actor=SHELL)  # the session store is shared: leave nothing behind

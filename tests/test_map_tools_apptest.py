"""The Map page's tools in AppTest (issue 12): place search zooms the map, the point-query panel
lists every layer's answer and the four coordinate forms, the measure panel gives km, km² and 亩.

AppTest cannot click a Leaflet map, so the panel is run with the value st_folium returns after a
click or a drawing (``{"last_clicked": {"lat", "lng"}}``, ``{"last_active_drawing": feature}``);
the real click is in tests/test_browser_map_query.py.
"""
from __future__ import annotations

import json
import re

import pyproj
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import run_page
from tests.coord_rows import assert_coordinate_rows

P01 = (103.66, 36.52435)  # inside the illustrative park P01 兰州新区 (永登县)


def _map_args(at) -> dict:
    comps = at.get("component_instance")
    assert len(comps) == 1
    return json.loads(comps[0].proto.json_args)


@pytest.fixture(scope="module")
def zhangye(dataset):
    from layers import catalog

    pref = catalog.read_default("prefectures")
    return pref[pref["name_zh"] == "张掖市"].geometry.iloc[0]


@pytest.mark.parametrize("q,lang", [("zhangye", "zh"), ("张掖", "en")])
def test_search_zooms_the_map_to_zhangye_and_highlights_it(zhangye, q, lang):
    at = run_page("map.py", lang, no_errors=True, map_search=q)
    args = _map_args(at)
    fg = args["feature_group"] or ""
    # the highlighted outline and a one-time fit to its bounds, sent without rebuilding the map
    payload = json.loads(re.search(r'\(function\(p\)\{.*?\}\)\((\{.*?\})\);', fg).group(1))
    (s, w), (n, e) = payload["bounds"]
    assert (w, s, e, n) == pytest.approx(zhangye.bounds, abs=1e-9)
    assert "fitBounds" in fg and "geo_json" in fg
    assert args["script"] == _map_args(run_page("map.py", lang))["script"]  # the same map, not rebuilt
    shown = " ".join(c.value for c in at.caption)
    assert "张掖市" in shown and ("Zhangye" in shown if lang == "en" else "市州" in shown)
    assert {"last_clicked", "last_active_drawing"} <= set(args["returned_objects"])
    assert "leaflet-draw/leaflet.draw.js" in json.dumps(args["js_links"])


def test_map_without_a_search_keeps_its_view_and_offers_the_tools(dataset):
    at = run_page("map.py", "zh", no_errors=True)
    args = _map_args(at)
    assert args["center"] is None and args["zoom"] is None and "__gansu_fit_token" not in args["feature_group"]
    assert '"polyline"' in args["script"] and '"polygon"' in args["script"]
    assert "gansu_measure" in args["script"]  # drawn shapes are told apart from clicked features
    assert any("单击" in c.value for c in at.caption)  # the click hint
    at2 = run_page("map.py", "zh", map_search="qqqxyz")
    assert any("没有找到" in c.value for c in at2.caption) and "__gansu_fit_token" not in _map_args(at2)["feature_group"]


def _panel_script(out, lang, gcj):
    from ui import map_tools

    map_tools.panel(out, lang, gcj)


def _panel(out: dict, lang: str = "zh", gcj: bool = False) -> AppTest:
    at = AppTest.from_function(_panel_script, args=(out, lang, gcj), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _rows(at) -> dict[str, str]:
    rows = {}
    for tb in at.table:
        df = tb.value
        rows.update(dict(zip(df.iloc[:, 0], df.iloc[:, 1])))
    return rows


def test_point_panel_lists_every_layer_and_four_coordinate_forms(dataset):
    at = _panel({"last_clicked": {"lat": P01[1], "lng": P01[0]}})
    heads = [list(tb.value.columns) for tb in at.table]
    assert heads == [["项目", "结果"], ["项目", "结果"]]
    rows = _rows(at)
    lc = rows["土地覆被：MODIS 2019（默认）"]
    assert "代码" in lc and "MODIS IGBP" in lc
    assert rows["“四屏一廊”分区"] == "中部沿黄河地区生态走廊"
    assert rows["市州"] == "兰州市" and rows["县区"].startswith("永登县")
    assert rows["园区"] == "P01 兰州新区"
    assert "代理图层" in rows["生态保护红线 / 保护图层"]
    assert float(rows["距最近机场（km，测地线）"]) > 0
    lon, lat = (float(v) for v in rows["WGS84 / CGCS2000 经度, 纬度（十进制度）"].split(","))
    assert (lon, lat) == P01
    assert rows["WGS84 / CGCS2000 经度, 纬度（度分秒）"] == "103°39'36.000\"E, 36°31'27.660\"N"  # by hand
    assert_coordinate_rows(rows, lon, lat, gcj_tol=1e-8)


def test_gaode_click_is_converted_back_from_gcj02_first(dataset):
    from core import crs

    glon, glat = crs.wgs84_to_gcj02(*P01)
    at = _panel({"last_clicked": {"lat": float(glat), "lng": float(glon)}}, "en", gcj=True)
    rows = _rows(at)
    lon, lat = (float(v) for v in rows["WGS84 / CGCS2000 longitude, latitude (decimal degrees)"].split(","))
    assert abs(lon - P01[0]) < 1e-8 and abs(lat - P01[1]) < 1e-8
    assert rows["Park"] == "P01 Lanzhou New Area" and rows["County"].startswith("Yongdeng")
    assert any("GCJ-02" in c.value for c in at.caption)


def test_measure_panel_line_and_polygon(dataset):
    geod = pyproj.Geod(ellps="WGS84")
    line = {"type": "Feature", "properties": {"gansu_measure": True},
            "geometry": {"type": "LineString", "coordinates": [[103.834, 36.061], [100.45, 38.93]]}}
    rows = _rows(_panel({"last_active_drawing": line}))
    d = geod.inv(103.834, 36.061, 100.45, 38.93)[2] / 1000
    assert abs(float(rows["长度（km，测地线）"].replace(",", "")) - d) <= 0.0005  # shown to 3 decimals
    from core import crs

    sq = crs.square_of_area(103.8, 36.0, 2.0)
    drawn = {"type": "Feature", "properties": {"gansu_measure": True}, "geometry": sq.__geo_interface__}
    rows = _rows(_panel({"last_active_drawing": drawn}, "en"))
    assert abs(float(rows["Area (km², geodesic)"]) - 2.0) <= 0.00005 + 1e-6  # shown to 4 decimals
    assert abs(float(rows["Area (mu, 1 mu = 666.67 m²)"].replace(",", "")) - 3000.0) <= 0.05 + 0.003  # 1 decimal
    # st_folium reports a clicked layer feature as the "last active drawing" too: not measured
    clicked = {"type": "Feature", "properties": {"name_zh": "甘肃省"}, "geometry": sq.__geo_interface__}
    assert _rows(_panel({"last_active_drawing": clicked}, "en")) == {}


@pytest.fixture()
def workspace_env(dataset, tmp_path, monkeypatch):
    """A fresh store and workspace (as tests/test_workspace_ui.py), caches forgotten around it."""
    import streamlit as st

    from storage.store import Store

    monkeypatch.setenv("GANSU_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("GANSU_WORKSPACE_DIR", str(tmp_path / "workspace"))
    st.cache_resource.clear()
    st.cache_data.clear()
    s = Store(tmp_path / "store.duckdb")
    yield s
    st.cache_resource.clear()
    st.cache_data.clear()
    s.close()


def test_every_land_cover_in_use_is_read_at_the_point(workspace_env, tmp_path):
    """Default MODIS + the user's CLCD + a second CLCD year: one row each, the code each raster
    holds at the point (read here with rasterio's own index)."""
    import rasterio

    from storage import raster_register
    from layers.legends import CLASS_BY_ID, CLCD
    from tests import workspace_fixtures as wf

    box = (103.55, 36.35, 103.75, 36.5)
    a = raster_register.register_landcover(workspace_env, [wf.clcd_landcover(tmp_path / "a.tif", box=box)], legend="clcd",
                                           year=2020, use=True)
    b = raster_register.register_landcover(workspace_env, [wf.clcd_landcover(tmp_path / "b.tif", box=box, shift=2)],
                                           legend="clcd", year=2023, use=True, use_as="landcover_alt")
    lon, lat = 103.65, 36.42
    rows = _rows(_panel({"last_clicked": {"lat": lat, "lng": lon}}))
    to_albers = pyproj.Transformer.from_crs("EPSG:4326", wf.EQUAL_AREA, always_xy=True)
    for d, tif in ((a, tmp_path / "a.tif"), (b, tmp_path / "b.tif")):
        with rasterio.open(tif) as src:
            r, c = src.index(*to_albers.transform(lon, lat))
            code = int(src.read(1)[r, c])
        cls = CLASS_BY_ID[CLCD.class_of(code)]
        assert rows[f"土地覆被：{d.label('zh')}"].startswith(f"{cls.label_zh}（代码 {code}，"), rows
    assert "土地覆被：MODIS 2019（默认）" in rows
    assert sum(k.startswith("土地覆被：") for k in rows) == 3


def test_a_park_named_like_code_is_found_and_shown_as_text(store):
    """A saved park's name reaches the highlight's tooltip, which folium puts in a JavaScript
    template literal: ``${…}`` and backticks must arrive escaped, never as code."""
    import geopandas as gpd
    import shapely

    name = "恶意${window.__x=1}`<b>园区"
    store.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(100.0, 38.0, 100.05, 38.04)], crs=4326),
                    names=[name], source="upload")
    at = run_page("map.py", "zh", no_errors=True, map_search="恶意")
    fg = _map_args(at)["feature_group"]
    assert "&#36;{window.__x=1}&#96;&lt;b&gt;" in fg
    assert "${window" not in fg and "`<b>" not in fg

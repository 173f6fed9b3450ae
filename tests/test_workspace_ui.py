"""The workspace in the UI (AppTest, issue 10): the Data page's data in use, upload (land cover in
the background with its questions: nodata, legend), import folder (tiles → one mosaic), the
datasets table and removal with confirmation; the data-in-use line on every page; the Map drawing
a user land cover and transport datasets. Real files made in code (tests/workspace_fixtures.py),
a temporary store, workspace and import folder per test."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storage import raster_register, vector_register
from storage import workspace as ws
from tests import apptest_helpers
from tests import workspace_fixtures as wf
from ui import jobs
from ui.mdtext import unescape

REPO = Path(__file__).resolve().parent.parent
SMALL_BOX = (103.55, 36.35, 103.75, 36.5)  # a few hundred 30 m pixels a side, near 兰州新区


@pytest.fixture()
def env(dataset, tmp_path, monkeypatch):
    """A fresh store, workspace and import folder; caches and jobs forgotten before and after."""
    yield from wf.page_store(tmp_path, monkeypatch)


def page(name: str, lang: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / name), default_timeout=180)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def finish_job(at: AppTest) -> AppTest:
    """Wait for the background registration started by the last click, then rerun the page."""
    try:
        key = at.session_state["ws_job"]["key"]
    except KeyError:
        return at
    job = jobs.get(key)
    job.thread.join(120)
    assert job.phase in ("done", "error"), job.phase
    return run(at)


def texts(at: AppTest, *kinds: str) -> str:
    """The texts as shown (user names are escaped Markdown in the source: ``ui.mdtext``)."""
    return unescape(" ".join(str(e.value) for k in kinds for e in getattr(at, k)))


def map_script(at: AppTest) -> str:
    comps = at.get("component_instance")
    assert comps, "no st_folium component"
    script = apptest_helpers.map_script(comps[0])  # raw UTF-8 and \\uXXXX escapes both occur
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m_: chr(int(m_.group(1), 16)), script)


def small_clcd(path: Path, nodata=0, crs=wf.EQUAL_AREA) -> Path:
    t, w, h = wf.grid(SMALL_BOX, crs=crs if crs is not None else wf.EQUAL_AREA)
    return wf.write_tif(path, wf.clcd_codes(h, w), t, crs=crs, nodata=nodata)


def upload(at: AppTest, role: str, path: Path) -> None:
    if at.selectbox(key="ws_add_role").value != role:
        at.selectbox(key="ws_add_role").set_value(role)
        run(at)
    gen = at.session_state["ws_add_gen"] if "ws_add_gen" in at.session_state else 0
    at.file_uploader(key=f"ws_add_file_{role}_{gen}").set_value((path.name, path.read_bytes(), "application/octet-stream"))
    run(at)


REGISTERED = {"zh": "已登记", "en": "Registered"}
USER = {"zh": "用户上传", "en": "uploaded by user"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_uploaded_clcd_is_registered_with_provenance_used_and_shown_on_other_pages(env, tmp_path, lang):
    f = small_clcd(tmp_path / "clcd_lanzhou.tif")
    at = page("data.py", lang)
    upload(at, "landcover", f)
    at.selectbox(key="ws_add_legend").set_value("clcd")
    at.number_input(key="ws_add_year").set_value(2020)
    at.text_input(key="ws_add_source").input("CLCD 2020 (Yang & Huang), clipped")
    at.text_input(key="ws_add_licence").input("CC BY 4.0")
    run(at)
    at.button(key="ws_add_register").click()
    run(at)
    finish_job(at)
    assert REGISTERED[lang] in texts(at, "success"), texts(at, "success", "error", "warning")
    [d] = ws.datasets(env)
    assert (d.role, d.legend, d.year, d.original_filename, d.name) == ("landcover", "clcd", 2020, f.name, "clcd_lanzhou")
    assert d.sha256 == ws.sha256_file(f) and d.source.startswith("CLCD 2020") and d.licence == "CC BY 4.0"
    assert ws.in_use(env)["landcover"] == [d.id]  # "use it right away" is on by default
    # the datasets table: provenance with labelled headers, the status badge, in use
    at = run(at)
    table = at.dataframe[0].value
    heads = {"zh": ("名称", "原始文件", "SHA-256（前 12 位）", "大小 (MB)", "正在使用", "性质"),
             "en": ("Name", "File", "SHA-256 (first 12)", "Size (MB)", "In use", "Status")}[lang]
    assert all(h in table.columns for h in heads), list(table.columns)
    row = table.iloc[0]
    assert row[heads[2]] == d.sha256[:12] and row[heads[1]] == f.name and USER[lang] in row[heads[5]]
    assert row[heads[4]] != {"zh": "否", "en": "no"}[lang]
    assert "id" not in table.columns and "sha" not in table.columns  # never raw column ids
    # another page: the data-in-use line names it with its badge
    other = page("checklist.py", lang)
    line = texts(other, "caption")
    assert "clcd_lanzhou 2020" in line and f"[{USER[lang]}]" in line
    # the Map draws it (tiles of its COG, its legend, the badge) instead of MODIS
    m = page("map.py", lang, map_vis_landcover=True)
    script = map_script(m)
    assert "imageOverlay" not in script and _tile_ok(script) == 1
    assert f"clcd_lanzhou 2020 · {ws.ROLE_LABELS['landcover'].pick(lang)} · {USER[lang]}" in script
    assert {"zh": "建设用地", "en": "Built-up"}[lang] in script  # CLCD's classes in the legend


def test_raster_without_nodata_asks_then_legend_question_then_registers(env, tmp_path):
    f = small_clcd(tmp_path / "no_nodata.tif", nodata=None)
    at = page("data.py", "en")
    upload(at, "landcover", f)  # legend left on "detect"
    at.button(key="ws_add_register").click()
    run(at)
    finish_job(at)
    assert "has no nodata value" in texts(at, "warning")
    assert any("Which value means" in i.value for i in at.info)
    assert ws.datasets(env) == []
    at.number_input(key="ws_retry_nodata").set_value(0)
    at.button(key="ws_retry").click()
    run(at)
    finish_job(at)
    # codes 1-9 fit CLCD and IGBP: the legend is asked next, among the candidates
    assert "choose the legend" in texts(at, "warning")
    assert at.radio(key="ws_retry_legend").options == ["clcd · CLCD 30 m (Yang & Huang)",
                                                      "igbp · MODIS IGBP (MCD12Q1 type 1 / MCD12C1)"]
    at.radio(key="ws_retry_legend").set_value("clcd")
    at.button(key="ws_retry").click()
    run(at)
    finish_job(at)
    assert "Registered" in texts(at, "success")
    [d] = ws.datasets(env)
    assert d.nodata == 0 and d.legend == "clcd" and 0 not in d.codes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_raster_without_crs_is_refused_in_the_ui_language_and_nothing_registered(env, tmp_path, lang):
    f = small_clcd(tmp_path / "nocrs.tif", crs=None)
    at = page("data.py", lang)
    upload(at, "landcover", f)
    at.selectbox(key="ws_add_legend").set_value("clcd")
    run(at)
    at.button(key="ws_add_register").click()
    run(at)
    finish_job(at)
    shown = texts(at, "warning", "error")
    assert {"zh": "没有坐标参考系", "en": "has no CRS"}[lang] in shown, shown
    assert ws.datasets(env) == [] and not list((tmp_path / "workspace").glob("D*"))
    assert "ws_retry" not in [b.key for b in at.button]  # no question to answer: a refusal
    run(at)  # the page stays usable
    assert at.title and not at.error


def test_import_folder_four_tiles_become_one_mosaic_referenced_in_place(env, tmp_path):
    tiles = wf.quadrant_tiles(small_clcd(tmp_path / "whole.tif"), tmp_path / "import" / "clcd_tiles")
    at = page("data.py", "en")
    listed = at.dataframe[0].value
    assert list(listed["File"]) == [f"clcd_tiles/{t.name}" for t in tiles] and "Size (MB)" in listed.columns
    at.selectbox(key="ws_imp_role").set_value("landcover")
    run(at)
    at.multiselect(key="ws_imp_files").set_value([f"clcd_tiles/{t.name}" for t in tiles])
    at.selectbox(key="ws_imp_legend").set_value("clcd")
    at.number_input(key="ws_imp_year").set_value(2021)
    run(at)
    at.button(key="ws_imp_register").click()
    run(at)
    finish_job(at)
    assert "Registered" in texts(at, "success"), texts(at, "success", "warning", "error")
    [d] = ws.datasets(env)
    assert d.storage == "reference" and [f.path for f in d.files] == [str(t) for t in tiles]
    assert d.raster_path.endswith("mosaic.vrt") and d.name == "clcd_tiles" and d.year == 2021
    assert all(t.is_file() for t in tiles)  # referenced, not moved


def test_removing_a_dataset_in_use_needs_the_confirmation_and_falls_back(env, tmp_path):
    d = raster_register.register_landcover(env, [small_clcd(tmp_path / "lc.tif")], legend="clcd", year=2020, use=True)
    at = page("data.py", "en", ws_rm_pick=d.id)
    at.button(key="ws_rm_button").click()
    run(at)
    assert "is in use" in texts(at, "error") and [x.id for x in ws.datasets(env)] == [d.id]
    assert ws.in_use(env)["landcover"] == [d.id]
    at.checkbox(key="ws_rm_confirm").check()
    at.button(key="ws_rm_button").click()
    run(at)
    assert "Removed: lc" in texts(at, "success")
    assert ws.datasets(env) == [] and ws.in_use(env)["landcover"] == []
    assert "MODIS" in texts(at, "caption")  # the data-in-use line is back on the default


def test_in_use_selectors_change_the_data_in_use_and_refuse_mixed_legends(env, tmp_path):
    a = raster_register.register_landcover(env, [small_clcd(tmp_path / "a.tif")], legend="clcd", year=2020)
    b = raster_register.register_landcover(env, [wf.clcd_landcover(tmp_path / "b.tif", box=SMALL_BOX, shift=2)], legend="clcd",
                                           year=2023)
    at = page("data.py", "zh")
    at.selectbox(key="ws_use_landcover_alt").set_value(b.id)  # main stays MODIS (IGBP): refused
    at.button(key="ws_use_apply").click()
    run(at)
    assert "图例不同" in texts(at, "error") and ws.in_use(env)["landcover_alt"] == []
    at.selectbox(key="ws_use_landcover").set_value(a.id)
    at.selectbox(key="ws_use_landcover_alt").set_value(b.id)
    at.multiselect(key="ws_use_transport").set_value([])
    at.button(key="ws_use_apply").click()
    run(at)
    assert "已更新正在使用的数据" in texts(at, "success")
    chosen = ws.in_use(env)
    assert chosen["landcover"] == [a.id] and chosen["landcover_alt"] == [b.id] and chosen["transport"] == []
    line = texts(at, "caption")
    assert "a 2020" in line and "第二期土地覆被" in line and "b 2023" in line
    # the Map: the land cover in use and the second year as a second, toggleable overlay
    m = page("map.py", "zh", map_vis_landcover=True, map_vis_ws_landcover_alt=True)
    script = map_script(m)
    assert "imageOverlay" not in script and _tile_ok(script) == 2  # both years as tiles
    assert "a 2020 · 土地覆被 · 用户上传" in script and "第二期土地覆被: b 2023 · 土地覆被 · 用户上传" in script
    assert m.sidebar.checkbox(key="map_vis_ws_landcover_alt").value


def _tile_ok(script: str) -> int:
    """How many tile layers of the map script are served: each URL's grant answers a tile of the
    data with a PNG (the tile service in this process, where the page granted it)."""
    from layers import tiles
    from ui import tileserver

    urls = re.findall(r'L\.tileLayer\(\s*"(/tiles/[^"]+)"', script)
    recheck = tileserver.RECHECK_S
    tileserver.RECHECK_S = 0.0  # the access check on this request too (the grant's dataset must exist)
    try:
        for u in urls:
            token = u.split("/")[2]
            z = 13
            x, y = tiles.tile_of(103.68, 36.45, z)
            status, body, kind = tileserver.tile_response(token, z, x, y, False)
            assert status == 200 and kind == "image/png" and body != tileserver.blank_png(), u
    finally:
        tileserver.RECHECK_S = recheck
    return len(urls)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_uploaded_osm_is_drawn_on_the_map_by_kind(env, tmp_path, lang):
    osm = wf.osm_near(103.66, 36.52, tmp_path / "lanzhou.osm")
    at = page("data.py", lang)
    upload(at, "osm", osm)
    at.button(key="ws_add_register").click()
    run(at)
    assert REGISTERED[lang] in texts(at, "success"), texts(at, "error")
    [d] = ws.datasets(env)
    assert d.kinds == ("expressway", "major_road", "railway", "station") and d.id in ws.in_use(env)["transport"]
    m = page("map.py", lang)
    script = map_script(m)
    for kind in d.kinds:
        assert f"{ {'zh': {'expressway': '高速公路', 'major_road': '干线公路', 'railway': '铁路', 'station': '车站'}, 'en': {'expressway': 'expressway', 'major_road': 'major road', 'railway': 'railway', 'station': 'station'}}[lang][kind]} · lanzhou" in script
    assert "LineString" in script and "#d84315" in script  # expressway lines in their style
    assert {"zh": "交通（用户数据）", "en": "Transport (your data)"}[lang] in script  # legend section
    assert "lanzhou" in texts(m, "caption")  # the data-in-use line


def test_transport_upload_with_a_field_mapped_to_kinds(env, tmp_path):
    import geopandas as gpd
    import shapely

    g = gpd.GeoDataFrame({"类别": ["高速", "铁路"], "name": ["G30<b>", "兰新线"]},
                         geometry=[shapely.LineString([(103.6, 36.4), (103.7, 36.45)]),
                                   shapely.LineString([(103.6, 36.5), (103.7, 36.55)])], crs=4326)
    f = tmp_path / "roads.geojson"
    g.to_file(f)
    at = page("data.py", "en")
    upload(at, "transport", f)
    at.radio(key="ws_add_kind_mode").set_value("field")
    run(at)
    at.selectbox(key="ws_add_kind_field").set_value("类别")
    run(at)
    assert [at.selectbox(key=f"ws_add_kind_map_0_{i}").value for i in range(2)] == ["expressway", "railway"]  # guessed
    at.button(key="ws_add_register").click()
    run(at)
    assert "Registered" in texts(at, "success"), texts(at, "error")
    [d] = ws.datasets(env)
    assert d.kinds == ("expressway", "railway") and d.n_features == 2


def test_replacing_a_proxy_layer_registers_a_red_line_dataset(env, tmp_path):
    import geopandas as gpd
    import shapely

    red = gpd.GeoDataFrame({"名称": ["红线"]}, geometry=[shapely.box(103.5, 36.2, 103.8, 36.5)], crs=4326)
    at = page("data.py", "en", data_replace_target="protection_proxy")
    at.file_uploader(key="data_replace_file").set_value(("hongxian.geojson", red.to_json().encode(), "application/geo+json"))
    run(at)
    at.button(key="data_replace_save").click()
    run(at)
    [d] = ws.datasets(env)
    assert d.role == "redline" and ws.in_use(env)["redline"] == [d.id]
    assert "hongxian.geojson" in texts(at, "caption")  # the data-in-use line names it
    assert any("Using uploaded layer: hongxian.geojson" in unescape(i.value) for i in at.info)
    # the Map draws it in place of the proxy, labelled as the user's upload
    script = map_script(page("map.py", "en"))
    assert "红线" in script and "Ecological protection proxy (not the official red line) · uploaded by user" in script


def test_zones_in_use_change_the_home_zone_areas_to_hand_computed_values(env, tmp_path):
    """Home's zone-area table follows the zones in use: two official zones of 0.35° × 0.4° near
    兰州新区, their areas to 0.5% of the ellipsoid quadrangle formula (tests/hostile/corpus.quad_km2)."""
    import geopandas as gpd
    import shapely

    from tests.hostile.corpus import quad_km2

    before = page("home.py", "en").dataframe[0].value
    assert len(before) >= 4  # the schematic 四屏一廊 zones
    boxes = {"西区": (103.3, 36.2, 103.65, 36.6), "东区": (103.65, 36.2, 104.0, 36.6)}
    zones = gpd.GeoDataFrame({"名称": list(boxes)}, geometry=[shapely.box(*b).segmentize(0.01) for b in boxes.values()],
                             crs=4326)
    zones.to_file(tmp_path / "zones.gpkg", layer="zones")
    vector_register.register_vector(env, tmp_path / "zones.gpkg", "zones", name_field="名称", use=True)
    at = page("home.py", "en")
    z = at.dataframe[0].value
    names, areas = list(z.iloc[:, 0]), list(z.iloc[:, 1])
    assert sorted(names) == sorted(boxes), names
    for name, area in zip(names, areas):
        want = quad_km2(*boxes[name])
        assert abs(float(area) - want) <= 0.005 * want, (name, area, want)
    assert 1200 < quad_km2(*boxes["西区"]) < 1400  # by hand: 0.35° ≈ 31.4 km × 0.4° ≈ 44.4 km
    ws.use(env, "zones", [])
    back = page("home.py", "en").dataframe[0].value
    assert list(back.iloc[:, 0]) == list(before.iloc[:, 0])


def test_the_park_detail_map_shows_the_land_cover_in_use_as_tiles(env, tmp_path):
    """The Parks page's detail map of the selected park carries the land cover in use as tiles of
    its COG, granted to this session and served (a PNG with the data, not a blank tile)."""
    d = raster_register.register_landcover(env, [small_clcd(tmp_path / "c.tif")], legend="clcd", year=2020, use=True)
    at = page("parks.py", "en")
    scripts = [map_script(at)]
    assert sum(_tile_ok(s) for s in scripts) == 1
    assert f"{d.name} 2020" in scripts[0]  # the layer is named after the dataset


def test_a_criterion_raster_in_use_is_drawn_on_the_map_on_a_ramp_with_its_legend(env, tmp_path):
    """A siting criterion raster in use: a sidebar switch on the Map draws it as tiles of its COG on a
    colour ramp (granted and served), its legend naming the criterion, its unit and the stretch's ends."""
    import numpy as np
    import rasterio

    from indicators import measures
    from layers import tiles

    t_, w, h = wf.grid(SMALL_BOX)
    vals = np.tile(np.linspace(1000.0, 2000.0, w, dtype="float32"), (h, 1))
    src = tmp_path / "ghi_map.tif"
    with rasterio.open(src, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=wf.EQUAL_AREA,
                       transform=t_, nodata=-9999.0) as ds:
        ds.write(vals, 1)
    params = measures.PARSERS["criterion"]("x:map_ghi:mean:higher:kWh/m2/yr")[1]
    d = raster_register.register_raster(env, src, "criterion", params=params, use=True)
    lo, hi = tiles.default_stretch(d.display_path)
    assert 1000.0 <= lo < 1100.0 and 1900.0 < hi <= 2000.0  # 2–98 % of a linear ramp 1000–2000
    off = page("map.py", "en")
    assert off.sidebar.checkbox(key="map_vis_ws_rasters").value is False and _tile_ok(map_script(off)) == 0
    on = page("map.py", "en", map_vis_ws_rasters=True)
    script = map_script(on)
    assert _tile_ok(script) == 1
    assert "map_ghi (kWh/m2/yr)" in script and f"{lo:,.4g}" in script and f"{hi:,.4g}" in script

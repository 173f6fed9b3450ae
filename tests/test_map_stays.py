"""The Map page's map stays from run to run: its own script (what streamlit-folium keys the map
by) is the same whatever the layers, opacity, basemap, language or side-by-side choice, and what
changed reaches the map in the feature groups swapped in over it. The real browser check (the
centre and zoom kept) is tests/test_browser_map_view.py; these run the page in AppTest."""
from __future__ import annotations

import json

import folium
import pytest

from tests.apptest_helpers import run_page


def _args(at) -> dict:
    [comp] = at.get("component_instance")
    return json.loads(comp.proto.json_args)


@pytest.fixture(scope="module")
def default(dataset) -> dict:
    return _args(run_page("map.py", "zh", no_errors=True))


@pytest.mark.parametrize("lang,state,shows", [
    ("en", {}, "Legend"),  # the language: the legend's title
    ("zh", {"map_vis_counties": True}, "县区界"),  # a layer turned on
    ("zh", {"map_vis_landcover": True, "map_lc_opacity": 0.35}, '"opacity": 0.35'),  # the land cover's opacity
    ("zh", {"map_op_zones": 0.4}, '"opacity": 0.4'),  # a layer's opacity
    ("zh", {"map_basemap": "gaode"}, "autonavi.com"),  # the basemap
    ("zh", {"map_compare": True, "map_cmp_left": "landcover", "map_cmp_right": "zones"}, "sideBySide"),
])
def test_a_sidebar_change_reaches_the_groups_and_leaves_the_map_script_alone(default, lang, state, shows):
    args = _args(run_page("map.py", lang, no_errors=True, **state))
    assert args["script"] == default["script"]  # the same map: streamlit-folium keeps it (and its view)
    changed = args["feature_group"] + args["layer_control"]
    assert shows in changed and shows not in default["feature_group"] + default["layer_control"]


def test_the_map_script_holds_no_layer_text_or_basemap(default):
    script = default["script"]
    assert "L.map(" in script
    assert '"polyline"' in script and "gansu_measure" in script  # the measure tools stay in the map
    for absent in ("geo_json", "/app/static/cache/geo/", "imageOverlay", "gansu-legend", "L.control.layers", "tileLayer"):
        assert absent not in script, absent
    fg = default["feature_group"]
    assert "/app/static/cache/geo/" in fg and "gansu-legend" in fg  # layers and legend come as groups
    assert "L.control.layers" in default["layer_control"]


def test_the_datum_of_the_overlays_is_the_first_group(default, dataset):
    fg = default["feature_group"]
    assert fg.index('{"gcj": false}') < fg.index("feature_group_feature_group_1")
    gaode = _args(run_page("map.py", "zh", map_basemap="gaode"))["feature_group"]
    assert gaode.index('{"gcj": true}') < gaode.index("feature_group_feature_group_1")


CLICK = {"last_clicked": {"lat": 36.52435, "lng": 103.66}}


@pytest.mark.parametrize("prev,basemap,marker", [
    (False, "none", True),  # the same datum as the click: its marker is drawn
    (True, "gaode", True),
    (False, "gaode", False),  # the datum changed on this run: the click was in the other one
    (True, "none", False),
])
def test_a_click_from_the_other_datum_is_not_drawn(dataset, prev, basemap, marker):
    from ui import map_tools

    at = run_page("map.py", "zh", map_basemap=basemap, main_map=CLICK,
                  **{map_tools.DATUM_KEY: {"gcj": prev, "switched": False}})
    assert ('"#ffeb3b"' in _args(at)["feature_group"]) is marker  # the click marker's fill


def test_overlay_groups_keep_order_and_put_loose_elements_in_groups():
    from ui import mapview

    m = mapview.freeze(mapview.new_map("zh"))
    base = list(m._children)
    a = folium.FeatureGroup(name="a").add_to(m)
    mapview.add_pane(m, "p1")
    mapview.add_pane(m, "p2")
    b = folium.FeatureGroup(name="b").add_to(m)
    mapview.add_legend(m, "en", [])
    groups = mapview.overlay_groups(m)
    assert list(m._children) == base  # the map keeps only itself
    assert groups[0] is a and groups[2] is b and len(groups) == 4
    assert [type(c).__name__ for c in groups[1]._children.values()] == ["_Script", "_Script"]  # the two panes, in order
    assert not groups[1].control and not groups[3].control and groups[0].control
    for g in groups:
        g.add_to(m)
    html = m.get_root().render()
    assert html.index('"name": "p1"') < html.index('"name": "p2"')
    # the scripts in a group are given the map, not their group (a pane is made on the map)
    assert f'({m.get_name()}, {{"name": "p1", "z": 390}}, {groups[1].get_name()})' in html

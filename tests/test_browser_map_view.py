"""Real browser, network off: the Map keeps the user's view. Zoomed to a park at zoom 15, the
centre and zoom stay (to a fraction of a pixel) when a layer is toggled, its opacity changed, the
basemap switched to Gaode (GCJ-02) and back, and the language switched; with Gaode the centre is
the same place on the ground (the GCJ-02 offset of the centre, as ``core.crs`` computes it); the map
is never made again; the place search still moves the view. One browser run
(tests/browser/map_view_check.py) for the module."""
import math

import pytest

from tests.browser import harness

pytestmark = harness.needs_chromium()

P01 = (103.66, 36.52435)
HALF_PIXEL = 0.5


@pytest.fixture(scope="module")
def report(dataset):
    return harness.run_check("map_view_check.py")


def pixels(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at a zoom (256-px tiles), as Leaflet places it."""
    n = 256 * 2 ** zoom
    phi = math.radians(lat)
    return n * (lon + 180) / 360, n * (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2


def off_by(a, b) -> float:
    """Distance in screen pixels between the centres of two views (lat, lon, zoom) at a's zoom."""
    (x0, y0), (x1, y1) = pixels(a[0], a[1], a[2]), pixels(b[0], b[1], a[2])
    return math.hypot(x1 - x0, y1 - y0)


def test_the_park_view_is_where_the_user_put_it(report):
    lat, lon, zoom = report["steps"]["park"]["view"]
    assert zoom == 15 and off_by((P01[1], P01[0], 15), (lat, lon, zoom)) < HALF_PIXEL
    assert report["start"][2] < 10  # the map opened on the province, far from this view


@pytest.mark.parametrize("step", ["toggle", "opacity", "none", "english"])
def test_a_sidebar_change_keeps_centre_and_zoom(report, step):
    park = report["steps"]["park"]["view"]
    now = report["steps"][step]["view"]
    assert now[2] == park[2]
    assert off_by(park, now) < HALF_PIXEL, (step, park, now)


def test_each_change_reached_the_map(report):
    s = report["steps"]
    assert s["toggle"]["image"] is True  # the land cover is drawn
    assert s["opacity"]["opacity"] == "0.65"  # at the new opacity
    assert s["gaode"]["datum"] is True and s["none"]["datum"] is False  # the overlays in GCJ-02, then WGS84
    assert "Legend" in s["english"]["legend"]
    assert s["english"]["legend_open"] is False  # folded before the changes, folded after them


def test_the_gcj02_basemap_keeps_the_same_place_in_the_centre(report):
    from core import crs

    park = report["steps"]["park"]["view"]
    lat, lon, zoom = report["steps"]["gaode"]["view"]
    glon, glat = (float(v) for v in crs.wgs84_to_gcj02(park[1], park[0]))
    assert zoom == park[2]
    assert off_by((glat, glon, zoom), (lat, lon, zoom)) < HALF_PIXEL
    assert off_by(park, (lat, lon, zoom)) > 20  # the view did move: the offset is ~250 m here, ~65 px at zoom 15


def test_a_click_made_before_the_datum_changed_is_cleared(report):
    assert report["steps"]["clicked"]["view"] == report["steps"]["park"]["view"]  # the click did not move the map
    # after the switch to GCJ-02: no marker, no point query (it would be ~250 m off), the hint instead
    assert report["after_switch"] == {"markers": 0, "hint": 1, "clicked": None}


def test_the_map_is_never_made_again(report):
    assert all(s["same_map"] for s in report["steps"].values()), {k: s["same_map"] for k, s in report["steps"].items()}


def test_the_place_search_still_moves_the_view(report, dataset):
    from shapely.geometry import Point

    from layers import catalog

    pref = catalog.read_default("prefectures")
    zhangye = pref[pref["name_zh"] == "张掖市"].geometry.iloc[0]
    lat, lon, zoom = report["steps"]["search"]["view"]
    assert zhangye.contains(Point(lon, lat)) and 7 <= zoom < 15


def test_only_the_groups_on_the_map_are_held(report):
    # every change above made a new set of groups; the sets taken off the map are let go
    s = report["steps"]["search"]
    assert s["groups_on_map"] >= 8 and s["groups_held"] == s["groups_on_map"]


def test_nothing_leaves_localhost_but_the_basemap_the_user_chose(report):
    # Gaode's tiles were asked for while it was the basemap (the network is off: none came)
    assert report["requests"] > 10
    assert all(u.split("/")[2].endswith(".is.autonavi.com") for u in report["external"]), report["external"]


def test_the_map_reports_its_view_only_while_the_export_asks_for_it(report):
    """A reported view reruns the map's part of the page: the map opens reporting clicks and drawings
    only, and reports its view once "current view" is chosen for the export (whose button waits for it)."""
    assert report["reported_at_start"] == ["last_clicked", "last_active_drawing"]
    assert report["sent_at_start"] == {"last_clicked": None, "last_active_drawing": None}  # nothing sent since it opened
    assert "bounds" in report["view_export"]["reported"]
    assert report["view_export"]["view"][2] >= 7  # still the user's view, not moved by the report

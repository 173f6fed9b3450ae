"""Browser check run by tests/test_browser_map_view.py (inside a network namespace when possible).

On the Map page, in Debian Chromium: put the map on the illustrative park P01 at zoom 15, then
turn the land cover on, lower its opacity, switch the basemap to Gaode (GCJ-02) and back, switch
the language to English — after each step record the map's centre and zoom as the Leaflet map in
the page holds them, and what the step changed on the map (the land-cover image, its opacity, the
overlays' datum, the legend's language); finally search a place and record where the map went.
A mark left in the map's window tells whether the map was made again on the way. Every wait is on
state (a script run over, an element, a style, the map's view), never on a fixed time. Prints a
JSON report.
"""
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.harness import browser_page, external, map_frame, rerun, settled, streamlit_server  # noqa: E402

ART = Path(__file__).resolve().parents[1] / "_artifacts"
P01 = (103.66, 36.52435)  # inside the illustrative park P01 兰州新区
ZOOM = 15
VIEW_JS = "() => { const c = window.map.getCenter(); return [c.lat, c.lng, window.map.getZoom()]; }"
report = {"steps": {}}


def pick_option(page, key: str, text: str) -> None:
    """Open a Streamlit selectbox (by widget key) and choose the option with ``text``."""
    box = page.locator(f".st-key-{key} input[role='combobox']").first
    box.click()
    box.press("ArrowDown")  # a click focuses the combobox; the arrow key opens its list
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()


def record(page, step: str, wait_js: str, **extra) -> None:
    """Once the page has settled and ``wait_js`` holds in the map's frame: the view, whether the
    map is still the one first made, and ``extra`` (JS expressions read in the frame)."""
    settled(page)
    fr = map_frame(page)
    fr.wait_for_function(wait_js, polling=100)
    report["steps"][step] = {"view": fr.evaluate(VIEW_JS), "same_map": fr.evaluate("() => window.__gansu_mark === 1"),
                             **{k: fr.evaluate(js) for k, js in extra.items()}}


IMG = "document.querySelector('img.leaflet-image-layer')"
REPORTED = "() => window.__GLOBAL_DATA__.returned_objects"  # what the map reports (streamlit-folium)
MAKE_READY = "() => { const b = document.querySelector('.st-key-map_export_make button'); return !!b && !b.disabled; }"
MARKER = "path[fill='#ffeb3b']"  # the clicked point's marker
HINT = "在地图上单击任意位置"  # the point query's hint, shown while no point is clicked
with streamlit_server() as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(300_000)  # bounds a failure only
        page.set_viewport_size({"width": 1400, "height": 1400})  # the whole map in view
        page.goto(url + "/map")
        settled(page)
        fr = map_frame(page)
        report["start"] = fr.evaluate(VIEW_JS)
        report["reported_at_start"] = fr.evaluate(REPORTED)
        report["sent_at_start"] = fr.evaluate("() => window.__GLOBAL_DATA__.previous_data")  # the last value sent
        fr.evaluate("() => { window.__gansu_mark = 1; }")
        # zoom to the park (the map does not report its view until the export asks for it: no rerun)
        fr.evaluate(f"() => window.map.setView([{P01[1]}, {P01[0]}], {ZOOM}, {{animate: false}})")
        record(page, "park", f"() => window.map.getZoom() === {ZOOM}")
        map_frame(page).locator(".gansu-legend-toggle").click()  # the legend folded: it stays so
        # a layer toggled: the land cover on
        with rerun(page):
            page.locator("[data-testid=stSidebar] [data-testid=stCheckbox]").filter(has_text="土地覆被").click()
        record(page, "toggle", f"() => !!{IMG}", image=f"() => !!{IMG}")
        # its opacity lowered one step (0.70 -> 0.65)
        with rerun(page):
            page.locator(".st-key-map_lc_opacity input[type=range]").press("ArrowLeft")
        record(page, "opacity", f"() => {IMG} && {IMG}.style.opacity === '0.65'", opacity=f"() => {IMG}.style.opacity")
        # a click at the centre: the point query answers (in WGS84, the datum of the map then)
        with rerun(page, fragment=True):
            box = fr.locator("#map_div").bounding_box()
            fr.locator("#map_div").click(position={"x": round(box["width"] / 2), "y": round(box["height"] / 2)})
        page.get_by_text("该点的图层信息").wait_for()
        record(page, "clicked", f"() => document.querySelectorAll(\"{MARKER}\").length === 1")
        # the Gaode basemap: the overlays in GCJ-02; the click was in the other datum: cleared
        with rerun(page):
            pick_option(page, "map_basemap", "高德")
        record(page, "gaode", "() => window.__gansu_datum === true", datum="() => window.__gansu_datum")
        page.get_by_text("该点的图层信息").wait_for(state="detached")
        settled(page)
        fr = map_frame(page)
        report["after_switch"] = {"markers": fr.locator(MARKER).count(), "hint": page.get_by_text(HINT).count(),
                                  "clicked": fr.evaluate("() => window.__GLOBAL_DATA__.lat_lng_clicked")}
        # back to no basemap: WGS84
        with rerun(page):
            pick_option(page, "map_basemap", "无底图")
        record(page, "none", "() => window.__gansu_datum === false", datum="() => window.__gansu_datum")
        # the language
        with rerun(page):
            page.get_by_text("English", exact=True).click()
        page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').innerText.trim() === 'Map'")
        record(page, "english", "() => (document.querySelector('.gansu-legend') || {}).innerText.includes('Legend')",
               legend="() => document.querySelector('.gansu-legend').innerText",
               legend_open="() => document.querySelector('.gansu-legend-body').style.display !== 'none'")
        page.screenshot(path=str(ART / "map_view_kept.png"))
        # the place search still moves the map
        box = page.locator(".st-key-map_search input")
        box.fill("张掖")
        box.press("Enter")
        record(page, "search", "() => window.map.getZoom() < 15 && window.map.getZoom() >= 7",
               groups_held="() => window.feature_group.length",
               groups_on_map="() => window.feature_group.filter(l => !!l._map).length")
        # the export's current view: once chosen, the map reports its view (a rerun of the map's part)
        page.get_by_text("Export the map").click()
        with rerun(page, fragment=True):
            page.get_by_text("Current view", exact=True).click()
        page.wait_for_function(MAKE_READY)  # enabled once the view has arrived
        report["view_export"] = {"reported": map_frame(page).evaluate(REPORTED), "view": map_frame(page).evaluate(VIEW_JS)}
        report["requests"] = len(reqs)
        report["external"] = external(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

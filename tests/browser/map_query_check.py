"""Browser check run by tests/test_browser_map_query.py (inside a network namespace when possible).

On the Map page, in Debian Chromium:
1. search "zhangye", then (after zooming back out) "张掖": record the map's view each time;
2. zoom to the illustrative park P01 and click a point inside it: record the point Leaflet
   reports and the two tables of the point-query panel;
3. draw a line with the offline Leaflet.draw tool between two known points: record the drawn
   vertices and the measure panel;
and record every request. Every wait is on state (the map's view, a vertex drawn, a text on the
page, the app's script run over), never on a fixed time. Prints a JSON report.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.harness import browser_page, external, map_frame, settled, streamlit_server  # noqa: E402

ART = Path(__file__).resolve().parents[1] / "_artifacts"
SEARCH = "查找地点（省、市州、县区、园区；汉字或拼音）"
P01 = (103.66, 36.52435)  # inside the illustrative park P01 兰州新区
LINE = ((103.834, 36.061), (100.45, 38.93))  # Lanzhou -> Zhangye
report = {}

VIEW_JS = "() => { const c = window.map.getCenter(); return [c.lat, c.lng, window.map.getZoom()]; }"


def wait_view(fr, test_js: str, timeout_ms=300_000):
    """The map's view once ``test_js`` holds for it (the view as it is when the wait ran out: the
    report then shows where the map went instead)."""
    try:
        fr.wait_for_function(test_js, timeout=timeout_ms, polling=100)
    except Exception:
        pass
    return fr.evaluate(VIEW_JS)


def put_view(fr, move_js: str, test_js: str, timeout_ms=300_000):
    """Move the map with ``move_js`` (no animation) until ``test_js`` holds for its view; the view.
    Leaflet drops a move made while a zoom animation runs (the app's own, after a rerun), or ends
    that animation where it was headed: the move is made again on each poll until it has held."""
    fr.wait_for_function(f"() => {{ if (({test_js})()) return true; ({move_js})(); return ({test_js})(); }}",
                         timeout=timeout_ms, polling=100)
    return fr.evaluate(VIEW_JS)


def click_at(fr, lon, lat):
    """Click the map at a lon/lat (whole pixels of the map container, so the page's layout and
    scrolling do not matter; the map is scrolled into view first: Streamlit scrolls smoothly and
    a click computed during the scroll lands elsewhere)."""
    el = fr.frame_element()
    el.scroll_into_view_if_needed()
    # until the scroll has settled: the iframe at the same place on two animation frames running
    el.evaluate("""(el) => new Promise(done => { let last = null;
        const step = () => { const y = el.getBoundingClientRect().y;
                             if (y === last) done(); else { last = y; requestAnimationFrame(step); } };
        requestAnimationFrame(step); })""")
    x, y = fr.evaluate("([lat, lon]) => { const p = window.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
                       [lat, lon])
    fr.locator("#map_div").click(position={"x": round(x), "y": round(y)})


def table_rows(page) -> dict:
    cells = page.evaluate("() => [...document.querySelectorAll(\"[data-testid='stTable'] tr\")]"
                          ".map(tr => [...tr.querySelectorAll('th,td')].map(c => c.innerText.trim()))")
    return {r[0]: r[1] for r in cells if len(r) == 2}


with streamlit_server() as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(300_000)  # bounds a failure only
        page.set_viewport_size({"width": 1400, "height": 1400})  # the whole map in view: no scrolling
        page.goto(url + "/map")
        settled(page)
        fr = map_frame(page)
        report["view_start"] = fr.evaluate(VIEW_JS)
        inside_zhangye = ("() => { const c = window.map.getCenter(); const z = window.map.getZoom();"
                          " return z >= 7 && c.lat > 37.5 && c.lat < 39.9 && c.lng > 97.3 && c.lng < 102.2; }")
        for n, q in enumerate(("zhangye", "张掖")):
            if n:  # back to the province view before the second search
                put_view(fr, "() => window.map.fitBounds([[32.5, 92.3], [42.8, 108.8]], {animate: false})",
                         "() => window.map.getZoom() < 7")
            box = page.get_by_label(SEARCH)
            box.fill(q)
            box.press("Enter")
            page.get_by_text("地图已缩放到：张掖市").wait_for()
            report.setdefault("search", {})[q] = {
                "view": wait_view(fr, inside_zhangye),
                "highlight": fr.locator("path[stroke='#00e5ff']").count()}
        box = page.get_by_label(SEARCH)
        box.fill("")
        box.press("Enter")
        page.get_by_text("地图已缩放到：张掖市").wait_for(state="detached")  # the search is cleared
        settled(page)

        # --- click inside P01
        fr = map_frame(page)
        fr.evaluate("() => { window.__clicks = [];"
                    " window.map.on('click', e => window.__clicks.push([e.latlng.lat, e.latlng.lng])); }")
        put_view(fr, f"() => window.map.setView([{P01[1]}, {P01[0]}], 11, {{animate: false}})",
                 f"() => window.map.getZoom() === 11 && window.map.getBounds().contains([{P01[1]}, {P01[0]}])")
        click_at(fr, *P01)
        page.get_by_text("该点的图层信息").wait_for()
        try:
            page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stTable']\")]"
                                   ".some(t => t.innerText.includes('兰州新区'))")
        except Exception:
            page.screenshot(path=str(ART / "map_query_fail.png"), full_page=True)
            print("DEBUG", json.dumps({"clicks": fr.evaluate("() => window.__clicks"),
                                      "html": page.locator("[data-testid='stMain']").inner_text()[-3000:]},
                                     ensure_ascii=False))
            raise
        report["clicked_latlng"] = fr.evaluate("() => window.__clicks")
        report["click_rows"] = table_rows(page)
        report["click_marker"] = fr.locator("path[fill='#ffeb3b']").count()
        page.screenshot(path=str(ART / "map_query.png"), full_page=True)

        # --- measure a line with the offline draw tool
        settled(page)
        fr = map_frame(page)
        fr.evaluate("() => { window.__drawn = null;"
                    " window.__vertices = 0; window.map.on('draw:drawvertex', e => { window.__vertices = e.layers.getLayers().length; });"
                    " window.map.on('draw:created', e => { window.__drawn = e.layer.getLatLngs()"
                    ".map(p => [p.lat, p.lng]); }); }")
        put_view(fr, "() => window.map.fitBounds([[35.8, 100.0], [39.2, 104.2]], {animate: false})",
                 "() => window.map.getZoom() >= 6 && window.map.getBounds().contains([36.061, 103.834])"
                 " && window.map.getBounds().contains([38.93, 100.45])")
        fr.locator("a.leaflet-draw-draw-polyline").click()
        fr.locator(".leaflet-draw-actions a", has_text="Finish").first.wait_for()  # the line tool is on
        for n, (lon, lat) in enumerate(LINE, start=1):
            click_at(fr, lon, lat)
            fr.wait_for_function("(n) => window.__vertices >= n", arg=n)  # the vertex is placed
        fr.locator(".leaflet-draw-actions a", has_text="Finish").first.click()
        page.get_by_text("长度（km，测地线）").wait_for()
        report["drawn"] = fr.evaluate("() => window.__drawn")
        report["measure_rows"] = table_rows(page)
        report["measure_label"] = " ".join(fr.locator(".leaflet-tooltip").all_text_contents())
        page.screenshot(path=str(ART / "map_measure.png"), full_page=True)
        report["requests"] = len(reqs)
        report["external"] = external(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

"""Browser check run by tests/test_browser_tiles.py, possibly inside a network namespace.

Registers a 30 m land cover with the command line (put in use), starts the dashboard on it, opens
the Map, zooms to the park P01 (兰州新区) at zoom 15, waits until the land cover's tiles at that zoom
have loaded and keeps what the browser received for each (URL, status, type, body); then toggles
the zones layer and reads the view again once the page has rerun. Every wait is on state. Prints a
JSON report.
"""
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests import workspace_fixtures as wf  # noqa: E402
from tests.browser.harness import (browser_page, external, map_frame, registered_landcover, settled,  # noqa: E402
                                   streamlit_server)

ART = Path(__file__).resolve().parents[1] / "_artifacts" / "tiles_check"
P01 = (103.66, 36.52435)  # inside the illustrative park P01 兰州新区
Z = 15
VIEW_JS = "() => { const c = window.map.getCenter(); return [c.lat, c.lng, window.map.getZoom()]; }"
LOADED_JS = (f"() => [...document.querySelectorAll('img.leaflet-tile-loaded')]"
             f".filter(i => i.src.includes('/tiles/') && i.src.includes('/{Z}/')).length >= 4")


def put_view(fr, move_js: str, test_js: str):
    """Move the map until ``test_js`` holds (Leaflet drops a move made during its own animation)."""
    fr.wait_for_function(f"() => {{ if (({test_js})()) return true; ({move_js})(); return ({test_js})(); }}",
                         polling=100)
    return fr.evaluate(VIEW_JS)


shutil.rmtree(ART, ignore_errors=True)
ART.mkdir(parents=True)
lc = wf.clcd_landcover(ART / "lc30.tif")
env, rc, err = registered_landcover(ART, lc)
report = {"register_rc": rc, "register_err": err, "raster": str(lc)}
if rc == 0:
    with streamlit_server(env) as url:
        with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
            page.set_default_timeout(300_000)  # bounds a failure only
            page.set_viewport_size({"width": 1400, "height": 1400})
            tiles = []
            page.on("response", lambda r: tiles.append(r) if "/tiles/" in r.url else None)
            page.goto(url + "/map")
            settled(page)
            page.locator(".st-key-map_vis_landcover label").first.click()  # the land cover in use, on
            settled(page)
            fr = map_frame(page)
            report["view_zoomed"] = put_view(
                fr, f"() => window.map.setView([{P01[1]}, {P01[0]}], {Z}, {{animate: false}})",
                f"() => window.map.getZoom() === {Z} && window.map.getBounds().contains([{P01[1]}, {P01[0]}])")
            fr.wait_for_function(LOADED_JS, polling=100)
            shown = fr.evaluate(f"() => [...document.querySelectorAll('img.leaflet-tile-loaded')]"
                                f".map(i => i.src).filter(s => s.includes('/tiles/') && s.includes('/{Z}/'))")
            got = []
            for r in tiles:
                if r.url in shown:
                    body = r.body()
                    out = ART / f"tile_{len(got)}.png"
                    out.write_bytes(body)
                    got.append({"url": r.url, "status": r.status, "type": r.headers.get("content-type"),
                                "file": str(out)})
            report["tiles"] = got
            # a layer toggled: the page reruns, the view stays where the user put it
            before = fr.evaluate(VIEW_JS)
            page.locator(".st-key-map_vis_zones label").first.click()
            settled(page)
            fr = map_frame(page)
            fr.wait_for_function(LOADED_JS, polling=100)
            report["view_before_toggle"], report["view_after_toggle"] = before, fr.evaluate(VIEW_JS)
            report["zones_checked"] = page.locator(".st-key-map_vis_zones input").first.is_checked()
            report["external"] = external(reqs)
print("REPORT " + json.dumps(report))

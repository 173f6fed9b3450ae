"""Browser check run by tests/test_browser_offline.py, possibly inside a network namespace.

Opens the Map page in Debian Chromium, waits for Leaflet to draw the zone, park and boundary
layers, switches the UI to English, and records every request. Every wait is on state. Prints a
JSON report.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.harness import browser_page, external, map_frame, settled, streamlit_server  # noqa: E402

report = {}
with streamlit_server() as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(300_000)  # bounds a failure only
        page.goto(url + "/map")
        settled(page)
        fr = map_frame(page)
        fr.locator(".leaflet-control-layers").wait_for(state="attached")
        fr.locator(".gansu-legend").wait_for(state="attached")
        report["paths"] = fr.locator("path.leaflet-interactive").count()
        report["layer_control"] = fr.locator(".leaflet-control-layers").text_content(timeout=10_000)
        report["legend"] = fr.locator(".gansu-legend").inner_text(timeout=10_000)
        report["leaflet_version"] = fr.evaluate("() => window.L && L.version")
        report["map_center"] = fr.evaluate(
            "() => { for (const k in window) { if (k.startsWith('map_') && window[k] && window[k].getCenter) {"
            " const c = window[k].getCenter(); return [c.lat, c.lng, window[k].getZoom()]; } } return null; }")
        page.screenshot(path=str(Path(__file__).resolve().parents[1] / "_artifacts" / "map_offline.png"))
        # language switch: one click to English
        page.get_by_text("English", exact=True).click()
        page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').innerText.trim() === 'Map'")
        settled(page)
        report["title_en"] = page.locator("h1").first.inner_text()
        report["nav_en"] = page.locator("[data-testid=stSidebarNav]").inner_text()
        for path in ("/", "/parks", "/targets", "/siting", "/checklist", "/data"):
            page.goto(url + path)
            settled(page)
            report.setdefault("pages", {})[path] = page.locator("h1").first.inner_text()
            report.setdefault("not_found", {})[path] = page.get_by_text("Page not found").count() + \
                page.get_by_text("页面不存在").count()
        page.screenshot(path=str(Path(__file__).resolve().parents[1] / "_artifacts" / "data_offline.png"), full_page=True)
        report["requests"] = len(reqs)
        report["external"] = external(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

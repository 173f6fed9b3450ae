"""Browser check run by tests/test_browser_map_compare.py, possibly inside a network namespace.

Opens the Map page, records the layout (iframe and map heights), collapses the legend, turns
on the side-by-side view (left: land cover, right: zones), reads what each clipped pane holds and
its clip, drags the divider, exports the PNG through the download button, and records every
request. Every wait is on state (an element, the panes' content, the clip following the divider).
Prints a JSON report.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.harness import browser_page, external, frame_with, map_frame, settled, streamlit_server  # noqa: E402

ART = Path(__file__).resolve().parents[1] / "_artifacts"

PANES_JS = """() => {
  const out = {};
  for (const name of ['gansuLeft', 'gansuRight']) {
    const p = document.querySelector('.leaflet-pane.leaflet-' + name + '-pane');
    if (!p) { out[name] = null; continue; }
    out[name] = {clip: p.style.clip,
                 imgs: Array.from(p.querySelectorAll('img')).map(i => i.src.slice(0, 40) + '#' + i.src.length),
                 paths: p.querySelectorAll('path').length};
  }
  const d = document.querySelector('.leaflet-sbs-divider');
  out.divider = d ? d.style.left : null;
  out.width = document.querySelector('.leaflet-container').getBoundingClientRect().width;
  return out;
}"""


def sbs_frame(page):
    """The map once the side-by-side view is drawn: its divider and the right pane's paths."""
    fr = frame_with(page, ".leaflet-gansuRight-pane path")
    fr.locator(".leaflet-sbs-divider").wait_for(state="attached")
    return fr


report = {}
with streamlit_server() as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(300_000)  # bounds a failure only
        page.goto(url + "/map")
        settled(page)
        fr = map_frame(page)
        fr.locator(".gansu-legend-toggle").wait_for()
        # streamlit-folium sizes its iframe once the map is drawn: wait until the map fills it
        page.wait_for_function("""() => { const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const m = f && f.contentDocument && f.contentDocument.querySelector('.leaflet-container');
            return !!m && f.getBoundingClientRect().height > 300
                && Math.abs(f.getBoundingClientRect().height - m.getBoundingClientRect().height) <= 2; }""")
        report["viewport_h"] = page.viewport_size["height"]
        report["iframe_h"] = page.evaluate(
            "() => document.querySelector('iframe[title=\"streamlit_folium.st_folium\"]').getBoundingClientRect().height")
        report["map_h"] = fr.evaluate("() => document.querySelector('.leaflet-container').getBoundingClientRect().height")
        report["geo_requests"] = sum("/app/static/cache/geo/" in u for u in reqs)
        # the legend collapses and expands
        fr.locator(".gansu-legend-toggle").click()
        report["legend_collapsed_visible"] = fr.locator(".gansu-legend-body").is_visible()
        fr.locator(".gansu-legend-toggle").click()
        report["legend_expanded_visible"] = fr.locator(".gansu-legend-body").is_visible()
        # side by side: land cover (left) against zones (right)
        page.get_by_text("左右卷帘对比两个图层").click()
        settled(page)
        fr = sbs_frame(page)
        fr.wait_for_function("() => [...document.querySelectorAll('.leaflet-gansuLeft-pane img')]"
                             ".some(i => i.complete && i.naturalWidth > 0)")  # the left image has loaded
        report["panes"] = fr.evaluate(PANES_JS)
        report["sbs_version_file"] = any("leaflet-side-by-side/leaflet-side-by-side.js" in u for u in reqs)
        # drag the divider to a quarter of the width (the range input drives the clip)
        before = fr.evaluate("() => document.querySelector('.leaflet-gansuLeft-pane').style.clip")
        fr.evaluate("() => { const r = document.querySelector('.leaflet-sbs-range'); r.value = 0.25;"
                    " r.dispatchEvent(new Event('input')); }")
        fr.wait_for_function("(b) => document.querySelector('.leaflet-gansuLeft-pane').style.clip !== b", arg=before)
        report["panes_quarter"] = fr.evaluate(PANES_JS)
        page.screenshot(path=str(ART / "map_side_by_side.png"))
        # export: make the PNG and download it
        page.get_by_text("导出地图").click()
        page.get_by_text("生成 PNG 和 PDF").click()
        page.get_by_text("下载 PNG 地图").wait_for()
        with page.expect_download() as dl:
            page.get_by_text("下载 PNG 地图").click()
        png_path = ART / "map_export_browser.png"
        dl.value.save_as(str(png_path))
        report["png_bytes"] = png_path.stat().st_size
        report["png_path"] = str(png_path)
        report["requests"] = len(reqs)
        report["external"] = external(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

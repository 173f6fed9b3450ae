"""Browser check run by tests/test_browser_map_compare.py, possibly inside a network namespace.

Opens the Map page, records the layout (iframe and map heights), collapses the legend, turns
on the side-by-side view (left: land cover, right: zones), reads what each clipped pane holds and
its clip, drags the divider, exports the PNG through the download button, and records every
request. Prints a JSON report.
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.harness import browser_page, external, map_frame, streamlit_server  # noqa: E402

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


def sbs_frame(page, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for fr in page.frames:
            if "st_folium" in fr.url or "streamlit_folium" in fr.url:
                try:
                    if fr.locator(".leaflet-sbs-divider").count() and \
                            fr.evaluate("() => document.querySelectorAll('.leaflet-gansuRight-pane path').length") > 0:
                        return fr
                except Exception:
                    pass
        time.sleep(0.3)
    raise AssertionError("side-by-side view did not appear")


report = {}
with streamlit_server() as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.goto(url + "/map")
        fr = map_frame(page, 90_000)
        time.sleep(1.0)
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
        fr = sbs_frame(page)
        time.sleep(1.0)
        report["panes"] = fr.evaluate(PANES_JS)
        report["sbs_version_file"] = any("leaflet-side-by-side/leaflet-side-by-side.js" in u for u in reqs)
        # drag the divider to a quarter of the width (the range input drives the clip)
        fr.evaluate("() => { const r = document.querySelector('.leaflet-sbs-range'); r.value = 0.25;"
                    " r.dispatchEvent(new Event('input')); }")
        time.sleep(0.3)
        report["panes_quarter"] = fr.evaluate(PANES_JS)
        page.screenshot(path=str(ART / "map_side_by_side.png"))
        # export: make the PNG and download it
        page.get_by_text("导出地图").click()
        page.get_by_text("生成 PNG 和 PDF").click()
        page.get_by_text("下载 PNG 地图").wait_for(timeout=60_000)
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_text("下载 PNG 地图").click()
        png_path = ART / "map_export_browser.png"
        dl.value.save_as(str(png_path))
        report["png_bytes"] = png_path.stat().st_size
        report["png_path"] = str(png_path)
        report["requests"] = len(reqs)
        report["external"] = external(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

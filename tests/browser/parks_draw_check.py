"""Browser check run by tests/test_browser_parks.py (inside a network namespace when possible).

1. Parks page: draw a rectangle with the offline Leaflet.draw tool, name it, save it.
2. Download the Excel export: the drawn park is there with its indicators.
3. Siting page with the drawn park selected: download the PDF report.
4. Map page with a park named like an XSS payload: its tooltip shows text, no script runs.
Every wait is on state (the app's script run over, an element or a text present). Prints a JSON
report; downloaded files are saved under tests/_artifacts.
"""
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import browser_page, draw_and_save_park, external, frame_with, settled, streamlit_server  # noqa: E402

ART = REPO / "tests" / "_artifacts"
NAME = "手绘测试园区"
XSS = "<img src=x onerror=\"window.__xss=1\">"
report = {}


def st_frames(page, needle):
    return [f for f in page.frames if "st_folium" in f.url or "streamlit_folium" in f.url
            if f.locator(needle).count() > 0]


store_path = ART / f"browser-parks-store-{int(time.time())}.duckdb"
# a saved park whose name is an XSS payload, placed before the server starts
import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402
from storage.store import Store  # noqa: E402

s = Store(store_path)
s.add_parks(gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(100.0, 38.0, 100.05, 38.04)], crs=4326),
            names=[XSS], source="upload")
s.close()

with streamlit_server({"GANSU_STORE": str(store_path)}) as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(600_000)  # bounds a failure only
        page.on("dialog", lambda d: (report.setdefault("dialogs", []).append(d.message), d.dismiss()))
        page.goto(url + "/parks")
        settled(page, ".st-key-parks_selected")
        frame_with(page, ".leaflet-container")  # the park's detail map: the page has rendered
        report["draw_maps_before_tab"] = len(st_frames(page, "a.leaflet-draw-draw-rectangle"))
        draw_and_save_park(page, NAME)
        saved = page.get_by_text("已保存 1 个园区")  # in the draw tab the user is looking at
        saved.wait_for(state="visible")
        report["saved_message_visible"] = saved.is_visible()
        settled(page)  # the new park's row computed: the export holds it
        with page.expect_download() as dl:
            page.get_by_role("button", name="Excel").first.click()
        xlsx = ART / "parks_download.xlsx"
        dl.value.save_as(xlsx)
        report["xlsx"] = str(xlsx)

        import openpyxl  # noqa: E402

        wb = openpyxl.load_workbook(xlsx, read_only=True)
        ws = wb[wb.sheetnames[0]]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        header = rows[0]
        hit = [r for r in rows[1:] if NAME in [str(v) for v in r]]
        report["xlsx_header"] = [str(h) for h in header]
        report["xlsx_row"] = [None if v is None else str(v) for v in hit[0]] if hit else None
        new_id = hit[0][0] if hit else None
        report["new_id"] = new_id

        page.goto(url + f"/siting?parks=P01,P02,{new_id}")
        settled(page)
        page.get_by_role("button", name="下载 PDF 报告").wait_for()
        with page.expect_download() as dl:
            page.get_by_role("button", name="下载 PDF 报告").click()
        pdf = ART / "siting_download.pdf"
        dl.value.save_as(pdf)
        import pypdf  # noqa: E402

        text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(pdf).pages)
        report["pdf_has_name"] = NAME in text
        report["pdf_has_lanzhou_new_area"] = "兰州新区" in text

        page.goto(url + "/map")
        settled(page)
        mf = frame_with(page, "path.leaflet-interactive")
        # open every tooltip: user text is rendered into the DOM now
        n_tips = mf.evaluate("""() => { let n = 0; for (const k in window) { const m = window[k];
            if (m && m.eachLayer && m.getCenter) { m.eachLayer(l => { if (l.openTooltip && l.getTooltip && l.getTooltip()) {
                try { l.openTooltip(); n++; } catch (e) {} } }); } } return n; }""")
        mf.wait_for_function("(n) => document.querySelectorAll('.leaflet-tooltip').length >= Math.min(n, 1)", arg=n_tips)
        report["xss_flag"] = mf.evaluate("() => window.__xss === 1") or page.evaluate("() => window.__xss === 1")
        report["img_x"] = mf.locator("img[src='x']").count()
        report["tooltip_text_has_payload"] = "onerror" in (mf.locator(".leaflet-tooltip").all_text_contents() and
                                                           " ".join(mf.locator(".leaflet-tooltip").all_text_contents()))
        report["external"] = external(reqs)
        report["requests"] = len(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

"""Browser check run by tests/test_browser_workspace.py (inside a network namespace when possible).

A 30 m CLCD-coded land cover in an Albers CRS (made in code, covering 兰州新区 P01, 白银高新区 P02
and 兰州经开区 P09) lies in the server's import folder.
1. Data page: pick it in the import folder, legend CLCD, register (in use at once).
2. Parks page: download the CSV export (stable ids, full precision).
3. Map page: the land-cover overlay is drawn (an image layer) with the CLCD legend.
4. Siting page with the three parks: the PDF report names the file and its SHA-256.
The same numbers come from ``python -m cli parks`` on the same file afterwards.
Every wait is on the app's state (the script run over, no progress bar, an element or a text
present), never on a fixed time; the timeouts only bound a failure. Prints a JSON report; files are
saved under tests/_artifacts.
"""
import json
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import browser_page, external, frame_with, rerun, settled, streamlit_server  # noqa: E402

ART = REPO / "tests" / "_artifacts" / f"workspace-{int(time.time())}"
ART.mkdir(parents=True, exist_ok=True)
report: dict = {}

from storage import workspace as ws  # noqa: E402
from tests import workspace_fixtures as wf  # noqa: E402

imp = ART / "import"
imp.mkdir()
lc = wf.clcd_landcover(imp / "clcd_2020.tif")
report["sha256"] = ws.sha256_file(lc)
env = {"GANSU_STORE": str(ART / "store.duckdb"), "GANSU_IMPORT_DIR": str(imp), "GANSU_WORKSPACE_DIR": str(ART / "ws")}


def pick_option(page, key: str, text: str) -> None:
    """Open a Streamlit selectbox/multiselect (by widget key) and choose the option with ``text``."""
    box = page.locator(f".st-key-{key} input[role='combobox']").first
    box.click()
    box.press("ArrowDown")  # a click focuses the combobox; the arrow key opens its list
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()


with streamlit_server(env) as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(600_000)  # bounds a failure only
        page.goto(url + "/data")
        settled(page, ".st-key-ws_imp_files")
        with rerun(page):  # each choice reruns the page: the next one waits for that run
            pick_option(page, "ws_imp_files", "clcd_2020.tif")
        page.keyboard.press("Escape")
        with rerun(page):
            pick_option(page, "ws_imp_legend", "clcd")
        page.locator(".st-key-ws_imp_year input").fill("2020")
        with rerun(page):
            page.locator(".st-key-ws_imp_year input").press("Enter")
        page.locator(".st-key-ws_imp_register button").click()
        # the registration runs in the background (a progress bar polls it); once done the page
        # reruns and the "data in use" line under the title names the dataset, now in use
        page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stCaptionContainer']\")]"
                               ".some(e => e.innerText.includes('clcd_2020'))", timeout=900_000, polling=250)
        settled(page)
        report["status_line"] = page.locator("[data-testid='stCaptionContainer']").first.inner_text()

        page.goto(url + "/parks")
        # every park computed on the new land cover: no progress bar left (a loaded machine takes
        # minutes; the export made before that would hold the cached rows only)
        settled(page, ".st-key-dl_csv button", timeout_ms=900_000)
        with page.expect_download(timeout=120_000) as dl:
            page.locator(".st-key-dl_csv button").click()
        csv_path = ART / "parks.csv"
        dl.value.save_as(csv_path)
        report["csv"] = str(csv_path)
        report["demo_warning"] = page.get_by_text("默认土地覆被为 MODIS 5 km").count()

        page.goto(url + "/map?layers=landcover,province")
        settled(page)
        # the land cover drawn as tiles from the dashboard's own tile service
        frame = frame_with(page, "img.leaflet-tile-loaded[src*='/tiles/']")
        frame.locator(".gansu-legend").wait_for()
        report["map_tiles_loaded"] = frame.locator("img.leaflet-tile-loaded[src*='/tiles/']").count()
        report["map_legend"] = frame.locator("body").inner_text()[:5000]

        page.goto(url + "/siting?parks=P01,P02,P09")
        settled(page)
        page.get_by_role("button", name="下载 PDF 报告").wait_for()
        with page.expect_download(timeout=180_000) as dl:
            page.get_by_role("button", name="下载 PDF 报告").click()
        pdf = ART / "siting.pdf"
        dl.value.save_as(pdf)
        import pypdf  # noqa: E402

        text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(pdf).pages)
        report["pdf_has_file"] = "clcd_2020.tif" in text
        report["pdf_has_sha"] = report["sha256"] in re.sub(r"\s+", "", text)

        # the run log on the Data page lists the exports just made (issue 13), with who and when
        page.goto(url + "/data")
        settled(page, ".st-key-runlog_download button")
        with page.expect_download(timeout=60_000) as dl:
            page.locator(".st-key-runlog_download button").click()
        runlog = ART / "run_log.csv"
        dl.value.save_as(runlog)
        report["runlog"] = str(runlog)
        report["external"] = external(reqs)
        report["requests"] = len(reqs)

# the CLI on the same file, with the build's parks, zones, protection proxy and airports
import geopandas as gpd  # noqa: E402

from core import paths  # noqa: E402

demo = gpd.read_file(paths.gpkg_path(), layer="parks_demo")
parks = gpd.GeoDataFrame({"park_id": demo["park_id"], "name": demo["name_zh"]}, geometry=demo.geometry.values,
                         crs=demo.crs)
parks.to_file(ART / "parks.gpkg", layer="parks")
for layer in ("zones", "protection_proxy", "airports"):
    gpd.read_file(paths.gpkg_path(), layer=layer).to_file(ART / f"{layer}.gpkg", layer=layer)
cli = ART / "cli.csv"
r = subprocess.run([sys.executable, "-m", "cli", "parks", "--parks", str(ART / "parks.gpkg"),
                    "--id-field", "park_id", "--name-field", "name", "--landcover", str(lc), "--legend", "clcd",
                    "--transport", f"{ART / 'airports.gpkg'}:airport", "--redline", str(ART / "protection_proxy.gpkg"),
                    "--zones", str(ART / "zones.gpkg"), "--zone-field", "name_zh", "--out", str(cli)],
                   cwd=REPO, capture_output=True, text=True, timeout=300)
report["cli_rc"] = r.returncode
report["cli_stderr"] = r.stderr[-2000:]
report["cli_csv"] = str(cli)
print("REPORT " + json.dumps(report, ensure_ascii=False))

"""Browser check run by tests/test_browser_checklist.py (inside a network namespace when possible).

A 30 m CLCD-coded land cover in the project's Albers CRS (made in code) covers 兰州新区 P01 only
and is put in use with ``python -m cli workspace add … --use`` before the server starts.
1. Checklist page for P01 (≥ 100 pixels of 30 m): the greening block offers the map's vegetated
   share as a labelled hint, and the greening state is still "needs measured or planned data".
2. Checklist page for P02 (outside the land cover): no hint, "needs measured or planned data".
3. Parks page: the indicator table is headed with the new name (vegetated share, map).
Every wait is on text appearing on the page. Prints a JSON report.
"""
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import browser_page, external, registered_landcover, streamlit_server  # noqa: E402
from tests import workspace_fixtures as wf  # noqa: E402

ART = REPO / "tests" / "_artifacts" / f"checklist-{int(time.time())}"
ART.mkdir(parents=True, exist_ok=True)
report: dict = {}
P01_BOX = (103.59, 36.46, 103.73, 36.58)  # lon/lat around 兰州新区 P01; 白银 P02 lies outside
lc = wf.clcd_landcover(ART / "clcd_p01.tif", box=P01_BOX)
env, report["register_rc"], report["register_err"] = registered_landcover(ART, lc)


def texts(page) -> str:
    return "\n".join(page.locator("[data-testid='stMarkdownContainer']").all_inner_texts())


with streamlit_server(env) as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(600_000)  # bounds a failure only: every wait is on a text appearing
        page.goto(url + "/checklist?park=P01")
        page.get_by_text("地图参考：植被覆盖占比", exact=False).first.wait_for()
        page.get_by_text("园区绿化覆盖率：", exact=False).first.wait_for()
        report["p01"] = texts(page)
        page.goto(url + "/checklist?park=P02")
        page.get_by_text("地图上无该园区的土地覆盖数据", exact=False).first.wait_for()
        page.get_by_text("园区绿化覆盖率：", exact=False).first.wait_for()
        report["p02"] = texts(page)
        page.goto(url + "/parks")
        page.get_by_text("植被覆盖占比（地图估算）", exact=False).first.wait_for()
        report["parks_heading"] = True
        report["external"] = external(reqs)
        report["requests"] = len(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

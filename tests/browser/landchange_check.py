"""Browser check run by tests/test_browser_landchange.py (inside a network namespace when possible).

A synthetic three-year CLCD series (TEST DATA made in code: tests/landchange_fixtures.py) is
registered and put in use with ``gansu workspace add-series … --use``; ``gansu degradation`` runs on
the same files with the build's counties as units. The Targets page (one load, Chinese): the land-
change tab, its land-degradation section, the county level; the degradation table is read through
the grid's accessible table, and the per-pixel verdict map is drawn. Every wait is on the app's
state, never a fixed time; the timeouts only bound a failure. Prints a JSON report.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import (  # noqa: E402
    browser_page,
    external,
    frame_with,
    grid_cells,
    rerun,
    settled,
    streamlit_server,
)

ART = REPO / "tests" / "_artifacts" / f"landchange-{int(time.time())}"
ART.mkdir(parents=True, exist_ok=True)
report: dict = {}

import geopandas as gpd  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from core import paths  # noqa: E402
from tests import landchange_fixtures as lf  # noqa: E402

files = lf.write_series(ART / "import")
env = {"GANSU_STORE": str(ART / "store.duckdb"), "GANSU_IMPORT_DIR": str(ART / "import"),
       "GANSU_WORKSPACE_DIR": str(ART / "ws")}
r = subprocess.run([sys.executable, "-m", "cli", "workspace", "add-series", *(f"{y}={p}" for y, p in files.items()),
                    "--legend", "clcd", "--use"], cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                   timeout=600)
report["register_rc"], report["register_stderr"] = r.returncode, r.stderr[-2000:]
gpd.read_file(paths.gpkg_path(), layer="counties").to_file(ART / "counties.gpkg", layer="counties")
cli = ART / "cli_degradation.csv"
r = subprocess.run([sys.executable, "-m", "cli", "degradation", "--landcover-series", ",".join(map(str, files.values())),
                    "--years", ",".join(map(str, files)), "--legend", "clcd", "--units", str(ART / "counties.gpkg"),
                    "--unit-field", "adcode", "--baseline", "2000-2010", "--reporting", "2010-2020", "--out", str(cli)],
                   cwd=REPO, capture_output=True, text=True, timeout=600)
report["cli_rc"], report["cli_stderr"], report["cli_csv"] = r.returncode, r.stderr[-2000:], str(cli)

with streamlit_server(env) as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(600_000)  # bounds a failure only
        page.goto(url + "/targets")
        settled(page)

        def open_tabs():
            """The land-change tab and its degradation section, selected again if a rerun
            (the computation finishing, a choice) has shown another tab: clicked only when not selected."""
            for name in ("土地变化", "土地退化"):
                tab = page.get_by_role("tab", name=name, exact=True)
                tab.wait_for()
                if tab.get_attribute("aria-selected") != "true":
                    tab.click()

        open_tabs()
        level = page.locator(".st-key-landchange_deg_level")
        level.wait_for()
        with rerun(page):  # the county level: the page reruns
            level.get_by_text("县区", exact=True).click()
        table = page.locator(".st-key-landchange_deg_box")
        grid = table.locator("[data-testid='stDataFrame']")
        for _ in range(60):  # drawn once the box is in view: each try waits on the grid, then re-selects the tabs
            open_tabs()
            try:
                grid.wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:
                continue
        grid.wait_for()  # (a last wait that fails loudly)
        grids = grid_cells(table)
        report["grid"] = grids[0] if grids else None
        frame = frame_with(page, "img.leaflet-tile-loaded[src*='/tiles/']")  # the verdict per pixel: tiles
        frame.locator(".gansu-legend").wait_for(state="attached")
        report["verdict_tiles"] = frame.locator("img.leaflet-tile-loaded[src*='/tiles/']").count()
        report["verdict_legend"] = frame.locator(".gansu-legend").text_content()
        report["external"] = external(reqs)
        report["requests"] = len(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))

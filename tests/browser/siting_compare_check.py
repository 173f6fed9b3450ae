"""Browser check run by tests/test_browser_siting_compare.py (inside a network namespace when
possible): the Siting page and ``gansu siting`` give the same numbers.

The server runs on the default data with a store of its own. The page is opened with a share link
(three parks, weights 2:1:1 on carbon at stake, the sink and the airport distance, 0 on the red-line
share); its ranking grid (rank, score to 3 decimals) and its SMAA grid (shares of 10,000 draws at
each rank, seed 13, weights around the given ones, in % to 1 decimal) are read from the page. After
the server stops (one process writes the store), ``gansu parks --workspace`` writes every park's
indicators from the same store, and ``gansu siting --from`` ranks the same three parks with the
same weights and SMAA settings. Every wait is on the page having settled. Prints a JSON report.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import browser_page, external, grid_cells, settled, streamlit_server  # noqa: E402

ART = REPO / "tests" / "_artifacts" / f"siting-compare-{int(time.time())}"
ART.mkdir(parents=True, exist_ok=True)
PARKS = ["P01", "P02", "P05"]
WEIGHTS = {"carbon_at_stake_tc_per_ha": 2, "carbon_sink_tco2_ha_yr": 1, "dist_airport_km": 1, "redline_overlap_pct": 0}
report: dict = {"parks": PARKS, "weights": WEIGHTS}
env = {"GANSU_STORE": str(ART / "store.duckdb"), "GANSU_WORKSPACE_DIR": str(ART / "workspace")}

link = "/siting?parks=" + ",".join(PARKS) + "&w=" + ",".join(f"{c}:{w}" for c, w in WEIGHTS.items())
with streamlit_server(env) as url:
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(600_000)  # bounds a failure only: every wait is on the page's state
        page.goto(url + link + "&lang=en")
        page.get_by_text("Rank acceptability (SMAA)", exact=False).first.wait_for()
        settled(page, "[data-testid='stDataFrame']")
        grids = grid_cells(page)
        report["grids"] = [{"heads": g["heads"], "cells": g["cells"], "rows": g["rows"], "cols": g["cols"]}
                           for g in grids]
        report["external"] = external(reqs)
        report["requests"] = len(reqs)


def gansu(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          env={**__import__("os").environ, **env}, timeout=1200)


r = gansu("parks", "--workspace", "--out", ART / "parks.csv")
report["parks_rc"], report["parks_err"] = r.returncode, r.stderr[-2000:]
if r.returncode == 0:
    df = pd.read_csv(ART / "parks.csv", dtype={"park_id": str})
    df[df["park_id"].isin(PARKS)].to_csv(ART / "chosen.csv", index=False)
    r = gansu("siting", "--from", ART / "chosen.csv", "--weights", ",".join(f"{c}={w}" for c, w in WEIGHTS.items()),
              "--draws", 10000, "--seed", 13, "--weights-mode", "around", "--out", ART / "ranking.csv")
    report["siting_rc"], report["siting_err"] = r.returncode, r.stderr[-2000:]
    if r.returncode == 0:
        report["cli"] = pd.read_csv(ART / "ranking.csv", dtype={"park_id": str}).to_dict("records")
print("REPORT " + json.dumps(report, ensure_ascii=False, default=str))

"""Browser check run by tests/test_browser_two_processes.py (inside a network namespace when possible).

Two dashboard processes (``python -m ui.serve``, as ``make run`` starts one) on one PostgreSQL store
(a throw-away cluster on a Unix socket, ``storage.pgcluster``), as behind a reverse proxy:
1. on process A a park is drawn and saved through the Parks page;
2. process B's Parks page (a new browser context: another user) lists it in its table;
3. while both run, the command line stores a result table in the same database
   (``cli parks --workspace --into-store``) — no "store is held", no inbox;
4. process B's Data page lists that table.
Every wait is on state. Prints a JSON report (``REPORT {...}``).
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from storage.pgcluster import Cluster  # noqa: E402
from tests.browser.harness import browser_page, draw_and_save_park, grid_cells, settled, streamlit_server  # noqa: E402

NAME = "两进程测试园区"
TABLE = "两进程结果"
report = {}
block = len(sys.argv) > 1 and sys.argv[1] == "--block"
cluster = Cluster(Path(tempfile.mkdtemp(prefix="gansu-pg-", dir="/tmp"))).start()
try:
    url = cluster.new_database("two_processes")
    env = {"GANSU_STORE": url}
    with streamlit_server(env) as url_a, streamlit_server(env) as url_b:
        report["servers"] = [url_a, url_b]
        with browser_page(block_external=block) as (page, _reqs):  # a user on process A draws a park
            page.set_default_timeout(600_000)  # bounds a failure only
            page.goto(url_a + "/parks")
            settled(page, ".st-key-parks_selected")
            draw_and_save_park(page, NAME)
            page.get_by_text("已保存 1 个园区").wait_for(state="visible")
            report["saved_on_a"] = True
        with browser_page(block_external=block) as (page, _reqs):  # another user, on process B
            page.set_default_timeout(600_000)
            page.goto(url_b + "/parks")
            settled(page, ".st-key-parks_selected")
            cells = {v for g in grid_cells(page) for v in g["cells"].values()}  # the tables on the page
            report["parks_on_b"] = sorted(cells)[:200]
            report["park_on_b"] = NAME in cells
            # the command line writes the same database while both dashboards run
            r = subprocess.run([sys.executable, "-m", "cli", "parks", "--workspace", "--into-store", TABLE,
                                "--out", str(Path(tempfile.mkdtemp()) / "parks.csv")], cwd=REPO,
                               env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
            report["cli_rc"], report["cli_out"], report["cli_err"] = r.returncode, r.stdout[-800:], r.stderr[-800:]
            page.goto(url_b + "/data")
            settled(page, ".st-key-results_pick")
            report["results_on_b"] = sorted({v for g in grid_cells(page) for v in g["cells"].values()})[:400]
            report["inbox_exists"] = any(Path(tempfile.gettempdir()).glob("*-inbox"))
finally:
    cluster.stop()
print("REPORT " + json.dumps(report, ensure_ascii=False))

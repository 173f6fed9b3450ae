"""Map page speed in a real browser with the network off (a timing, not a test):
``python -m bench.bench_map [--runs N] [--label TEXT]``.

For each run a fresh Streamlit server (cold caches) and a fresh Chromium context open /map and
measure, from the start of navigation:

- ``title``: the page's h1 is shown (what a page with nothing else costs);
- ``layers``: Leaflet has drawn the layers (vector paths inside the streamlit-folium iframe);

on the first visit (cold server, cold browser cache) and on a revisit (same browser, reload),
for two sides alternated run by run: ``before`` (the geometry embedded in the page:
``GANSU_MAP_INLINE_GEOMETRY=1``) and ``after`` (geometry fetched from static files, the default).
Prints the median of each and the gap layers − title (targets: ≤ 0.7 s on a revisit,
≤ 2 s on a first visit). Runs inside a fresh network namespace (``unshare -n``) when permitted,
else with every non-localhost request aborted; any request beyond localhost is reported.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_PATHS_JS = """() => { const f = document.querySelectorAll('iframe');
  for (const fr of f) { if (!(fr.src || '').includes('st_folium') && !(fr.title || '').includes('st_folium')) continue;
    try { const d = fr.contentDocument; if (d && d.querySelectorAll('path.leaflet-interactive').length > 0) return true; }
    catch (e) {} }
  return false; }"""


def _visit(page, url: str, timeout_s: float = 90) -> dict:
    """Navigate and poll (every ~15 ms) for the title and the drawn layers."""
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    title = layers = None
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline and (title is None or layers is None):
        now = time.perf_counter() - t0
        try:
            if title is None and page.evaluate("() => !!document.querySelector('h1')"):
                title = now
            if layers is None and page.evaluate(_PATHS_JS):
                layers = now
        except Exception:  # navigation in progress
            pass
        time.sleep(0.015)
    if title is None or layers is None:
        raise RuntimeError(f"map did not draw within {timeout_s} s (title={title}, layers={layers})")
    return {"title": title, "layers": layers, "gap": layers - title}


SIDES = {"before": {"GANSU_MAP_INLINE_GEOMETRY": "1"},  # geometry embedded in every rerun's page
         "after": {"GANSU_MAP_INLINE_GEOMETRY": "0"}}  # geometry fetched once per build (static files)


def measure(runs: int, block: bool) -> dict:
    """Both sides, alternated run by run (a busy machine slows both alike)."""
    from tests.browser.harness import browser_page, external, streamlit_server

    out = {side: {"first": [], "revisit": []} for side in SIDES}
    out["external"] = []
    os.environ.setdefault("GANSU_TEST_ARTIFACTS", "/tmp")
    for _ in range(runs):
        for side, env in SIDES.items():
            with streamlit_server(env) as url:
                with browser_page(block_external=block) as (page, reqs):
                    out[side]["first"].append(_visit(page, url + "/map"))
                    time.sleep(1.0)
                    for _ in range(2):
                        out[side]["revisit"].append(_visit(page, url + "/map"))
                        time.sleep(1.0)
                    out["external"] += external(reqs)
    return out


def _median(rows: list[dict], k: str) -> float:
    return statistics.median(r[k] for r in rows)


def summary(res: dict) -> dict:
    return {side: {kind: {k: round(_median(res[side][kind], k), 3) for k in ("title", "layers", "gap")}
                   for kind in ("first", "revisit")} for side in SIDES}


def main(runs: int = 3, label: str = "") -> dict:
    """Run the measurement in a network namespace when permitted; print and return the medians."""
    from tests.browser.harness import can_unshare

    args = [sys.executable, "-m", "bench.bench_map", "--child", "--runs", str(runs)]
    if can_unshare():
        cmd = ["unshare", "-n", "sh", "-c", "ip link set lo up 2>/dev/null || true; exec "
               + " ".join(args)]
    else:
        cmd = args + ["--block"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "GANSU_IN_NETNS": "1"})
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"bench_map failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    res = json.loads(line[len("RESULT "):])
    s = summary(res)
    print(f"\n== Map page in Chromium, network off, median of {runs} server(s) per side"
          f"{' — ' + label if label else ''}")
    print(f"{'side':<8}{'visit':<10}{'title s':>10}{'layers s':>10}{'gap s':>8}{'target gap':>12}")
    for side in SIDES:
        for kind, target in (("first", 2.0), ("revisit", 0.7)):
            v = s[side][kind]
            print(f"{side:<8}{kind:<10}{v['title']:>10.2f}{v['layers']:>10.2f}{v['gap']:>8.2f}{'≤ ' + str(target):>12}")
    print("before = geometry embedded in the page on every rerun; after = geometry fetched from "
          "/app/static/cache/geo once per build")
    print(f"requests beyond localhost: {len(res['external'])}")
    return {"title": "map page (browser)", **s, "external": res["external"]}


if __name__ == "__main__":
    argv = sys.argv[1:]
    n = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 3
    if "--child" in argv:
        print("RESULT " + json.dumps(measure(n, "--block" in argv)))
    else:
        main(n, argv[argv.index("--label") + 1] if "--label" in argv else "")

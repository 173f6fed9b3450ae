"""Real-browser test harness: a Streamlit server on a free localhost port and Debian Chromium
driven by Playwright (its own browser download is not used: launched from /usr/bin/chromium).

``offline()`` tells whether we can run inside a fresh network namespace (only loopback):
the strongest proof that nothing needs the internet. Tests re-execute themselves inside it
with ``unshare -n`` when they can; otherwise they block every non-localhost request with
Playwright routes and still record every request.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


def needs_chromium():
    """pytest mark for the browser tests (imported lazily: the check scripts run without pytest)."""
    import pytest

    return pytest.mark.skipif(not chromium_available(), reason="Debian chromium missing: `make test` installs it")


def can_unshare() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env_extra: dict | None = None, timeout: float = 300):
    """A server on a free port; yields its URL once its health endpoint answers. ``timeout`` only
    bounds a failure (a loaded machine starts it slowly)."""
    port = free_port()
    env = {**os.environ, **(env_extra or {})}
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    artifacts = Path(env.get("GANSU_TEST_ARTIFACTS", "/tmp"))
    if not (env_extra or {}).get("GANSU_STORE"):
        # DuckDB lets one process write a file: the server gets a store of its own
        env["GANSU_STORE"] = str(artifacts / f"browser-store-{port}.duckdb")
    log = open(artifacts / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serve", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                try:  # between two health polls, wait on the server process: its exit ends the wait at once
                    proc.wait(timeout=0.5)
                    raise RuntimeError(f"streamlit exited early (code {proc.returncode}); see {log.name}")
                except subprocess.TimeoutExpired:
                    pass
        else:
            raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s; see {log.name}")
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


@contextlib.contextmanager
def browser_page(block_external: bool = True):
    """(page, requests) — every request URL the page (and its iframes) made is recorded."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file()
                                    else shutil.which("chromium"), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        ctx.on("request", lambda req: requests.append(req.url))
        if block_external:
            def _route(route):
                host = route.request.url.split("/")[2].split(":")[0] if "://" in route.request.url else ""
                if route.request.url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost"):
                    return route.continue_()
                return route.abort()
            ctx.route("**/*", _route)
        page = ctx.new_page()
        page.on("websocket", lambda ws: _SOCKETS.setdefault(page, []).append(ws))
        try:
            yield page, requests
        finally:
            ctx.close()
            browser.close()


def external(requests: list[str]) -> list[str]:
    out = []
    for u in requests:
        if u.startswith(("data:", "blob:", "about:", "chrome-extension:")):
            continue
        host = u.split("/")[2].split(":")[0] if "://" in u else ""
        if host not in ("127.0.0.1", "localhost", "[::1]"):
            out.append(u)
    return out


FOLIUM_IFRAME = "iframe[title*='st_folium'], iframe[src*='st_folium'], iframe[src*='streamlit_folium']"
# true once one of the map iframes holds ``needle``; an iframe not loaded yet (Chromium loads an
# off-screen iframe lazily) is scrolled into view
FRAME_WITH_JS = """([frames, needle]) => {
  for (const f of document.querySelectorAll(frames)) {
    let doc = null;
    try { doc = f.contentDocument; } catch (e) { continue; }
    if (doc && doc.querySelector(needle)) return true;
    if (!doc || !doc.body || doc.body.childElementCount === 0) f.scrollIntoView({block: 'nearest'});
  }
  return false; }"""


def frame_with(page, needle: str, timeout_ms: int = 300_000, frames: str = FOLIUM_IFRAME):
    """The first map iframe (streamlit-folium) holding ``needle`` (a CSS selector), once one does."""
    page.wait_for_function(FRAME_WITH_JS, arg=[frames, needle], timeout=timeout_ms, polling=250)
    for el in page.locator(frames).all():
        fr = el.element_handle().content_frame()
        if fr is not None and fr.locator(needle).count():
            return fr
    raise AssertionError(f"no map frame holds {needle}")


def map_frame(page, timeout_ms: int = 300_000):
    """The streamlit-folium iframe once Leaflet has drawn vector paths in it."""
    return frame_with(page, "path.leaflet-interactive", timeout_ms)


def run_check(script: str, timeout: int = 1200) -> dict:
    """Run tests/browser/<script> in a fresh network namespace (only loopback) when permitted,
    else with every non-localhost request aborted; return the JSON report it prints."""
    import json

    path = str(REPO / "tests" / "browser" / script)
    env = {**os.environ, "GANSU_IN_NETNS": "1"}
    if can_unshare():
        cmd = ["unshare", "-n", "sh", "-c", f"ip link set lo up 2>/dev/null || true; exec {sys.executable} {path}"]
    else:
        cmd = [sys.executable, path, "--block"]
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("REPORT ")), None)
    assert line, f"browser check {script} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return json.loads(line[len("REPORT "):])


# --- waiting on the app's state, never on a fixed time -------------------------------------------
# Streamlit marks its root with the script's state (data-test-script-state: initial, running,
# rerunRequested, notRunning); while a rerun is under way the previous run's elements are marked
# data-stale="true"; a background computation shows a progress bar (a polling fragment).
SETTLED_JS = """(sels) => { const q = s => document.querySelector(s);
  const app = q('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
    && !!q('h1') && !q('[data-stale="true"]') && !q('[data-testid="stSpinner"]')
    && !q('[data-testid="stProgress"]') && !q('[data-testid="stSkeleton"]') && sels.every(s => !!q(s)); }"""


def settled(page, *selectors: str, timeout_ms: int = 600_000) -> None:
    """Wait until the page's script run is over, nothing is stale or loading, no background
    computation is showing progress, and every one of ``selectors`` is in the page. The timeout
    only bounds a failure: it is generous on purpose (a loaded machine is slow, not wrong)."""
    from playwright.sync_api import TimeoutError as PwTimeout

    try:
        page.wait_for_function(SETTLED_JS, arg=list(selectors), timeout=timeout_ms, polling=200)
    except PwTimeout:
        state = page.evaluate("""(sels) => { const q = s => document.querySelector(s);
            const app = q('[data-testid="stApp"]') || {dataset: {}};
            return {script: app.dataset.testScriptState, connection: app.dataset.testConnectionState, h1: !!q('h1'),
                    stale: document.querySelectorAll('[data-stale="true"]').length, spinner: !!q('[data-testid="stSpinner"]'),
                    progress: [...document.querySelectorAll('[data-testid="stProgress"]')].map(e => e.innerText),
                    skeleton: !!q('[data-testid="stSkeleton"]'), missing: sels.filter(s => !q(s)),
                    url: location.href}; }""", list(selectors))
        raise AssertionError(f"the page did not settle in {timeout_ms / 1000:.0f} s: {state}") from None


# every cell of every st.dataframe, read through the accessible table glide-data-grid keeps in the
# DOM beside its canvas (it holds the rows and columns in view, partly shown ones included: the grid
# is scrolled over its extent and the cells gathered by row and column index). ``fine`` false: a
# step is a whole view less 80 px (the header row; a pinned column wider than that could leave a
# column unread: grid_cells then reads again with ``fine``); true: half a view. Scrolling stops once
# every cell and header has been read; a sweep along a row band stops once the band's view holds
# the last column, the sweep down once a view holds the last row (a step past it would show nothing
# new, and the accessible table, which changes only with the cells in view, would never say so).
GRID_CELLS_JS = """async (grid, fine) => {
  const table = () => grid.querySelector('table[role="grid"]');
  if (!table()) return null;
  const rows = +table().getAttribute('aria-rowcount') - 1, cols = +table().getAttribute('aria-colcount');
  const sc = grid.querySelector('.dvn-scroller') || table().parentElement;
  const cells = {}, heads = {};
  const tds = () => [...table().querySelectorAll('td[role="gridcell"]')];
  const key = td => td.parentElement.getAttribute('aria-rowindex') + ':' + td.getAttribute('aria-colindex');
  const shown = () => tds().map(key).join(',');
  const inView = (attr, n) => tds().some(td => +(attr === 'row' ? td.parentElement.getAttribute('aria-rowindex')
                                                                : td.getAttribute('aria-colindex')) === n);
  const complete = () => Object.keys(cells).length >= rows * cols && Object.keys(heads).length >= cols;
  const collect = () => {
    for (const th of table().querySelectorAll('th[role="columnheader"]')) heads[th.getAttribute('aria-colindex')] = th.innerText;
    for (const td of tds()) cells[key(td)] = td.innerText;
  };
  const scrollTo = async (x, y) => {  // then wait (frame by frame) until the accessible table follows
    const before = shown(), l0 = sc.scrollLeft, t0 = sc.scrollTop;
    sc.scrollTo(x, y);
    if (sc.scrollLeft === l0 && sc.scrollTop === t0) return;
    for (let i = 0; i < 1200 && shown() === before; i++) await new Promise(r => requestAnimationFrame(r));
  };
  const step = n => Math.max(20, fine ? n / 2 : n - 80);
  const stepY = step(sc.clientHeight), stepX = step(sc.clientWidth);
  collect();
  sweep: for (let y = 0; ; y += stepY) {
    for (let x = 0; ; x += stepX) {
      if (complete()) break sweep;
      await scrollTo(x, y); collect();
      if (x >= sc.scrollWidth - sc.clientWidth || inView('col', cols)) break;
    }
    if (y >= sc.scrollHeight - sc.clientHeight || inView('row', rows + 1)) break;
  }
  sc.scrollTo(0, 0);  // back to the top left for the eye (screenshots); nothing more is read
  return {rows, cols, heads: Object.values(heads), cells,
          editable: !!table().querySelector('td[aria-readonly="false"]')};
}"""


def grid_cells(scope, timeout_s: float = 300, outside: str | None = None) -> list[dict]:
    """Headers and every cell of every visible dataframe in ``scope`` (a page or a locator, e.g.
    an open tab): ``[{"rows", "cols", "heads", "cells": {"row:col": text}}]``. Waits until each grid
    has drawn its accessible table and every cell has been read (the grid draws lazily: it is
    scrolled into view first). A grid in a hidden tab is read when its tab is open. ``outside`` (a
    CSS selector): the grids inside an element it matches are left out (e.g. the tab panels, when
    the caller reads them tab by tab)."""
    out = []
    grids = scope.locator("[data-testid='stDataFrame'] >> visible=true")
    for i in range(grids.count()):
        g = grids.nth(i)
        if outside and g.evaluate("(el, sel) => !!el.closest(sel)", outside):
            continue
        g.scroll_into_view_if_needed()
        g.locator("table[role='grid']").wait_for(state="attached", timeout=timeout_s * 1000)
        deadline = time.time() + timeout_s
        fine = False
        while True:
            r = g.evaluate(GRID_CELLS_JS, fine)
            fine = True  # a read that missed a cell is done again with smaller steps
            if r and r["editable"] and not any(k.startswith(f"{r['rows'] + 1}:") for k in r["cells"]):
                r["rows"] -= 1  # an editor's last row is its empty "add a row" row: no cells
            if r and len(r["cells"]) >= r["rows"] * r["cols"] and len(r["heads"]) >= r["cols"]:
                break
            if time.time() > deadline:
                raise AssertionError(f"dataframe {i}: read {len(r['cells']) if r else 0} cells of "
                                     f"{r['rows'] * r['cols'] if r else '?'}")
        out.append(r)
    return out


_SOCKETS: dict = {}  # page -> its websockets (Streamlit's /_stcore/stream), newest last


def _run_finished(payload, status=None) -> bool:
    """A ForwardMsg telling that a full script run finished (not a fragment's, not cut short); with
    ``status``, a run that finished with that status (e.g. a fragment's)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(payload, str):
        return False
    try:
        msg = ForwardMsg.FromString(payload)
    except Exception:  # not a ForwardMsg
        return False
    want = ForwardMsg.FINISHED_SUCCESSFULLY if status is None else status
    return msg.WhichOneof("type") == "script_finished" and msg.script_finished == want


@contextlib.contextmanager
def rerun(page, timeout_ms: int = 600_000, fragment: bool = False):
    """``with rerun(page): <an action>``: on leaving, wait until the server has finished a full
    script run begun after the action (``fragment``: a fragment's run, as what the Map's map reports
    reruns: ``ui.map_shown``), then until the page has settled. No race: the listener is in place
    before the action (``settled`` alone could see the page before the rerun starts)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    status = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY if fragment else None
    ws = _SOCKETS[page][-1]
    with ws.expect_event("framereceived", predicate=lambda p: _run_finished(p, status), timeout=timeout_ms):
        yield
    settled(page, timeout_ms=timeout_ms)


def frame_texts(page) -> list[str]:
    """The visible text of every iframe of the page (maps: legend, layer control, tooltips)."""
    out = []
    for fr in page.frames:
        if fr is page.main_frame:
            continue
        try:
            out.append(fr.evaluate("() => document.body ? document.body.innerText : ''"))
        except Exception:  # a frame detached while reading
            pass
    return out


def registered_landcover(art: Path, landcover: Path, timeout: int = 600) -> tuple[dict, int, str]:
    """A store, workspace and import folder in ``art`` with ``landcover`` (CLCD legend, 2020)
    registered and put in use through the command line, before a server starts on them. Returns
    the environment for the server, the command's exit code and the end of its stderr."""
    env = {"GANSU_STORE": str(art / "store.duckdb"), "GANSU_WORKSPACE_DIR": str(art / "ws"),
           "GANSU_IMPORT_DIR": str(art / "import")}
    r = subprocess.run([sys.executable, "-m", "cli", "workspace", "add", str(landcover), "--role", "landcover",
                        "--legend", "clcd", "--year", "2020", "--use"], cwd=REPO, env={**os.environ, **env},
                       capture_output=True, text=True, timeout=timeout)
    return env, r.returncode, r.stderr[-1000:]


def draw_and_save_park(page, name: str) -> None:
    """On the Parks page (settled): open the drawing tab, draw a rectangle with the offline
    Leaflet.draw tool, name it ``name`` and save it; returns once the page confirms the save."""
    page.get_by_role("tab", name="在地图上绘制").click()
    settled(page)
    fr = frame_with(page, "a.leaflet-draw-draw-rectangle")
    fr.frame_element().scroll_into_view_if_needed()
    box = fr.frame_element().bounding_box()
    fr.locator("a.leaflet-draw-draw-rectangle").click()
    assert box, "draw iframe not found"
    cx, cy = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.55
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 40, cy + 30, steps=8)
    page.mouse.up()
    page.get_by_text("已绘制一个多边形。").wait_for()
    page.get_by_label("新园区名称").fill(name)
    page.get_by_label("新园区名称").press("Enter")
    page.get_by_role("button", name="保存绘制的园区").click()
    page.get_by_text("管理我的园区").wait_for()

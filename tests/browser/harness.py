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


def in_netns() -> bool:
    return os.environ.get("GANSU_IN_NETNS") == "1"


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
def streamlit_server(env_extra: dict | None = None, timeout: float = 90):
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
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early (code {proc.returncode}); see {log.name}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not become healthy in time")
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


def map_frame(page, timeout_ms: int = 60000):
    """The streamlit-folium iframe once Leaflet has drawn vector paths in it."""
    page.wait_for_selector("iframe[title*='st_folium'], iframe[src*='st_folium']", timeout=timeout_ms)
    deadline = time.time() + timeout_ms / 1000
    while time.time() < deadline:
        for fr in page.frames:
            if "st_folium" in fr.url or "streamlit_folium" in fr.url:
                try:
                    if fr.locator("path.leaflet-interactive").count() > 0:
                        return fr
                except Exception:
                    pass
        time.sleep(0.5)
    raise AssertionError("Leaflet map with vector paths did not appear")


def run_check(script: str, timeout: int = 600) -> dict:
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

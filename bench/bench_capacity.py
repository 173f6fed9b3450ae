"""Capacity of one core: ``python -m bench.bench_capacity [1 2 5 10 20]`` (a benchmark, not a test).

For each number of simultaneous sessions N a fresh ``python -m ui.serve`` (what ``make run``
starts) is pinned to core 0 with ``taskset -c 0``; this process, Playwright's driver and Chromium
are pinned to core 1 (``os.sched_setaffinity``, inherited by the children). One headless Chromium
holds the N sessions as N browser contexts (each context is a separate Streamlit session; N
separate Chromium processes of ~150 MB each do not fit one core usefully — a real office has one
browser per user on its own machine, so this setup *over*-states the browser side).

Every session, all at once and with no think time (a worst case: N users clicking continuously):
opens Home (``/``), then moves through the sidebar Parks → Map → Home → Parks → Map as a user does
(same session, no reload). Page time = from the navigation (or the sidebar click) until the page's
own content is rendered (Home: its metrics and tables; Parks: the indicator table and the CSV
button; Map: the Leaflet map with its vector paths) and the app is idle (no stale element, no
spinner) — measured in the browser, the 0.6 s settle window used to detect "idle" is not counted.

Server side (psutil on the server's process tree): CPU seconds (user + system) over the timed
phase divided by the page runs, and memory: RSS after the N sessions have run their pages minus
RSS after the warm-up, divided by N. Before timing, one untimed session opens every measured page
once (the shared caches are filled, as on a server that has been running). The store is a
temporary copy; the default data build (``data/current``) is used.

Prints a table (and ``REPORT {json}``).

``python -m bench.bench_capacity --processes 1,2 [N ...]``: the page-run throughput of one dashboard
process against two, on one PostgreSQL store (a throw-away cluster, ``storage.pgcluster``; every
server's ``GANSU_STORE`` is the same database). Each server is pinned to its own core (one: core 0;
two: cores 0 and 1, sessions split between them in turn); the one Chromium holding the sessions and
PostgreSQL are not pinned (the machine has two cores: they share them with the servers). Reported per
level: page runs per server-CPU-second and per wall second, and apart from the servers' CPU the
browser's (psutil on this process's other descendants: Playwright's driver and Chromium) and
PostgreSQL's (its postmaster and backends).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

SERVER_CORE, BROWSER_CORE = 0, 1
SEQUENCE = ["parks", "map", "home", "parks", "map"]  # after the first open of Home
PAGE_TIMEOUT_S = float(os.environ.get("GANSU_CAPACITY_PAGE_TIMEOUT_S", "300"))

# page content rendered: a JS expression true once the page's own elements are on screen
CONTENT = {
    "home": """document.querySelectorAll('[data-testid="stMetric"]').length >= 4
               && document.querySelectorAll('[data-testid="stDataFrame"]').length >= 1""",
    "parks": """!!document.querySelector('.st-key-parks_selected') && !!document.querySelector('[data-testid="stDataFrame"]')
                && !!document.querySelector('.st-key-dl_csv button')""",
    "map": """[...document.querySelectorAll('iframe[title*="st_folium"]')].some(f => {
                 try { return f.contentDocument.querySelectorAll('path.leaflet-interactive').length > 0
                              && !!document.querySelector('.st-key-map_basemap'); } catch (e) { return false; } })""",
}

WAIT_JS = """([content, t0]) => {
    const busy = !(CONTENT_EXPR) || document.querySelector('[data-stale="true"], [data-testid="stSpinner"]');
    if (busy) { window.__idleSince = null; return false; }
    window.__idleSince = window.__idleSince || Date.now();
    return Date.now() - window.__idleSince >= 600 ? window.__idleSince - t0 : false;
}"""


def server_tree(pid: int) -> list[psutil.Process]:
    p = psutil.Process(pid)
    return [p, *p.children(recursive=True)]


def cpu_s(pid: int) -> float:
    tot = 0.0
    for p in server_tree(pid):
        try:
            c = p.cpu_times()
            tot += c.user + c.system + c.children_user + c.children_system
        except psutil.Error:
            pass
    return tot


def rss_mb(pid: int) -> float:
    tot = 0
    for p in server_tree(pid):
        try:
            tot += p.memory_info().rss
        except psutil.Error:
            pass
    return tot / 2**20


class Server:
    def __init__(self, store: Path | str, log: Path, core: int = SERVER_CORE):
        self.port = free_port()
        env = {**os.environ, "GANSU_STORE": str(store), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(core), sys.executable, "-m", "ui.serve", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early (code {self.proc.returncode}); see {log}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("server did not become healthy")

    def stop(self):
        try:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.log.close()


async def wait_page(page, name: str, t0_ms: float) -> float:
    js = WAIT_JS.replace("CONTENT_EXPR", CONTENT[name])
    h = await page.wait_for_function(js, arg=[name, t0_ms], timeout=PAGE_TIMEOUT_S * 1000, polling=50)
    return float(await h.json_value()) / 1000


async def session(ctx, url: str, i: int, times: list, errors: list, start: asyncio.Event, lang: str):
    page = await ctx.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    await start.wait()
    name = "home"
    try:
        await page.goto(f"{url}/?lang={lang}", wait_until="commit")
        t0 = await page.evaluate("() => performance.timeOrigin")
        times.append(("home", await wait_page(page, "home", t0)))
        for name in SEQUENCE:
            t0 = await page.evaluate("() => { window.__idleSince = null; return Date.now(); }")
            nav = page.locator('[data-testid="stSidebarNav"] a')
            await (nav.first if name == "home" else nav.and_(page.locator(f'a[href$="/{name}"]'))).click()
            times.append((name, await wait_page(page, name, t0)))
        bad = await page.locator('[data-testid="stException"]').count()
        if bad:
            errors.append(f"s{i}: {bad} exception(s) on the page")
    except Exception as e:  # reported, never hidden (with the page it waited for)
        errors.append(f"s{i} {name}: {type(e).__name__}: {str(e)[:300]}")
    return page


async def run_level(n: int, store: Path, art: Path) -> dict:
    from playwright.async_api import async_playwright

    srv = Server(store, art / f"capacity-server-{n}.log")
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # warm-up (untimed): one session opens every measured page once
            ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
            wtimes, werr = [], []
            ev = asyncio.Event()
            ev.set()
            await (await session(ctx, srv.url, -1, wtimes, werr, ev, "zh")).close()
            await ctx.close()
            await asyncio.sleep(2)
            rss0, cpu0 = rss_mb(srv.proc.pid), cpu_s(srv.proc.pid)
            ctxs = [await browser.new_context(viewport={"width": 1300, "height": 900},
                                              locale="zh-CN" if i % 2 == 0 else "en-US") for i in range(n)]
            times, errors, start = [], [], asyncio.Event()
            tasks = [asyncio.ensure_future(session(c, srv.url, i, times, errors, start, "zh" if i % 2 == 0 else "en"))
                     for i, c in enumerate(ctxs)]
            await asyncio.sleep(1)
            t_wall = time.perf_counter()
            start.set()
            await asyncio.gather(*tasks)
            wall = time.perf_counter() - t_wall
            cpu1, rss1 = cpu_s(srv.proc.pid), rss_mb(srv.proc.pid)  # N sessions still connected
            for c in ctxs:
                await c.close()
            await browser.close()
    finally:
        srv.stop()
    ts = sorted(t for _, t in times)
    nan = float("nan")
    q = statistics.quantiles(ts, n=100, method="inclusive") if len(ts) > 1 else (ts * 99 if ts else [nan] * 99)
    by_page = {}
    for name in ("home", "parks", "map"):
        v = sorted(t for k, t in times if k == name)
        if v:
            by_page[name] = {"p50": statistics.median(v), "p95": statistics.quantiles(v, n=100, method="inclusive")[94]
                             if len(v) > 1 else v[0]}
    return {"sessions": n, "page_runs": len(ts), "expected": n * (1 + len(SEQUENCE)), "errors": errors,
            "warmup_errors": werr, "warmup_times": wtimes, "p50_s": q[49], "p95_s": q[94], "max_s": ts[-1] if ts else nan,
            "by_page": by_page, "wall_s": wall, "server_cpu_s": cpu1 - cpu0,
            "cpu_s_per_page": (cpu1 - cpu0) / max(1, len(ts)), "cpu_util": (cpu1 - cpu0) / wall,
            "rss_before_mb": rss0, "rss_after_mb": rss1, "mb_per_session": (rss1 - rss0) / n}


# --- one process against two on one PostgreSQL store ----------------------------------------------------
def browser_cpu_s(servers: list[Server], cluster) -> float:
    """CPU seconds of this process's descendants other than the servers and PostgreSQL: Playwright's
    driver and Chromium."""
    skip = {p.pid for pid in [srv.proc.pid for srv in servers] + [pg_pid(cluster)] for p in server_tree(pid)}
    return sum(_own_cpu(p) for p in psutil.Process().children(recursive=True) if p.pid not in skip)


def _own_cpu(p: psutil.Process) -> float:
    try:
        c = p.cpu_times()
        return c.user + c.system + c.children_user + c.children_system
    except psutil.Error:
        return 0.0


def pg_pid(cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def pg_cpu_s(cluster) -> float:
    """CPU seconds of the cluster's postmaster and its backends (those that ended included)."""
    return cpu_s(pg_pid(cluster))


async def run_procs(n_proc: int, n: int, url: str, cluster, art: Path) -> dict:
    from playwright.async_api import async_playwright

    servers = [Server(url, art / f"capacity-p{n_proc}-{k}-{n}.log", core=k) for k in range(n_proc)]
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            werr = []
            for srv in servers:  # warm-up (untimed): one session per server opens every measured page once
                ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
                ev = asyncio.Event()
                ev.set()
                await (await session(ctx, srv.url, -1, [], werr, ev, "zh")).close()
                await ctx.close()
            await asyncio.sleep(2)
            cpu0 = [cpu_s(srv.proc.pid) for srv in servers]
            b0, g0 = browser_cpu_s(servers, cluster), pg_cpu_s(cluster)
            ctxs = [await browser.new_context(viewport={"width": 1300, "height": 900},
                                              locale="zh-CN" if i % 2 == 0 else "en-US") for i in range(n)]
            times, errors, start = [], [], asyncio.Event()
            tasks = [asyncio.ensure_future(session(c, servers[i % n_proc].url, i, times, errors, start,
                                                   "zh" if i % 2 == 0 else "en")) for i, c in enumerate(ctxs)]
            await asyncio.sleep(1)
            t_wall = time.perf_counter()
            start.set()
            await asyncio.gather(*tasks)
            wall = time.perf_counter() - t_wall
            cpu = [cpu_s(srv.proc.pid) - c0 for srv, c0 in zip(servers, cpu0)]
            b1, g1 = browser_cpu_s(servers, cluster), pg_cpu_s(cluster)
            for c in ctxs:
                await c.close()
            await browser.close()
    finally:
        for srv in servers:
            srv.stop()
    ts = sorted(t for _, t in times)
    q = statistics.quantiles(ts, n=100, method="inclusive") if len(ts) > 1 else [ts[0] if ts else float("nan")] * 99
    return {"processes": n_proc, "sessions": n, "page_runs": len(ts), "expected": n * (1 + len(SEQUENCE)),
            "errors": errors, "warmup_errors": werr, "wall_s": wall, "server_cpu_s": cpu, "browser_cpu_s": b1 - b0,
            "postgresql_cpu_s": g1 - g0, "runs_per_server_cpu_s": len(ts) / max(1e-9, sum(cpu)),
            "runs_per_wall_s": len(ts) / wall, "cpu_s_per_page": sum(cpu) / max(1, len(ts)),
            "p50_s": q[49], "p95_s": q[94]}


def main_processes(counts: tuple[int, ...], levels: tuple[int, ...]) -> list[dict]:
    import tempfile as tf

    from storage.pgcluster import Cluster

    if max(counts) > len(os.sched_getaffinity(0)):
        raise SystemExit(f"{max(counts)} server processes need as many cores")
    os.sched_setaffinity(0, set(range(max(2, max(counts)))))  # browser and driver: not pinned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    art = REPO / "bench" / "out"
    art.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(Path(tf.mkdtemp(prefix="gansu-cap-pg-", dir="/tmp"))).start()
    out = []
    try:
        for n in levels:
            for k in counts:
                url = cluster.new_database(f"capacity_{k}_{n}")  # each run on a fresh store
                r = asyncio.run(run_procs(k, n, url, cluster, art))
                out.append(r)
                print(f"[{k} process(es), {n} sessions] {r['page_runs']}/{r['expected']} page runs in {r['wall_s']:.1f} s, "
                      f"errors {len(r['errors'])}", file=sys.stderr, flush=True)
                print("LEVEL " + json.dumps(r, ensure_ascii=False), flush=True)
    finally:
        cluster.stop()
    print("\none PostgreSQL store; each server pinned to its own core; Chromium (all sessions) and PostgreSQL not pinned")
    print("| processes | sessions | page runs | wall s | server CPU s (per process) | page runs / server CPU s | "
          "page runs / wall s | p50 / p95 s | browser CPU s | PostgreSQL CPU s | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        print(f"| {r['processes']} | {r['sessions']} | {r['page_runs']}/{r['expected']} | {r['wall_s']:.1f} | "
              f"{' + '.join(f'{c:.2f}' for c in r['server_cpu_s'])} | {r['runs_per_server_cpu_s']:.1f} | "
              f"{r['runs_per_wall_s']:.2f} | {r['p50_s']:.1f} / {r['p95_s']:.1f} | {r['browser_cpu_s']:.1f} | "
              f"{r['postgresql_cpu_s']:.1f} | {len(r['errors'])} |")
    print("REPORT " + json.dumps(out, ensure_ascii=False))
    return out


def main(levels=(1, 2, 5, 10, 20)) -> list[dict]:
    if len(os.sched_getaffinity(0)) < 2 and os.cpu_count() < 2:
        raise SystemExit("needs two cores (server on core 0, browsers on core 1)")
    os.sched_setaffinity(0, {BROWSER_CORE})  # Playwright's driver and Chromium inherit it
    # a SIGTERM (e.g. `timeout`) unwinds through the `finally` that stops the server (its own session)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    art = REPO / "bench" / "out"
    art.mkdir(parents=True, exist_ok=True)
    out = []
    with tempfile.TemporaryDirectory(prefix="gansu-capacity-") as tmp:
        store = Path(tmp) / "store.duckdb"
        for n in levels:
            r = asyncio.run(run_level(n, store, art))
            out.append(r)
            print(f"[{n} sessions] {r['page_runs']}/{r['expected']} page runs, p50 {r['p50_s']:.2f} s, "
                  f"p95 {r['p95_s']:.2f} s, errors {len(r['errors'])}", file=sys.stderr, flush=True)
            print("LEVEL " + json.dumps(r, ensure_ascii=False), flush=True)
    print("\nserver: 1 core (taskset -c 0); one headless Chromium with N contexts on the other core (taskset -c 1)")
    print(f"each session: Home, then sidebar {' → '.join(SEQUENCE)}; all sessions at once, no think time\n")
    print("| sessions | page runs | p50 s | p95 s | max s | Home p50/p95 | Parks p50/p95 | Map p50/p95 | server CPU s / page | server core busy | RSS MB before → after | MB / session | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        bp = r["by_page"]
        cell = lambda k: f"{bp[k]['p50']:.1f} / {bp[k]['p95']:.1f}" if k in bp else "—"  # noqa: E731
        print(f"| {r['sessions']} | {r['page_runs']}/{r['expected']} | {r['p50_s']:.2f} | {r['p95_s']:.2f} | {r['max_s']:.1f} | "
              f"{cell('home')} | {cell('parks')} | {cell('map')} | {r['cpu_s_per_page']:.2f} | {100 * r['cpu_util']:.0f}% | "
              f"{r['rss_before_mb']:.0f} → {r['rss_after_mb']:.0f} | {r['mb_per_session']:.1f} | {len(r['errors'])} |")
    print("REPORT " + json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--processes"]:
        main_processes(tuple(int(k) for k in args[1].split(",")), tuple(int(a) for a in args[2:]) or (10,))
    else:
        main(tuple(int(a) for a in args) or (1, 2, 5, 10, 20))

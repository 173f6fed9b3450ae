"""Page-run throughput of one dashboard process against two, on one PostgreSQL store, driven by a
protocol client (a benchmark, not a test): ``python -m bench.bench_throughput [SESSIONS_PER_PROCESS] [ROUNDS]``.

``bench.bench_capacity`` drives real browsers; on this two-core machine the browser needs 12–14× the
server's CPU per page run, so it, not the server, sets the pace, and a second server process shows
nothing. Here the sessions are driven the way the browser drives them, but without rendering:
each session is a WebSocket on Streamlit's ``/_stcore/stream`` that sends the same ``rerun_script``
message the browser's sidebar sends (the page's name, the language in the query string) and waits
for the run's ``script_finished``; the page's elements (tables, charts, the folium map's HTML) are
all made and sent by the server as for a browser. What this leaves out: a browser's component
values (the map's clicks and view) and its static files.

Setup: one throw-away PostgreSQL cluster (``storage.pgcluster``), a fresh database per level, every
server's ``GANSU_STORE`` on it. One process: pinned to core 0; two: cores 0 and 1, the sessions split
between them. The client (this process, one asyncio loop) and PostgreSQL are not pinned; their CPU
is reported apart. Each server first gets one untimed session that opens every page (the shared
caches filled, as on a server that has been running). Then every session, all at once and with no
think time, runs ``ROUNDS`` times Home → Parks → Map (Chinese for even sessions, English for odd).

Prints a table (and ``REPORT {json}``): page runs per wall second, its ratio two/one, server CPU s
per page run, the client's and PostgreSQL's CPU.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.bench_capacity import Server, cpu_s, pg_cpu_s  # noqa: E402

PAGES = ("", "parks", "map")  # Home ("" : the default page), Parks, Map
RUN_TIMEOUT_S = float(os.environ.get("GANSU_THROUGHPUT_RUN_TIMEOUT_S", "300"))


async def page_run(ws, page: str, lang: str) -> tuple[float, list[str]]:
    """Ask for ``page`` as the browser's sidebar does; wait for the run to finish. (seconds, the
    messages of the exceptions the page showed)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.query_string = f"lang={lang}"
    msg.rerun_script.page_name = page
    t0 = time.perf_counter()
    await ws.send(msg.SerializeToString())
    shown = []
    while True:
        fwd = ForwardMsg.FromString(await asyncio.wait_for(ws.recv(), RUN_TIMEOUT_S))
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element" \
                and fwd.delta.new_element.WhichOneof("type") == "exception":
            shown.append(fwd.delta.new_element.exception.message[:200])
        if kind == "script_finished" and fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            return time.perf_counter() - t0, shown
        if kind == "script_finished" and fwd.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
            raise RuntimeError(f"{page or 'home'}: compile error")


async def session(url: str, i: int, rounds: int, times: list, errors: list, start: asyncio.Event) -> None:
    import websockets

    lang = "zh" if i % 2 == 0 else "en"
    page = "?"
    try:
        async with websockets.connect(url.replace("http://", "ws://") + "/_stcore/stream",
                                      subprotocols=["streamlit"], max_size=None) as ws:
            await start.wait()
            for _ in range(rounds):
                for page in PAGES:
                    dt, shown = await page_run(ws, page, lang)
                    times.append((page or "home", dt))
                    errors.extend(f"s{i} {page or 'home'}: {m}" for m in shown)
    except Exception as e:  # reported, never hidden (with the page it waited for)
        errors.append(f"s{i} {page or 'home'}: {type(e).__name__}: {str(e)[:200]}")


def own_cpu_s() -> float:
    c = psutil.Process().cpu_times()
    return c.user + c.system


async def run_level(n_proc: int, per_proc: int, rounds: int, url: str, cluster, art: Path) -> dict:
    servers = [Server(url, art / f"throughput-p{n_proc}-{k}.log", core=k) for k in range(n_proc)]
    try:
        warm = asyncio.Event()
        warm.set()
        werr: list = []
        for srv in servers:  # untimed: every page once per server
            await session(srv.url, 0, 1, [], werr, warm)
        await asyncio.sleep(1)
        n = per_proc * n_proc
        times, errors, start = [], [], asyncio.Event()
        tasks = [asyncio.ensure_future(session(servers[i % n_proc].url, i, rounds, times, errors, start))
                 for i in range(n)]
        await asyncio.sleep(1)  # every session connected
        cpu0 = [cpu_s(srv.proc.pid) for srv in servers]
        c0, g0 = own_cpu_s(), pg_cpu_s(cluster)
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
        cpu = [cpu_s(srv.proc.pid) - a for srv, a in zip(servers, cpu0)]
        client, pg = own_cpu_s() - c0, pg_cpu_s(cluster) - g0
    finally:
        for srv in servers:
            srv.stop()
    ts = sorted(t for _, t in times)
    q = statistics.quantiles(ts, n=100, method="inclusive") if len(ts) > 1 else [float("nan")] * 99
    return {"processes": n_proc, "sessions": n, "page_runs": len(ts), "expected": n * rounds * len(PAGES),
            "errors": errors, "warmup_errors": werr, "wall_s": wall, "runs_per_wall_s": len(ts) / wall,
            "server_cpu_s": cpu, "cpu_s_per_page": sum(cpu) / max(1, len(ts)),
            "server_core_busy": [c / wall for c in cpu], "client_cpu_s": client, "postgresql_cpu_s": pg,
            "p50_s": q[49], "p95_s": q[94]}


def main(per_proc: int = 6, rounds: int = 5) -> list[dict]:
    from storage.pgcluster import Cluster

    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs two cores (one server per core)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the servers' and cluster's stop
    art = REPO / "bench" / "out"
    art.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="gansu-tp-pg-", dir="/tmp"))).start()
    out = []
    try:
        for k in (1, 2):
            url = cluster.new_database(f"throughput_{k}")  # each level on a fresh store
            r = asyncio.run(run_level(k, per_proc, rounds, url, cluster, art))
            out.append(r)
            print(f"[{k} process(es)] {r['page_runs']}/{r['expected']} page runs in {r['wall_s']:.1f} s, "
                  f"errors {len(r['errors'])}", file=sys.stderr, flush=True)
            print("LEVEL " + json.dumps(r, ensure_ascii=False), flush=True)
    finally:
        cluster.stop()
    ratio = out[1]["runs_per_wall_s"] / out[0]["runs_per_wall_s"]
    print(f"\n{per_proc} protocol sessions per process, {rounds} rounds of Home → Parks → Map each, no think time; "
          "one PostgreSQL store; each server pinned to its own core; the client and PostgreSQL not pinned")
    print("| processes | sessions | page runs | wall s | page runs / wall s | server CPU s / page run | "
          "server cores busy | p50 / p95 s | client CPU s | PostgreSQL CPU s | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        print(f"| {r['processes']} | {r['sessions']} | {r['page_runs']}/{r['expected']} | {r['wall_s']:.1f} | "
              f"{r['runs_per_wall_s']:.2f} | {r['cpu_s_per_page']:.3f} | "
              f"{' + '.join(f'{100 * b:.0f}%' for b in r['server_core_busy'])} | {r['p50_s']:.2f} / {r['p95_s']:.2f} | "
              f"{r['client_cpu_s']:.1f} | {r['postgresql_cpu_s']:.1f} | {len(r['errors'])} |")
    print(f"throughput, two processes / one: {ratio:.2f}×")
    print("REPORT " + json.dumps({"levels": out, "ratio": ratio}, ensure_ascii=False))
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)

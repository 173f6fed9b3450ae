"""Dask glue for the tiled engine (``zonal.tiled``): choose a scheduler, run the tasks of a
plan, cache each task's partial result on disk, report progress.

Schedulers (``--scheduler`` on the CLI):

- ``synchronous``: every task in this process, in tile order (tests, small jobs);
- ``local``: a ``dask.distributed.LocalCluster`` with ``--workers N`` single-threaded worker
  processes (default: one per core);
- ``tcp://HOST:PORT`` (or the environment variable ``DASK_SCHEDULER_ADDRESS``): an existing
  cluster started with ``dask scheduler`` and ``dask worker tcp://HOST:PORT`` on each node. Every
  worker must import this project (same checkout on a shared path, or ``PYTHONPATH``) and see the
  same raster paths (a shared file system, or GDAL's ``/vsicurl/``, ``/vsis3/`` in the VRT).
  Start those workers without Dask's ``MALLOC_TRIM_THRESHOLD_``
  (``DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None dask worker …``): with
  it the kernel runs ~1.5x slower (see ``Cluster``).
- an open ``dask.distributed.Client`` (API only): its cluster;
- default (``None``): ``DASK_SCHEDULER_ADDRESS`` when set; otherwise synchronous for small jobs
  (polygon windows under ``AUTO_LOCAL_PIXELS`` raster cells, or a single task), else ``local``.

Resumption: with a cache folder, each finished task's partial result is written as a Parquet file
named by the task key (tile, raster fingerprint, algorithm version, polygon hash); a run that was
killed and started again computes only the tasks without a file. Progress: ``progress(done,
total)`` after each task (cached tasks count as done at the start); ``ProgressPrinter`` draws tasks
done/total and an ETA on stderr.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from core import paths
from core.errors import InputError
from zonal.tileresult import Partial, TaskResult

if TYPE_CHECKING:  # imported where used: ``python -m cli --help`` stays light
    import pandas as pd

AUTO_LOCAL_PIXELS = 2_000_000_000  # cells read: above this the default scheduler is a LocalCluster
WORKER_GDAL_CACHE_MB = 256  # GDAL block cache of each local worker (GDAL_CACHEMAX overrides)


class _AutoCache:
    def __repr__(self) -> str:
        return "AUTO_CACHE"


AUTO_CACHE = _AutoCache()  # cache_dir: <data root>/tilecache for large or distributed runs, else none
SCHEDULERS = ("synchronous", "local")


# --- scheduler choice --------------------------------------------------------------------------
def resolve_scheduler(scheduler: str | None, work_pixels: int = 0, n_tasks: int = 0) -> str:
    """The scheduler a run uses: "synchronous", "local" or a "tcp://…" address."""
    if scheduler is None or scheduler == "":
        env = os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip()
        if env:
            return env
        return "synchronous" if work_pixels < AUTO_LOCAL_PIXELS or n_tasks < 2 else "local"
    s = str(scheduler).strip()
    if s in SCHEDULERS or "://" in s:
        return s
    raise InputError(f"--scheduler 须为 synchronous、local 或 tcp://主机:端口（收到 {s!r}）",
                     f"--scheduler must be synchronous, local or tcp://HOST:PORT (got {s!r})")


def _add_path(path: str) -> None:  # runs on each worker
    if path not in sys.path:
        sys.path.insert(0, path)


class _spawn_safe_main:
    """While workers are spawned, hide the file of a ``__main__`` that was run as a plain script
    (no ``__spec__``): multiprocessing's spawn re-runs that file in every worker, and a Streamlit
    page run by AppTest (or any script without an ``if __name__ == "__main__"`` guard) would then
    execute in the worker and kill it. Modules run with ``-m`` (the CLI, pytest, the launcher) are
    re-imported by name, which their guards make safe."""

    def __enter__(self):
        main = sys.modules.get("__main__")
        self._main, self._file = main, None
        if main is not None and getattr(main, "__spec__", None) is None and hasattr(main, "__file__"):
            self._file = main.__file__
            del main.__file__
        return self

    def __exit__(self, *exc):
        if self._file is not None:
            self._main.__file__ = self._file
        return False


def start_method() -> str:
    """How LocalCluster workers start. ``fork`` when the calling process has started no thread of
    its own (the CLI): the workers inherit the imported project and are up in ~0.1 s instead of
    ~0.7 s for ``spawn`` (fresh interpreters importing numpy, GDAL, shapely … twice). The fork itself
    happens in distributed's process-watch thread while its event-loop thread runs: Dask supports
    this start method, but forking a threaded process can, rarely, copy a lock another thread holds
    (a hung worker, never wrong numbers; a run started again reuses the tile cache). With the
    dashboard's own threads alive it is ``spawn``, Dask's default; ``GANSU_DASK_START=spawn|fork|
    forkserver`` overrides (``spawn`` everywhere if a hang is ever seen)."""
    import threading

    env = os.environ.get("GANSU_DASK_START", "").strip()
    if env in ("spawn", "fork", "forkserver"):
        return env
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


class Cluster:
    """A Dask client for ``local`` (a LocalCluster it owns) or a scheduler address (use as ``with``)."""

    def __init__(self, scheduler: str, workers: int | None = None):
        self.scheduler, self.workers = scheduler, workers
        self.client = self.cluster = None

    def __enter__(self):
        from dask.distributed import Client, LocalCluster

        repo = str(paths.REPO)
        if self.scheduler == "local":
            n = int(self.workers or os.cpu_count() or 1)
            if n < 1:
                raise InputError("--workers 须为正整数", "--workers must be a positive integer")
            env = {"PYTHONPATH": os.pathsep.join([repo] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                                           if p]),
                   # decoded blocks kept per worker (GDAL's default is 5% of the machine's memory)
                   "GDAL_CACHEMAX": os.environ.get("GDAL_CACHEMAX", str(WORKER_GDAL_CACHE_MB))}
            import dask

            # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in workers: glibc then maps and unmaps
            # every large numpy temporary (no dynamic mmap threshold), which made the kernel ~1.5x
            # slower in a worker than in this process. Keep the other variables (OMP_NUM_THREADS…).
            pre = {k: v for k, v in dict(dask.config.get("distributed.nanny.pre-spawn-environ", {})).items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
            cfg = {"distributed.nanny.pre-spawn-environ": pre, "distributed.worker.multiprocessing-method":
                   start_method()}
            with dask.config.set(cfg), _spawn_safe_main():
                self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                            dashboard_address=":0" if _has_bokeh() else None,
                                            silence_logs=logging.ERROR, env=env)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except OSError as e:
                raise InputError(f"无法连接 Dask 调度器 {self.scheduler}（{e}）",
                                 f"cannot reach the Dask scheduler {self.scheduler} ({e})") from None
        self.client.run(_add_path, repo)  # workers import the engine (zonal.tiletask) from this checkout
        return self

    @property
    def dashboard(self) -> str | None:
        try:
            return self.client.dashboard_link if _has_bokeh() else None
        except Exception:  # noqa: BLE001 - no dashboard on this cluster
            return None

    def __exit__(self, *exc):
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


# --- cache ------------------------------------------------------------------------------------
class TileCache:
    """One Parquet file per finished task, named by its key (see module docstring)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.parquet"

    def get(self, task) -> TaskResult | None:
        import pandas as pd

        p = self._path(task.key)
        if not p.exists():
            return None
        try:
            df = pd.read_parquet(p)
        except Exception:  # noqa: BLE001 - a torn or foreign file: recompute the task
            return None
        return _from_frame(task.tile, df)

    def put(self, task, res: TaskResult) -> None:
        p = self._path(task.key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
        _to_frame(res).to_parquet(tmp, index=False)
        os.replace(tmp, p)  # a killed run leaves no half-written entry


def _to_frame(res: TaskResult) -> pd.DataFrame:
    import pandas as pd

    step, poly, fld, code, val = [], [], [], [], []
    for s, parts in [(0, res.parts)] + sorted(res.steps.items()):
        for i, part in parts.items():
            for f, v in (("t", part.total_m2), ("i", part.inside_m2), ("p", part.pixels), ("o", part.outside_m2)):
                step.append(s), poly.append(i), fld.append(f), code.append(0), val.append(v)
            for k, v in part.codes.items():
                step.append(s), poly.append(i), fld.append("c"), code.append(int(k)), val.append(float(v))
    return pd.DataFrame({"step": pd.array(step, dtype="int64"), "poly": pd.array(poly, dtype="int64"), "field": fld,
                         "code": pd.array(code, dtype="int64"), "value": pd.array(val, dtype="float64")})


def _from_frame(tile: int, df: pd.DataFrame) -> TaskResult:
    res = TaskResult(tile)
    for (s, i), g in df.groupby(["step", "poly"], sort=False):
        f = dict(zip(g["field"], g["value"]))
        c = g[g["field"] == "c"]
        codes = {int(k): float(v) for k, v in zip(c["code"], c["value"])}
        res.step(int(s))[int(i)] = Partial(codes, float(f["t"]), float(f["i"]), float(f["p"]), float(f["o"]))
    return res


# --- progress ---------------------------------------------------------------------------------
class ProgressPrinter:
    """``tasks done/total`` with an ETA on stderr (a redrawn bar on a terminal, else a line every
    few seconds)."""

    def __init__(self, label: str = "tiles", stream=None, every_s: float = 5.0):
        self.label, self.stream, self.every = label, stream or sys.stderr, every_s
        self.t0 = time.perf_counter()
        self.first = None
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = (done, now)
        d0, t0 = self.first
        settled = done - d0 >= max(2, total // 50)  # the first tasks include the workers' start
        rate = (done - d0) / (now - t0) if now > t0 and settled else 0.0
        eta = f"ETA {(total - done) / rate:,.0f} s" if rate > 0 and done < total else ("done" if done >= total else "ETA …")
        width = 30
        fill = int(width * done / max(total, 1))
        text = f"{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}  {eta}"
        tty = getattr(self.stream, "isatty", lambda: False)()
        if tty:
            print("\r" + text, end="\n" if done >= total else "", file=self.stream, flush=True)
        elif done >= total or now - self.last >= self.every or done == d0:
            print(text, file=self.stream, flush=True)
            self.last = now


# --- running a plan ---------------------------------------------------------------------------
def run_plan(plan, *, scheduler: str | None = None, workers: int | None = None, cache_dir=None,
             progress=None, info: dict | None = None, announce=None) -> dict[int, TaskResult]:
    """Results of every task of ``plan`` (a ``zonal.tileplan.Plan``) by tile; cached tasks are
    read, the others computed with the plan's own ``run_task`` (this module never imports the engine).

    ``info`` (a dict) receives: tasks, cached, computed, scheduler, dashboard. ``announce(text)``
    gets one line naming the scheduler (and the dashboard link when there is one)."""
    if cache_dir is AUTO_CACHE:
        big = plan.pixels >= AUTO_LOCAL_PIXELS or (scheduler not in (None, "synchronous"))
        cache_dir = paths.data_root() / "tilecache" if big else None
    cache = TileCache(cache_dir) if cache_dir is not None else None
    results: dict[int, TaskResult] = {}
    todo = []
    for t in plan.tasks:
        hit = cache.get(t) if cache is not None else None
        if hit is not None:
            results[t.tile] = hit
        else:
            todo.append(t)
    total = len(plan.tasks)
    client = None
    if scheduler is not None and not isinstance(scheduler, str):  # an open dask.distributed.Client
        client, scheduler = scheduler, "client"
    sched = "client" if client is not None else resolve_scheduler(scheduler, plan.pixels, len(todo))
    stats = {"tasks": total, "cached": total - len(todo), "computed": 0, "scheduler": sched, "dashboard": None}
    if info is not None:
        info.update(stats)

    def finished(task, res):
        if cache is not None:
            cache.put(task, res)
        results[task.tile] = res
        stats["computed"] += 1
        if info is not None:
            info.update(stats)
        if progress:
            progress(len(results), total)

    if progress:
        progress(len(results), total)
    if not todo:
        return results
    if sched == "synchronous":
        if announce:
            announce(f"scheduler: synchronous (this process), {len(todo)} of {total} tasks to compute")
        try:
            for t in todo:
                finished(t, plan.run_task(t))
        finally:
            plan.clear_caches()
        return results
    if client is not None:
        _submit_all(client, plan.run_task, todo, total, finished, announce, sched, None)
        return results
    with Cluster(sched, workers) as cl:
        stats["dashboard"] = cl.dashboard
        _submit_all(cl.client, plan.run_task, todo, total, finished, announce, sched, cl.dashboard)
    return results


def _submit_all(client, run_task, todo, total, finished, announce, sched, dashboard) -> None:
    from dask.distributed import as_completed

    if announce:
        n = len(client.scheduler_info().get("workers", {}))
        announce(f"scheduler: {sched} ({n} workers), {len(todo)} of {total} tasks to compute"
                 + (f"; dashboard {dashboard}" if dashboard else "; dashboard: install bokeh to get one"))
    by_key = {}
    futures = []
    for t in todo:
        f = client.submit(run_task, t, key=f"tile-{t.tile}-{t.key[:16]}", pure=False)
        by_key[f.key] = t
        futures.append(f)
    for fut in as_completed(futures):
        finished(by_key[fut.key], fut.result())
        fut.release()

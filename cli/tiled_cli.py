"""The command line's Dask options and the ``zonestats`` command (``python -m cli``): --scheduler,
--workers, --cache-dir, --no-cache, --into-store, and how ``parks`` uses the tiled engine. The
engine itself is ``zonal.tiled`` (planning: ``zonal.tileplan``) and ``zonal.distributed`` (running).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.inputs_cli import add_input_flags, check_required
from core import paths
from core.errors import InputError
from reports import write_csv
from storage import inbox
from storage.accounts import SHELL
from zonal.distributed import AUTO_CACHE, ProgressPrinter, resolve_scheduler

if TYPE_CHECKING:
    import pandas as pd

SCHEDULER_HELP = ("where the tiles run: synchronous (this process), local (a LocalCluster of --workers "
                  "single-threaded processes) or tcp://HOST:PORT (a running Dask cluster; also "
                  "DASK_SCHEDULER_ADDRESS). Default: DASK_SCHEDULER_ADDRESS if set, else synchronous when the "
                  "polygons cover fewer than 2e9 raster cells (a province), else local with one worker per core")


PARKS_DEFAULT_HELP = ("where the land-cover tiles run: synchronous (this process, tile by tile), local (a "
                      "LocalCluster of --workers single-threaded processes) or tcp://HOST:PORT (a running Dask "
                      "cluster; also DASK_SCHEDULER_ADDRESS). Default (no flag, no DASK_SCHEDULER_ADDRESS): this "
                      "process without tiles, the same numbers as synchronous; --workers alone means local")


def add_cli_flags(p, parks: bool = False) -> None:
    """--scheduler, --workers, --cache-dir, --no-cache on an argparse (sub)parser."""
    p.add_argument("--scheduler", metavar="synchronous|local|tcp://HOST:PORT",
                   help=PARKS_DEFAULT_HELP if parks else SCHEDULER_HELP + "; --workers alone means local")
    p.add_argument("--workers", type=int, metavar="N", help="workers of --scheduler local (default: one per core)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="partial results per tile, to resume an interrupted run (default: <data root>/tilecache "
                        "for runs on a cluster or over 2e9 cells)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the tile cache")
    p.add_argument("--into-store", metavar="NAME",
                   help="also keep the final table in the dashboard's store (GANSU_STORE) as a new version of "
                        "NAME (earlier versions are kept; listed on the Data page)")


def cli_options(a) -> dict:
    """Keyword arguments for ``tiled.zonal_codes``/``zonestats.compute`` from the CLI flags. The tile
    cache is on by default for runs that leave this process or read more than ``AUTO_LOCAL_PIXELS``
    cells (``<data root>/tilecache``); ``--cache-dir`` turns it on, ``--no-cache`` off."""
    if getattr(a, "workers", None) is not None and a.workers < 1:
        raise InputError("--workers 须为正整数", "--workers must be a positive integer")
    scheduler = resolve_scheduler(a.scheduler) if getattr(a, "scheduler", None) else None
    if scheduler is None and getattr(a, "workers", None) and not os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip():
        scheduler = "local"
    cache = None if getattr(a, "no_cache", False) else (getattr(a, "cache_dir", None) or AUTO_CACHE)
    return {"scheduler": scheduler, "workers": getattr(a, "workers", None), "cache_dir": cache}


def into_store(a, kind: str, tables: dict[str, pd.DataFrame]) -> None:
    """--into-store NAME: each table as a new version of NAME (or NAME/<part>) in the store, written
    by the server's shell (an admin, as for the other CLIs). Prints the stored ids."""
    name = getattr(a, "into_store", None)
    if not name:
        return
    # start-up time: the store loads DuckDB and GeoPandas, only for --into-store
    from storage.db import StoreLocked
    from storage.store import Store

    args = {k: str(v) for k, v in sorted(vars(a).items()) if v is not None and k != "func"}
    names = {part: f"{name}/{part}" if part else name for part in tables}
    try:
        store = Store(paths.store_path())  # other StoreErrors (damaged, not writable) are bilingual
    except StoreLocked:  # the dashboard is running: a signed-in editor or admin takes them in on the Data page
        for part, df in tables.items():
            note = inbox.queue(paths.store_path(), names[part], kind, df, args)
            print(f"the store is in use by the dashboard: {names[part]} ({len(df)} rows) queued in {note.parent} "
                  "(taken in when a signed-in editor or admin opens the Data page)\n"
                  f"数据库正被仪表盘占用：{names[part]}（{len(df)} 行）已排队于 {note.parent}（编辑者或管理员登录后打开数据页时接收）")
        return
    try:
        for part, df in tables.items():
            r = store.put_result_table(names[part], kind, df, args, actor=SHELL)
            print(f"stored in {store.label}: {r['table_id']} ({r['n_rows']} rows, sha256 {r['sha256'][:12]})\n"
                  f"已存入 {store.label}：{r['table_id']}（{r['n_rows']} 行，SHA-256 {r['sha256'][:12]}）")
    finally:
        store.close()


def wants_tiled(a) -> bool:
    """``parks`` runs on the tiled engine when a scheduler flag is given or DASK_SCHEDULER_ADDRESS is
    set; otherwise on the single-process path (the same numbers as ``--scheduler synchronous``)."""
    return bool(getattr(a, "scheduler", None) or getattr(a, "workers", None) or getattr(a, "cache_dir", None)
                or os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip())


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parks_zonal(args=None, **kw):
    """The zonal-statistics function ``compute_parks(zonal=…)`` uses for the CLI: the tiled engine
    with the CLI's scheduler, cache and progress bar, or None (today's path) when ``args`` ask for
    no scheduler (``wants_tiled``). Whole parks give bit-identical numbers either way."""
    if args is not None and not wants_tiled(args):
        return None
    opts = cli_options(args) if args is not None else kw

    def zonal_codes(geoms, raster, legend=None, **more):  # more: pixel_area
        from zonal import tiled  # start-up time: the tiled engine loads rasterio and GeoPandas

        return tiled.zonal_codes(geoms, raster, legend, progress=ProgressPrinter(f"{Path(raster).name} tiles"),
                                 announce=_say, **opts, **more)

    return zonal_codes


def add_zonestats_parser(sub) -> None:
    z = sub.add_parser("zonestats", help="land-cover proxies per unit (county, zone …) in one tiled pass")
    z.add_argument("--layer", help="layer of a multi-layer --units file")
    z.add_argument("--assume-crs", metavar="EPSG:XXXX", help="CRS of a --units file that carries none")
    z.add_argument("--id-field", help="unit id field (default: adcode, id, or row number)")
    z.add_argument("--name-field", help="unit name field (default: name_zh, name)")
    z.add_argument("--legend", default="igbp", help="worldcover | clcd | globeland30 | igbp (default igbp)")
    add_input_flags(z, "zonestats")  # --units, --landcover, --years from layers/inputs.py
    z.add_argument("--year-labels", nargs="+", metavar="YEAR", help="labels of --landcover and --years (default 0 1 …)")
    z.add_argument("--out", required=True, help="output table: .parquet or .csv")
    add_cli_flags(z)


def run_zonestats(a) -> int:
    """``python -m cli zonestats``: one level of units with its own polygons."""
    # start-up time: the tiled engine (rasterio, GeoPandas) and the readers (GDAL) load when it runs
    from indicators import zonestats
    from layers.readers import read_path, validate_geotiff
    from zonal import tiled

    out = Path(a.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise InputError("--out 的扩展名须为 .parquet 或 .csv", "--out must end with .parquet or .csv")
    check_required(a, "zonestats", workspace=False)
    for r in [a.landcover] + list(a.years or []):
        if not Path(r).exists():
            raise InputError(f"找不到文件 {r}", f"file {r} not found")
        validate_geotiff(r)
    units = read_path(a.units, layer=a.layer, assume_crs=a.assume_crs, polygons_only=True, what="--units").gdf
    units = units.reset_index(drop=True)
    ids = field_values(units, a.id_field, ("adcode", "id", "ID"), [str(i + 1) for i in range(len(units))])
    names = field_values(units, a.name_field, ("name_zh", "name", "NAME", "名称"), ids)
    level = zonestats.Level("unit", ids, names, names, polygons=units)
    kw = cli_options(a)
    df = zonestats.compute(level, [], a.landcover, a.legend, progress=ProgressPrinter("zone statistics"), **kw)
    _write(df, out)
    print(f"{len(df)} units -> {out}")
    stored = {"": df}
    if a.years:
        rasters = [a.landcover] + list(a.years)
        labels = list(a.year_labels or range(len(rasters)))
        if len(labels) != len(rasters):
            raise InputError("--year-labels 的个数须与栅格个数相同", "--year-labels must name every raster")
        res = tiled.zonal_transitions(units.geometry, rasters, labels, a.legend, split="all",
                                      progress=ProgressPrinter("years"), scheduler=kw["scheduler"],
                                      workers=kw["workers"], cache_dir=kw["cache_dir"])
        for name, t in (("years", res.areas), ("transitions", res.transitions)):
            t = t.assign(unit_id=[ids[u] for u in t["unit"]])
            p = out.with_name(f"{out.stem}_{name}{out.suffix}")
            _write(t, p)
            print(f"{len(t)} rows -> {p}")
            stored[name] = t
    into_store(a, "zonestats", stored)
    return 0


def field_values(gdf, name, defaults, fallback) -> list[str]:
    if name is not None:
        if name not in gdf.columns:
            raise InputError(f"单元图层没有字段 {name!r}", f"the units have no field {name!r}")
        return gdf[name].astype(str).tolist()
    for c in defaults:
        if c in gdf.columns:
            return gdf[c].astype(str).tolist()
    return list(fallback)


def _write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        write_csv(df, path)  # the one CSV writer: no cell starts a formula
    else:
        df.to_parquet(path, index=False)

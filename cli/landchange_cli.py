"""``gansu degradation``: land degradation (SDG 15.3.1 land-cover sub-indicator), class trajectories
and trends per unit from a land-cover series — the numbers of the Targets page's land-change tab.

    gansu degradation --landcover-series clcd_2000.tif,clcd_2010.tif,clcd_2020.tif --years 2000,2010,2020 \\
        --legend clcd --units counties.gpkg --unit-field adcode --baseline 2000-2010 --reporting 2010-2020 \\
        --out degradation.xlsx --out-raster verdict_2010_2020.tif

``--out`` .csv/.parquet: the degradation table (stable column ids), with ``<name>_trajectories``,
``<name>_trends`` and ``<name>_matrix.csv`` (the matrix used) beside it; ``--workspace``: the series
in use and the Targets page's Gansu units (the page's numbers); .xlsx: one workbook with
those sheets, labelled headers and a provenance sheet. ``--out-raster``: the per-pixel verdict of
the reporting period (the baseline without one): 1 improved, 0 stable, −1 degraded, −32768 no data.
"""
from __future__ import annotations

from pathlib import Path

from cli.inputs_cli import add_input_flags, check_required
from cli.tiled_cli import add_cli_flags, cli_options, field_values, into_store
from core import paths
from core.errors import InputError
from reports import write_csv
from zonal.distributed import ProgressPrinter

OUT = (".csv", ".parquet", ".xlsx")


def add_parser(sub) -> None:
    p = sub.add_parser("degradation", help="land degradation (SDG 15.3.1 land cover), trajectories and trends per unit")
    add_input_flags(p, "degradation")  # --units, --landcover-series from layers/inputs.py
    p.add_argument("--workspace", action="store_true",
                   help="the land-cover series in use and the Gansu units of the Targets page (counties read; "
                        "prefectures, zones and province summed) from the dashboard's store (GANSU_STORE)")
    p.add_argument("--years", help="the year of each --landcover-series file, comma-separated: 2000,2010,2020")
    p.add_argument("--legend", help="worldcover | clcd | globeland30 | igbp | a legend CSV (code,class)")
    p.add_argument("--layer", help="layer of a multi-layer --units file")
    p.add_argument("--assume-crs", metavar="EPSG:XXXX", help="CRS of a --units file that carries none")
    p.add_argument("--unit-field", help="unit id field (default: adcode, id, or the row number)")
    p.add_argument("--name-field", help="unit name field (default: name_zh, name)")
    p.add_argument("--key-areas", action="store_true",
                   help="keep only the action plan's key 三北 areas (tables/key_areas.csv: 民勤, 环县, 金塔, 敦煌, 古浪) "
                        "among the units, matched by name")
    p.add_argument("--matrix", help="degradation matrix CSV (from,tree_covered,…,water_body; -1/0/1); "
                                    "default: the UNCCD default, tables/ldn_matrix_unccd.csv")
    p.add_argument("--baseline", required=True, metavar="Y1-Y2", help="baseline period, e.g. 2000-2015")
    p.add_argument("--reporting", metavar="Y2-Y3", help="reporting period, e.g. 2015-2020")
    p.add_argument("--window", metavar="Y1-Y2", help="years of the trends (default: the whole series)")
    p.add_argument("--out", required=True, help="output: .csv, .parquet or .xlsx")
    p.add_argument("--out-raster", help="per-pixel verdict GeoTIFF of the reporting period (else the baseline)")
    add_cli_flags(p)


def _period(text: str, flag: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in str(text).replace("–", "-").split("-"))
    except ValueError:
        raise InputError(f"{flag} 须写作 年-年（如 2000-2015），而不是 {text!r}",
                         f"{flag} must read YEAR-YEAR (e.g. 2000-2015), not {text!r}") from None
    return a, b


def _files(values) -> list[str]:
    return [f.strip() for v in values for f in str(v).split(",") if f.strip()]


def run(a) -> int:
    # start-up time: the engine (rasterio, GeoPandas) and the readers (GDAL) load when it runs
    from indicators import landchange, ldn, provenance
    from indicators.ldn_raster import write_verdict
    from reports import excel_bytes

    out = Path(a.out)
    if out.suffix.lower() not in OUT:
        raise InputError(f"--out 的扩展名须为 {' '.join(OUT)} 之一", f"--out must end with one of {' '.join(OUT)}")
    check_required(a, "degradation", workspace=a.workspace)
    if a.workspace:
        files, years, legend, base, levels = _workspace()
    else:
        files, years, legend = _series_flags(a)
        base, levels = _unit_flags(a), []
    periods = {"baseline": _period(a.baseline, "--baseline")}
    if a.reporting:
        periods["reporting"] = _period(a.reporting, "--reporting")
    for name, (y0, y1) in periods.items():
        if y0 not in years or y1 not in years:
            raise InputError(f"{name} 时段 {y0}–{y1} 的年份不在序列的年份 {years} 中",
                             f"the {name} period {y0}–{y1} uses a year not in the series {years}")
    matrix = ldn.load_matrix(a.matrix) if a.matrix else ldn.load_matrix()
    if a.key_areas:
        base = _key_areas(base)
    kw = cli_options(a)
    fnames = [Path(f).name for f in files]
    series = landchange.unit_pairs(base, levels, files, years, legend, periods=list(periods.values()),
                                   progress=ProgressPrinter("series"), names=fnames, **kw)  # one pass: years and periods
    traj = landchange.trajectories(series)
    window = _period(a.window, "--window") if a.window else None
    trends = landchange.trends(traj, window)
    deg = landchange.degradation(series, periods, matrix)
    prov = provenance.record(datasets=[{"role": f"landcover {y}", "name": Path(f).name, "file": str(f)}
                                       for y, f in zip(years, files)],
                             tables={"ldn_matrix": ldn.matrix_table(matrix),
                                     "unccd_classes": paths.TABLES / "unccd_classes.csv"},
                             extra={"legend": str(legend), "workspace": bool(a.workspace),
                                    "periods": {k: list(v) for k, v in periods.items()}, "algo": landchange.ALGO_VERSION})
    tables = {"degradation": deg, "trajectories": traj, "trends": trends, "matrix": ldn.matrix_table(matrix)}
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        out.write_bytes(excel_bytes(tables, "zh", bilingual=True, indicators_sheet=False, extra=landchange.LABELS,
                                    provenance=prov))
        print(f"{len(deg)} rows -> {out}")
    else:
        for part, df in tables.items():
            suffix = ".csv" if part == "matrix" else out.suffix
            p = out if part == "degradation" else out.with_name(f"{out.stem}_{part}{suffix}")
            write_csv(df, p) if p.suffix.lower() == ".csv" else df.to_parquet(p, index=False)
            print(f"{len(df)} rows -> {p}")
    if a.out_raster:
        name = "reporting" if "reporting" in periods else "baseline"
        y0, y1 = periods[name]
        by_year = dict(zip(years, files))
        counts = write_verdict(by_year[y0], by_year[y1], legend, a.out_raster, matrix)
        print(f"verdict {y0}–{y1} -> {a.out_raster}: " + ", ".join(f"{k} {v} px" for k, v in counts.items()))
    into_store(a, "degradation", {"": deg, "trajectories": traj, "trends": trends})
    return 0


def _series_flags(a) -> tuple[list[str], list[int], str]:
    """(files, years, legend) of --landcover-series/--years/--legend, in year order."""
    from layers.readers import validate_geotiff  # start-up time: the readers load GDAL

    files = _files(a.landcover_series)
    if not a.years or not a.legend:
        raise InputError("缺少 --years 或 --legend（或使用 --workspace 以采用仪表盘当前使用的年度序列）",
                         "--years and --legend are required (or use --workspace for the dashboard's series in use)")
    try:
        years = [int(y) for y in str(a.years).split(",")]
    except ValueError:
        raise InputError(f"--years 须为逗号分隔的年份，而不是 {a.years!r}",
                         f"--years must be years separated by commas, not {a.years!r}") from None
    if len(files) != len(years) or len(files) < 2:
        raise InputError(f"--landcover-series 给出 {len(files)} 个文件，--years 给出 {len(years)} 个年份：须一一对应且至少两年",
                         f"--landcover-series names {len(files)} file(s) and --years {len(years)} year(s): "
                         "one year per file, at least two")
    for f in files:
        if not Path(f).exists():
            raise InputError(f"找不到文件 {f}", f"file {f} not found")
        validate_geotiff(f)
    order = sorted(range(len(years)), key=lambda k: years[k])
    return [files[k] for k in order], [years[k] for k in order], a.legend


def _unit_flags(a):
    """The --units polygons as one level."""
    from indicators.zonestats import Level  # start-up time: as in run()
    from layers.readers import read_path  # start-up time: the readers load GDAL

    units = read_path(a.units, layer=a.layer, assume_crs=a.assume_crs, polygons_only=True, what="--units").gdf
    units = units.reset_index(drop=True)
    ids = field_values(units, a.unit_field, ("adcode", "id", "ID"), [str(i + 1) for i in range(len(units))])
    names = field_values(units, a.name_field, ("name_zh", "name", "NAME", "名称"), ids)
    names_en = units["name_en"].astype(str).tolist() if "name_en" in units.columns and not a.name_field else names
    return Level("unit", ids, names, names_en, polygons=units)


def _workspace():
    """The series in use (verified files, year order, its legend) and the Targets page's levels:
    the default counties read, prefectures and province summed, zones summed from the counties (or
    read, when an official zone file is in use)."""
    from indicators import zonestats  # start-up time: as in run()
    from layers import catalog
    from storage import workspace as ws
    from storage.store import Store

    store = Store(paths.store_path())  # StoreError (locked, damaged) is a bilingual GansuError
    try:
        series = ws.series(store)
        if not series:
            raise InputError("没有正在使用的土地覆被年度序列：请先登记（gansu workspace add-series … --use）",
                             "no land-cover series in use: register one first (gansu workspace add-series … --use)")
        zones_rec = store.active_user_layer("zones")
        zones = store.load_user_layer(zones_rec["upload_id"]) if zones_rec is not None else catalog.read_default("zones")
    finally:
        store.close()
    prov, pref, cnty = (catalog.read_default(x) for x in ("province", "prefectures", "counties"))
    base, levels = zonestats.gansu_levels(prov, pref, cnty, zones, zones_from_counties=zones_rec is None)
    return [d.raster_path for d in series], [int(d.year) for d in series], series[0].legend, base, levels


def _key_areas(level):
    """The level's units that are the action plan's key areas, matched by Chinese name."""
    from indicators import ldn  # start-up time: as in run()

    keep = set(ldn.key_areas()["name_zh"])
    sel = [k for k, n in enumerate(level.names_zh) if n in keep]
    if not sel:
        raise InputError("--key-areas：单元中没有重点区域（民勤县、环县、金塔县、敦煌市、古浪县）",
                         "--key-areas: none of the key areas (民勤县, 环县, 金塔县, 敦煌市, 古浪县) is among the units")
    pick = lambda xs: [xs[k] for k in sel]  # noqa: E731
    return type(level)(level.name, pick(level.ids), pick(level.names_zh), pick(level.names_en),
                       polygons=level.polygons.iloc[sel].reset_index(drop=True))

"""``gansu degradation``: land degradation (SDG 15.3.1 land-cover sub-indicator), class trajectories
and trends per unit from a land-cover series — the numbers of the Targets page's land-change tab.

    gansu degradation --landcover-series clcd_2000.tif,clcd_2010.tif,clcd_2020.tif --years 2000,2010,2020 \\
        --legend clcd --units counties.gpkg --unit-field adcode --baseline 2000-2010 --reporting 2010-2020 \\
        --out degradation.xlsx --out-raster verdict_2010_2020.tif

``--out`` .csv/.parquet: the degradation table (stable column ids), with ``<name>_trajectories``,
``<name>_trends`` and ``<name>_matrix.csv`` (the matrix used) beside it; .xlsx: one workbook with
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
    p.add_argument("--years", required=True, help="the year of each --landcover-series file, comma-separated: 2000,2010,2020")
    p.add_argument("--legend", required=True, help="worldcover | clcd | globeland30 | igbp | a legend CSV (code,class)")
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
    from indicators.zonestats import Level
    from layers.readers import read_path, validate_geotiff
    from reports import excel_bytes

    out = Path(a.out)
    if out.suffix.lower() not in OUT:
        raise InputError(f"--out 的扩展名须为 {' '.join(OUT)} 之一", f"--out must end with one of {' '.join(OUT)}")
    check_required(a, "degradation", workspace=False)
    files = _files(a.landcover_series)
    try:
        years = [int(y) for y in str(a.years).split(",")]
    except ValueError:
        raise InputError(f"--years 须为逗号分隔的年份，而不是 {a.years!r}", f"--years must be years separated by commas, not {a.years!r}") from None
    if len(files) != len(years) or len(files) < 2:
        raise InputError(f"--landcover-series 给出 {len(files)} 个文件，--years 给出 {len(years)} 个年份：须一一对应且至少两年",
                         f"--landcover-series names {len(files)} file(s) and --years {len(years)} year(s): "
                         "one year per file, at least two")
    for f in files:
        if not Path(f).exists():
            raise InputError(f"找不到文件 {f}", f"file {f} not found")
        validate_geotiff(f)
    order = sorted(range(len(years)), key=lambda k: years[k])
    files, years = [files[k] for k in order], [years[k] for k in order]
    periods = {"baseline": _period(a.baseline, "--baseline")}
    if a.reporting:
        periods["reporting"] = _period(a.reporting, "--reporting")
    for name, (y0, y1) in periods.items():
        if y0 not in years or y1 not in years:
            raise InputError(f"{name} 时段 {y0}–{y1} 的年份不在 --years {years} 中",
                             f"the {name} period {y0}–{y1} uses a year not in --years {years}")
    matrix = ldn.load_matrix(a.matrix) if a.matrix else ldn.load_matrix()
    units = read_path(a.units, layer=a.layer, assume_crs=a.assume_crs, polygons_only=True, what="--units").gdf
    units = units.reset_index(drop=True)
    ids = field_values(units, a.unit_field, ("adcode", "id", "ID"), [str(i + 1) for i in range(len(units))])
    names = field_values(units, a.name_field, ("name_zh", "name", "NAME", "名称"), ids)
    names_en = units["name_en"].astype(str).tolist() if "name_en" in units.columns and not a.name_field else names
    if a.key_areas:
        keep = set(ldn.key_areas()["name_zh"])
        sel = [k for k, n in enumerate(names) if n in keep]
        if not sel:
            raise InputError("--key-areas：单元中没有重点区域（民勤县、环县、金塔县、敦煌市、古浪县）",
                             "--key-areas: none of the key areas (民勤县, 环县, 金塔县, 敦煌市, 古浪县) is among the units")
        units = units.iloc[sel].reset_index(drop=True)
        ids, names, names_en = [ids[k] for k in sel], [names[k] for k in sel], [names_en[k] for k in sel]
    level = Level("unit", ids, names, names_en, polygons=units)
    kw = cli_options(a)
    fnames = [Path(f).name for f in files]
    series = landchange.unit_pairs(level, [], files, years, a.legend, periods=list(periods.values()),
                                   progress=ProgressPrinter("series"), names=fnames, **kw)  # one pass: years and periods
    traj = landchange.trajectories(series)
    window = _period(a.window, "--window") if a.window else None
    trends = landchange.trends(traj, window)
    deg = landchange.degradation(series, periods, matrix)
    prov = provenance.record(datasets=[{"role": f"landcover {y}", "name": Path(f).name, "file": str(f)}
                                       for y, f in zip(years, files)],
                             tables={"ldn_matrix": ldn.matrix_table(matrix), "unccd_classes": paths.TABLES / "unccd_classes.csv"},
                             extra={"legend": str(a.legend), "periods": {k: list(v) for k, v in periods.items()},
                                    "algo": landchange.ALGO_VERSION})
    tables = {"degradation": deg, "trajectories": traj, "trends": trends, "matrix": ldn.matrix_table(matrix)}
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        out.write_bytes(excel_bytes(tables, "zh", bilingual=True, indicators_sheet=False, extra=landchange.LABELS,
                                    provenance=prov))
        print(f"{len(deg)} rows -> {out}")
    else:
        for part, df in tables.items():
            p = out if part == "degradation" else out.with_name(f"{out.stem}_{part}{'.csv' if part == 'matrix' else out.suffix}")
            write_csv(df, p) if p.suffix.lower() == ".csv" else df.to_parquet(p, index=False)
            print(f"{len(df)} rows -> {p}")
    if a.out_raster:
        name = "reporting" if "reporting" in periods else "baseline"
        y0, y1 = periods[name]
        by_year = dict(zip(years, files))
        counts = write_verdict(by_year[y0], by_year[y1], a.legend, a.out_raster, matrix)
        print(f"verdict {y0}–{y1} -> {a.out_raster}: " + ", ".join(f"{k} {v} px" for k, v in counts.items()))
    into_store(a, "degradation", {"": deg, "trajectories": traj, "trends": trends})
    return 0

"""Command line: ``python -m cli parks --parks FILE --landcover RASTER ... --out FILE``, or
``python -m cli parks --workspace --out FILE``: the data in use saved by the dashboard (or by
``python -m cli workspace use``), each explicit flag overriding its part, computed through the
dashboard's cache (``indicators.runs.compute_cached``: instant for rows it already computed).

Exit codes: 0 success, 2 unusable input (message in English and Chinese on stderr).
Vector inputs are read by the reader registry (``layers.readers.read_path``) with the rules of the
app's upload path (zip safety, .cpg/GBK, KML folders, GeoPackage layers: ``--layer``; a file
without a CRS names the best guess: ``--assume-crs``); land-cover rasters get the upload checks,
nodata included. Files are written by ``reports.write_table``: CSV, Parquet, GeoJSON and
GeoPackage keep the column ids; Excel has the UI's labelled headers (``--lang zh|en``, default zh)
and a "columns" sheet.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import checklist_cli
from core.errors import GansuError, InputError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gansu", description="Gansu ecological barriers and zero-carbon parks: every command line (also: python -m cli).")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parks", help="one row of indicators per park polygon")
    p.add_argument("--workspace", action="store_true",
                   help="use the data in use of the dashboard's store (GANSU_STORE); explicit flags override "
                        "their part; without --parks: the illustrative parks + the parks saved in the store")
    p.add_argument("--parks",
                   help="park polygons: .shp (with sidecars), .gdb folder, .zip, .gpkg, .kml/.kmz, .geojson/.topojson, "
                        ".csv/.txt, .xlsx (required without --workspace)")
    p.add_argument("--layer", help="layer of a multi-layer --parks file (GeoPackage, File Geodatabase, TopoJSON, "
                                   "zip of Shapefiles, sheet of an Excel workbook)")
    p.add_argument("--swap-axes", action="store_true",
                   help="--parks coordinates have X and Y exchanged (a Gauss-Krüger survey with the northing in X, "
                        "latitude before longitude): read them swapped")
    p.add_argument("--assume-crs", metavar="EPSG:XXXX",
                   help="CRS of vector inputs that carry none (e.g. EPSG:4490, EPSG:4526)")
    p.add_argument("--gcj02", action="store_true", help="--parks coordinates are GCJ-02 (Gaode/Tencent)")
    p.add_argument("--id-field", help="field with the park id (default: park_id, id, or row number)")
    p.add_argument("--name-field", help="field with the park name (default: name)")
    p.add_argument("--landcover", help="land-cover raster (integer codes; required without --workspace)")
    lg = p.add_mutually_exclusive_group()
    lg.add_argument("--legend", help="worldcover | clcd | globeland30 | igbp (default igbp; with --workspace: "
                                     "the legend of the land cover in use unless --landcover is given)")
    lg.add_argument("--legend-file", help="custom legend CSV: code,class[,label]")
    p.add_argument("--landcover-alt", help="alternative (scenario) raster: stock and change")
    p.add_argument("--carbon-pools", help="InVEST pools CSV lucode,c_above,c_below,c_soil,c_dead (t C/ha)")
    p.add_argument("--sink-rates", help="CSV class,rate_tco2_ha_yr")
    p.add_argument("--pixel-area", choices=("ground", "nominal"), default="ground",
                   help="cell area: ground (true area, default) or nominal (|det| of the transform, as InVEST; "
                        "projected rasters)")
    p.add_argument("--green-classes", help="comma-separated classes counted as vegetation (vegetated share)")
    p.add_argument("--transport", nargs="+", action="extend", default=[], metavar="FILE:KIND",
                   help="transport layer and kind (expressway, major_road, railway, station, airport)")
    p.add_argument("--osm", help="OSM extract (.osm.pbf or .osm) read with tag rules")
    p.add_argument("--redline", nargs="+", action="extend", default=[], metavar="FILE",
                   help="red-line / protected-area polygons (several files are merged)")
    p.add_argument("--zones", help="zone polygons (default: the built-in schematic 四屏一廊 zones, which also choose "
                                   "the carbon densities of each zone)")
    p.add_argument("--no-zones", action="store_true", help="no zone layer (every park takes the province densities)")
    p.add_argument("--zones-layer", help="layer of a multi-layer --zones file")
    p.add_argument("--zone-field", help="zone name field (default: name_zh when the layer has it, else zone; "
                                        "with --workspace: as the dashboard)")
    p.add_argument("--out", required=True, help="output: .csv .xlsx .geojson .gpkg .parquet")
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="language of the Excel headers (zh default; CSV/Parquet/GeoJSON/GPKG keep column ids)")
    add_targets_parser(sub)  # issue 13
    from cli import (
        tiled_cli,  # issue 11: --scheduler/--workers, zonestats (tiled engine)
    )

    tiled_cli.add_cli_flags(p, parks=True)
    tiled_cli.add_zonestats_parser(sub)
    checklist_cli.add_parser(sub)  # the checklist command (same rules as the Checklist page)
    for name, (_module, text) in DELEGATED.items():  # listed in the help; main() hands them their arguments
        sub.add_parser(name, help=text, add_help=False).add_argument("args", nargs=argparse.REMAINDER)
    return ap


# --- issue 13: python -m cli targets ----------------------------------------------------
def add_targets_parser(sub) -> None:
    t = sub.add_parser("targets", help="progress towards the 2025/2030 targets: one row per target and region")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--stats", help="official statistics CSV (indicator,region,year,value,unit,source[,basis,...]); "
                                     "default: the dashboard's store (GANSU_STORE), else the cited seed")
    src.add_argument("--seed", action="store_true", help="use the cited seed table (tables/official_stats_gansu.csv)")
    t.add_argument("--basis", action="append", default=[], metavar="INDICATOR=BASIS",
                   help="basis (口径) of an indicator's progress (default: the basis of its latest value)")
    t.add_argument("--out", required=True, help="output: .csv (+ .provenance.json sidecar) or .xlsx (provenance sheet)")
    t.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the Excel headers")
    t.add_argument("--date", help="run date YYYY-MM-DD: years left and stale values are counted from it (default today)")


def run_targets(a) -> int:
    from indicators import provenance
    from indicators import targets as tg

    out = Path(a.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("--out 的扩展名须为 .csv 或 .xlsx", "--out must end with .csv or .xlsx")
    targets = tg.load_targets()
    if a.stats and not Path(a.stats).is_file():
        raise InputError(f"找不到统计表文件 {a.stats}", f"statistics file not found: {a.stats}")
    if a.stats:
        stats, origin = tg.validate_stats(tg.read_stats_bytes(Path(a.stats).read_bytes()), targets), f"file {a.stats}"
    elif a.seed or not _store_exists():
        stats, origin = tg.load_seed_stats(), f"seed {tg.OFFICIAL_SEED_CSV.name}"
    else:
        from core import paths
        from storage import stats_store
        from storage.store import Store

        store = Store(paths.store_path())
        try:
            stats_store.ensure(store, tg.load_seed_stats())
            stats, origin = tg.refresh_seed(stats_store.official_stats(store)), f"store {paths.store_path()}"
        finally:
            store.close()
    basis = {}
    for item in a.basis:
        if "=" not in item:
            raise InputError(f"--basis 须为 指标=口径：{item}", f"--basis must be INDICATOR=BASIS: {item}")
        k, v = item.split("=", 1)
        basis[k.strip()] = v.strip()
    run_date = tg.run_date_of(a.date)
    table = tg.report_table(targets, stats, basis, run_date)
    rec = provenance.record(tables={"targets": tg.TARGETS_CSV, "official_stats": stats, "bases": tg.BASES_CSV},
                            thresholds={"trend_years": tg.TREND_YEARS, "at_risk_ratio": tg.AT_RISK_RATIO,
                                        "about_tolerance": tg.ABOUT_TOLERANCE, "stale_years": tg.STALE_YEARS},
                            extra={"statistics": origin, "basis": basis, "run_date": run_date.isoformat()})
    from reports import write_report

    write_report(table, out, rec, lang=a.lang, sheet="targets", extra=tg.report_labels())
    print(f"{len(table)} rows (targets × regions) → {out}; statistics: {origin}")
    return 0


def _parks_provenance(a, legend) -> dict:
    """Provenance of ``parks`` without --workspace: the files given, the tables, the settings."""
    from indicators import carbon, provenance
    from layers.legends import get_legend

    files = [("landcover", a.landcover), ("landcover_alt", a.landcover_alt), ("parks", a.parks), ("zones", a.zones),
             ("osm", a.osm)] + [("redline", f) for f in a.redline] + [("transport", spec.rsplit(":", 1)[0])
                                                                     for spec in a.transport]
    datasets = [{"role": r, "name": Path(f).name, "file": str(f), "sha256": provenance.file_sha256(f)}
                for r, f in files if f and Path(f).is_file()]
    datasets += [{"role": r, "name": Path(f).name, "file": str(f), "sha256": _folder_sha256(f)}
                 for r, f in files if f and Path(f).is_dir()]  # a File Geodatabase folder
    lg = get_legend(legend)
    tables = {"carbon_pools": a.carbon_pools or carbon.default_pools_path(lg),
              "carbon_conversion": carbon.pooltable.CONVERSION_CSV,
              "sink_rates": a.sink_rates or carbon.TABLES / "sink_rates.csv"}
    if a.legend_file:
        tables["legend"] = a.legend_file
    extra = {"legend": getattr(lg, "id", str(legend))}
    if not a.zones and not getattr(a, "no_zones", False):
        tables["zones"] = carbon.TABLES / "zones.csv"
        extra["zones"] = "built-in schematic zones (tables/zones.csv)"
    return provenance.record(datasets=datasets, tables=tables, pixel_area=getattr(a, "pixel_area", "ground"),
                             thresholds={"green_classes": a.green_classes or "default"},
                             extra=extra)


def _folder_sha256(path) -> str:
    from layers.readers.filegdb import folder_sha256  # start-up time: the vector readers load GDAL

    return folder_sha256(path)


def _workspace_provenance(a, inputs) -> dict:
    """Provenance of ``parks --workspace``: the datasets in use (SHA-256) and the run fingerprint."""
    from indicators import provenance

    datasets = [dict(zip(("role", "name", "file", "sha256"), map(str, d))) for d in inputs.datasets]
    tables = provenance.tables_from_parts(inputs.parts)
    return provenance.record(datasets=datasets, tables=tables, pixel_area=getattr(a, "pixel_area", "ground"),
                             thresholds={"green_classes": a.green_classes or "default"},
                             extra={"legend": inputs.legend, "run_fingerprint": inputs.fingerprint})


def _store_exists() -> bool:
    from core import paths

    return paths.store_path().exists()


def run_parks(a) -> int:
    import geopandas as gpd
    import pandas as pd

    from indicators.engine import compute_parks, prepare_parks
    from indicators.transport import parse_source
    from layers.legends import load_legend_csv
    from layers.readers import read_osm, read_path, validate_geotiff
    from reports.table import OUT_FORMATS

    out = Path(a.out)
    if out.suffix.lower() not in OUT_FORMATS:
        raise InputError(f"--out 的扩展名须为 {OUT_FORMATS} 之一", f"--out must end with one of {OUT_FORMATS}")
    if not getattr(a, "workspace", False):
        for flag, val in (("--parks", a.parks), ("--landcover", a.landcover)):
            if val is None:
                raise InputError(f"缺少 {flag}（或使用 --workspace 以采用仪表盘当前使用的数据）",
                                 f"{flag} is required (or use --workspace for the dashboard's data in use)")
    for label, path in (("--parks", a.parks), ("--landcover", a.landcover), ("--landcover-alt", a.landcover_alt)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{label}：找不到文件 {path}", f"{label}: file {path} not found")
    for path in (a.landcover, a.landcover_alt):
        if path is not None:  # the checks of the Targets page upload, nodata included
            validate_geotiff(path)
    crs_ = getattr(a, "assume_crs", None)

    def read(path, what, polygons=True, layer=None, gcj02=False, swap_axes=False):
        res = read_path(path, layer=layer, assume_crs=crs_, polygons_only=polygons, gcj02=gcj02, what=what,
                        swap_axes=swap_axes)
        for n in res.notes:  # the notes the upload path shows (datum, duplicate ids, outside Gansu …)
            en, zh = n.en.removeprefix("note: "), n.zh.removeprefix("注意：")
            print(f"note: {what} ({Path(path).name}): {en}\n注意：{what}（{Path(path).name}）：{zh}", file=sys.stderr)
        return res.gdf

    if getattr(a, "workspace", False):
        return _run_workspace(a, read)
    parks = read(a.parks, "--parks", layer=getattr(a, "layer", None), gcj02=getattr(a, "gcj02", False),
                 swap_axes=getattr(a, "swap_axes", False))
    legend = load_legend_csv(a.legend_file) if a.legend_file else (a.legend or "igbp")
    transport: dict = {}
    if a.osm:
        transport.update(read_osm(a.osm))
    for spec in a.transport:
        path, kind = parse_source(spec)
        layer = read(path, f"--transport {kind}", polygons=False)
        transport[kind] = pd.concat([transport[kind].to_crs(layer.crs), layer]) if kind in transport else layer
    redline = None
    if a.redline:
        layers = [read(f, "--redline") for f in a.redline]
        redline = gpd.GeoDataFrame(pd.concat([lyr.to_crs(layers[0].crs)[["geometry"]] for lyr in layers]),
                                   crs=layers[0].crs)
    zones = _zones_arg(a, read)
    classes = [c.strip() for c in a.green_classes.split(",")] if a.green_classes else None
    result = compute_parks(
        parks, landcover=a.landcover, legend=legend, landcover_alt=a.landcover_alt,
        carbon_pools=a.carbon_pools, sink_rates=a.sink_rates,
        green_classes=classes, transport=transport, redline=redline, zones=zones,
        zone_field=_zone_field(a, zones), id_field=a.id_field, name_field=a.name_field,
        pixel_area=getattr(a, "pixel_area", "ground"), zonal=_zonal(a),
    )
    geoms = prepare_parks(parks, a.id_field, a.name_field)[0].geometry
    from reports.table import (
        write_table,  # CSV/Parquet keep ids; Excel labelled like the UI's
    )

    write_table(result, out, geoms, lang=getattr(a, "lang", "zh"), provenance=_parks_provenance(a, legend))
    print(f"{len(result)} parks -> {out}")
    from cli import tiled_cli

    tiled_cli.into_store(a, "parks", {"": result})
    return 0


def _zones_arg(a, read):
    """--zones FILE; without it the built-in schematic zones (when the default data is built), so a
    park takes its zone's carbon densities on the command line as on the pages; --no-zones: none."""
    if getattr(a, "no_zones", False):
        return None
    if a.zones:
        return read(a.zones, "--zones", layer=getattr(a, "zones_layer", None))
    from core import paths

    try:
        paths.require_current()
    except (paths.DataMissing, paths.DataCorrupt):
        return None
    from layers import catalog

    return catalog.read_default("zones")


def _zone_field(a, zones) -> str:
    if a.zone_field:
        return a.zone_field
    return "name_zh" if zones is not None and "name_zh" in zones.columns else "zone"


def _explicit_transport(a, read) -> tuple[dict | None, list, list]:
    """--osm and --transport FILE:KIND: (layers by kind or None, (path, kind) to hash, provenance)."""
    import pandas as pd

    from indicators.transport import parse_source
    from layers.readers import read_osm

    if not (a.osm or a.transport):
        return None, [], []
    transport: dict = {}
    files, used = [], []
    if a.osm:
        transport.update(read_osm(a.osm))
        files.append((a.osm, "osm"))
    for spec in a.transport:
        path, kind = parse_source(spec)
        layer = read(path, f"--transport {kind}", polygons=False)
        transport[kind] = pd.concat([transport[kind].to_crs(layer.crs), layer]) if kind in transport else layer
        files.append((path, kind))
    return transport, files, used


def _run_workspace(a, read) -> int:
    """--workspace: the data in use of the store, explicit flags overriding their part; results
    through the dashboard's cache (runs.compute_cached), a progress bar on a terminal."""
    import geopandas as gpd
    import pandas as pd

    from core import paths
    from indicators import runs
    from indicators.engine import prepare_parks
    from layers import catalog
    from storage import workspace as ws
    from layers.readers import validate_geotiff
    from storage.store import Store

    store = Store(paths.store_path())  # StoreError (locked, damaged) is a bilingual GansuError
    try:
        inputs = runs.inputs_from_workspace(store)  # a changed referenced file is refused here
        used: list[tuple] = []

        def prov(role: str, path) -> tuple:
            return (role, f"{Path(path).name} (--{role.replace('_', '-')})", Path(path).name, ws.sha256_file(path))

        for path in (a.landcover, a.landcover_alt):
            if path is not None:
                validate_geotiff(path)
        legend = a.legend_file and str(Path(a.legend_file).resolve()) or a.legend
        if a.landcover is not None:
            used.append(prov("landcover", a.landcover))
            legend = legend or "igbp"
        if a.landcover_alt is not None:
            used.append(prov("landcover_alt", a.landcover_alt))
        transport, t_files, _ = _explicit_transport(a, read)
        for path, kind in t_files:
            used.append(("transport", f"{Path(path).name} ({kind})", Path(path).name, ws.sha256_file(path)))
        redline = None
        if a.redline:
            layers = [read(f, "--redline") for f in a.redline]
            redline = gpd.GeoDataFrame(pd.concat([lyr.to_crs(layers[0].crs)[["geometry"]] for lyr in layers]),
                                       crs=layers[0].crs)
            used += [prov("redline", f) for f in a.redline]
        zones = read(a.zones, "--zones", layer=getattr(a, "zones_layer", None)) if a.zones else None
        if a.zones:
            used.append(prov("zones", a.zones))
        zone_field = a.zone_field or ("zone" if zones is not None else None)
        classes = [c.strip() for c in a.green_classes.split(",")] if a.green_classes else None
        options = {"carbon_pools": a.carbon_pools, "sink_rates": a.sink_rates, "green_classes": classes,
                   "pixel_area": getattr(a, "pixel_area", "ground")}
        inputs = runs.override(inputs, landcover=a.landcover, legend=legend, landcover_alt=a.landcover_alt,
                               transport=transport, transport_files=t_files, redline=redline, zones=zones,
                               zone_field=zone_field, options=options, used=used)
        if a.parks:
            raw = read(a.parks, "--parks", layer=getattr(a, "layer", None), gcj02=getattr(a, "gcj02", False),
                       swap_axes=getattr(a, "swap_axes", False))
            ids = prepare_parks(raw, a.id_field, a.name_field)[0]
            parks = gpd.GeoDataFrame({"park_id": ids["park_id"].to_numpy(), "name": ids["name"].to_numpy()},
                                     geometry=raw.geometry.values, crs=raw.crs)
            parks_label = Path(a.parks).name
        else:
            parks = runs.all_parks(store, catalog.read_default("parks_demo"))
            parks_label = "illustrative parks of the build + parks saved in the store"
        _print_inputs(inputs, parks_label, len(parks))
        result = runs.compute_cached(store, parks, inputs, progress=_progress_bar(), zonal=_zonal(a))
    finally:
        store.close()
    from reports.table import (
        write_table,  # CSV/Parquet keep ids; Excel labelled like the UI's
    )

    write_table(result, Path(a.out), parks.geometry, lang=getattr(a, "lang", "zh"),
                provenance=_workspace_provenance(a, inputs))
    print(f"{len(result)} parks -> {a.out}")
    from cli import tiled_cli

    tiled_cli.into_store(a, "parks", {"": result})
    return 0


def _print_inputs(inputs, parks_label: str, n: int) -> None:
    """Name every dataset the numbers come from (built-in defaults included)."""
    from core import paths

    named = {d[0] for d in inputs.datasets}
    print(f"parks: {parks_label} ({n})")
    for role, name, filename, sha in inputs.datasets:
        print(f"{role}: {name} — {filename}, sha256 {sha[:12]}…")
    defaults = {"landcover": f"built-in {Path(inputs.landcover).name} (legend {inputs.legend})"
                if inputs.landcover == str(paths.landcover_path()) else None,
                "transport": "built-in airports" if "transport" not in named and inputs.transport else None,
                "redline": "built-in protection proxy (not the official red line)",
                "zones": "built-in schematic zones"}
    for role, text in defaults.items():
        if role not in named and text:
            print(f"{role}: {text}")
    print(f"fingerprint: {inputs.fingerprint[:16]}")


def _progress_bar():
    """tasks done/total on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        fill = int(width * done / max(total, 1))
        print(f"\rparks [{'#' * fill}{'.' * (width - fill)}] {done}/{total}", end="" if done < total else "\n",
              file=sys.stderr, flush=True)

    return show


def _zonal(a):
    """The tiled engine's zonal function when a scheduler is asked for (issue 11), else None."""
    from cli import tiled_cli

    return tiled_cli.parks_zonal(a)


# Commands with a parser of their own (their module is imported only when called: start-up time).
DELEGATED = {"workspace": ("cli.workspace_cli", "register files in the store, choose the data in use"),
             "admin": ("cli.admin_cli", "accounts, recovery codes and the audit log of the shared store"),
             "build": ("cli.build_cli", "build the default Gansu dataset (a no-op when current)")}


def main(argv=None) -> int:
    """Every command line of the project: ``gansu COMMAND …`` (= ``python -m cli COMMAND …``). One error
    handler: an unusable input (GansuError) prints its English and Chinese message and exits 2."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    try:
        if argv and argv[0] in DELEGATED:
            import importlib  # start-up time: a command's parser loads only when it is called

            return importlib.import_module(DELEGATED[argv[0]][0]).main(argv[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except GansuError as exc:  # InputError, UploadError, CRSMissing (with its guess) …
        print(f"error: {exc.en}\n错误：{exc.zh}", file=sys.stderr)
        return 2


def _run_zonestats(a) -> int:
    from cli import tiled_cli

    return tiled_cli.run_zonestats(a)


COMMANDS = {"parks": lambda a: run_parks(a), "targets": lambda a: run_targets(a), "zonestats": _run_zonestats,
            "checklist": lambda a: checklist_cli.run(a)}


if __name__ == "__main__":
    sys.exit(main())

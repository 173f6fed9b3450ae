"""``gansu parks``: one row of indicators per park polygon — from files (``--parks FILE --landcover
RASTER …``) or from the data in use saved by the dashboard (``--workspace``; each explicit flag
overrides its part), computed through the dashboard's cache (``indicators.runs.compute_cached``).

The input flags are generated from the declared inputs (``layers.inputs`` via ``cli.inputs_cli``);
the options here say how to read them. Vector inputs are read by the reader registry
(``layers.readers.read_path``) with the rules of the upload path; land-cover rasters get the upload
checks, nodata included. Files are written by ``reports.table.write_table``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from cli import tiled_cli
from cli.inputs_cli import add_input_flags, check_given, check_required, given_files, measured_inputs
from core import paths
from core.errors import InputError
from indicators import carbon, provenance
from layers.legends import get_legend, load_legend_csv
from reports import table as out_table
from storage import workspace as ws


def add_parser(sub, name: str = "parks", text: str = "one row of indicators per park polygon"):
    """The parser of ``parks`` (``siting`` adds its own options to the same one)."""
    p = sub.add_parser(name, help=text)
    p.set_defaults(command=name)
    p.add_argument("--workspace", action="store_true",
                   help="use the data in use of the dashboard's store (GANSU_STORE); explicit flags override "
                        "their part; without --parks: the illustrative parks + the parks saved in the store")
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
    lg = p.add_mutually_exclusive_group()
    lg.add_argument("--legend", help="worldcover | clcd | globeland30 | igbp (default igbp; with --workspace: "
                                     "the legend of the land cover in use unless --landcover is given)")
    lg.add_argument("--legend-file", help="custom legend CSV: code,class[,label]")
    p.add_argument("--pixel-area", choices=("ground", "nominal"), default="ground",
                   help="cell area: ground (true area, default) or nominal (|det| of the transform, as InVEST; "
                        "projected rasters)")
    p.add_argument("--green-classes", help="comma-separated classes counted as vegetation (vegetated share)")
    p.add_argument("--no-zones", action="store_true", help="no zone layer (every park takes the province densities)")
    p.add_argument("--zones-layer", help="layer of a multi-layer --zones file")
    p.add_argument("--zone-field", help="zone name field (default: name_zh when the layer has it, else zone; "
                                        "with --workspace: as the dashboard)")
    p.add_argument("--out", required=True, help="output: .csv .xlsx .geojson .gpkg .parquet")
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="language of the Excel headers (zh default; CSV/Parquet/GeoJSON/GPKG keep column ids)")
    add_input_flags(p, name)  # --parks, --landcover, --transport … from layers/inputs.py
    tiled_cli.add_cli_flags(p, parks=True)  # --scheduler/--workers (the tiled engine)
    return p


def _parks_provenance(a, legend) -> dict:
    """Provenance of ``parks`` without --workspace: the files given (every declared input flag), the
    tables, the settings."""
    files = given_files(a, a.command)
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
    datasets = [dict(zip(("role", "name", "file", "sha256"), map(str, d))) for d in inputs.datasets]
    tables = provenance.tables_from_parts(inputs.parts)
    return provenance.record(datasets=datasets, tables=tables, pixel_area=getattr(a, "pixel_area", "ground"),
                             thresholds={"green_classes": a.green_classes or "default"},
                             extra={"legend": inputs.legend, "run_fingerprint": inputs.fingerprint})


def run(a) -> int:
    """``gansu parks``: the table, written with its provenance, optionally kept in the store."""
    out = Path(a.out)
    result, geoms, prov = compute_table(a)
    out_table.write_table(result, out, geoms, lang=getattr(a, "lang", "zh"), provenance=prov)
    print(f"{len(result)} parks -> {out}")
    tiled_cli.into_store(a, "parks", {"": result})
    return 0


def compute_table(a):
    """(indicators, park geometries, provenance record) of the parks the flags name (or the data in
    use with --workspace): the computation ``gansu parks`` and ``gansu siting`` share."""
    import geopandas as gpd  # start-up time: GeoPandas, the engine and the readers load when a run starts
    import pandas as pd

    # start-up time: the engine (rasterio), the transport layers (GeoPandas) and the readers (GDAL)
    from indicators.engine import compute_parks, prepare_parks
    from indicators.transport import parse_source
    from layers.readers import read_osm, read_path, validate_geotiff

    out = Path(a.out)
    formats = out_table.OUT_FORMATS
    if out.suffix.lower() not in formats:
        raise InputError(f"--out 的扩展名须为 {formats} 之一", f"--out must end with one of {formats}")
    check_required(a, a.command, workspace=getattr(a, "workspace", False))
    check_given(a, a.command)
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
    extra, _files = measured_inputs(a, a.command, read)
    classes = [c.strip() for c in a.green_classes.split(",")] if a.green_classes else None
    result = compute_parks(
        parks, landcover=a.landcover, legend=legend, landcover_alt=a.landcover_alt,
        carbon_pools=a.carbon_pools, sink_rates=a.sink_rates,
        green_classes=classes, transport=transport, redline=redline, zones=zones,
        zone_field=_zone_field(a, zones), id_field=a.id_field, name_field=a.name_field,
        pixel_area=getattr(a, "pixel_area", "ground"), zonal=tiled_cli.parks_zonal(a), extra=extra,
    )
    geoms = prepare_parks(parks, a.id_field, a.name_field)[0].geometry
    return result, geoms, _parks_provenance(a, legend)


def _zones_arg(a, read):
    """--zones FILE; without it the built-in schematic zones (when the default data is built), so a
    park takes its zone's carbon densities on the command line as on the pages; --no-zones: none."""
    if getattr(a, "no_zones", False):
        return None
    if a.zones:
        return read(a.zones, "--zones", layer=getattr(a, "zones_layer", None))
    try:
        paths.require_current()
    except (paths.DataMissing, paths.DataCorrupt):
        return None
    from layers import catalog  # start-up time: the catalog reads with GeoPandas and pyogrio

    return catalog.read_default("zones")


def _zone_field(a, zones) -> str:
    if a.zone_field:
        return a.zone_field
    return "name_zh" if zones is not None and "name_zh" in zones.columns else "zone"


def _explicit_transport(a, read) -> tuple[dict | None, list, list]:
    """--osm and --transport FILE:KIND: (layers by kind or None, (path, kind) to hash, provenance)."""
    import pandas as pd

    # start-up time: the transport layers (GeoPandas) and the readers (GDAL) load on first use
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


def _run_workspace(a, read):
    """--workspace: the data in use of the store, explicit flags overriding their part; results
    through the dashboard's cache (runs.compute_cached), a progress bar on a terminal."""
    import geopandas as gpd
    import pandas as pd

    # start-up time: the engine and runs (rasterio), the catalog (pyogrio), the readers (GDAL) and the
    # store (DuckDB, GeoPandas) load when a run starts
    from indicators import runs
    from indicators.engine import prepare_parks
    from layers import catalog
    from layers.readers import validate_geotiff
    from storage.store import Store

    store = Store(paths.store_path())  # StoreError (locked, damaged) is a bilingual GansuError
    try:
        inputs = runs.inputs_from_workspace(store)  # a changed referenced file is refused here
        used: list[tuple] = []

        def prov(role: str, path) -> tuple:
            sha = _folder_sha256(path) if Path(path).is_dir() else ws.sha256_file(path)  # a .gdb folder: its files
            return (role, f"{Path(path).name} (--{role.replace('_', '-')})", Path(path).name, sha)

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
        extra, extra_files = measured_inputs(a, a.command, read)
        used += [prov(k, f) for k, fs in extra_files.items() for f in (fs if isinstance(fs, list) else [fs])]
        classes = [c.strip() for c in a.green_classes.split(",")] if a.green_classes else None
        options = {"carbon_pools": a.carbon_pools, "sink_rates": a.sink_rates, "green_classes": classes,
                   "pixel_area": getattr(a, "pixel_area", "ground")}
        inputs = runs.override(inputs, landcover=a.landcover, legend=legend, landcover_alt=a.landcover_alt,
                               transport=transport, transport_files=t_files, redline=redline, zones=zones,
                               zone_field=zone_field, options=options, used=used, extra=extra,
                               extra_files=extra_files)
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
        result = runs.compute_cached(store, parks, inputs, progress=_progress_bar(), zonal=tiled_cli.parks_zonal(a))
    finally:
        store.close()
    return result, parks.geometry, _workspace_provenance(a, inputs)


def _print_inputs(inputs, parks_label: str, n: int) -> None:
    """Name every dataset the numbers come from (built-in defaults included)."""
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

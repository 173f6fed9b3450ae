"""Command line: ``python -m indicators parks --parks FILE --landcover RASTER ... --out FILE``.

Exit codes: 0 success, 2 unusable input (message in English and Chinese on stderr).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import InputError

OUT_FORMATS = (".csv", ".xlsx", ".geojson", ".gpkg", ".parquet")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m indicators", description="Per-park indicators for Gansu siting.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parks", help="one row of indicators per park polygon")
    p.add_argument("--parks", required=True, help="park polygons (any vector file with a CRS)")
    p.add_argument("--id-field", help="field with the park id (default: park_id, id, or row number)")
    p.add_argument("--name-field", help="field with the park name (default: name)")
    p.add_argument("--landcover", required=True, help="land-cover raster (integer codes)")
    lg = p.add_mutually_exclusive_group()
    lg.add_argument("--legend", default="igbp", help="worldcover | clcd | globeland30 | igbp (default igbp)")
    lg.add_argument("--legend-file", help="custom legend CSV: code,class[,label]")
    p.add_argument("--landcover-alt", help="alternative (scenario) raster: stock and change")
    p.add_argument("--carbon-pools", help="InVEST pools CSV lucode,c_above,c_below,c_soil,c_dead (t C/ha)")
    p.add_argument("--sink-rates", help="CSV class,rate_tco2_ha_yr")
    p.add_argument("--green-threshold", type=float, default=15.0, help="green coverage pass threshold, %% (15)")
    p.add_argument("--green-classes", help="comma-separated classes counted as green")
    p.add_argument("--transport", nargs="+", action="extend", default=[], metavar="FILE:KIND",
                   help="transport layer and kind (expressway, major_road, railway, station, airport)")
    p.add_argument("--osm", help="OSM extract (.osm.pbf or .osm) read with tag rules")
    p.add_argument("--redline", nargs="+", action="extend", default=[], metavar="FILE",
                   help="red-line / protected-area polygons (several files are merged)")
    p.add_argument("--zones", help="zone polygons")
    p.add_argument("--zone-field", default="zone", help="zone name field (default zone)")
    p.add_argument("--out", required=True, help="output: .csv .xlsx .geojson .gpkg .parquet")
    return ap


def run_parks(a) -> int:
    import geopandas as gpd
    import pandas as pd

    from indicators.engine import compute_parks, prepare_parks
    from indicators.legends import load_legend_csv
    from indicators.transport import parse_source, read_osm, read_vector

    out = Path(a.out)
    if out.suffix.lower() not in OUT_FORMATS:
        raise InputError(f"--out 的扩展名须为 {OUT_FORMATS} 之一", f"--out must end with one of {OUT_FORMATS}")
    for label, path in (("--parks", a.parks), ("--landcover", a.landcover), ("--landcover-alt", a.landcover_alt)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{label}：找不到文件 {path}", f"{label}: file {path} not found")
    parks = read_vector(a.parks, "parks file")
    legend = load_legend_csv(a.legend_file) if a.legend_file else a.legend
    transport: dict = {}
    if a.osm:
        transport.update(read_osm(a.osm))
    for spec in a.transport:
        path, kind = parse_source(spec)
        layer = read_vector(path, f"{kind} file")
        transport[kind] = pd.concat([transport[kind].to_crs(layer.crs), layer]) if kind in transport else layer
    redline = None
    if a.redline:
        layers = [read_vector(f, "red-line file") for f in a.redline]
        redline = gpd.GeoDataFrame(pd.concat([lyr.to_crs(layers[0].crs)[["geometry"]] for lyr in layers]),
                                   crs=layers[0].crs)
    zones = read_vector(a.zones, "zones file") if a.zones else None
    classes = [c.strip() for c in a.green_classes.split(",")] if a.green_classes else None
    result = compute_parks(
        parks, landcover=a.landcover, legend=legend, landcover_alt=a.landcover_alt,
        carbon_pools=a.carbon_pools, sink_rates=a.sink_rates, green_threshold_pct=a.green_threshold,
        green_classes=classes, transport=transport, redline=redline, zones=zones,
        zone_field=a.zone_field, id_field=a.id_field, name_field=a.name_field,
    )
    geoms = prepare_parks(parks, a.id_field, a.name_field)[0].geometry
    write(result, out, geoms)
    print(f"{len(result)} parks -> {out}")
    return 0


def write(result, out: Path, geoms=None) -> None:
    """Write the result table; vector formats carry the park polygons."""
    import geopandas as gpd
    import pandas as pd

    from indicators.table import table_frame

    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        result.to_csv(out, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as xw:
            result.to_excel(xw, sheet_name="parks", index=False)
            table_frame().to_excel(xw, sheet_name="indicators", index=False)
    else:
        df = result.copy()
        for col in ("green_pass", "green_over_cap"):
            if col in df:  # nullable booleans -> plain object for the OGR writers
                df[col] = df[col].astype(object).where(df[col].notna(), None)
        gdf = gpd.GeoDataFrame(df, geometry=geoms.values, crs=geoms.crs)
        if suffix == ".geojson":
            gdf.to_crs(4326).to_file(out, driver="GeoJSON")
        elif suffix == ".gpkg":
            gdf.to_file(out, driver="GPKG", layer="parks")
        else:
            gdf.to_parquet(out)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "parks":
            return run_parks(args)
    except InputError as exc:
        print(f"error: {exc.en}\n错误：{exc.zh}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())

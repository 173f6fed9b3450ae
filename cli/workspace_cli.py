"""Administer the workspace from the shell (the same operations as the Data page).

    python -m cli workspace add PATH [PATH ...] --role landcover --legend clcd --year 2020 [--use]
    python -m cli workspace add-series 2000=clcd_2000.tif 2010=clcd_2010.tif 2020=clcd_2020.tif --legend clcd --use
    python -m cli workspace add roads.gpkg --role transport --kind major_road
    python -m cli workspace add gansu.osm.pbf --role osm
    python -m cli workspace add redline.shp --role redline --use
    python -m cli workspace add ghi.tif --role criterion --params ghi:mean:higher:kWh/m2/yr --use
    python -m cli workspace add reserve.gpkg --role exclusion --params reserve:800 --use
    python -m cli workspace add subs.gpkg --role grid --params substation --use
    python -m cli workspace add dem.tif --role dem --use
    python -m cli workspace params ID reserve:1000
    python -m cli workspace list | use ID [--as landcover_alt] | unuse ROLE | remove ID [--yes]
    python -m cli workspace use ID1 ID2 ID3 --as landcover_series

``--params`` is what follows ``FILE:`` in the input's flag of ``gansu parks``/``siting`` (``--criterion
FILE:NAME:STAT:DIRECTION[:UNIT]``, ``--exclusion FILE:KIND[:BUFFER_M]``, ``--grid FILE:KIND``), read by the
same parser; criterion rasters, exclusion and grid layers in use add to the others of their role.

A land-cover series is several land-cover datasets, one per year, of one legend and on one grid
(CRS, pixel size, corner, size). ``add-series`` registers the years in one go (every file's grid
checked before any is registered; a refusal registers none); ``use … --as landcover_series`` puts
registered years in use as the series (the same checks); either refusal names the year and file.

The store and the import folder follow GANSU_STORE and GANSU_IMPORT_DIR. ``add`` prints the new
dataset's id as the last line of its output, ``add-series`` the new ids in year order, comma-separated. Unusable input: exit code 2 and the message in
English and Chinese, nothing registered.
"""
from __future__ import annotations

import argparse
import sys

from core import paths
from core.errors import InputError
from layers import inputs
from storage import raster_register, series_register, series_rules, vector_register
from storage import workspace as ws
from storage.accounts import SHELL  # the server's shell acts as admin (it can read the store file anyway)
from storage.store import Store

KINDS = ws.TRANSPORT_KINDS


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gansu workspace", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("add", help="register a file (referenced in place) or several land-cover tiles (one mosaic)")
    a.add_argument("paths", nargs="+", help="file(s); several land-cover tiles become one mosaic")
    a.add_argument("--role", required=True, choices=(*inputs.roles()[:2], "osm", *inputs.roles()[2:]),
                   help="the role of the dataset (declared in layers/inputs.py)")
    a.add_argument("--legend", help="land cover: worldcover | clcd | globeland30 | igbp | a legend CSV "
                                    "(code,class); detected from the codes when unambiguous")
    a.add_argument("--year", type=int, help="land cover: year of the data")
    a.add_argument("--nodata", type=float, help="land cover without nodata: the value that means no data")
    a.add_argument("--kind", choices=KINDS, help="transport: the kind of every feature")
    a.add_argument("--kind-field", help="transport: field holding the kind of each feature")
    a.add_argument("--layer", help="layer of a multi-layer file (GeoPackage, File Geodatabase, TopoJSON, zip of "
                                   "Shapefiles, sheet of an Excel workbook)")
    a.add_argument("--swap-axes", action="store_true",
                   help="vector file whose X and Y are exchanged (northing in X, latitude first): read them swapped")
    a.add_argument("--assume-crs", help="CRS for a file that has none, e.g. EPSG:4490")
    a.add_argument("--name", help="display name (default: the file name)")
    a.add_argument("--name-field", help="zones/parks: field with the name")
    a.add_argument("--source", default="", help="where the data comes from (free text)")
    a.add_argument("--licence", default="", help="licence (free text)")
    a.add_argument("--params", help="criterion, exclusion, grid: the parameters as after FILE: in the flag of "
                                    "gansu parks (" + ", ".join(f"{i.flag} {i.metavar}" for i in _with_params())
                   + "), e.g. ghi:mean:higher:kWh/m2/yr, reserve:800, substation")
    a.add_argument("--use", action="store_true", help="put the new dataset in use (added to the others of a role "
                                                      "that takes several datasets)")
    sr = sub.add_parser("add-series", help="register a land-cover series: one file per year, one legend and grid "
                                           "(referenced in place)")
    sr.add_argument("items", nargs="+", metavar="YEAR=PATH", help="a year and its land-cover file, e.g. 2020=clcd_2020.tif")
    sr.add_argument("--legend", help="worldcover | clcd | globeland30 | igbp | a legend CSV (code,class); detected from "
                                     "the codes of the first year when unambiguous, then the same for every year")
    sr.add_argument("--name", help="the series' name (default: the first file's name without its year)")
    sr.add_argument("--source", default="", help="where the data comes from (free text)")
    sr.add_argument("--licence", default="", help="licence (free text)")
    sr.add_argument("--nodata", type=float, help="files without nodata: the value that means no data")
    sr.add_argument("--use", action="store_true", help="put the series in use (landcover_series)")
    pa = sub.add_parser("params", help="change the parameters of a criterion, exclusion or grid dataset")
    pa.add_argument("id")
    pa.add_argument("params", help="as after FILE: in the input's flag (see add --params)")
    sub.add_parser("list", help="datasets and the data in use")
    u = sub.add_parser("use", help="put a dataset in use (several: a role that takes several, or a land-cover series)")
    u.add_argument("ids", nargs="+", metavar="ID")
    u.add_argument("--as", dest="as_role", choices=[i.id for i in inputs.slots()],
                   help="role (default: the dataset's own; landcover_alt = second land-cover year; landcover_series = "
                        "the given land-cover years, replacing the series in use)")
    n = sub.add_parser("unuse", help="back to the default for a role")
    n.add_argument("role", choices=[i.id for i in inputs.slots()])
    tl = sub.add_parser("tiles", help="write the map's tiles (a COG) of raster datasets registered before map tiles")
    tl.add_argument("ids", nargs="*", metavar="ID", help="these datasets only (default: every raster without a COG)")
    r = sub.add_parser("remove", help="remove a dataset (referenced files are never deleted)")
    r.add_argument("id")
    r.add_argument("--yes", action="store_true", help="confirm removing a dataset that is in use")
    return ap


def _store():
    return Store(paths.store_path())


def _with_params() -> list:
    return [i for i in inputs.all_inputs() if i.params and i.role]


def _params(role: str, path: str, text: str | None) -> dict | None:
    """The parameters of a dataset of ``role`` read from ``text`` by its input's parser (the one of the
    flag of gansu parks, on ``FILE:text``); None for a role without parameters."""
    spec = next((i for i in _with_params() if i.role == role), None)
    if spec is None:
        if text:
            raise InputError(f"用途 {role} 不带参数（--params）。", f"role {role} takes no --params.")
        return None
    if not text:
        form = spec.metavar.split(":", 1)[1]
        raise InputError(f"用途 {role} 需要 --params {form}（与 {spec.flag} 的 FILE: 之后相同）。",
                         f"role {role} needs --params {form} (as after FILE: in {spec.flag}).")
    from indicators import measures  # start-up time: the measures load GeoPandas and rasterio (list, use need neither)

    return measures.read_params(spec.params, f"{path}:{text}")[1]


def cmd_add(a) -> int:
    s = _store()
    params = _params(a.role, a.paths[0], a.params)
    if a.role == "landcover":
        d = raster_register.register_landcover(s, a.paths, legend=a.legend, year=a.year, name=a.name, source=a.source,
                                               licence=a.licence, nodata=a.nodata, use=a.use,
                                               progress=_progress("scan"), actor=SHELL)
    elif len(a.paths) > 1:
        raise InputError("只有土地覆被可以一次登记多个文件（镶嵌）。", "only land cover takes several files (a mosaic).")
    elif a.role == "osm":
        d = vector_register.register_osm(s, a.paths[0], name=a.name, source_text=a.source, licence=a.licence,
                                         year=a.year, use=a.use, actor=SHELL)
    elif any(i.role == a.role and i.kind == "raster" for i in inputs.all_inputs()):  # a declared raster criterion
        d = raster_register.register_raster(s, a.paths[0], a.role, name=a.name, source_text=a.source,
                                            licence=a.licence, year=a.year, params=params, use=a.use, actor=SHELL)
    else:
        d = vector_register.register_vector(s, a.paths[0], a.role, kind=a.kind, kind_field=a.kind_field,
                                            layer=a.layer, assume_crs=a.assume_crs, swap_axes=a.swap_axes, name=a.name,
                                            name_field=a.name_field, source_text=a.source, licence=a.licence,
                                            year=a.year, params=params, use=a.use, actor=SHELL)
    print(f"registered {d.role} '{d.name}' ({d.original_filename}, sha256 {d.sha256[:12]}…"
          + (f", {ws.params_text(d.params)}" if d.params else "") + ")" + (" — in use" if a.use else ""),
          file=sys.stderr)
    for zh, en in d.notes:
        print(f"  note: {en} / {zh}", file=sys.stderr)
    print(d.id)
    return 0


def _series_items(texts: list[str]) -> list[tuple[int, str]]:
    out = []
    for text in texts:
        year, sep, path = text.partition("=")
        if not (sep and path and year.strip().isdigit() and len(year.strip()) == 4):
            raise InputError(f"“{text}” 不是 年份=文件（如 2020=clcd_2020.tif）。",
                             f"'{text}' is not YEAR=PATH (e.g. 2020=clcd_2020.tif).")
        out.append((int(year), path))
    return out


def cmd_add_series(a) -> int:
    ds = series_register.register_series(_store(), _series_items(a.items), legend=a.legend, name=a.name,
                                         source=a.source, licence=a.licence, nodata=a.nodata, use=a.use,
                                         actor=SHELL, progress=_progress("scan"))
    for d in ds:
        print(f"registered landcover '{d.name}' {d.year} ({d.original_filename}, legend {d.legend}, "
              f"sha256 {d.sha256[:12]}…) {d.id}", file=sys.stderr)
    for zh, en in dict.fromkeys(n for d in ds for n in d.notes):
        print(f"  note: {en} / {zh}", file=sys.stderr)
    if a.use:
        print("  — in use as landcover_series", file=sys.stderr)
    print(",".join(d.id for d in ds))
    return 0


def _progress(what: str):
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\r{what}: {100 * done / max(total, 1):5.1f}%", end="" if done < total else "\n", file=sys.stderr)

    return show


def cmd_list(a) -> int:
    s = _store()
    using = ws.in_use(s)
    for d in ws.datasets(s):
        roles = [r for r, ids in using.items() if d.id in ids]
        extra = f"legend {d.legend}, {d.year or ''}" if d.role == "landcover" else \
            ws.params_text(d.params) if d.params else ",".join(d.kinds)
        print(f"{d.id}\t{d.role}\t{d.name}\t{d.original_filename}\t{d.sha256[:12]}\t{extra}\t"
              f"{'IN USE: ' + ','.join(roles) if roles else ''}")
    print("in use: " + "; ".join(f"{r}={','.join(ids) or 'default'}" for r, ids in using.items()))
    return 0


def cmd_params(a) -> int:
    s = _store()
    d = ws.get(s, a.id)
    d = ws.set_params(s, d.id, _params(d.role, d.original_filename, a.params) or {}, actor=SHELL)
    print(f"{d.id} ({d.name}): {ws.params_text(d.params)}")
    return 0


def cmd_use(a) -> int:
    s = _store()
    ids = [ws.get(s, i).id for i in dict.fromkeys(a.ids)]
    role = a.as_role or ws.get(s, ids[0]).role
    if role == series_rules.SLOT:  # the given years are the series (checked, year order)
        ws.use(s, role, ids, actor=SHELL)
    elif inputs.get(role).selector == "many":  # transport, criterion rasters, exclusion and grid layers: more
        ws.use(s, role, [*ws.in_use(s).get(role, []), *ids], actor=SHELL)
    else:
        ws.use(s, role, ids, actor=SHELL)  # several: refused (one dataset at a time)
    print(f"{','.join(ids)} in use as {role}")
    return 0


def cmd_unuse(a) -> int:
    s = _store()
    ws.use(s, a.role, ws.DEFAULT_IN_USE.get(a.role, []), actor=SHELL)
    print(f"{a.role}: default")
    return 0


def cmd_tiles(a) -> int:
    done = raster_register.build_map_tiles(_store(), a.ids or None, actor=SHELL)
    for did, path in done:
        print(f"{did}: map tiles {path}")
    print(f"{len(done)} dataset(s) given map tiles")
    return 0


def cmd_remove(a) -> int:
    d = ws.remove(_store(), a.id, confirm=a.yes, actor=SHELL)
    print(f"moved {d.id} ({d.name}) to the recycle bin")
    return 0


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    return {"add": cmd_add, "add-series": cmd_add_series, "list": cmd_list, "use": cmd_use, "unuse": cmd_unuse, "remove": cmd_remove,
            "params": cmd_params, "tiles": cmd_tiles}[a.command](a)

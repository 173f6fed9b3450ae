"""Registering a land cover or another raster input. Two ways in: **bytes** from a browser upload
(one GeoTIFF, or a zip of GeoTIFF tiles; written under ``<data>/workspace/<id>/``, temporary name
then renamed) or **files on the server**, referenced in place. Several land-cover tiles become one
mosaic (a VRT, ``storage.raster_scan``). A raster without nodata is refused unless the user states
the nodata value (then a VRT carries it; the user's file is not touched). One pass over the raster
counts every code: codes outside the legend are refused, and a legend is detected when the codes
fit exactly one built-in legend. Nothing is written to the store unless every check passes.

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterable

import numpy as np

from core import limits, paths
from core.errors import InputError
from layers import inputs
from layers import legends as _legends
from layers.cog import TILES_NAME, tile_ready, write_cog
from storage.raster_scan import Progress, same_grid, scan_raster, tile_facts, write_vrt
from storage.dataset_params import check_params
from storage.workspace import Dataset, datasets, file_ref, new_id, sweep_orphans, timestamp, use_arg


class NodataMissing(InputError):
    """A raster without nodata: the user must say which value means "no data"."""


class LegendAmbiguous(InputError):
    """The codes fit several built-in legends: the user must choose (``candidates``)."""

    def __init__(self, zh: str, en: str, candidates: list[str]):
        super().__init__(zh, en)
        self.candidates = candidates


def legend_candidates(codes: Iterable[int]) -> list[str]:
    """Built-in legends whose codes (and nodata codes) hold every code present."""
    present = set(codes)
    return [lid for lid, lg in _legends.BUILTIN.items() if present <= set(lg.codes) | set(lg.nodata)]


def _resolve_legend(legend: str | None, codes: dict, name: str) -> tuple[str, list[tuple[str, str]]]:
    """The legend (given, or detected from the codes). A refusal lists up to 20 codes: they come
    from a raster that passed every check before its first pixel was read — a GeoTIFF opened with
    the GTiff driver only (its pixels are the uploader's own bytes), or a VRT whose tiles are
    GeoTIFFs in the import folder — never from a file a VRT could name elsewhere on the server."""
    notes = []
    if legend is None:
        cands = legend_candidates(codes)
        if len(cands) == 1:
            notes.append((f"根据像元代码自动识别图例：{cands[0]}", f"legend detected from the codes: {cands[0]}"))
            return cands[0], notes
        if not cands:
            raise InputError(f"{name} 的代码 {sorted(codes)[:20]} 不属于任何内置图例（worldcover、clcd、globeland30、igbp）："
                             "请提供自定义图例 CSV（code,class）。",
                             f"the codes of {name} {sorted(codes)[:20]} fit no built-in legend (worldcover, clcd, "
                             "globeland30, igbp): give a custom legend CSV (code,class).")
        raise LegendAmbiguous(f"{name} 的代码同时符合多个图例（{'、'.join(cands)}）：请选择图例。",
                              f"the codes of {name} fit several legends ({', '.join(cands)}): choose the legend.", cands)
    lg = _legends.get_legend(Path(legend) if str(legend).endswith(".csv") else legend)
    outside = sorted(set(codes) - set(lg.codes) - set(lg.nodata))
    if outside:
        n = sum(codes[c] for c in outside)
        raise InputError(
            f"{name} 含有图例“{lg.id}”之外的代码 {outside[:20]}（{n} 个像元）：请选择正确的图例，或在自定义图例中说明这些代码。",
            f"{name} holds codes outside the legend '{lg.id}': {outside[:20]} ({n} pixels). Choose the right "
            "legend, or give a custom legend that names them.")
    return (str(Path(legend).resolve()) if str(legend).endswith(".csv") else lg.id), notes


def register_landcover(store, sources: list[str | Path], *, legend: str | None = None, year: int | None = None,
                       name: str | None = None, source: str = "", licence: str = "", nodata: float | None = None,
                       storage: str = "reference", original_filename: str | None = None,
                       use: bool = False, use_as: str = "landcover", progress: Progress | None = None,
                       dataset_id: str | None = None, actor=None) -> Dataset:
    """Register one land-cover file or several tiles (one mosaic) found on the server.

    Raises ``NodataMissing`` (no nodata and none given), ``LegendAmbiguous`` (choose among
    ``candidates``), or ``InputError`` (different CRSs, codes outside the legend, unreadable).
    Nothing is written to the store unless every check passes."""
    rec = landcover_record(store, sources, legend=legend, year=year, name=name, source=source, licence=licence,
                           nodata=nodata, storage=storage, original_filename=original_filename, progress=progress,
                           dataset_id=dataset_id)
    try:
        store.add_dataset(rec.id, "landcover", rec.to_record(), use=(use_as, [rec.id]) if use else None, actor=actor)
    except BaseException:
        shutil.rmtree(paths.workspace_dir() / rec.id, ignore_errors=True)
        raise
    return rec


def landcover_record(store, sources: list[str | Path], *, legend: str | None = None, year: int | None = None,
                     name: str | None = None, source: str = "", licence: str = "", nodata: float | None = None,
                     storage: str = "reference", original_filename: str | None = None,
                     progress: Progress | None = None, dataset_id: str | None = None) -> Dataset:
    """Every check and the one scan of ``register_landcover`` (the map's COG, a mosaic VRT, a
    custom legend's copy written under ``<workspace>/<id>/``), nothing written to the store: the
    record to add (``storage.series_register`` adds several years in one transaction). A refusal
    leaves no folder behind; once the record is returned its folder is the caller's to keep or delete."""
    files = [Path(s).resolve() for s in sources]
    if not files:
        raise InputError("没有给出土地覆被文件。", "no land-cover file given.")
    for f in files:
        if not f.is_file():
            raise InputError(f"找不到文件 {f}。", f"file {f} not found.")
    # uploads (storage "workspace"): GeoTIFFs only; files on the server: also a VRT whose tiles are
    # GeoTIFFs in the import folder (or, named on the command line, in the VRT's own folder)
    # layers.readers loads every reader (pyogrio, geopandas): imported on first use, not at start-up time
    from layers.readers.gdal_safety import default_vrt_roots, display
    from layers.readers.raster import check_mosaic

    upload = storage == "workspace"
    names = [f.name for f in files]
    if upload and len(files) == 1 and original_filename:
        names = [display(original_filename)]  # "evil.tif", not the workspace's "upload.tif"
    facts = [tile_facts(f, n, allow_vrt=not upload, vrt_roots=None if upload else default_vrt_roots(f))
             for f, n in zip(files, names)]
    same_grid(facts, names)
    file_nodata = facts[0]["nodata"]
    if file_nodata is None and nodata is None:
        raise NodataMissing(
            f"{names[0]} 未设置无数据值（nodata）：数据范围外的像元会被当作某一地类。请说明哪个值表示“无数据”"
            "（如 CLCD、WorldCover 为 0，MODIS 为 255）。",
            f"{names[0]} has no nodata value: pixels outside the data would be counted as a land-cover class. "
            "Say which value means 'no data' (e.g. 0 for CLCD and WorldCover, 255 for MODIS).")
    eff_nodata = nodata if nodata is not None else file_nodata
    sweep_orphans(store)  # folders of imports killed earlier (a day old): never this one
    did = dataset_id or new_id()
    folder = paths.workspace_dir() / did
    folder.mkdir(parents=True, exist_ok=True)
    try:
        notes: list[tuple[str, str]] = []
        refs = [file_ref(f) for f in files]
        if len(files) > 1 or (nodata is not None and nodata != file_nodata):
            raster = folder / "mosaic.vrt"
            write_vrt(raster, files, facts, eff_nodata)
            # the grid it spans, checked before a pixel is read (coverage, pixel caps)
            check_mosaic(raster, display(original_filename) if original_filename else f"{names[0]} …", upload=upload)
            if len(files) > 1:
                notes.append((f"{len(files)} 个图幅组成一个镶嵌（VRT，未复制）", f"{len(files)} tiles as one mosaic (VRT, not copied)"))
            if nodata is not None and file_nodata is None:
                notes.append((f"无数据值按用户说明取 {nodata:g}", f"nodata = {nodata:g} as stated by the user"))
        else:
            raster = files[0]
        scan = scan_raster(raster, eff_nodata, progress)
        legend_id, lnotes = _resolve_legend(legend, scan["codes"], names[0] if len(names) == 1 else f"{names[0]} …")
        notes += lnotes
        if legend_id.endswith(".csv"):  # keep the custom legend with the dataset
            shutil.copyfile(legend_id, folder / "legend.csv")
            legend_id = str(folder / "legend.csv")
        # the map's copy: a COG with overviews (tiles at every zoom, ``ui.tileserver``; the province
        # image reads an overview), written once the codes are known to fit the legend
        write_cog(raster, folder / TILES_NAME, classes=True, name=names[0])
        sha = refs[0].sha256 if len(refs) == 1 and raster == files[0] else hashlib.sha256(
            json.dumps([[r.sha256 for r in refs], eff_nodata]).encode()).hexdigest()
        ext = _lonlat_extent(scan["bounds"], scan["crs"])
        rec = Dataset(
            id=did, role="landcover", name=name or (files[0].stem if len(files) == 1 else files[0].parent.name), storage=storage,
            original_filename=original_filename or (names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"),
            files=tuple(refs), sha256=sha, size_bytes=sum(r.size for r in refs), crs=scan["crs"].to_string(),
            resolution=_res_text(scan["res"], scan["crs"]), extent=ext, year=year, legend=legend_id,
            nodata=eff_nodata, n_pixels=int(scan["width"]) * int(scan["height"]), codes=scan["codes"],
            raster_path=str(raster), display_path=str(folder / TILES_NAME), source=source, licence=licence,
            added_at=timestamp(), notes=tuple(notes))
        return rec
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def register_raster(store, source: str | Path, role: str, *, name: str | None = None, year: int | None = None,
                    source_text: str = "", licence: str = "", params: dict | None = None, use: bool = False,
                    storage: str = "reference", original_filename: str | None = None, dataset_id: str | None = None,
                    actor=None) -> Dataset:
    """Register a raster of a declared raster input other than land cover (a criterion raster, a DEM:
    continuous values, ``layers.inputs``), referenced in place (or, ``storage="workspace"``, the upload
    ``register_raster_upload`` wrote) after the raster checks of every upload (GeoTIFF signature, size,
    CRS, nodata stated). ``params``: what the input's parser read after ``FILE:`` (a criterion's name,
    statistic, direction and unit), kept in the record; required by an input declared with ``params``.
    ``use`` adds it to the data in use (after the others of a "many" slot)."""
    spec = next((i for i in inputs.all_inputs() if i.role == role and i.kind == "raster"), None)
    if spec is None or role == "landcover":
        raise InputError(f"未知的栅格用途 {role!r}。", f"unknown raster role {role!r}.")
    check_params(spec, params)
    f = Path(source).resolve()
    if not f.is_file():
        raise InputError(f"找不到文件 {f}。", f"file {f} not found.")
    # the checks of every upload (signature, size, CRS, nodata, the corner blocks readable: a truncated
    # file is refused here, not met later in a run), values continuous
    # start-up time: layers.readers loads every reader
    from layers.readers.gdal_safety import display
    from layers.readers.raster import validate_geotiff

    shown = display(original_filename) if original_filename else f.name
    validate_geotiff(f, shown, categorical=False)
    facts = tile_facts(f, shown, allow_vrt=False, categorical=False)
    ref = file_ref(f)
    did = dataset_id or new_id()
    folder = paths.workspace_dir() / did
    made = not folder.exists()  # an upload's folder is its caller's to remove
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # the map's copy: a COG with AVERAGE overviews (continuous values), tiles at every zoom
        cog_path = write_cog(f, folder / TILES_NAME, classes=False, name=shown)
        res = (abs(facts["transform"].a), abs(facts["transform"].e))
        rec = Dataset(id=did, role=role, name=name or Path(shown).stem, storage=storage, original_filename=shown,
                      files=(ref,), sha256=ref.sha256, size_bytes=ref.size, crs=facts["crs"].to_string(),
                      resolution=_res_text(res, facts["crs"]), extent=_lonlat_extent(facts["bounds"], facts["crs"]),
                      year=year, nodata=facts["nodata"], n_pixels=int(facts["width"]) * int(facts["height"]),
                      raster_path=str(f), display_path=str(cog_path), source=source_text, licence=licence,
                      added_at=timestamp(), params=dict(params or {}))
        store.add_dataset(did, role, rec.to_record(), use=use_arg(store, spec, rec) if use else None, actor=actor)
    except BaseException:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            (folder / TILES_NAME).unlink(missing_ok=True)
        raise
    return rec


def register_raster_upload(store, data: bytes, filename: str, role: str, **kw) -> Dataset:
    """A criterion raster or DEM uploaded from the browser: one GeoTIFF (the TIFF signature checked
    before a byte is written, ``save_upload``), kept under ``<workspace>/<id>/`` and registered like a
    file on the server (``register_raster``); nothing is left behind when a check refuses it."""
    if len(data) > limits.MAX_UPLOAD_BYTES:
        raise InputError(f"{filename} 文件过大（{len(data) / 1e6:.1f} MB，上限 {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB）："
                         "请放入导入目录后在服务器端登记。",
                         f"{filename} is too large ({len(data) / 1e6:.1f} MB, limit {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB): "
                         "put it in the import folder and register it on the server.")
    sweep_orphans(store)  # folders of imports killed earlier (a day old): never this one
    did = new_id()
    try:
        path = save_upload(data, filename, did)
        return register_raster(store, path, role, storage="workspace", original_filename=filename, dataset_id=did,
                               **kw)
    except BaseException:
        shutil.rmtree(paths.workspace_dir() / did, ignore_errors=True)
        raise


def save_upload(data: bytes, filename: str, dataset_id: str) -> Path:
    """Write uploaded raster bytes under the workspace folder (temporary name, then renamed): a
    GeoTIFF only — anything without the TIFF signature (an XML virtual raster under a .tif name
    above all) is refused before a byte is written."""
    # layers.readers loads every reader: imported on first use, not at start-up time
    from layers.readers.gdal_safety import display as _display, not_geotiff

    err = not_geotiff(data[:1024], _display(filename))
    if err is not None:
        raise err
    folder = paths.workspace_dir() / dataset_id
    folder.mkdir(parents=True, exist_ok=True)
    ext = Path(_display(filename)).suffix.lower()
    out = folder / f"upload{ext if ext in ('.tif', '.tiff') else '.tif'}"
    tmp = out.with_suffix(".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return out


def register_landcover_upload(store, data: bytes, filename: str, **kw) -> Dataset:
    """A browser upload: one GeoTIFF, or a zip of GeoTIFF tiles (extracted safely, one mosaic).
    Every file must carry the TIFF signature, whatever its name: a VRT is refused by name."""
    # layers.readers loads every reader: imported on first use, not at start-up time
    from layers.readers.archive import extract_all
    from layers.readers.common import Source
    from layers.readers.gdal_safety import display, file_head, not_geotiff

    if len(data) > limits.MAX_UPLOAD_BYTES:
        raise InputError(f"{filename} 文件过大（{len(data) / 1e6:.1f} MB，上限 {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB）："
                         "请放入导入目录后在服务器端登记。",
                         f"{filename} is too large ({len(data) / 1e6:.1f} MB, limit {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB): "
                         "put it in the import folder and register it on the server.")
    did = new_id()
    folder = paths.workspace_dir() / did
    try:
        if filename.lower().endswith(".zip"):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "tiles").mkdir()
            files = extract_all(Source(filename, data=data), folder / "tiles")
            members = sorted((p, k) for k, p in files.items() if k.endswith((".tif", ".tiff")))
            if not members:
                raise InputError("压缩包中没有 GeoTIFF 图幅。", "no GeoTIFF tile in the archive.")
            for p, member in members:  # each tile a GeoTIFF, named as in the zip when it is not
                err = not_geotiff(file_head(p), display(member))
                if err is not None:
                    raise err
            tiles = [p for p, _ in members]
        else:
            tiles = [save_upload(data, filename, did)]
        kw.setdefault("name", Path(filename).stem or filename)
        return register_landcover(store, tiles, storage="workspace", original_filename=filename,
                                  dataset_id=did, **kw)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _lonlat_extent(bounds, crs) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    x0, y0, x1, y1 = bounds
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs, ys = np.meshgrid(np.linspace(x0, x1, 11), np.linspace(y0, y1, 11))
    lon, lat = tr.transform(xs.ravel(), ys.ravel())
    return (float(np.nanmin(lon)), float(np.nanmin(lat)), float(np.nanmax(lon)), float(np.nanmax(lat)))


def _res_text(res, crs) -> str:
    if crs.is_geographic:
        return f"{res[0]:.6g}° × {res[1]:.6g}°"
    return f"{res[0]:.6g} m × {res[1]:.6g} m"



def build_map_tiles(store, dataset_ids: Iterable[str] | None = None, *, actor=None) -> list[tuple[str, str]]:
    """The map's COG for raster datasets registered before map tiles (their map copy a small display
    copy, or none): written into each dataset's workspace folder, the record pointed at it (an admin's
    maintenance, logged), the old display copy removed. ``dataset_ids``: these only (default: every
    raster dataset without a COG). Returns (id, COG path) of each dataset done."""
    store.authorize(actor, "admin", what="dataset:tiles")  # before a file is written
    rasters = [d for d in datasets(store) if d.raster_path and d.role in ("landcover", "criterion", "dem")]
    if dataset_ids is not None:
        wanted = set(dataset_ids)
        unknown = wanted - {d.id for d in rasters}
        if unknown:
            raise InputError(f"没有编号为 {sorted(unknown)[0]} 的栅格数据集。", f"no raster dataset with id {sorted(unknown)[0]}.")
        rasters = [d for d in rasters if d.id in wanted]
    done = []
    for d in rasters:
        old = Path(d.display_path) if d.display_path else None
        if old is not None and old.name == TILES_NAME and old.is_file() and tile_ready(old):
            continue
        folder = paths.workspace_dir() / d.id
        folder.mkdir(parents=True, exist_ok=True)
        out = write_cog(d.raster_path, folder / TILES_NAME, classes=d.role == "landcover", name=d.name)
        try:
            store.update_dataset_display(d.id, str(out), actor=actor)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        if old is not None and old.name == "display.tif" and old.parent == folder:
            old.unlink(missing_ok=True)
        done.append((d.id, str(out)))
    return done

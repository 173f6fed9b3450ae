"""The workspace: the user's own datasets and the one choice of data in use.

A dataset has a role — ``landcover`` (year, legend), ``transport`` (one kind, a column mapped to
kinds, or an OSM extract giving several kinds), ``redline``, ``zones`` or ``parks`` — and its
provenance: original file name, SHA-256, size, CRS, resolution, extent, year, legend, feature or
pixel counts, when it was added, the source and licence typed by the user, and the status
"uploaded by user".

Two ways in:

- **bytes** from a browser upload: a raster is written under ``<data>/workspace/<id>/`` (temporary
  name, then renamed), vectors go into the store;
- **files on the server** (the import folder ``GANSU_IMPORT_DIR``, or any path an administrator
  names): referenced in place, never copied. Their SHA-256, size, modification and change time,
  inode and device are recorded and :func:`verify` checks them on every use, so a changed or
  removed file is reported, never silently used.

Several land-cover tiles become one mosaic (a VRT written here): tiles of different CRS, pixel
size, data type or nodata are refused by name. A raster without nodata is refused unless the
user states the nodata value (then a VRT carries it; the user's file is not touched). One pass
over the raster counts every code (codes outside the legend are refused; a legend is detected
when the codes fit exactly one built-in legend) and writes a small display copy for the map
(nearest sample, at most ``DISPLAY_MAX_SIDE`` px, with overviews so a map view reads only what it
shows).

The data in use (``in_use``) is one choice for the whole app, kept in the store: land cover and
an optional second year, transport datasets (the built-in airports are ``builtin:airports``),
red line and zones (an official file replacing the proxy/schematic layer). Registration, the
change of the data in use and removal are each one store transaction; the files of a killed
import (its folder under the workspace, owned by no dataset) are swept by ``sweep_orphans`` a day
later (``tests/test_hardening_crash_workspace.py`` kills imports at random points). A removed
dataset's folder waits in the recycle bin's folder; the moves are ordered around the store commit
so that a crash never leaves files owned by nothing that is still needed (``storage.workspace_files``).

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from xml.sax.saxutils import escape

import numpy as np

from core import paths
from core.errors import InputError
from core.text import Text
from layers import fileid
from layers import legends as _legends
from storage import workspace_files as _files

ROLES = ("landcover", "transport", "redline", "zones", "parks")
ROLE_LABELS = {
    "landcover": Text("土地覆被", "land cover"),
    "transport": Text("交通", "transport"),
    "redline": Text("生态保护红线", "red line"),
    "zones": Text("“四屏一廊”分区", "zones"),
    "parks": Text("园区", "parks"),
}
REPLACES = {"redline": "protection_proxy", "zones": "zones"}  # catalog layer an upload replaces
TRANSPORT_KINDS: tuple[str, ...] = ("expressway", "major_road", "railway", "station", "airport")
LINE_KINDS = ("expressway", "major_road", "railway")
BUILTIN_AIRPORTS = "builtin:airports"
DEFAULT_IN_USE = {"landcover": [], "landcover_alt": [], "transport": [BUILTIN_AIRPORTS]}
DISPLAY_MAX_SIDE = 2048  # pixels on the long side of a raster's display copy
Progress = Callable[[int, int], None]


class NodataMissing(InputError):
    """A raster without nodata: the user must say which value means "no data"."""


class LegendAmbiguous(InputError):
    """The codes fit several built-in legends: the user must choose (``candidates``)."""

    def __init__(self, zh: str, en: str, candidates: list[str]):
        super().__init__(zh, en)
        self.candidates = candidates


class InUse(InputError):
    """Removing a dataset that is in use needs confirmation."""


@dataclass(frozen=True)
class FileRef:
    """One file a dataset depends on, as it was when registered (``layers.fileid``: the change
    time, inode and device are what a user cannot put back; records made before they were kept
    have None there and are re-hashed)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    ctime_ns: int | None = None
    ino: int | None = None
    dev: int | None = None


@dataclass(frozen=True)
class Dataset:
    id: str
    role: str
    name: str
    original_filename: str
    storage: str  # reference (in place) | workspace (copied under data/workspace) | store
    files: tuple[FileRef, ...] = ()
    sha256: str = ""
    size_bytes: int = 0
    crs: str | None = None
    resolution: str | None = None
    extent: tuple[float, ...] | None = None  # lon/lat (west, south, east, north)
    year: int | None = None
    legend: str | None = None  # built-in id, or the path of a custom CSV legend
    kind: str | None = None  # transport: a kind, "mapped" (column) or "osm"
    kinds: tuple[str, ...] = ()  # transport kinds present
    nodata: float | None = None
    n_features: int | None = None
    n_pixels: int | None = None
    codes: dict = field(default_factory=dict)  # landcover: code -> pixel count
    raster_path: str | None = None  # what the engine reads (the file, or the mosaic VRT)
    display_path: str | None = None  # small copy for the map
    upload_id: str | None = None  # redline/zones: the replacement layer in the store
    park_ids: tuple[str, ...] = ()
    source: str = ""
    licence: str = ""
    added_at: str = ""
    notes: tuple[tuple[str, str], ...] = ()  # (zh, en)
    status: str = "user"

    def to_record(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, rec: dict) -> "Dataset":
        rec = dict(rec)
        rec["files"] = tuple(FileRef(**f) for f in rec.get("files", ()))
        for k in ("extent", "kinds", "park_ids"):
            if rec.get(k) is not None:
                rec[k] = tuple(rec[k])
        rec["notes"] = tuple(tuple(n) for n in rec.get("notes", ()))
        rec["codes"] = {int(k): int(v) for k, v in (rec.get("codes") or {}).items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in rec.items() if k in known})

    def label(self, lang: str = "zh") -> str:
        role = ROLE_LABELS[self.role].pick(lang)
        year = f" {self.year}" if self.year else ""
        return f"{self.name}{year} · {role}"


# --- hashing and verification -----------------------------------------------------------------
def sha256_file(path: str | Path, chunk: int = 8 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def file_ref(path: str | Path) -> FileRef:
    p = Path(path).resolve()
    fp = fileid.fingerprint(p)  # before hashing: a change while hashing makes the next check re-hash
    return FileRef(str(p), fp.size, fp.mtime_ns, sha256_file(p), fp.ctime_ns, fp.ino, fp.dev)


_HASHED: dict[tuple[str, fileid.Fingerprint], str] = {}  # SHA-256 per file version hashed here
_HASHED_MAX = 256


def _sha_of_version(p: Path, fp: fileid.Fingerprint) -> str:
    """SHA-256 of this version of the file (hashed once per process: the key changes with any write)."""
    key = (str(p), fp)
    if key not in _HASHED:
        if len(_HASHED) >= _HASHED_MAX:
            _HASHED.pop(next(iter(_HASHED)))
        _HASHED[key] = sha256_file(p)
    return _HASHED[key]


def verify(ds: Dataset) -> None:
    """Refuse a dataset whose files changed or vanished since registration (bilingual message).

    The fingerprint (size, modification and change time, inode, device: ``layers.fileid``) is
    compared first; when any part differs — or the record predates the change time and inode —
    the file is hashed again, so a file that was only touched is accepted and an edited one is
    refused, even with its size and modification time put back."""
    for ref in ds.files:
        p = Path(ref.path)
        if not p.is_file():
            raise InputError(f"数据集“{ds.name}”的文件 {p.name} 已不存在（{p.parent}）：请恢复该文件或删除此数据集。",
                             f"dataset '{ds.name}': its file {p.name} is gone ({p.parent}); restore it or remove the dataset.")
        fp = fileid.fingerprint(p)
        if fp == (ref.size, ref.mtime_ns, ref.ctime_ns, ref.ino, ref.dev):
            continue
        if fp.size != ref.size or _sha_of_version(p, fp) != ref.sha256:
            raise InputError(
                f"数据集“{ds.name}”的文件 {p.name} 在登记后已被修改（SHA-256 不同）：不会使用已改动的文件。"
                "请重新登记该文件，或恢复原文件。",
                f"dataset '{ds.name}': its file {p.name} changed after it was registered (SHA-256 differs); "
                "a changed file is never used. Register it again, or restore the original.")


# --- registry of datasets in the store --------------------------------------------------------
def datasets(store, role: str | None = None) -> list[Dataset]:
    out = [Dataset.from_record(r) for r in store.datasets()]
    return [d for d in out if role is None or d.role == role]


def get(store, dataset_id: str) -> Dataset:
    rec = store.dataset_record(dataset_id)
    if rec is None:
        raise InputError(f"没有编号为 {dataset_id} 的数据集。", f"no dataset with id {dataset_id}.")
    return Dataset.from_record(rec)


def in_use(store) -> dict[str, list[str]]:
    """{role: dataset ids}: landcover, landcover_alt, transport, redline, zones (defaults filled)."""
    chosen = {**DEFAULT_IN_USE, **store.in_use()}
    for role, layer in REPLACES.items():
        rec = store.active_user_layer(layer)
        ids = [d.id for d in datasets(store, role) if rec is not None and d.upload_id == rec["upload_id"]]
        chosen[role] = ids
    return chosen


def use(store, role: str, dataset_ids: Iterable[str], *, actor=None) -> None:
    """Put datasets in use for a role (landcover, landcover_alt, transport, redline, zones): the
    data in use is everyone's, so with accounts only an admin changes it (the store checks)."""
    ids = list(dict.fromkeys(dataset_ids))
    if role in REPLACES:
        if len(ids) > 1:
            raise InputError("红线和分区一次只能使用一个数据集。", "one red-line or zones dataset at a time.")
        if ids:
            ds = get(store, ids[0])
            _check_role(ds, role)
            store.activate_user_layer(REPLACES[role], ds.upload_id, actor=actor)
        else:
            store.revert_user_layer(REPLACES[role], actor=actor)
        return
    want = {"landcover": "landcover", "landcover_alt": "landcover", "transport": "transport"}.get(role)
    if want is None:
        raise InputError(f"未知用途 {role!r}。", f"unknown role {role!r}.")
    if role.startswith("landcover") and len(ids) > 1:
        raise InputError("一次只能使用一个土地覆被数据集（多个图幅请登记为一个镶嵌）。",
                         "one land-cover dataset at a time (register several tiles as one mosaic).")
    for i in ids:
        if i != BUILTIN_AIRPORTS:
            _check_role(get(store, i), want)
    store.set_in_use(role, ids, actor=actor)


def _check_role(ds: Dataset, role: str) -> None:
    if ds.role != role:
        raise InputError(f"数据集“{ds.name}”的用途是{ROLE_LABELS[ds.role].zh}，不能用作{ROLE_LABELS[role].zh}。",
                         f"dataset '{ds.name}' is {ROLE_LABELS[ds.role].en}, not {ROLE_LABELS[role].en}.")


def roles_using(store, dataset_id: str) -> list[str]:
    return [role for role, ids in in_use(store).items() if dataset_id in ids]


def remove(store, dataset_id: str, *, confirm: bool = False, actor=None) -> Dataset:
    """Move a dataset to the recycle bin (its owner or an admin; the store checks). One in use
    needs the right to change the data in use (an admin; an editor is refused by the store) and
    ``confirm=True``; its role falls back to the default (built-in land cover, airports, the
    schematic/proxy layer) in the same transaction, and a restore puts it back. The files the
    workspace wrote for it move to ``<workspace>/.bin/<id>`` after the store commits (a crash in
    between leaves them owned by the bin entry: ``storage.workspace_files``) until it is restored
    or the bin is emptied (``empty_bin``); referenced files (import folder) are never touched."""
    ds = get(store, dataset_id)
    using = roles_using(store, dataset_id)
    if using and not confirm and store.allowed(actor, "admin"):
        raise InUse(f"数据集“{ds.name}”正在使用中（{'、'.join(using)}）：确认后删除，并改用默认数据。",
                    f"dataset '{ds.name}' is in use ({', '.join(using)}): confirm to remove it and fall back to the default.")
    with _files.MOVES:
        store.delete_dataset(dataset_id, actor=actor)  # parks, the layer and the data in use go with it
        _files.into_bin(dataset_id)
    return ds


bin_dir = _files.bin_dir


def restore(store, bin_id: str, *, actor=None) -> dict:
    """Restore any recycle-bin entry (park, scenario, dataset); a dataset's folder comes back out of
    ``.bin`` first, then the store commits (a crash in between: the bin entry still owns it)."""
    with _files.MOVES:
        entry = store.bin_entry(bin_id)
        did = entry["item_id"] if entry is not None and entry["item_type"] == "dataset" else None
        if did and store.allowed(actor, "owner", entry["owner"]):
            _files.out_of_bin(did)
        try:
            return store.restore_from_bin(bin_id, actor=actor)
        except BaseException:
            if did and store.dataset_record(did) is None:
                _files.into_bin(did)
            raise


def empty_bin(store, bin_ids: list[str] | None = None, *, actor=None) -> list[dict]:
    """Delete binned items for good (admin): store rows first, then the files the workspace wrote
    (a crash in between leaves the folder owned by nothing: ``sweep_orphans`` deletes it; an
    uploaded OSM file outside it would stay, unused)."""
    with _files.MOVES:
        gone = store.empty_bin(bin_ids, actor=actor)
        for e in gone:
            if e["item_type"] == "dataset":
                shutil.rmtree(bin_dir() / e["item_id"], ignore_errors=True)
                if store.dataset_record(e["item_id"]) is None:  # a remove interrupted before its move
                    shutil.rmtree(paths.workspace_dir() / e["item_id"], ignore_errors=True)
                _drop_workspace_files(store, Dataset.from_record(json.loads(e["payload"]["dataset"]["record"])))
    return gone


def _drop_workspace_files(store, ds: Dataset) -> None:
    """Files the workspace itself wrote for ``ds`` outside its folder (an uploaded OSM extract)
    that no listed dataset and no dataset in the recycle bin names; referenced files (import
    folder) are never deleted."""
    root = paths.workspace_dir()
    others = _files.referenced_paths(store)
    for ref in ds.files:
        p = Path(ref.path)
        if root in p.parents and ref.path not in others:
            p.unlink(missing_ok=True)


def legend_key(legend: str | None) -> str | None:
    """What makes two legends the same: the built-in id, or the content of a custom CSV legend
    (each dataset keeps its own copy of its CSV, so paths differ for the same legend)."""
    if legend and str(legend).endswith(".csv") and Path(legend).is_file():
        return "csv:" + sha256_file(legend)
    return legend


def sweep_orphans(store, min_age_s: float = 24 * 3600) -> list[Path]:
    """Delete workspace folders that no dataset owns: what a killed or failed import left (a copied
    upload, a partial display copy or VRT). Only folders named like a dataset id, owned neither by
    a listed dataset nor by one in the recycle bin (one snapshot of both), whose newest file is
    older than ``min_age_s``, so an import still running in another process is never touched.
    Moves a crash interrupted are finished first (``storage.workspace_files.reconcile``: this also
    deletes ``.bin`` folders whose bin entry was purged). Referenced files (import folder) are
    outside the workspace and never deleted."""
    import time

    root = paths.workspace_dir()
    if not root.is_dir():
        return []
    with _files.MOVES:
        known = _files.owners(store)
        out = _files.reconcile(store, known)
        now = time.time()
        for p in root.iterdir():
            if p.name in known or not p.is_dir() or p.is_symlink() or not _files.DATASET_DIR.fullmatch(p.name):
                continue
            try:
                newest = max([p.stat().st_mtime] + [f.stat().st_mtime for f in p.rglob("*")])
            except OSError:
                continue
            if now - newest >= min_age_s:
                shutil.rmtree(p, ignore_errors=True)
                out.append(p)
    return out


# --- land cover ----------------------------------------------------------------------------
def _new_id() -> str:
    return "D" + uuid.uuid4().hex[:9].upper()


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _tile_facts(path: Path, name: str, *, allow_vrt: bool = True, vrt_roots: list[Path] | None = None) -> dict:
    """Open a tile without letting GDAL guess its format (``gdal_safety.open_raster``: a GeoTIFF,
    or a plain VRT over GeoTIFFs in ``vrt_roots`` when ``allow_vrt``) and run the raster checks."""
    # layers.readers loads every reader (pyogrio, geopandas): imported on first use, not at start-up
    from layers.readers.gdal_safety import open_raster
    from layers.readers.raster import check_dataset

    try:
        ds = open_raster(path, name, allow_vrt=allow_vrt, vrt_roots=vrt_roots)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - GDAL: corrupt header
        msg = (str(e).splitlines() or [type(e).__name__])[0][:160]
        raise InputError(f"{name} 无法作为栅格打开（{msg}）。", f"{name} cannot be opened as a raster ({msg}).") from None
    with ds:
        check_dataset(ds, name)
        return {"crs": ds.crs, "transform": ds.transform, "width": ds.width, "height": ds.height,
                "dtype": ds.dtypes[0], "nodata": ds.nodata, "bounds": tuple(ds.bounds),
                "block": ds.block_shapes[0]}


def _same_grid(facts: list[dict], names: list[str]) -> None:
    f0 = facts[0]
    for f, n in zip(facts[1:], names[1:]):
        if f["crs"] != f0["crs"]:
            raise InputError(f"图幅的坐标系不一致：{names[0]} 为 {f0['crs'].to_string()}，{n} 为 {f['crs'].to_string()}。"
                             "镶嵌要求所有图幅使用同一坐标系：请先将其重投影到同一坐标系。",
                             f"the tiles are in different CRSs: {names[0]} is {f0['crs'].to_string()}, {n} is "
                             f"{f['crs'].to_string()}. A mosaic needs one CRS: reproject them to one first.")
        a, b = f0["transform"], f["transform"]
        if not (math.isclose(a.a, b.a, rel_tol=1e-9) and math.isclose(a.e, b.e, rel_tol=1e-9)):
            raise InputError(f"图幅像元大小不一致：{names[0]} 为 {abs(a.a):g}，{n} 为 {abs(b.a):g}。",
                             f"the tiles have different pixel sizes: {names[0]} {abs(a.a):g}, {n} {abs(b.a):g}.")
        off_x, off_y = (b.c - a.c) / a.a, (b.f - a.f) / a.e
        if abs(off_x - round(off_x)) > 1e-6 or abs(off_y - round(off_y)) > 1e-6:
            raise InputError(f"图幅 {n} 与 {names[0]} 不在同一像元格网上（偏移不是整像元）。",
                             f"tile {n} is not on the pixel grid of {names[0]} (offset is not a whole number of pixels).")
        if f["dtype"] != f0["dtype"]:
            raise InputError(f"图幅数据类型不一致：{f0['dtype']} 与 {f['dtype']}。",
                             f"the tiles have different data types: {f0['dtype']} and {f['dtype']}.")
        if f["nodata"] != f0["nodata"]:
            raise InputError(f"图幅的无数据值不一致：{f0['nodata']} 与 {f['nodata']}。",
                             f"the tiles have different nodata values: {f0['nodata']} and {f['nodata']}.")


def write_vrt(out: Path, tiles: list[Path], facts: list[dict], nodata: float | None) -> None:
    """A mosaic VRT over tiles on one grid (written here, GDAL reads it); ``nodata`` overrides."""
    a = facts[0]["transform"]
    west = min(f["transform"].c for f in facts)
    north = max(f["transform"].f for f in facts) if a.e < 0 else min(f["transform"].f for f in facts)
    cols = [round((f["transform"].c - west) / a.a) for f in facts]
    rows = [round((f["transform"].f - north) / a.e) for f in facts]
    width = max(c + f["width"] for c, f in zip(cols, facts))
    height = max(r + f["height"] for r, f in zip(rows, facts))
    dtype = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
             "int32": "Int32", "int64": "Int64", "uint64": "UInt64"}[facts[0]["dtype"]]
    nd = f"<NoDataValue>{nodata:g}</NoDataValue>" if nodata is not None else ""
    srcs = []
    for t, f, c, r in zip(tiles, facts, cols, rows):
        bh, bw = f["block"]
        srcs.append(
            f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(str(t))}</SourceFilename>'
            f'<SourceBand>1</SourceBand><SourceProperties RasterXSize="{f["width"]}" RasterYSize="{f["height"]}" '
            f'DataType="{dtype}" BlockXSize="{bw}" BlockYSize="{bh}"/>'
            f'<SrcRect xOff="0" yOff="0" xSize="{f["width"]}" ySize="{f["height"]}"/>'
            f'<DstRect xOff="{c}" yOff="{r}" xSize="{f["width"]}" ySize="{f["height"]}"/></SimpleSource>')
    xml = (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
           f'<SRS>{escape(facts[0]["crs"].to_wkt())}</SRS>'
           f'<GeoTransform>{west!r}, {a.a!r}, 0, {north!r}, 0, {a.e!r}</GeoTransform>'
           f'<VRTRasterBand dataType="{dtype}" band="1">{nd}{"".join(srcs)}</VRTRasterBand></VRTDataset>')
    tmp = out.with_suffix(".vrt.tmp")
    tmp.write_text(xml, encoding="utf-8")
    os.replace(tmp, out)


SCAN_READ_PIXELS = 4 << 20  # pixels one read of the registration scan asks GDAL for (~4 M)


def _scan_windows(w: int, h: int, bh: int, bw: int, budget: int):
    """(row0, row1, col0, col1) windows covering the raster once, row band by row band, none
    larger than ``budget`` pixels: strips of whole blocks' rows when a row of blocks fits, else
    each row band read in column chunks of whole blocks (a raster millions of pixels wide)."""
    bh, bw, w = max(1, bh), max(1, bw), max(1, w)
    if w * bh <= budget:
        rows, cols = max(bh, budget // w // bh * bh), w
    else:
        rows = min(bh, max(1, budget // min(w, bw)))
        cols = max(1, budget // rows)
        cols = cols // bw * bw if cols >= bw else cols
    for r0 in range(0, h, rows):
        for c0 in range(0, w, cols):
            yield r0, min(h, r0 + rows), c0, min(w, c0 + cols)


def scan_raster(path: Path, nodata: float | None, display_out: Path | None,
                progress: Progress | None = None) -> dict:
    """One pass in windows: pixel count of every code (nodata excluded) and, optionally, a display
    copy (nearest sample of every k-th pixel, at most ``DISPLAY_MAX_SIDE`` on the long side).
    Memory: one window of at most ``SCAN_READ_PIXELS`` pixels (``_scan_windows``)."""
    import rasterio
    from rasterio.windows import Window

    from layers.readers.gdal_safety import open_raster  # layers.readers loads every reader: on first use

    # every block is read once: GDAL's block cache (5% of RAM by default) would only add memory
    with rasterio.Env(GDAL_CACHEMAX=64), open_raster(path) as src:
        w, h = src.width, src.height
        k = max(1, math.ceil(max(w, h) / DISPLAY_MAX_SIDE))
        bh, bw = (max(1, int(v)) for v in src.block_shapes[0])
        dt_ = np.dtype(src.dtypes[0])
        small = dt_.itemsize <= 2 and dt_.kind == "u"
        counts = np.zeros(1 << (8 * dt_.itemsize), dtype=np.int64) if small else {}
        dw, dh = math.ceil(w / k), math.ceil(h / k)
        display = np.zeros((dh, dw), dtype=dt_) if display_out is not None else None
        # the sample of display pixel (i, j): source pixel (i*k + k//2, j*k + k//2), clamped to the
        # last row/column when the raster ends inside the last display pixel (w or h not a multiple of k)
        rows_s = np.minimum(np.arange(dh) * k + k // 2, h - 1)
        cols_s = np.minimum(np.arange(dw) * k + k // 2, w - 1)
        for r0, r1, c0, c1 in _scan_windows(w, h, bh, bw, SCAN_READ_PIXELS):
            block = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            if small:
                counts += np.bincount(block.ravel(), minlength=counts.size)
            else:
                vals, cnt = np.unique(block, return_counts=True)
                for v, c in zip(vals.tolist(), cnt.tolist()):
                    counts[v] = counts.get(v, 0) + c
            if display is not None:  # display pixels sampled in this window
                sr = np.nonzero((rows_s >= r0) & (rows_s < r1))[0]
                sc = np.nonzero((cols_s >= c0) & (cols_s < c1))[0]
                if sr.size and sc.size:
                    display[np.ix_(sr, sc)] = block[np.ix_(rows_s[sr] - r0, cols_s[sc] - c0)]
            if progress and c1 == w:
                progress(r1, h)
        if small:
            codes = {int(c): int(n) for c, n in enumerate(counts) if n}
        else:
            codes = {int(c): int(n) for c, n in counts.items() if n}
        if nodata is not None:
            codes.pop(int(nodata), None) if float(nodata).is_integer() else None
        if display is not None:
            profile = {"driver": "GTiff", "width": dw, "height": dh, "count": 1, "dtype": dt_.name,
                       "crs": src.crs, "transform": src.transform @ src.transform.scale(k, k),
                       "compress": "deflate", "tiled": dw >= 256 and dh >= 256}
            if nodata is not None:
                profile["nodata"] = nodata
            tmp = display_out.with_suffix(".tmp.tif")
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(display, 1)
                # internal overviews (nearest: codes stay codes) so a map view reads only what it shows
                levels = [f for f in (2, 4, 8, 16) if max(dw, dh) // f >= 128]
                if levels:
                    from rasterio.enums import Resampling

                    dst.build_overviews(levels, Resampling.nearest)
            os.replace(tmp, display_out)
        return {"codes": codes, "width": w, "height": h, "factor": k,
                "bounds": tuple(src.bounds), "crs": src.crs, "res": (abs(src.transform.a), abs(src.transform.e))}


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
    files = [Path(s).resolve() for s in sources]
    if not files:
        raise InputError("没有给出土地覆被文件。", "no land-cover file given.")
    for f in files:
        if not f.is_file():
            raise InputError(f"找不到文件 {f}。", f"file {f} not found.")
    # uploads (storage "workspace"): GeoTIFFs only; files on the server: also a VRT whose tiles are
    # GeoTIFFs in the import folder (or, named on the command line, in the VRT's own folder)
    from layers.readers.gdal_safety import default_vrt_roots, display  # layers.readers: loaded on first use
    from layers.readers.raster import check_mosaic  # the same: on first use

    upload = storage == "workspace"
    names = [f.name for f in files]
    if upload and len(files) == 1 and original_filename:
        names = [display(original_filename)]  # "evil.tif", not the workspace's "upload.tif"
    facts = [_tile_facts(f, n, allow_vrt=not upload, vrt_roots=None if upload else default_vrt_roots(f))
             for f, n in zip(files, names)]
    _same_grid(facts, names)
    file_nodata = facts[0]["nodata"]
    if file_nodata is None and nodata is None:
        raise NodataMissing(
            f"{names[0]} 未设置无数据值（nodata）：数据范围外的像元会被当作某一地类。请说明哪个值表示“无数据”"
            "（如 CLCD、WorldCover 为 0，MODIS 为 255）。",
            f"{names[0]} has no nodata value: pixels outside the data would be counted as a land-cover class. "
            "Say which value means 'no data' (e.g. 0 for CLCD and WorldCover, 255 for MODIS).")
    eff_nodata = nodata if nodata is not None else file_nodata
    sweep_orphans(store)  # folders of imports killed earlier (a day old): never this one
    did = dataset_id or _new_id()
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
        scan = scan_raster(raster, eff_nodata, folder / "display.tif", progress)
        legend_id, lnotes = _resolve_legend(legend, scan["codes"], names[0] if len(names) == 1 else f"{names[0]} …")
        notes += lnotes
        if legend_id.endswith(".csv"):  # keep the custom legend with the dataset
            shutil.copyfile(legend_id, folder / "legend.csv")
            legend_id = str(folder / "legend.csv")
        sha = refs[0].sha256 if len(refs) == 1 and raster == files[0] else hashlib.sha256(
            json.dumps([[r.sha256 for r in refs], eff_nodata]).encode()).hexdigest()
        ext = _lonlat_extent(scan["bounds"], scan["crs"])
        rec = Dataset(
            id=did, role="landcover", name=name or (files[0].stem if len(files) == 1 else files[0].parent.name), storage=storage,
            original_filename=original_filename or (names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"),
            files=tuple(refs), sha256=sha, size_bytes=sum(r.size for r in refs), crs=scan["crs"].to_string(),
            resolution=_res_text(scan["res"], scan["crs"]), extent=ext, year=year, legend=legend_id,
            nodata=eff_nodata, n_pixels=int(scan["width"]) * int(scan["height"]), codes=scan["codes"],
            raster_path=str(raster), display_path=str(folder / "display.tif"), source=source, licence=licence,
            added_at=_now(), notes=tuple(notes))
        store.add_dataset(did, "landcover", rec.to_record(), use=(use_as, [did]) if use else None, actor=actor)
        return rec
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def save_upload(data: bytes, filename: str, dataset_id: str) -> Path:
    """Write uploaded raster bytes under the workspace folder (temporary name, then renamed): a
    GeoTIFF only — anything without the TIFF signature (an XML virtual raster under a .tif name
    above all) is refused before a byte is written."""
    from layers.readers.gdal_safety import display as _display, not_geotiff  # layers.readers: on first use

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
    from core import limits
    from layers.readers.archive import extract_all  # layers.readers loads every reader: on first use
    from layers.readers.common import Source
    from layers.readers.gdal_safety import display, file_head, not_geotiff

    if len(data) > limits.MAX_UPLOAD_BYTES:
        raise InputError(f"{filename} 文件过大（{len(data) / 1e6:.1f} MB，上限 {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB）："
                         "请放入导入目录后在服务器端登记。",
                         f"{filename} is too large ({len(data) / 1e6:.1f} MB, limit {limits.MAX_UPLOAD_BYTES / 1e6:.0f} MB): "
                         "put it in the import folder and register it on the server.")
    did = _new_id()
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


# --- vectors ----------------------------------------------------------------------------------
def _read(source: str | Path | bytes, filename: str, *, polygons_only: bool, layer=None, assume_crs=None,
          gcj02=False, swap_axes=False):
    from layers import readers

    if isinstance(source, (bytes, bytearray)):
        return readers.read_vector(filename, bytes(source), layer=layer, assume_crs=assume_crs,
                                   polygons_only=polygons_only, gcj02=gcj02, swap_axes=swap_axes)
    return readers.read_path(source, layer=layer, assume_crs=assume_crs, polygons_only=polygons_only, gcj02=gcj02,
                             swap_axes=swap_axes)


def _refs_for(source, storage: str) -> tuple[tuple[FileRef, ...], str, int]:
    if isinstance(source, (bytes, bytearray)):
        return (), hashlib.sha256(source).hexdigest(), len(source)
    if Path(source).is_dir():  # a File Geodatabase folder (read into the store: no reference kept)
        from layers.readers.filegdb import folder_sha256  # layers.readers loads every reader: on first use

        files = [p for p in Path(source).iterdir() if p.is_file()]
        return (), folder_sha256(source), sum(p.stat().st_size for p in files)
    ref = file_ref(source)
    return ((ref,) if storage == "reference" else ()), ref.sha256, ref.size


def register_vector(store, source: str | Path | bytes, role: str, *, filename: str | None = None,
                    kind: str | None = None, kind_field: str | None = None, kind_map: dict | None = None,
                    layer: str | None = None, assume_crs: str | None = None, gcj02: bool = False,
                    name: str | None = None, source_text: str = "", licence: str = "", year: int | None = None,
                    name_field: str | None = None, use: bool = False, actor=None, swap_axes: bool = False) -> Dataset:
    """Register a vector dataset (transport, redline, zones, parks) from upload bytes or a path.

    Transport: ``kind`` for the whole file, or ``kind_field`` (+ ``kind_map`` value → kind; by
    default the values must be kind names). Red line / zones replace the proxy / schematic layer
    when in use. Parks are added to the saved parks."""
    if role not in ("transport", "redline", "zones", "parks"):
        raise InputError(f"未知用途 {role!r}。", f"unknown role {role!r}.")
    filename = filename or Path(str(source)).name
    storage = "store"
    res = _read(source, filename, polygons_only=role != "transport", layer=layer, assume_crs=assume_crs, gcj02=gcj02,
                swap_axes=swap_axes)
    gdf, notes = res.gdf, [tuple(n) for n in res.notes]
    refs, sha, size = _refs_for(source, "store")
    did = _new_id()
    base = dict(id=did, role=role, name=name or Path(filename).stem, original_filename=filename, storage=storage,
                files=refs, sha256=sha, size_bytes=size, crs=res.source_crs, resolution="vector",
                extent=tuple(float(v) for v in gdf.total_bounds), year=year, n_features=len(gdf),
                source=source_text, licence=licence, added_at=_now())
    if role == "transport":
        kinds = _transport_kinds(gdf, kind, kind_field, kind_map, filename)
        rec = Dataset(**base, kind=kind or "mapped", kinds=tuple(sorted(set(kinds), key=TRANSPORT_KINDS.index)),
                      notes=tuple(notes))
        store.add_dataset(did, role, rec.to_record(), features=gdf[["geometry"]], kinds=kinds,
                          use=("transport", in_use(store)["transport"] + [did]) if use else None, actor=actor)
        return rec
    rec = Dataset(**base, notes=tuple(notes)).to_record()
    if role in REPLACES:
        store.save_user_layer(_normalised(gdf, role, name_field), replaces=REPLACES[role], name=base["name"],
                              original_filename=filename, source_crs=res.source_crs, active=use,
                              dataset=(did, role, rec), actor=actor)
        return get(store, did)
    # parks
    field_ = name_field or next((c for c in ("name", "name_zh", "名称", "NAME", "Name") if c in gdf.columns), None)
    names = [str(v) for v in gdf[field_]] if field_ else [f"{base['name']} {i + 1}" for i in range(len(gdf))]
    store.add_parks(gdf, names=names, source="upload", source_file=filename, source_crs=res.source_crs,
                    dataset=(did, role, rec), actor=actor)
    return get(store, did)


def _normalised(gdf, role: str, name_field: str | None):
    if role == "zones":
        from layers.catalog import normalise_zone_layer

        return normalise_zone_layer(gdf, name_field)
    return gdf


def _transport_kinds(gdf, kind, kind_field, kind_map, filename) -> list[str]:
    import shapely

    if kind is not None:
        if kind not in TRANSPORT_KINDS:
            raise InputError(f"未知交通类型 {kind!r}；可用：{', '.join(TRANSPORT_KINDS)}。",
                             f"unknown transport kind {kind!r}; use one of {', '.join(TRANSPORT_KINDS)}.")
        kinds = [kind] * len(gdf)
    elif kind_field:
        if kind_field not in gdf.columns:
            raise InputError(f"{filename} 没有字段“{kind_field}”（字段：{', '.join(map(str, gdf.columns.drop('geometry')))}）。",
                             f"{filename} has no field '{kind_field}' (fields: {', '.join(map(str, gdf.columns.drop('geometry')))}).")
        m = kind_map or {k: k for k in TRANSPORT_KINDS}
        kinds = [m.get(str(v)) for v in gdf[kind_field]]
        if not any(kinds):
            raise InputError(f"{filename} 的字段“{kind_field}”中没有可识别的交通类型。",
                             f"no value of field '{kind_field}' in {filename} maps to a transport kind.")
    else:
        raise InputError("请指定交通类型（如 railway），或指定记录类型的字段。",
                         "give the transport kind (e.g. railway), or the field that holds it.")
    kinds = [k for k in kinds]
    types = shapely.get_type_id(gdf.geometry.values)
    lines = np.isin(types, (1, 2, 5))
    for k in set(filter(None, kinds)):
        sel = np.array([x == k for x in kinds])
        if k in LINE_KINDS and not lines[sel].any():
            raise InputError(f"{filename} 没有线要素：{ROLE_LABELS['transport'].zh}类型“{k}”需要线（道路、铁路）。",
                             f"{filename} has no lines: transport kind '{k}' needs line features (roads, railways).")
    if any(k is None for k in kinds):
        raise InputError("部分要素没有对应的交通类型，请补全映射。", "some features map to no transport kind: complete the mapping.")
    return kinds


def register_osm(store, path: str | Path, *, name: str | None = None, source_text: str = "", licence: str = "",
                 year: int | None = None, use: bool = False, actor=None) -> Dataset:
    """An OSM extract (.osm.pbf / .osm) read with the declared tag rules into several kinds."""
    import geopandas as gpd
    import pandas as pd

    from layers import readers

    p = Path(path)
    layers = readers.read_osm(p)
    if not layers:
        raise InputError(f"OSM 文件 {p.name} 中没有符合规则的交通要素（高速、干线公路、铁路、车站、机场）。",
                         f"the OSM file {p.name} holds no feature matching the transport tag rules "
                         "(motorway, trunk/primary, railway, station, aerodrome).")
    frames, kinds = [], []
    for k, g in layers.items():
        frames.append(g[["geometry"]].to_crs(4326))
        kinds += [k] * len(g)
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    ref = file_ref(p)
    did = _new_id()
    rec = Dataset(id=did, role="transport", name=name or p.name.split(".")[0], original_filename=p.name,
                  storage="store", files=(ref,), sha256=ref.sha256, size_bytes=ref.size, crs="EPSG:4326",
                  resolution="vector (OSM)", extent=tuple(float(v) for v in gdf.total_bounds), year=year,
                  kind="osm", kinds=tuple(k for k in TRANSPORT_KINDS if k in layers), n_features=len(gdf),
                  source=source_text or "OpenStreetMap", licence=licence or "ODbL", added_at=_now())
    store.add_dataset(did, "transport", rec.to_record(), features=gdf, kinds=kinds,
                      use=("transport", in_use(store)["transport"] + [did]) if use else None, actor=actor)
    return rec


def transport_layers(store, ids: Iterable[str], builtin_airports=None) -> dict:
    """{kind: GeoDataFrame (EPSG:4326)} merged over the datasets in use."""
    import geopandas as gpd
    import pandas as pd

    out: dict[str, list] = {}
    for i in ids:
        if i == BUILTIN_AIRPORTS:
            if builtin_airports is not None and len(builtin_airports):
                out.setdefault("airport", []).append(builtin_airports[["geometry"]].to_crs(4326))
            continue
        feats = store.dataset_features(i)
        for k, g in feats.groupby("kind"):
            out.setdefault(k, []).append(g[["geometry"]])
    return {k: gpd.GeoDataFrame(pd.concat(v, ignore_index=True), crs="EPSG:4326")
            for k, v in out.items() if k in TRANSPORT_KINDS}


def import_files(folder: Path | None = None) -> list[Path]:
    """Files in the import folder (not recursing into hidden folders), for the Data page; a File
    Geodatabase is listed as its ``.gdb`` folder (registered whole), not as its inner files."""
    root = folder or paths.import_dir()
    if root.is_dir():
        gdbs = [p for p in root.rglob("*.gdb") if p.is_dir()
                and not any(part.startswith(".") for part in p.relative_to(root).parts)]
        if gdbs:
            files = [p for p in import_files_plain(root) if not any(g in p.parents for g in gdbs)]
            return sorted(files + [g for g in gdbs if not any(o in g.parents for o in gdbs)])
    return import_files_plain(root)


def import_files_plain(root: Path) -> list[Path]:
    """Every file under ``root`` outside hidden folders."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def in_import_dir(path: Path) -> Path:
    """The resolved path, refused when it is outside the import folder (UI registration)."""
    root = paths.import_dir()
    p = (root / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
    if root != p and root not in p.parents:
        raise InputError("只能登记导入目录中的文件。", f"only files inside the import folder ({root}) can be registered.")
    return p

"""The workspace: the user's own datasets and the one choice of data in use.

A dataset has a role — ``landcover`` (year, legend), ``transport`` (one kind, a column mapped to
kinds, or an OSM extract giving several kinds), ``redline``, ``zones``, ``parks``, or a siting input
(``criterion``, ``dem``, ``exclusion``, ``grid``: the roles of ``layers.inputs``; a criterion raster,
exclusion or grid layer with the parameters of its flag value, ``storage.dataset_params``) — and its
provenance: original file name, SHA-256, size, CRS, resolution, extent, year, legend, feature or
pixel counts, when it was added, the source and licence typed by the user, and the status
"uploaded by user". This module holds the record (``Dataset``, ``FileRef``), the check that a
dataset's files are unchanged, the data in use and removal; registration is beside it
(``storage.raster_register`` and ``storage.raster_scan`` for land cover and raster inputs,
``storage.vector_register`` for vectors and OSM extracts, ``storage.import_folder`` for the
server's import folder).

Files on the server (the import folder ``GANSU_IMPORT_DIR``, or any path an administrator names)
are referenced in place, never copied. Their SHA-256, size, modification and change time, inode
and device are recorded and :func:`verify` checks them on every use, so a changed or removed file
is reported, never silently used.

The data in use (``in_use``) is one choice for the whole app, kept in the store: the slots of
``layers.inputs`` (land cover, a second year, a series: ``check_series``, ``series``; transport, the
built-in airports being ``builtin:airports``; red line and zones; siting inputs). Registration, the
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
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from core import paths
from core.errors import InputError
from layers import fileid, inputs
from storage import series_rules as _series
from storage import workspace_files as _files
from storage.workspace_files import sweep_orphans  # noqa: F401 - part of this module's interface
from storage.dataset_params import distinct_columns, params_text

# Roles, their labels and the slots of the data in use come from the declared inputs (layers/inputs.py).
ROLES = inputs.roles()  # the built-in roles; roles() again sees inputs registered later
ROLE_LABELS = inputs.RoleLabels()
REPLACES = {i.id: i.replaces for i in inputs.BUILTIN if i.replaces}  # catalog layer an upload replaces
TRANSPORT_KINDS: tuple[str, ...] = ("expressway", "major_road", "railway", "station", "airport")
LINE_KINDS = ("expressway", "major_road", "railway")
BUILTIN_AIRPORTS = "builtin:airports"
DEFAULT_IN_USE = {"landcover": [], "landcover_alt": [], "transport": [BUILTIN_AIRPORTS]}


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
    params: dict = field(default_factory=dict)  # an input whose values carry parameters (criterion, exclusion,
    # grid): what its flag value's parser returned for FILE:… (layers.inputs ``params``); {} otherwise
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
        params = f" ({params_text(self.params)})" if self.params else ""
        return f"{self.name}{year}{params} · {role}"


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
    chosen = {**{i.id: [] for i in inputs.slots()}, **DEFAULT_IN_USE, **store.in_use()}
    for role, layer in REPLACES.items():
        rec = store.active_user_layer(layer)
        ids = [d.id for d in datasets(store, role) if rec is not None and d.upload_id == rec["upload_id"]]
        chosen[role] = ids
    return chosen


def use(store, role: str, dataset_ids: Iterable[str], *, actor=None) -> None:
    """Put datasets in use for a role (landcover, landcover_alt, landcover_series, transport, redline,
    zones …): the data in use is everyone's, so with accounts only an admin changes it (the store
    checks). A land-cover series is checked (``check_series``) and kept in year order."""
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
    slot = next((i for i in inputs.slots() if i.id == role), None)
    if slot is None:
        raise InputError(f"未知用途 {role!r}。", f"unknown role {role!r}.")
    want = slot.role
    if slot.selector == "one" and len(ids) > 1:
        if want == "landcover":
            raise InputError("一次只能使用一个土地覆被数据集（多个图幅请登记为一个镶嵌）。",
                             "one land-cover dataset at a time (register several tiles as one mosaic).")
        raise InputError(f"{slot.label.zh}一次只能使用一个数据集。", f"one {slot.label.en} dataset at a time.")
    chosen = [get(store, i) for i in ids if i != BUILTIN_AIRPORTS]
    for ds in chosen:
        _check_role(ds, want)
    if slot.params:
        distinct_columns(slot, chosen)
    if role == _series.SLOT and ids:  # a land-cover series: kept in year order
        ids = [d.id for d in check_series(store, ids)]
    store.set_in_use(role, ids, actor=actor)


def _series_label(d: Dataset) -> str:
    return f"{d.name} {d.year or ''}".strip() + f" ({d.original_filename})"


def check_series(store, dataset_ids: Iterable[str]) -> list[Dataset]:
    """The land-cover datasets of a series sorted by year, refused (``storage.series_rules``, the years
    and files named) unless they are two or more, each with its own year, of one legend, their files
    unchanged (``verify``) and on one grid (CRS, pixel size, corner, size)."""
    ds = [get(store, i) for i in dict.fromkeys(dataset_ids)]
    for d in ds:
        _check_role(d, "landcover")
    _series.check_count(len(ds))
    _series.check_years([_series_label(d) for d in ds], [d.year for d in ds])
    ds.sort(key=lambda d: d.year)
    labels = [_series_label(d) for d in ds]
    _series.check_legends(labels, [legend_key(d.legend) for d in ds], [d.legend for d in ds])
    for d in ds:
        verify(d)
    _series.check_grids(labels, [_series.grid_facts(d.raster_path, d.original_filename,
                                                    vrt_roots=[paths.import_dir(), *{Path(r.path).parent for r in d.files}])
                                 for d in ds])
    return ds


def series(store) -> list[Dataset]:
    """The land-cover series in use: its datasets in year order, each checked unchanged (``verify``);
    [] when none. One left after the others were removed is refused (choose the series again)."""
    out = sorted((get(store, i) for i in in_use(store).get(_series.SLOT, [])), key=lambda d: d.year or 0)
    if len(out) == 1:
        raise InputError(f"使用中的土地覆被年度序列只剩一个年份（{_series_label(out[0])}）：其余已被删除，请重新选择序列。",
                         f"the land-cover series in use has one year left ({_series_label(out[0])}): the others were "
                         "removed; choose the series again.")
    for d in out:
        verify(d)
    return out


def set_params(store, dataset_id: str, params: dict, *, actor=None) -> Dataset:
    """Change the parameters of a dataset of an input with parameters (what ``PARSERS`` of
    ``indicators.measures`` returned for the new ``FILE:…`` value): its owner, or an admin when it is
    in use (the store checks). The run fingerprint follows them."""
    ds = get(store, dataset_id)
    slot = next((i for i in inputs.slots() if i.role == ds.role and i.params), None)
    if slot is None:
        raise InputError(f"数据集“{ds.name}”（{ROLE_LABELS[ds.role].zh}）没有参数。",
                         f"dataset '{ds.name}' ({ROLE_LABELS[ds.role].en}) takes no parameters.")
    using = in_use(store).get(slot.id, [])
    new = dataclasses.replace(ds, params=dict(params))
    if dataset_id in using:
        distinct_columns(slot, [get(store, i) if i != dataset_id else new for i in using])
    store.update_dataset_params(dataset_id, new.params, actor=actor)
    return get(store, dataset_id)


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


# --- a new dataset -----------------------------------------------------------------------------
def use_arg(store, spec, ds: Dataset) -> tuple[str, list[str]] | None:
    """The data in use of ``spec``'s slot with the new dataset ``ds`` in it (added to a "many" slot,
    refused when it would fill the same columns as one already there) for ``store.add_dataset``."""
    if not spec.selector:
        return None
    if spec.selector != "many":
        return spec.id, [ds.id]
    ids = in_use(store).get(spec.id, [])
    if spec.params:
        distinct_columns(spec, [*(get(store, i) for i in ids), ds])
    return spec.id, [*ids, ds.id]


def new_id() -> str:
    return "D" + uuid.uuid4().hex[:9].upper()


def timestamp() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")

"""Land-cover rasters the user points at: the land cover in use (a workspace dataset with its
legend, or the built-in layer whose legend is declared in the layer catalog), uploaded GeoTIFFs
(content-addressed copies in ``data/user_rasters``) and files on the server, and their content
hashes (computed once per file version; large files are hashed in a job).

Files on the server: only an admin may name one (single-user mode: everyone), and only inside the
import folder (``GANSU_IMPORT_DIR``) — or, when ``GANSU_RASTER_ROOTS`` is set (folders separated by
``os.pathsep``), inside those folders instead; checked in ``check_raster_path`` whatever the page
showed, links followed. Uploads are kept ``core.limits.USER_RASTER_MAX_AGE_S`` (24 h) after their
last use and ``USER_RASTER_MAX_FILES`` (20) at most, the oldest removed first
(``prune_user_rasters``, on every upload); results computed on them stay in the store."""
from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import streamlit as st

from core import limits, paths
from core.errors import GansuError, InputError, PermissionDenied
from core.i18n import t
from layers.legends import BUILTIN
from layers import catalog, fileid
from layers.readers import validate_geotiff
from layers.readers.gdal_safety import open_raster
from storage import workspace as ws
from storage.workspace import sha256_file
from ui import common, data_in_use

SYNC_HASH_BYTES = 256 << 20  # files up to this size are hashed inline (~0.5 s); larger: in the job


# --- the default land cover and the legends a user may choose -----------------------------------
def default_legend() -> str:
    """The legend declared for the default land-cover layer in layers/catalog.toml."""
    return catalog.BY_ID["landcover"].legend


def default_raster() -> Path:
    return paths.landcover_path()


def _seed_sha(d) -> None:
    """A dataset's recorded SHA-256 is its file's (single-file datasets): no need to hash again."""
    if len(d.files) == 1 and Path(d.raster_path).resolve() == Path(d.files[0].path).resolve():
        try:
            _SHA[file_key(d.raster_path)] = d.sha256
        except OSError:
            pass


def in_use(which: str = "landcover") -> tuple[Path, str, str] | None:
    """(raster, legend, name) of the land cover in use (``which``: ``landcover`` or
    ``landcover_alt``); the built-in layer for ``landcover`` when no dataset is in use, None for
    no second year. A referenced file that changed raises InputError (never silently used)."""
    d = data_in_use.landcover_dataset() if which == "landcover" else data_in_use.landcover_alt_dataset()
    if d is None:
        return (default_raster(), default_legend(), "MODIS 2019") if which == "landcover" else None
    ws.verify(d)
    _seed_sha(d)
    return Path(d.raster_path), d.legend, f"{d.name} {d.year or ''}".strip()


def series_in_use() -> tuple[list[tuple[int, Path, str]], str] | None:
    """([(year, raster, name and year)] in year order, legend) of the land-cover series in use
    (``storage.workspace.series``: every year's files checked unchanged, a changed one raises
    InputError); None when no series is in use."""
    ds = ws.series(common.store())
    if not ds:
        return None
    for d in ds:
        _seed_sha(d)
    return [(d.year, Path(d.raster_path), f"{d.name} {d.year}") for d in ds], ds[0].legend


def series_ids() -> tuple[str, ...]:
    """The dataset ids of the land-cover series in use, in year order."""
    return tuple(d.id for d in ws.series(common.store()))


def in_use_name(lang: str) -> str | None:
    """The name of the user's land cover in use (None: the built-in one)."""
    d = data_in_use.landcover_dataset()
    return None if d is None else f"{d.name} {d.year or ''}".strip()


def legend_choices() -> list[str]:
    """Built-in legends, the default land cover's first."""
    first = default_legend()
    return [first] + [k for k in BUILTIN if k != first]


def legend_name(legend_id: str) -> str:
    return BUILTIN[legend_id].name


# --- uploads and server paths ------------------------------------------------------------------
def user_raster_dir() -> Path:
    d = paths.data_root() / "user_rasters"
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_uploaded_raster(name: str, data: bytes) -> Path:
    """Content-addressed copy of an uploaded GeoTIFF (same content → same file and cache); saving
    it again counts as a use (its age starts again). Older uploads are pruned."""
    validate_geotiff(data, name)  # raises InputError before anything is written
    sha = hashlib.sha256(data).hexdigest()
    path = user_raster_dir() / f"{sha}.tif"
    if path.exists():
        # a use restarts its age; touched at most twice per period (the file's fingerprint keys caches)
        if time.time() - path.stat().st_mtime > limits.USER_RASTER_MAX_AGE_S / 2:
            os.utime(path)
    else:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    prune_user_rasters(keep=path)
    _SHA[file_key(path)] = sha
    return path


_UPLOAD_NAME = re.compile(r"[0-9a-f]{64}\.(tif|tmp)")


def prune_user_rasters(keep: Path | None = None) -> list[Path]:
    """Remove Targets-page uploads unused for ``USER_RASTER_MAX_AGE_S`` and, newest first, all
    beyond ``USER_RASTER_MAX_FILES`` (``keep`` counts as the newest); returns what went. Only
    files named as this module names them are touched."""
    folder, now = user_raster_dir(), time.time()
    found = []
    for p in folder.iterdir():
        if p == keep or not _UPLOAD_NAME.fullmatch(p.name) or p.is_symlink():
            continue
        try:
            found.append((p.stat().st_mtime, p.name, p))
        except OSError:
            continue
    room = limits.USER_RASTER_MAX_FILES - (keep is not None)
    gone = []
    for i, (mtime, _, p) in enumerate(sorted(found, reverse=True)):
        if i >= room or now - mtime > limits.USER_RASTER_MAX_AGE_S:
            p.unlink(missing_ok=True)
            gone.append(p)
    return gone


def raster_roots() -> list[Path]:
    """The folders whose GeoTIFFs may be named: ``GANSU_RASTER_ROOTS`` when set, else the import folder."""
    declared = [r for r in os.environ.get("GANSU_RASTER_ROOTS", "").split(os.pathsep) if r.strip()]
    return [Path(r.strip()).expanduser().resolve() for r in declared] or [paths.import_dir()]


def may_name_server_files() -> bool:
    """Whether this session may name files on the server: an admin (everyone in single-user mode)."""
    return common.store().allowed(common.actor(), "admin")


def check_raster_path(text: str, *, admin: bool) -> Path:
    """An existing .tif/.tiff on the server, for an admin only, inside ``raster_roots()`` (links
    followed); then the checks of an upload (``validate_geotiff``)."""
    if not admin:
        raise PermissionDenied("只有管理员可以读取服务器上的文件；请上传 GeoTIFF。",
                               "only an admin may read a file on the server; upload the GeoTIFF instead.")
    shown = "".join(ch for ch in text.strip() if ch.isprintable())[:200]
    try:
        p = Path(text.strip()).expanduser()
        real = p.resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a link loop, an unknown ~user
        raise InputError(f"不是已存在的 GeoTIFF 文件（.tif/.tiff）：{shown}",
                         f"not an existing GeoTIFF file (.tif/.tiff): {shown}") from None
    roots = raster_roots()
    if not any(real == r or r in real.parents for r in roots):
        folders = os.pathsep.join(map(str, roots))
        raise InputError(f"不允许读取该文件夹：只能读取导入目录中的文件，或设置了 GANSU_RASTER_ROOTS 时其指定文件夹中的文件"
                         f"（{folders}）：{shown}",
                         f"this folder is not allowed: only files inside the import folder, or inside the folders of "
                         f"GANSU_RASTER_ROOTS when it is set ({folders}), can be read: {shown}")
    if p.suffix.lower() not in (".tif", ".tiff") or not real.is_file():
        raise InputError(f"不是已存在的 GeoTIFF 文件（.tif/.tiff）：{shown}",
                         f"not an existing GeoTIFF file (.tif/.tiff): {shown}")
    validate_geotiff(real)
    return real


def raster_input(lang: str, key_prefix: str, upload: bool = True, path: bool = True) -> Path | None:
    """Upload and/or server-path widgets → a checked raster path (None until one is given; an
    invalid file is reported in ``lang`` and gives None). The path field is an admin's only; a
    path in this session's state for anyone else (a crafted request) is refused all the same."""
    f = st.file_uploader(t("targets.lc.file", lang), type=["tif", "tiff"], key=f"{key_prefix}_file") if upload else None
    admin = may_name_server_files() if path else False
    if path and admin:
        p = st.text_input(t("targets.lc.path", lang), key=f"{key_prefix}_path",
                          help=t("targets.lc.path_roots", lang, folders=os.pathsep.join(map(str, raster_roots()))))
    else:
        if path:
            st.caption(t("targets.lc.path_admin_only", lang))
        p = str(st.session_state.get(f"{key_prefix}_path") or "") if path else ""
    try:
        if f is not None:
            return save_uploaded_raster(f.name, f.getvalue())
        if p.strip():
            return check_raster_path(p, admin=admin)
    except GansuError as e:
        st.error(e.message(lang))
    return None


# --- content hashes ----------------------------------------------------------------------------
_SHA: dict[tuple, str] = {}


def file_key(path) -> tuple:
    """(resolved path, size, mtime, ctime, inode, device): one version of a file, told without
    reading it (``layers.fileid``: an edit with size and mtime put back still changes the key)."""
    return (str(Path(path).resolve()), *fileid.fingerprint(path))


def raster_sha(path, allow_slow: bool = False) -> str | None:
    """SHA-256 of the file (cached per file version); None for a large file unless ``allow_slow``."""
    fk = file_key(path)
    if fk not in _SHA and (allow_slow or fk[1] <= SYNC_HASH_BYTES):
        _SHA[fk] = sha256_file(path)
    return _SHA.get(fk)


def raster_pixels(path) -> int:
    with open_raster(path) as ds:
        return ds.width * ds.height

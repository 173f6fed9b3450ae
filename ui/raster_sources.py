"""Land-cover rasters the user points at: the land cover in use (a workspace dataset with its
legend, or the built-in layer whose legend is declared in the layer catalog), uploaded GeoTIFFs (content-addressed copies in the data folder) and files on the server, and
their content hashes (computed once per file version; large files are hashed in a job)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import streamlit as st

from core import paths
from core.errors import InputError
from core.i18n import t
from indicators import zonestats
from layers.legends import BUILTIN
from layers import catalog

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
    from layers import workspace as ws
    from ui import data_in_use

    d = data_in_use.landcover_dataset() if which == "landcover" else data_in_use.landcover_alt_dataset()
    if d is None:
        return (default_raster(), default_legend(), "MODIS 2019") if which == "landcover" else None
    ws.verify(d)
    _seed_sha(d)
    return Path(d.raster_path), d.legend, f"{d.name} {d.year or ''}".strip()


def in_use_name(lang: str) -> str | None:
    """The name of the user's land cover in use (None: the built-in one)."""
    from ui import data_in_use

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
    """Content-addressed copy of an uploaded GeoTIFF (same content → same file and cache)."""
    from layers.readers import validate_geotiff

    validate_geotiff(data, name)  # raises InputError before anything is written
    sha = hashlib.sha256(data).hexdigest()
    path = user_raster_dir() / f"{sha}.tif"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    _SHA[file_key(path)] = sha
    return path


def check_raster_path(text: str) -> Path:
    """An existing .tif/.tiff on the server; with ``GANSU_RASTER_ROOTS`` (os.pathsep-separated
    folders) set, only files under those folders are accepted."""
    p = Path(text.strip()).expanduser()
    if p.suffix.lower() not in (".tif", ".tiff") or not p.is_file():
        raise InputError(f"不是已存在的 GeoTIFF 文件（.tif/.tiff）：{text.strip()[:200]}",
                         f"not an existing GeoTIFF file (.tif/.tiff): {text.strip()[:200]}")
    p = p.resolve()
    roots = [Path(r).resolve() for r in os.environ.get("GANSU_RASTER_ROOTS", "").split(os.pathsep) if r]
    if roots and not any(p.is_relative_to(r) for r in roots):
        raise InputError("不允许读取该文件夹（GANSU_RASTER_ROOTS）", "this folder is not allowed (GANSU_RASTER_ROOTS)")
    from layers.readers import validate_geotiff

    validate_geotiff(p)
    return p


def raster_input(lang: str, key_prefix: str, upload: bool = True, path: bool = True) -> Path | None:
    """Upload and/or server-path widgets → a checked raster path (None until one is given; an
    invalid file is reported in ``lang`` and gives None)."""
    f = st.file_uploader(t("targets.lc.file", lang), type=["tif", "tiff"], key=f"{key_prefix}_file") if upload else None
    p = st.text_input(t("targets.lc.path", lang), key=f"{key_prefix}_path") if path else ""
    try:
        if f is not None:
            return save_uploaded_raster(f.name, f.getvalue())
        if p.strip():
            return check_raster_path(p)
    except InputError as e:
        st.error(e.message(lang))
    return None


# --- content hashes ----------------------------------------------------------------------------
_SHA: dict[tuple, str] = {}


def file_key(path) -> tuple:
    """(resolved path, size, mtime): identifies one version of a file without reading it."""
    stt = Path(path).stat()
    return (str(Path(path).resolve()), stt.st_size, stt.st_mtime_ns)


def raster_sha(path, allow_slow: bool = False) -> str | None:
    """SHA-256 of the file (cached per file version); None for a large file unless ``allow_slow``."""
    fk = file_key(path)
    if fk not in _SHA and (allow_slow or fk[1] <= SYNC_HASH_BYTES):
        _SHA[fk] = zonestats.file_sha256(path)
    return _SHA.get(fk)


def raster_pixels(path) -> int:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.width * ds.height

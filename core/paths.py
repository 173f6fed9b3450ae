"""Where the default dataset and the store live.

    <data root>/                 GANSU_DATA_DIR, default <repo>/data (git-ignored)
        builds/<build id>/       one complete build: gansu.gpkg, landcover_*.tif, manifest.json
        current -> builds/<id>   symlink swapped atomically when a build completes
        store.duckdb             user data and the layer catalog (survives rebuilds)
        session.key              the secret of the sign-in cookies (beside the store; 0600)
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLES = REPO / "tables"  # the editable CSV tables (zones, parks, pools, sink rates, targets)
SHARED_GEODATA = Path(os.environ.get("GANSU_SHARED_GEODATA", REPO.parent / "shared" / "geodata"))

GPKG_NAME = "gansu.gpkg"
LANDCOVER_NAME = "landcover_mcd12c1_2019.tif"
MANIFEST_NAME = "manifest.json"


def data_root() -> Path:
    return Path(os.environ.get("GANSU_DATA_DIR", REPO / "data")).resolve()


def current_dir() -> Path:
    """Folder of the dataset in use (resolved symlink). May not exist before the first build."""
    return (data_root() / "current").resolve()


def gpkg_path() -> Path:
    return current_dir() / GPKG_NAME


def landcover_path() -> Path:
    return current_dir() / LANDCOVER_NAME


def manifest_path() -> Path:
    return current_dir() / MANIFEST_NAME


def import_dir() -> Path:
    """Server-side import folder for files too large to upload (GANSU_IMPORT_DIR)."""
    return Path(os.environ.get("GANSU_IMPORT_DIR", data_root() / "import")).resolve()


def workspace_dir() -> Path:
    """Files the workspace keeps: uploaded rasters, mosaics (VRT), display copies
    (GANSU_WORKSPACE_DIR, default <data root>/workspace)."""
    return Path(os.environ.get("GANSU_WORKSPACE_DIR", data_root() / "workspace")).resolve()


def store_path() -> Path | str:
    """The store: a DuckDB file (``GANSU_STORE``, default ``<data root>/store.duckdb``) or, when
    ``GANSU_STORE`` is a ``postgresql://`` URL, that URL (``storage.pg``)."""
    env = os.environ.get("GANSU_STORE")
    if env and env.startswith(("postgresql://", "postgres://")):
        return env
    return Path(env or data_root() / "store.duckdb")


def session_key_path() -> Path:
    """The file of the secret that signs sign-in cookies (``storage.web_sessions``; unused when
    ``GANSU_SESSION_SECRET`` is set): beside the store file, so every process of one store signs
    alike; in the data root when the store is not a file (a database address)."""
    store = os.environ.get("GANSU_STORE", "")
    return (data_root() if "://" in store else store_path().parent) / "session.key"


class DataMissing(RuntimeError):
    """The default dataset has not been built (or its folder is unusable)."""


class DataCorrupt(DataMissing):
    """The dataset in use is damaged (truncated or edited files): rebuild it."""


def damage(d: Path) -> list[str]:
    """Cheap integrity checks of a build folder (no layer is read): the manifest parses, every
    file it lists has the recorded size, the GeoPackage is a complete SQLite file."""
    import json

    problems = []
    try:
        manifest = json.loads((d / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"{MANIFEST_NAME} unreadable ({type(e).__name__})"]
    for name, meta in (manifest.get("files") or {}).items():
        p = d / name
        size = p.stat().st_size if p.is_file() else None
        if size is None:
            problems.append(f"{name} missing")
        elif size != meta.get("size"):
            problems.append(f"{name} has {size} bytes, the build wrote {meta.get('size')}")
    gpkg = d / GPKG_NAME
    try:
        with open(gpkg, "rb") as f:
            head = f.read(100)
        size = gpkg.stat().st_size
    except OSError:
        return problems + [f"{GPKG_NAME} missing"]
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        problems.append(f"{GPKG_NAME} is not a SQLite/GeoPackage file")
    else:
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        pages = int.from_bytes(head[28:32], "big")
        valid = head[24:28] == head[92:96]  # the in-header page count is trustworthy
        if valid and pages and size < page * pages:
            problems.append(f"{GPKG_NAME} is truncated ({size} of {page * pages} bytes)")
    return sorted(set(problems))


def require_current() -> Path:
    d = current_dir()
    if not (d / MANIFEST_NAME).is_file() or not (d / GPKG_NAME).is_file():
        raise DataMissing(
            f"default dataset not found in {data_root()}; run `python -m cli build` "
            "(make run / make test do it for you)"
        )
    problems = damage(d)
    if problems:
        raise DataCorrupt(
            f"the default dataset in {d} is damaged ({'; '.join(problems)}); run `python -m cli build` "
            "(it detects the damage and rebuilds; or --force) / 默认数据集已损坏，请运行 `python -m cli build` 重新构建"
        )
    return d

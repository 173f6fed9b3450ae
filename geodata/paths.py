"""Where the default dataset and the store live.

    <data root>/                 GANSU_DATA_DIR, default <repo>/data (git-ignored)
        builds/<build id>/       one complete build: gansu.gpkg, landcover_*.tif, manifest.json
        current -> builds/<id>   symlink swapped atomically when a build completes
        store.duckdb             user data and the layer catalog (survives rebuilds)
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLES = Path(__file__).resolve().parent  # editable CSV tables live beside the build script
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


def store_path() -> Path:
    return Path(os.environ.get("GANSU_STORE", data_root() / "store.duckdb"))


class DataMissing(RuntimeError):
    """The default dataset has not been built (or its folder is unusable)."""


def require_current() -> Path:
    d = current_dir()
    if not (d / MANIFEST_NAME).is_file() or not (d / GPKG_NAME).is_file():
        raise DataMissing(
            f"default dataset not found in {data_root()}; run `python -m geodata.build` "
            "(make run / make test do it for you)"
        )
    return d

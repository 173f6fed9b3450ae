"""The tiled engine at national scale on a 2-core machine (issue 11).

A synthetic "national" raster: a VRT of 10 × 10 tiles of 10,000² pixels (10¹⁰ pixels, EPSG:4326,
1/12000°), whose 100 sources reuse 4 real deflate GeoTIFFs made here (~17 MB on disk). Parks:
irregular polygons (a third crossing tile edges, some with holes, some partly outside the raster)
3,000 of them, plus three elongated polygons larger than a tile (split by the planner). Asserted:

- ``--scheduler synchronous``, ``local`` with 2 workers and today's single-process path
  (``landcover.zonal_codes``) give the same numbers: whole parks exactly, split ones within 2e-13 of
  their area (docs/national-scale.md's promise for geographic and equal-area rasters);
- 200 Voronoi counties tiling 30,000² pixels (9×10⁸, over 4 × 4 tiles): the same totals split
  and unsplit;
- a run killed (SIGKILL) half way and started again finishes with the same table and computes
  only the tasks that were missing (counted);
- the limits know about tiles: the 10¹⁰-pixel VRT is accepted, a VRT whose sources cannot hold
  its pixels is refused, a tile above the per-task pixel limit is refused.

The whole file takes ~40-60 s on the 2-core machine (the LocalCluster start included).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from bench.national_data import (
    N_PARKS,
    N_TILES,
    TILE,
    make_parks,
    national_vrt,
    source_tile,
    to_lonlat,
)
from core.errors import InputError
from zonal import distributed, landcover, rastersource, tiled, tilegrid, tileplan

pytestmark = pytest.mark.slow  # a long file: handed out first (tests/conftest.py)

REPO = Path(__file__).resolve().parent.parent
SPLIT_RTOL = 2e-13  # docs/national-scale.md: split polygons within 2×10⁻¹³ of the unsplit path (geographic, equal-area)


def voronoi_counties(n: int, r0: int, c0: int, side: int, seed: int = 5) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    box = shapely.box(c0, r0, c0 + side, r0 + side)
    pts = shapely.multipoints(np.column_stack([rng.uniform(c0, c0 + side, n), rng.uniform(r0, r0 + side, n)]))
    cells = [shapely.segmentize(shapely.intersection(v, box), side / 400)
             for v in shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))]
    return gpd.GeoDataFrame({"adcode": [str(i) for i in range(len(cells))]},
                            geometry=[to_lonlat(c) for c in cells], crs=4326)


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    folder = tmp_path_factory.mktemp("national")
    sources = [source_tile(folder / f"src{k}.tif", seed=k) for k in range(4)]
    return national_vrt(folder, sources), folder


@pytest.fixture(scope="module")
def parks():
    return make_parks(N_PARKS)


@pytest.fixture(scope="module")
def reference(national, parks):
    """Today's single-process path."""
    vrt, _ = national
    return landcover.zonal_codes(parks, vrt, "clcd")


@pytest.fixture(scope="module")
def synchronous(national, parks):
    vrt, _ = national
    info: dict = {}
    z = tiled.zonal_codes(parks, vrt, "clcd", scheduler="synchronous", run_info=info)
    return z, info


def assert_same(z, ref, split: np.ndarray):
    """Whole polygons: identical; split polygons: within docs/national-scale.md's 2×10⁻¹³ (of the polygon's area)."""
    assert list(z.code_m2.columns) == list(ref.code_m2.columns)
    whole = ~split
    pd.testing.assert_frame_equal(z.code_m2[whole], ref.code_m2[whole], check_exact=True)
    for a, b in ((z.total_m2, ref.total_m2), (z.nodata_m2, ref.nodata_m2), (z.outside_m2, ref.outside_m2),
                 (z.pixels, ref.pixels)):
        assert np.array_equal(a[whole], b[whole])
    if split.any():
        a, b, unit = z.code_m2[split].to_numpy(), ref.code_m2[split].to_numpy(), ref.total_m2[split][:, None]
        # each class area within 2×10⁻¹³ of its unit's area (measured: 1.4×10⁻¹³ on the counties below),
        # and within 10⁻¹² of itself (measured: 9.7×10⁻¹³ for a class of ~10% of its county)
        assert np.all(np.abs(a - b) <= SPLIT_RTOL * unit), float(np.max(np.abs(a - b) / unit))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        np.testing.assert_allclose(z.total_m2[split], ref.total_m2[split], rtol=SPLIT_RTOL)
        np.testing.assert_allclose(z.pixels[split], ref.pixels[split], rtol=SPLIT_RTOL)
        # nodata includes "outside" = total - inside: compare relative to the polygon's area
        assert np.all(np.abs(z.nodata_m2[split] - ref.nodata_m2[split]) <= SPLIT_RTOL * ref.total_m2[split])


# --- tests -------------------------------------------------------------------------------------
def test_the_national_vrt_is_accepted_and_planned_on_its_tiles(national, parks):
    vrt, _ = national
    with rasterio.open(vrt) as ds:
        assert ds.width * ds.height == 10**10
    with rastersource.LandcoverRaster(vrt):  # the engine's checks: 10¹⁰ px over real tiles is fine
        pass
    p = tileplan.plan(parks, vrt)
    assert (p.grid.tile_w, p.grid.tile_h, p.grid.source) == (TILE, TILE, "vrt-tiles")
    assert len(p.tasks) <= 100 and p.split.sum() == 3  # the three polygons larger than a tile
    crossing = sum(1 for r0, r1, c0, c1 in tileplan.pixel_windows(parks.geometry.values, rasterio.open(vrt).transform)
                   if r0 // TILE != (r1 - 1) // TILE or c0 // TILE != (c1 - 1) // TILE)
    assert crossing >= N_PARKS // 3  # a third cross tile edges: computed whole by one task
    assert all(len(t.small) + len(t.large) > 0 for t in p.tasks)


def test_synchronous_equals_todays_single_process_path(reference, synchronous, national, parks):
    z, info = synchronous
    p = tileplan.plan(parks, national[0])
    assert info["scheduler"] == "synchronous" and info["computed"] == info["tasks"] == len(p.tasks)
    assert_same(z, reference, p.split)
    assert (reference.nodata_m2 > 0).sum() > 10 and (reference.outside_m2 > 0).sum() >= N_PARKS // 50 - 2


def test_local_cluster_with_two_workers_gives_the_same_numbers(synchronous, national, parks):
    vrt, _ = national
    info: dict = {}
    z = tiled.zonal_codes(parks, vrt, "clcd", scheduler="local", workers=2, run_info=info)
    assert info["scheduler"] == "local" and info["computed"] == info["tasks"]
    zs, _ = synchronous
    pd.testing.assert_frame_equal(z.code_m2, zs.code_m2, check_exact=True)  # scheduling never matters
    for a in ("total_m2", "nodata_m2", "outside_m2", "pixels"):
        assert np.array_equal(getattr(z, a), getattr(zs, a))


def test_a_running_cluster_computes_every_task_on_its_workers_with_the_same_numbers(synchronous, national, parks):
    vrt, _ = national
    info: dict = {}
    with distributed.Cluster("local", 2) as cl:
        z = tiled.zonal_codes(parks, vrt, "clcd", scheduler=cl.client, run_info=info)
        ran = cl.client.run(lambda: __import__("zonal.tiletask").tiletask.WORKER_RASTERS.__len__())
    assert info["scheduler"] == "client" and info["computed"] == info["tasks"] > 10
    assert len(ran) == 2 and sum(ran.values()) >= 1  # the workers opened the raster: they did the work
    zs, _ = synchronous
    pd.testing.assert_frame_equal(z.code_m2, zs.code_m2, check_exact=True)


def test_counties_tiling_a_large_area_same_totals_split_and_unsplit(national):
    vrt, _ = national
    counties = voronoi_counties(200, r0=35_000, c0=35_000, side=30_000)  # 9×10⁸ px over 4×4 tiles
    split = tiled.zonal_codes(counties, vrt, "clcd", split="all", scheduler="synchronous")
    whole = landcover.zonal_codes(counties, vrt, "clcd")
    assert_same(split, whole, np.ones(len(counties), bool))
    area = split.total_m2.sum()
    np.testing.assert_allclose(area, whole.total_m2.sum(), rtol=SPLIT_RTOL)
    km2 = split.code_m2.to_numpy().sum() + split.nodata_m2.sum()
    np.testing.assert_allclose(km2, area, rtol=1e-9)  # the counties tile the area: nothing lost


def test_a_killed_run_resumes_computing_only_the_missing_tiles(tmp_path, national, parks, synchronous):
    vrt, _ = national
    cache = tmp_path / "tilecache"
    pq = tmp_path / "parks.parquet"
    parks.to_parquet(pq)
    child = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "import geopandas as gpd\nfrom zonal import tileplan, distributed\n"
        f"p = tileplan.plan(gpd.read_parquet({str(pq)!r}), {str(vrt)!r})\n"
        "def progress(done, total):\n"
        "    if done >= total // 2:\n"
        "        print(done, total, flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"distributed.run_plan(p, scheduler='synchronous', cache_dir={str(cache)!r}, progress=progress)\n")
    res = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert res.returncode == -9, res.stderr[-2000:]
    done, total = (int(v) for v in res.stdout.split())
    assert len(list(cache.rglob("*.parquet"))) == done == total // 2
    info: dict = {}
    z = tiled.zonal_codes(parks, vrt, "clcd", scheduler="synchronous", cache_dir=cache, run_info=info)
    assert info["tasks"] == total and info["cached"] == done and info["computed"] == total - done
    zs, _ = synchronous
    pd.testing.assert_frame_equal(z.code_m2, zs.code_m2, check_exact=True)
    assert np.array_equal(z.total_m2, zs.total_m2) and np.array_equal(z.nodata_m2, zs.nodata_m2)
    info2: dict = {}
    tiled.zonal_codes(parks, vrt, "clcd", cache_dir=cache, run_info=info2)  # a third run: all cached
    assert info2["computed"] == 0 and info2["cached"] == total
    out = tmp_path / "parks.parquet.out"
    z.code_m2.to_parquet(out)  # the final table goes to Parquet
    assert pd.read_parquet(out).shape == z.code_m2.shape


def test_limits_know_about_tiles(tmp_path, national, monkeypatch):
    from core import limits

    vrt, folder = national
    # a VRT declaring 10¹⁰ pixels over tiny files: refused like a forged header
    tiny = source_tile(tmp_path / "tiny.tif", seed=1, size=600)
    forged = national_vrt(tmp_path, [tiny], n=1, tile=TILE, width=N_TILES * TILE, name="forged.vrt")
    with pytest.raises(InputError, match="tile files hold only") as e:
        with rastersource.LandcoverRaster(forged):
            pass
    assert "图幅文件合计" in e.value.zh
    # a missing tile is named
    (tmp_path / "gone.tif").write_bytes(tiny.read_bytes())
    gone = national_vrt(tmp_path, [tmp_path / "gone.tif"], n=2, tile=600, name="gone.vrt")
    (tmp_path / "gone.tif").unlink()
    with pytest.raises(InputError, match="missing"):
        with rastersource.LandcoverRaster(gone):
            pass
    # the pixel limit applies to what one task reads (a tile), not to the virtual raster
    monkeypatch.setattr(limits, "MAX_RASTER_PIXELS", 5 * 10**7)
    with pytest.raises(InputError, match="more than one task may read"):
        with rastersource.LandcoverRaster(vrt):
            pass
    monkeypatch.setattr(limits, "MAX_RASTER_PIXELS", 10**8)
    with rastersource.LandcoverRaster(vrt):
        pass
    # one big GeoTIFF still has the whole-file limit (tests/test_hardening_* cover forged headers)
    monkeypatch.setattr(limits, "MAX_RASTER_PIXELS", 10**7)
    with pytest.raises(InputError, match="GANSU_MAX_RASTER_PIXELS"):
        with rastersource.LandcoverRaster(folder / "src0.tif"):
            pass


def test_single_file_tiles_are_whole_blocks_and_tasks_stay_under_the_limit(tmp_path, monkeypatch):
    from core import limits

    p = source_tile(tmp_path / "one.tif", seed=3, size=3000)
    g = tilegrid.tile_grid(p, tile_side=1000)
    assert g.source == "blocks" and g.tile_w % 512 == 0 and g.tile_h % 512 == 0
    monkeypatch.setattr(limits, "MAX_RASTER_PIXELS", 600_000)
    g = tilegrid.tile_grid(p, tile_side=4096)
    assert g.tile_w * g.tile_h <= 600_000 and g.tile_w % 512 == 0


def test_scheduler_choice(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert distributed.resolve_scheduler(None, work_pixels=10**6, n_tasks=50) == "synchronous"
    assert distributed.resolve_scheduler(None, work_pixels=10**11, n_tasks=50) == "local"
    assert distributed.resolve_scheduler("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.2:8786")
    assert distributed.resolve_scheduler(None) == "tcp://10.0.0.2:8786"
    assert distributed.resolve_scheduler("synchronous") == "synchronous"
    with pytest.raises(InputError, match="--scheduler must be") as e:
        distributed.resolve_scheduler("threads")
    assert "须为" in e.value.zh


def test_several_years_in_one_pass_areas_and_transitions(tmp_path):
    """Three years on one equal-area grid: class areas per unit per year equal the single-year
    path, and the transitions between consecutive years are the known pixel counts."""
    albers = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"
    tr = Affine(30, 0, -100_000, 0, -30, 4_000_000)
    h, w = 1500, 1800
    rng = np.random.default_rng(3)
    y0 = np.repeat(np.repeat(rng.integers(1, 10, (h // 30, w // 30)), 30, 0), 30, 1).astype(np.uint8)
    y1 = y0.copy()
    y1[:300, :] = 2  # forest everywhere in the top 300 rows
    y2 = y1.copy()
    y2[y1 == 2] = 8  # forest → built-up
    y2[1400:, 1700:] = 0  # nodata corner
    paths = []
    for k, a in enumerate((y0, y1, y2)):
        path = tmp_path / f"lc{2000 + 10 * k}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8", crs=albers,
                           transform=tr, nodata=0, tiled=True, blockxsize=256, blockysize=256) as ds:
            ds.write(a, 1)
        paths.append(path)
    box = lambda c0, r0, c1, r1: shapely.box(-100_000 + c0 * 30, 4_000_000 - r1 * 30,
                                             -100_000 + c1 * 30, 4_000_000 - r0 * 30)
    units = gpd.GeoSeries([box(0, 0, 1800, 750), box(0, 750, 1800, 1500), box(100, 100, 400, 400)], crs=albers)
    res = tiled.zonal_transitions(units, paths, years=[2000, 2010, 2020], legend="clcd", tile_side=512,
                                  scheduler="synchronous")
    for k, path in enumerate(paths):
        one = landcover.zonal_codes(units, path, "clcd")
        got = res.areas[res.areas["year"] == 2000 + 10 * k].pivot(index="unit", columns="code", values="area_m2")
        got = got.reindex(index=range(len(units)), columns=one.code_m2.columns).fillna(0.0)
        np.testing.assert_allclose(got.to_numpy(), one.code_m2.to_numpy(), rtol=SPLIT_RTOL, atol=1e-6)
    t = res.transitions.set_index(["year_from", "unit", "code_from", "code_to"])["area_m2"]
    forest = (y1[:750, :] == 2).sum() * 900.0  # every forest cell of 2010 in unit 0 is built-up in 2020
    assert t.loc[(2010, 0, 2, 8)] == pytest.approx(forest, rel=1e-12)
    assert t.loc[(2000, 1)].sum() == pytest.approx(750 * 1800 * 900.0, rel=1e-12)  # no nodata: all of unit 1
    assert t.loc[(2010, 1)].sum() == pytest.approx((750 * 1800 - 100 * 100) * 900.0, rel=1e-12)  # minus the corner
    assert (res.transitions["code_to"] != 0).all() and (res.transitions["code_from"] != 0).all()


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600, env={**os.environ, **(env or {})})


def test_cli_parks_with_a_scheduler_gives_the_same_table_and_zonestats_writes_parquet(tmp_path):
    albers = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"
    rng = np.random.default_rng(8)
    a = np.repeat(np.repeat(rng.integers(1, 10, (40, 50)), 50, 0), 50, 1).astype(np.uint8)
    lc = tmp_path / "lc.tif"
    with rasterio.open(lc, "w", driver="GTiff", width=2500, height=2000, count=1, dtype="uint8", crs=albers,
                       transform=Affine(30, 0, -100_000, 0, -30, 4_000_000), nodata=0, tiled=True, blockxsize=256,
                       blockysize=256, compress="deflate") as ds:
        ds.write(a, 1)
    parks = gpd.GeoDataFrame({"park_id": ["a", "b", "c"], "name": ["甲", "乙", "丙"]},
                             geometry=[shapely.Point(-90_000, 3_990_000).buffer(3000),
                                       shapely.Point(-60_000, 3_970_000).buffer(20_000),
                                       shapely.box(-100_500, 3_950_000, -95_000, 3_960_000)],  # partly outside
                             crs=albers).to_crs(4326)
    pk = tmp_path / "parks.gpkg"
    parks.to_file(pk)
    common = ["parks", "--parks", pk, "--landcover", lc, "--legend", "clcd"]
    r0 = _cli(*common, "--out", tmp_path / "a.csv")
    assert r0.returncode == 0, r0.stderr[-2000:]
    r1 = _cli(*common, "--out", tmp_path / "b.csv", "--scheduler", "synchronous", "--cache-dir", tmp_path / "c")
    assert r1.returncode == 0, r1.stderr[-2000:]
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()  # identical table
    assert "tiles [" in r1.stderr and "scheduler: synchronous" in r1.stderr
    bad = _cli(*common, "--out", tmp_path / "x.csv", "--scheduler", "threads")
    assert bad.returncode == 2 and "--scheduler must be" in bad.stderr and "须为" in bad.stderr
    # zone statistics in one pass, to Parquet (+ years and transitions)
    units = gpd.GeoDataFrame({"adcode": ["1", "2"], "name_zh": ["东", "西"]},
                             geometry=[shapely.box(-100_000, 3_940_000, -62_500, 4_000_000),
                                       shapely.box(-62_500, 3_940_000, -25_000, 4_000_000)], crs=albers)
    up = tmp_path / "units.gpkg"
    units.to_file(up)
    out = tmp_path / "zs.parquet"
    r2 = _cli("zonestats", "--units", up, "--landcover", lc, "--legend", "clcd", "--years", lc,
              "--year-labels", "2020", "2021", "--out", out, "--scheduler", "synchronous", "--no-cache")
    assert r2.returncode == 0, r2.stderr[-2000:]
    df = pd.read_parquet(out)
    assert list(df["unit_id"]) == ["1", "2"] and df["area_km2"].sum() == pytest.approx(2500 * 2000 * 900 / 1e6)
    tr = pd.read_parquet(tmp_path / "zs_transitions.parquet")
    assert (tr["code_from"] == tr["code_to"]).all()  # the same raster twice: no change
    assert "zone statistics [" in r2.stderr


def test_local_workers_fork_only_from_a_process_without_threads_of_its_own(monkeypatch):
    import threading

    monkeypatch.delenv("GANSU_DASK_START", raising=False)
    code = "from zonal import distributed; print(distributed.start_method())"
    alone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert alone.stdout.strip() == "fork"  # a CLI process: the workers inherit the imported project
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert distributed.start_method() == "spawn"  # another thread alive (a server): never fork
    finally:
        stop.set()
        t.join()
    monkeypatch.setenv("GANSU_DASK_START", "forkserver")
    assert distributed.start_method() == "forkserver"

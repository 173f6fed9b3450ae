"""Zone statistics of a 470-million-pixel raster (Gansu at 30 m): the targets page's land-cover
proxies for 87 counties, summed to 14 prefectures, 5 zones and the province, with carbon.

Run alone: ``python -m bench.bench_zone_stats``. Raster: ``bench/out/lc_province.tif`` (25000 ×
18800 uint8 CLCD codes, Albers 30 m, made by ``bench/data.py``; reused when present). Units: the
real 87 Gansu counties of the default dataset, scaled and moved into the raster's extent (real
boundary complexity, ~147k vertices; they cover ~104 Mpx), and 87 Voronoi units tiling the
whole raster (every pixel read, the workload of real Gansu at 30 m). Each side runs in its own process (time, peak RSS):

- ours: ``indicators.zonestats.compute`` (exact coverage fractions, real pixel areas, counties
  read, coarser levels summed), then the cache write and a cache read (the second visit);
- reference: a plain windowed read of the whole file (one pass, nothing computed): the floor
  for any method that reads every pixel.
"""
from __future__ import annotations

import sys

from bench.common import REPO, run_side
from bench.data import ALBERS, OUT, landcover_raster

WIDTH, HEIGHT = 25000, 18800

UNITS_SETUP = """
import geopandas as gpd, numpy as np, shapely, rasterio
from shapely import affinity
from core import paths
from zonal import kernels
from indicators import zonestats
kernels.warm()  # loading the compiled counters is library loading (like importing rasterio): untimed
g = paths.gpkg_path()
prov, pref, cnty, zones = (gpd.read_file(g, layer=l) for l in ("province", "prefectures", "counties", "zones"))
ALBERS = {albers!r}
with rasterio.open({raster!r}) as ds:
    b = ds.bounds
c = cnty.to_crs(ALBERS)
x0, y0, x1, y1 = c.total_bounds
s = min((b.right - b.left) / (x1 - x0), (b.top - b.bottom) / (y1 - y0)) * 0.98
def fit(gdf):
    gdf = gdf.to_crs(ALBERS).copy()
    gdf["geometry"] = [affinity.affine_transform(geom, [s, 0, 0, s, b.left - x0 * s + 1000, b.bottom - y0 * s + 1000])
                       for geom in gdf.geometry]
    return gdf
if {tiling!r}:  # 87 units tiling the whole raster: every one of the 470 M pixels is read
    rng = np.random.default_rng(1)
    pts = shapely.multipoints(np.column_stack([rng.uniform(b.left, b.right, 87), rng.uniform(b.bottom, b.top, 87)]))
    box = shapely.box(*b)
    cells = [shapely.segmentize(shapely.intersection(v, box), 300.0)
             for v in shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))]
    cnty = gpd.GeoDataFrame({{"adcode": [str(620000 + i) for i in range(87)], "name_zh": [f"u{{i}}" for i in range(87)],
                             "name_en": [f"u{{i}}" for i in range(87)],
                             "prefecture_adcode": [str(pref["adcode"].iloc[i % 14]) for i in range(87)],
                             "zone_id": [str(zones["zone_id"].iloc[i % 5]) for i in range(87)]}},
                            geometry=cells, crs=ALBERS)
    base, levels = zonestats.gansu_levels(fit(prov), fit(pref), cnty, fit(zones))
else:
    base, levels = zonestats.gansu_levels(fit(prov), fit(pref), fit(cnty), fit(zones))
raster = {raster!r}
"""


def main(repeats: int = 1) -> list[dict]:
    return [_case(tiling, repeats) for tiling in (False, True)]


def _case(tiling: bool, repeats: int) -> dict:
    raster = str(landcover_raster("lc_province", WIDTH, HEIGHT))
    setup = UNITS_SETUP.format(albers=ALBERS, raster=raster, tiling=tiling)
    ours_stmt = (
        "df = zonestats.compute(base, levels, raster, 'clcd')\n"
        "import time\nfrom storage.store import Store\nfrom storage import stats_store\n"
        "from storage.workspace import sha256_file\n"
        f"store = Store({str(OUT / 'bench_zone_stats.duckdb')!r})\nstats_store.ensure(store)\n"
        "t1 = time.perf_counter()\nsha = sha256_file(raster)\nt_hash = time.perf_counter() - t1\n"
        "key = stats_store.cache_key(sha, 'clcd', zonestats.polygons_key(base.polygons, levels), zonestats.ALGO_VERSION)\n"
        "stats_store.put_zone_stats(store, key, raster_sha256=sha, legend='clcd', polygons_key='bench', "
        "algo=zonestats.ALGO_VERSION, seconds=0.0, df=df)\n"
        "t2 = time.perf_counter()\nback = stats_store.get_zone_stats(store, key)\nt_read = time.perf_counter() - t2\n"
        "store.close()"
    )
    check = ("(len(df), round(float(df.loc[df.level == 'province', 'area_km2'].iloc[0]), 1), "
             "round(float(df.loc[df.level == 'county', 'landcover_valid_km2'].sum()), 1), "
             "round(float(df.loc[df.level == 'province', 'carbon_stock_tc'].iloc[0]) / 1e6, 2), "
             "'hash_s', round(t_hash, 2), 'cache_read_s', round(t_read, 4), len(back))")
    peer_stmt = ("import rasterio\nfrom rasterio.windows import Window\nn = 0\nwith rasterio.open(raster) as ds:\n"
                 "    step = max(512, 8_000_000 // ds.width // 512 * 512)\n"
                 "    for r0 in range(0, ds.height, step):\n"
                 "        a = ds.read(1, window=Window(0, r0, ds.width, min(step, ds.height - r0)))\n"
                 "        n += a.size")
    ours = [run_side(setup, ours_stmt, check) for _ in range(repeats)]
    peer = [run_side(f"raster = {raster!r}\n", peer_stmt, "n") for _ in range(repeats)]
    o = min(r["seconds"] for r in ours)
    p = min(r["seconds"] for r in peer)
    om = max(r["peak_mb"] for r in ours)
    pm = max(r["peak_mb"] for r in peer)
    units = ("87 Voronoi units tiling the raster (all 470 Mpx read; ~Gansu at 30 m = 473 Mpx)" if tiling
             else "the 87 real county outlines scaled into the raster")
    print(f"\n== zone statistics, {WIDTH}x{HEIGHT} = {WIDTH * HEIGHT / 1e6:.0f} Mpx uint8: {units} "
          "-> 14 prefectures, 5 zones, province (+ carbon)")
    print(f"{'side':<34}{'time s':>10}{'peak RSS MB':>14}")
    print(f"{'ours (compute + cache write/read)':<34}{o:>10.2f}{om:>14.0f}")
    print(f"{'plain windowed read (one pass)':<34}{p:>10.2f}{pm:>14.0f}")
    print(f"{'ratio ours/read':<34}{o / p:>10.2f}{om / pm:>14.2f}")
    print(f"check (rows, province km², county valid km², province Mt C, hash s, cache read s, rows read): "
          f"{ours[0]['check']}")
    return {"ours_s": o, "read_s": p, "ours_mb": om, "read_mb": pm, "check": ours[0]["check"]}


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

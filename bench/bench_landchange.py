"""A land-cover series in one tiled pass: 5 years × 470 Mpx (Gansu at 30 m) × 87 units tiling the
raster, summed to 14 prefectures, 5 zones and the province — trajectories, trends and the land
degradation verdict (``indicators.landchange``) against one plain windowed read of the 5 rasters
(the floor for any method that reads every pixel of every year). Acceptance: ratio ≤ 2.

Run alone: ``python -m bench.bench_landchange``. Rasters: ``bench/out/lc_province.tif`` (the zone
statistics benchmark's year) and four more years made by ``bench/data.py`` with other seeds
(every pixel's code drawn anew: more distinct transitions per unit than a real series, the harder
case for the pair counter). Each side runs in its own process (time, peak RSS); the machine's load
average is printed with the result.
"""
from __future__ import annotations

import os
import sys

from bench.bench_zone_stats import UNITS_SETUP, HEIGHT, WIDTH
from bench.common import REPO, run_side
from bench.data import ALBERS, landcover_raster

YEARS = (2000, 2005, 2010, 2015, 2020)


def rasters() -> list[str]:
    out = [str(landcover_raster("lc_province", WIDTH, HEIGHT))]
    out += [str(landcover_raster(f"lc_province_{y}", WIDTH, HEIGHT, seed=7 + k)) for k, y in enumerate(YEARS[1:], 1)]
    return out


def main(repeats: int = 1) -> dict:
    files = rasters()
    setup = UNITS_SETUP.format(albers=ALBERS, raster=files[0], tiling=True) + f"files = {files!r}\nyears = {list(YEARS)!r}\n"
    ours_stmt = ("from indicators import landchange\n"
                 "up = landchange.unit_pairs(base, levels, files, years, 'clcd', periods=[(2000, 2010), (2010, 2020)])\n"
                 "traj = landchange.trajectories(up)\ntr = landchange.trends(traj)\n"
                 "deg = landchange.degradation(up, {'baseline': (2000, 2010), 'reporting': (2010, 2020)})")
    check = ("(len(up.units), len(up.pairs), round(float(deg.loc[(deg.level == 'province') & (deg.period == 'baseline'), "
             "'degraded_km2'].iloc[0]), 1), round(float(up.units.loc[up.units.level == 'province', 'area_km2'].iloc[0]), 1))")
    peer_stmt = ("import rasterio\nfrom rasterio.windows import Window\nn = 0\nfor f in files:\n"
                 "    with rasterio.open(f) as ds:\n"
                 "        step = max(512, 8_000_000 // ds.width // 512 * 512)\n"
                 "        for r0 in range(0, ds.height, step):\n"
                 "            a = ds.read(1, window=Window(0, r0, ds.width, min(step, ds.height - r0)))\n"
                 "            n += a.size")
    load0 = os.getloadavg()[0]
    ours = [run_side(setup, ours_stmt, check, timeout=3600) for _ in range(repeats)]
    peer = [run_side(f"files = {files!r}\n", peer_stmt, "n", timeout=3600) for _ in range(repeats)]
    o, p = min(r["seconds"] for r in ours), min(r["seconds"] for r in peer)
    om, pm = max(r["peak_mb"] for r in ours), max(r["peak_mb"] for r in peer)
    print(f"\n== land-cover series, {len(YEARS)} years × {WIDTH}x{HEIGHT} = {WIDTH * HEIGHT / 1e6:.0f} Mpx uint8, "
          "87 units tiling the raster -> 14 prefectures, 5 zones, province")
    print(f"{'side':<44}{'time s':>10}{'peak RSS MB':>14}")
    print(f"{'ours (one pass, trajectories, trends, LDN)':<44}{o:>10.2f}{om:>14.0f}")
    print(f"{'plain windowed read of the 5 rasters':<44}{p:>10.2f}{pm:>14.0f}")
    print(f"{'ratio ours/read (acceptance <= 2)':<44}{o / p:>10.2f}{om / pm:>14.2f}")
    print(f"load average before/after: {load0:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"check (units, pair rows, province degraded km² 2000-2010, province km²): {ours[0]['check']}")
    return {"title": "land-cover series, 5 × 470 Mpx, 87 units", "ours_s": o, "peer_s": p, "ratio": o / p,
            "ours_mb": om, "peer_mb": pm, "mem_ratio": om / pm}


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

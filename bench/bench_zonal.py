"""Per-park class areas, 200 parks on a 20000 x 20000 uint8 tiled raster: ours vs exactextract.

Run alone: ``python -m bench.bench_zonal``. Both sides get the same parks (GeoDataFrame in the
raster's CRS) and compute coverage-weighted per-code statistics for every park: exactextract
``["unique", "frac"]``, ours ``zonal.landcover.zonal_codes`` (per-code areas in m² plus covered
share). Two measures: the statement alone (parks read untimed, each side in its own process, peak
RSS), and the **whole process** (``python -c``: start-up, imports, reading the parks, the
statistics), the two sides in alternating pairs. Acceptance: whole process ≤ 0.5× exactextract.
"""
from __future__ import annotations

import subprocess
import sys
import time

from bench.common import REPO, compare
from bench.data import OUT, landcover_raster, parks

N_PARKS = 200
SIZE = 20000


def prepare() -> tuple[str, str]:
    raster = landcover_raster("lc_20000", SIZE, SIZE)
    gpkg = OUT / f"parks_{N_PARKS}.gpkg"
    if not gpkg.exists():
        parks(N_PARKS, SIZE, SIZE).to_file(gpkg, driver="GPKG")
    return str(raster), str(gpkg)


def main() -> dict:
    raster, gpkg = prepare()
    setup = f"import geopandas as gpd\nparks = gpd.read_file({gpkg!r})\nraster = {raster!r}\n"
    ours = (setup + "from zonal.landcover import zonal_codes\n",
            "z = zonal_codes(parks, raster)",
            "round(float(z.code_m2.to_numpy().sum()) / 1e6, 3)")
    peer = (setup + "from exactextract import exact_extract\n",
            "r = exact_extract(raster, parks, ['unique', 'frac', 'count'], output='pandas')",
            "round(float(r['count'].sum()) * 900 / 1e6, 3)")
    res = compare(f"class areas, {N_PARKS} parks, {SIZE}x{SIZE} uint8 (statement)",
                  ours, peer, "exactextract 0.3 unique+frac")
    res.update(whole_process(raster, gpkg))
    return res


def whole_process(raster: str, gpkg: str, pairs: int = 3) -> dict:
    """Wall time of a whole ``python -c`` per side (start-up, imports, parks read, statistics), in
    alternating pairs; the best of each side and their ratio."""
    setup = f"import geopandas as gpd\nparks = gpd.read_file({gpkg!r})\nraster = {raster!r}\n"
    sides = {"ours": setup + "from zonal.landcover import zonal_codes\nz = zonal_codes(parks, raster)\n",
             "peer": setup + "from exactextract import exact_extract\n"
                             "r = exact_extract(raster, parks, ['unique', 'frac', 'count'], output='pandas')\n"}
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    for _ in range(pairs):
        for side, code in sides.items():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)
            times[side].append(time.perf_counter() - t)
    o, p = min(times["ours"]), min(times["peer"])
    print(f"whole process, {pairs} alternating pairs: ours {o:.2f} s, exactextract {p:.2f} s, ratio {o / p:.2f} "
          "(acceptance <= 0.5)")
    return {"whole_ours_s": o, "whole_peer_s": p, "whole_ratio": o / p}


if __name__ == "__main__":
    main()

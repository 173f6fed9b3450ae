"""Per-park class areas, 200 parks on a 20000 x 20000 uint8 tiled raster: ours vs exactextract.

Run alone: ``python -m bench.bench_zonal``. Both sides get the same parks (GeoDataFrame in the
raster's CRS, read untimed) and compute coverage-weighted per-code statistics for every park:
exactextract ``["unique", "frac"]``, ours ``zonal.landcover.zonal_codes`` (per-code areas in
m² plus covered share). Each side runs in its own process (peak RSS = ru_maxrss).
"""
from __future__ import annotations

from bench.common import compare
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
    return compare(f"class areas, {N_PARKS} parks, {SIZE}x{SIZE} uint8 (target ratio <= 1.0)",
                   ours, peer, "exactextract 0.3 unique+frac")


if __name__ == "__main__":
    main()

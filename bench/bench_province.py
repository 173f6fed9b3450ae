"""Province scale: class areas + carbon total of a 470-million-pixel uint8 raster (Gansu at 30 m).

Run alone: ``python -m bench.bench_province``. Peer: one plain windowed read of the same file
(every block-row strip read with rasterio, nothing computed). Target: ours within 1.5x of the
peer's time, peak memory < 2 GB.
"""
from __future__ import annotations

from bench.common import compare
from bench.data import landcover_raster

WIDTH, HEIGHT = 25000, 18800


def main() -> dict:
    raster = str(landcover_raster("lc_province", WIDTH, HEIGHT))
    setup = f"raster = {raster!r}\n"
    ours = (setup + "from zonal.landcover import raster_class_totals\n"
                    "from indicators.carbon import load_pools, stock\nfrom layers.legends import CLCD\n"
                    "import pandas as pd\n",
            "t = raster_class_totals(raster, 'clcd')\n"
            "c = stock(pd.DataFrame([t['area_km2'].to_numpy() * 1e6], columns=t['code']), load_pools(None, CLCD))",
            "(round(float(t['area_km2'].sum()), 1), round(float(c['carbon_stock_tc'].iloc[0]) / 1e6, 3))")
    peer = (setup + "import rasterio\nfrom rasterio.windows import Window\n",
            "n = 0\nwith rasterio.open(raster) as ds:\n"
            "    step = max(512, 8_000_000 // ds.width // 512 * 512)\n"
            "    for r0 in range(0, ds.height, step):\n"
            "        a = ds.read(1, window=Window(0, r0, ds.width, min(step, ds.height - r0)))\n"
            "        n += a.size",
            "n")
    res = compare(f"province totals, {WIDTH}x{HEIGHT} = {WIDTH * HEIGHT / 1e6:.0f} Mpx uint8 "
                  "(target ratio <= 1.5, peak < 2 GB)", ours, peer, "plain windowed read")
    ok = res["ratio"] <= 1.5 and res["ours_mb"] < 2048
    print(f"targets: {'PASS' if ok else 'FAIL'}")
    return res


if __name__ == "__main__":
    main()

"""Map tiles of a registered 470 Mpx land cover from a warm tile service: 200 random tiles over the
raster (zoom 5 to native + 3, the levels the Map asks for), fetched over HTTP one after another
from the dashboard's tile routes (``ui.tileserver`` on uvicorn, the grant checked on every request
as on a shared server), against the same tiles drawn by rio-tiler straight from the registered
file (tiled, no overviews: what a service without the COG step would read; every 10th tile, it is
slow). Acceptance: p95 ≤ 100 ms.

Run alone: ``python -m bench.bench_tiles``. The raster is the zone statistics benchmark's
(``bench/out/lc_province.tif``); it is registered once into ``bench/out/bench_tiles.duckdb`` (the
scan and the COG are part of registration: timed and printed, not part of the tile figures).
"""
from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request

import numpy as np

from bench.bench_zone_stats import HEIGHT, WIDTH
from bench.data import OUT, landcover_raster

N_TILES = 200


def _registered(store, raster: str):
    from storage import raster_register
    from storage import workspace as ws

    for d in ws.datasets(store, "landcover"):
        if d.raster_path == raster and d.display_path and os.path.exists(d.display_path):
            return d, None
    t = time.perf_counter()
    d = raster_register.register_landcover(store, [raster], legend="clcd", name="bench 470 Mpx")
    return d, time.perf_counter() - t


def _serve(routes):
    import uvicorn
    from starlette.applications import Starlette

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        th.join(0.05)
    return server, th, f"http://127.0.0.1:{port}"


def main() -> dict:
    from layers import tiles
    from storage.store import Store
    from ui import map_legends, tileserver

    raster = str(landcover_raster("lc_province", WIDTH, HEIGHT))
    os.environ.setdefault("GANSU_WORKSPACE_DIR", str(OUT / "bench_tiles_ws"))
    store = Store(OUT / "bench_tiles.duckdb")
    d, register_s = _registered(store, raster)
    tileserver.use_store(store)
    tileserver.RECHECK_S = 0.0  # the access check on every request (the default re-checks every 30 s)
    colors = dict(map_legends.landcover_colors("clcd"))
    url = tileserver.grant(d.id, d.display_path, None, colors=colors)
    native = tiles.native_zoom(d.display_path)
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(d.display_path) as ds:
        w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    rng = np.random.default_rng(25)
    picks = [(int(rng.integers(5, native + 4)), rng.uniform(w, e), rng.uniform(s, n)) for _ in range(N_TILES)]
    xyz = [(z, *tiles.tile_of(lon, lat, z)) for z, lon, lat in picks]
    server, th, base = _serve(tileserver.routes())
    load0 = os.getloadavg()[0]
    try:
        def get(z, x, y):
            t = time.perf_counter()
            with urllib.request.urlopen(base + url.format(z=z, x=x, y=y), timeout=60) as r:
                body = r.read()
                assert r.status == 200 and r.headers["Content-Type"] == "image/png"
            return time.perf_counter() - t, len(body)

        for z, x, y in xyz[:20]:  # warm: the server's imports, GDAL's block cache of the first files
            get(z, x, y)
        ours = [get(z, x, y)[0] for z, x, y in xyz]
        peer = []
        for z, x, y in xyz[::10]:
            t = time.perf_counter()
            tiles.render_tile(raster, z, x, y, colors=colors)
            peer.append(time.perf_counter() - t)
    finally:
        server.should_exit = True
        th.join(10)
        store.close()
    o50, o95, omax = (np.percentile(ours, q) * 1e3 for q in (50, 95, 100))
    p50, p95 = (np.percentile(peer, q) * 1e3 for q in (50, 95))
    print(f"\n== map tiles of a registered {WIDTH}x{HEIGHT} = {WIDTH * HEIGHT / 1e6:.0f} Mpx land cover, "
          f"{N_TILES} random tiles, zoom 5-{native + 3} (native {native})")
    if register_s is not None:
        print(f"registration (scan + COG with overviews): {register_s:.1f} s")
    print(f"{'side':<58}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'ours: HTTP from the tile service (COG, grant checked)':<58}{o50:>9.1f}{o95:>9.1f}   max {omax:.1f}")
    print(f"{'rio-tiler on the registered file (no overviews), 1 in 10':<58}{p50:>9.1f}{p95:>9.1f}")
    print(f"{'ratio ours/peer (p95); acceptance: ours p95 <= 100 ms':<58}{'':>9}{o95 / p95:>9.2f}")
    print(f"load average before/after: {load0:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return {"title": f"map tiles, {N_TILES} random tiles of a 470 Mpx land cover", "p50_ms": o50, "p95_ms": o95,
            "max_ms": omax, "peer_p95_ms": p95, "register_s": register_s}


if __name__ == "__main__":
    main()

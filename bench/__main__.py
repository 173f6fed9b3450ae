"""Run every benchmark: ``python -m bench`` (inputs are generated once into bench/out/)."""
from __future__ import annotations

from bench import (bench_landchange, bench_map, bench_national, bench_province, bench_smaa, bench_tiles, bench_transport,
                   bench_workspace, bench_zonal, bench_zone_stats)


def main() -> None:
    zonal = bench_zonal.main()
    results = [zonal, bench_province.main(), bench_transport.main(), *bench_smaa.main(), bench_landchange.main()]
    tiles = bench_tiles.main()
    print("\n== summary (ratio = ours / peer, time and peak RSS)")
    for r in results:
        print(f"{r['title']}\n    time {r['ours_s']:.2f} s vs {r['peer_s']:.2f} s  ratio {r['ratio']:.2f}; "
              f"peak {r['ours_mb']:.0f} MB vs {r['peer_mb']:.0f} MB  ratio {r['mem_ratio']:.2f}")
    for tiling, r in zip(("87 county outlines", "87 units tiling the raster"), bench_zone_stats.main()):
        print(f"zone statistics, 470 Mpx, {tiling}\n    time {r['ours_s']:.2f} s vs plain read {r['read_s']:.2f} s  "
              f"ratio {r['ours_s'] / r['read_s']:.2f}; peak {r['ours_mb']:.0f} MB vs {r['read_mb']:.0f} MB")
    print(f"per-park class areas, whole process (start-up included), alternating pairs\n    ours {zonal['whole_ours_s']:.2f} s "
          f"vs exactextract {zonal['whole_peer_s']:.2f} s  ratio {zonal['whole_ratio']:.2f} (acceptance <= 0.5)")
    print(f"{tiles['title']}\n    p50 {tiles['p50_ms']:.1f} ms, p95 {tiles['p95_ms']:.1f} ms (acceptance <= 100) vs "
          f"rio-tiler on the file without overviews p95 {tiles['peer_p95_ms']:.1f} ms")
    mp = bench_map.main()
    print(f"Map page in Chromium (network off), gap from the page title to the drawn map\n    first visit "
          f"{mp['first_gap']:.2f} s (acceptance <= 1.5), revisit {mp['revisit_gap']:.2f} s (acceptance <= 0.5); "
          f"load {mp['load']}")
    w = bench_workspace.main()
    print(f"{w['title']}\n    register {w['register_s']:.2f} s ({w['register_mb']:.0f} MB); 100 parks {w['parks_s']:.2f} s "
          f"({w['parks_mb']:.0f} MB), cached {w['cached_s']:.3f} s; province view render {w['render_user_s'] * 1e3:.0f} ms "
          f"vs default {w['render_default_s'] * 1e3:.0f} ms, ratio {w['ratio']:.2f} (first in process "
          f"{w['ratio_cold']:.2f}); peak {w['peak_mb']:.0f} MB")

    n = bench_national.main()
    nat, zs = n["national"], n["zone_stats"]
    print(f"national, 3,000 parks on a 10^10 px VRT of 100 tiles\n    LocalCluster(2) {nat['local_s']:.2f} s "
          f"(running cluster {nat['local_warm_s']:.2f} s) vs synchronous {nat['sync_s']:.2f} s  ratio {nat['ratio']:.2f} "
          f"({nat['ratio_warm']:.2f}); peak {nat['sync_mb']:.0f} MB (1 process) vs workers {nat['workers_mb']} MB")
    print(f"zone statistics in one tiled pass, 87 units, 470 Mpx\n    synchronous {zs['sync_s']:.2f} s, LocalCluster(2) "
          f"{zs['local_warm_s']:.2f} s vs plain read {zs['read_s']:.2f} s  ratio {zs['ratio']:.2f} ({zs['ratio_local']:.2f}); "
          f"peak {zs['sync_mb']:.0f} MB vs {zs['read_mb']:.0f} MB")


if __name__ == "__main__":
    main()

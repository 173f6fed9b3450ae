"""Run every benchmark: ``python -m bench`` (inputs are generated once into bench/out/)."""
from __future__ import annotations

from bench import bench_province, bench_transport, bench_zonal, bench_zone_stats


def main() -> None:
    results = [bench_zonal.main(), bench_province.main(), bench_transport.main()]
    print("\n== summary (ratio = ours / peer, time and peak RSS)")
    for r in results:
        print(f"{r['title']}\n    time {r['ours_s']:.2f} s vs {r['peer_s']:.2f} s  ratio {r['ratio']:.2f}; "
              f"peak {r['ours_mb']:.0f} MB vs {r['peer_mb']:.0f} MB  ratio {r['mem_ratio']:.2f}")
    for tiling, r in zip(("87 county outlines", "87 units tiling the raster"), bench_zone_stats.main()):
        print(f"zone statistics, 470 Mpx, {tiling}\n    time {r['ours_s']:.2f} s vs plain read {r['read_s']:.2f} s  "
              f"ratio {r['ours_s'] / r['read_s']:.2f}; peak {r['ours_mb']:.0f} MB vs {r['read_mb']:.0f} MB")


if __name__ == "__main__":
    main()

"""The tiled engine's cache of polygons cut at the grid is shared by the dashboard's sessions (one
process, one thread per run): threads cutting and evicting at once never break it, and its byte
count stays the sum of what it holds."""
from __future__ import annotations

import sys
import threading

import shapely
from affine import Affine

from zonal import tiletask


def test_threads_filling_and_evicting_the_cut_polygon_cache_at_once(monkeypatch):
    monkeypatch.setattr(tiletask, "_PIECES_MAX_BYTES", 40_000)  # a few polygons: constant eviction
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: a race shows at once
    tiletask.clear_caches()
    transform = Affine(30.0, 0, 0, 0, -30.0, 30_000.0)
    errors: list[BaseException] = []

    def work(k: int):
        try:
            for i in range(500):
                poly = shapely.Point(3_000 + 37 * i + k, 15_000 + 11 * k).buffer(900 + (i % 7) * 60, 16)
                got = tiletask._pieces_cached(shapely.to_wkb(poly), transform)
                assert got is not None and got.height > 0
        except BaseException as e:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sys.setswitchinterval(old)
    assert errors == []
    held = sum(tiletask._size(p) for p in tiletask._PIECES.values())
    assert tiletask._PIECES_BYTES[0] == held and held <= tiletask._PIECES_MAX_BYTES
    tiletask.clear_caches()
    assert tiletask._PIECES_BYTES[0] == 0 and not tiletask._PIECES

"""One work tile of the tiled engine: ``Task`` (what the client plans, ``zonal.tileplan``) and
``run_task`` (what a Dask worker, or this process, computes). Small polygons are computed whole by
the single-process kernel (``polygonstats.polygon_stats``: bit-identical numbers), large ones by
the tile kernel (``zonal.tilekernel``), several years as pairs (``zonal.pairraster``). Per process
the polygons cut at the grid are kept (a unit crossing many tiles is cut once); in a Dask worker
the rasters stay open between tasks.
"""
from __future__ import annotations

import hashlib
import sys
import threading
from dataclasses import dataclass

import shapely

from layers import fileid
from zonal.coverage import Pieces, pieces
from zonal.pairraster import BandCache, CompactPairRaster, PairRaster, TooManyPairs
from zonal.polygonstats import polygon_stats, stats_of_pieces
from zonal.rastersource import LandcoverRaster
from zonal.tilekernel import tile_units
from zonal.tilesteps import tile_steps
from zonal.tileresult import Partial, TaskResult


@dataclass(frozen=True)
class Task:
    """One work tile: small polygons computed whole, large polygons' parts inside the tile."""

    raster: str
    tile: int
    window: tuple[int, int, int, int]
    span: tuple[int, int, int, int]
    small: tuple[tuple[int, bytes], ...]  # (polygon index, WKB in the raster CRS)
    large: tuple[tuple[int, bytes], ...]
    key: str = ""  # cache key: tile, raster fingerprint, algorithm version, polygons
    years: tuple[str, ...] = ()  # later land-cover years on the same grid: transitions per step
    pixel_area: str = "ground"  # cell areas: ground (true) or nominal (|det|, InVEST): pixelarea.PixelArea
    extra: tuple[tuple[int, int], ...] = ()  # steps besides the consecutive ones: (i, j) raster positions

    def steps(self) -> list[tuple[int, int]]:
        """The steps computed: every consecutive pair of years, then ``extra`` (e.g. a baseline period
        spanning several years of the series)."""
        n = len(self.years) + 1
        return [(k, k + 1) for k in range(n - 1)] + list(self.extra)

    @property
    def size(self) -> int:
        return len(self.small) + len(self.large)


_PIECES: dict[tuple, Pieces | None] = {}  # per process: a unit crossing many tiles is cut once
_PIECES_MAX_BYTES = 256 * 2**20
_PIECES_LOCK = threading.Lock()  # runs of several sessions (threads of the dashboard) share the cache
_PIECES_BYTES = [0]


def _size(p: Pieces | None) -> int:
    return 0 if p is None else p.row.nbytes * 4


def _pieces_cached(wkb: bytes, transform) -> Pieces | None:
    key = (hashlib.sha1(wkb).digest(), tuple(transform)[:6])
    with _PIECES_LOCK:
        if key in _PIECES:
            return _PIECES[key]
    p = pieces(shapely.from_wkb(wkb), transform)  # outside the lock: cutting a county takes a while
    with _PIECES_LOCK:
        if key not in _PIECES:
            while _PIECES and _PIECES_BYTES[0] + _size(p) > _PIECES_MAX_BYTES:
                _PIECES_BYTES[0] -= _size(_PIECES.pop(next(iter(_PIECES))))
            _PIECES[key] = p
            _PIECES_BYTES[0] += _size(p)
        return _PIECES[key]


def clear_caches() -> None:
    """Drop the cut polygons kept between tasks (the end of a run in this process)."""
    with _PIECES_LOCK:
        _PIECES.clear()
        _PIECES_BYTES[0] = 0


def run_task(task: Task) -> TaskResult:
    """Compute one task (runs in a Dask worker, or in this process)."""
    if task.years:
        return _run_years(task)
    out = TaskResult(task.tile)
    src = _worker_raster(task.raster, task.pixel_area)
    with (LandcoverRaster(task.raster, None, task.pixel_area) if src is None else _nullcontext(src)) as src:
        for i, b in task.small:
            st = polygon_stats(src, shapely.from_wkb(b))
            out.parts[i] = Partial(st.codes, st.total_m2, st.total_m2 - st.outside_m2, st.pixels, st.outside_m2)
        if task.large:
            units = [(i, _pieces_cached(b, src.transform)) for i, b in task.large]
            out.parts.update(tile_units(src, task.span, [(i, p) for i, p in units if p is not None]))
    return out


WORKER_RASTERS: dict[tuple, LandcoverRaster] = {}  # in a Dask worker: rasters stay open between tasks


def _worker_raster(path: str, pixel_area: str = "ground") -> LandcoverRaster | None:
    """The open raster of a Dask worker process (opening a national VRT and checking its tiles
    takes ~5 ms a task); None outside a worker (this process never keeps files open)."""
    if "distributed" not in sys.modules:  # a Dask worker has it loaded; importing it costs ~0.3 s
        return None
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return None
    key = (str(path), *fileid.fingerprint(path), pixel_area)
    if key not in WORKER_RASTERS:
        while len(WORKER_RASTERS) >= 4:
            WORKER_RASTERS.pop(next(iter(WORKER_RASTERS))).__exit__(None, None, None)
        WORKER_RASTERS[key] = LandcoverRaster(path, None, pixel_area).__enter__()
    return WORKER_RASTERS[key]


class _nullcontext:
    def __init__(self, v):
        self.v = v

    def __enter__(self):
        return self.v

    def __exit__(self, *exc):
        return False


COMPACT = True  # the compact pair path (tests switch it off to compare with the full pair codes)


def _step(pair, small, large, span) -> dict[int, Partial]:
    parts: dict[int, Partial] = {}
    for i, p in small:
        st = stats_of_pieces(pair, p)
        parts[i] = Partial(st.codes, st.total_m2, st.total_m2 - st.outside_m2, st.pixels, st.outside_m2)
    if large:
        parts.update(tile_units(pair, span, [(i, p) for i, p in large if p is not None]))
    return parts


def _run_years(task: Task) -> TaskResult:
    """Every step (consecutive years, then the extra ones) of one tile; each polygon is cut at the
    grid once. Uint8 years without mask bands: the large polygons of all steps in one read of the
    years (``tilesteps.tile_steps``: compact pair indices, compiled counter), the small ones per
    step on the same indices (``CompactPairRaster``, each year's windows decoded once:
    ``BandCache``). Other years, or a step with more than 256 distinct pairs in the tile: full pair
    codes (``PairRaster``) — the same codes either way."""
    from contextlib import ExitStack

    out = TaskResult(task.tile)
    cache = BandCache(max_bytes=256 * 2**20)
    steps = task.steps()
    with ExitStack() as stack:
        srcs = [stack.enter_context(LandcoverRaster(r, None, task.pixel_area)) for r in (task.raster,) + task.years]
        small = [(i, _pieces_cached(b, srcs[0].transform)) for i, b in task.small]
        large = [(i, p) for i, b in task.large if (p := _pieces_cached(b, srcs[0].transform)) is not None]
        compact = COMPACT and all(CompactPairRaster.eligible(srcs[a], srcs[b]) for a, b in steps)
        together = tile_steps(srcs, steps, task.span, large) if compact and large else [None] * len(steps)
        for k, (a, b) in enumerate(steps):
            parts = out.step(k)
            rest_small = small
            if compact and small:
                pair = CompactPairRaster(srcs[a], srcs[b], cache)
                try:
                    got = _step(pair, small, [], task.span)
                    parts.update({i: Partial(pair.decode(p.codes), p.total_m2, p.inside_m2, p.pixels, p.outside_m2)
                                  for i, p in got.items()})
                    rest_small = []
                except TooManyPairs:
                    pass
            if together[k] is not None:
                parts.update(together[k])
            rest_large = large if together[k] is None else []
            if rest_small or rest_large:
                parts.update(_step(PairRaster(srcs[a], srcs[b]), rest_small, rest_large, task.span))
    return out

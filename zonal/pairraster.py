"""Two land-cover years for the multi-year tiled engine: ``same_grid`` (the check that two years lie
on one grid) and ``PairRaster`` (two years on one grid seen as one raster of transition codes
``from * PAIR + to``, which the single-year kernels count like any raster).
"""
from __future__ import annotations

import numpy as np

from core.errors import InputError
from zonal.rastersource import MASKED, LandcoverRaster


def same_grid(a, b) -> None:
    if (a.width, a.height) != (b.width, b.height) or tuple(a.transform)[:6] != tuple(b.transform)[:6] \
            or not a.crs.equals(b.crs):
        raise InputError(f"土地覆盖年份 {b.path.name} 与 {a.path.name} 不在同一格网上（范围、像元或坐标系不同）",
                         f"land-cover year {b.path.name} is not on the grid of {a.path.name} "
                         "(extent, pixel size or CRS differ)")


PAIR = 1 << 21  # transition code = code_from * PAIR + code_to
NO_CODE = PAIR - 1  # a cell hidden by the mask band of one year only: "no data" on that side


class PairRaster:
    """Two land-cover years on one grid seen as one raster of transition codes
    (``from * PAIR + to``). A cell masked (mask band) in one year only has ``NO_CODE`` on that
    side, so it still counts for the other year; masked in both, it is masked."""

    def __init__(self, a: LandcoverRaster, b: LandcoverRaster):
        self.a, self.b = a, b
        self.transform, self.width, self.height, self.area = a.transform, a.width, a.height, a.area
        self.block_rows = a.block_rows
        # each year's nodata value (often negative in int16 files, e.g. -9999) becomes NO_CODE on its side
        self._nodata = [int(r.nodata) if r.nodata is not None and float(r.nodata).is_integer() else None
                        for r in (a, b)]

    def read(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        raw_a = self.a.read(row0, row1, col0, col1)
        raw_b = self.b.read(row0, row1, col0, col1)
        ca, cb = raw_a.astype(np.int64), raw_b.astype(np.int64)
        ma, mb = ca == MASKED, cb == MASKED
        for raw, c, m, nod in ((raw_a, ca, ma, self._nodata[0]), (raw_b, cb, mb, self._nodata[1])):
            none = m | (c == nod) if nod is not None else m
            if raw.dtype.kind != "u" or raw.dtype.itemsize > 2:  # only uint8/16 codes always fit
                bad = ~none & ((c < 0) | (c >= NO_CODE))
                if bad.any():
                    raise InputError(f"多年统计的类别代码须在 0 到 {NO_CODE - 1} 之间（发现 {c[bad][0]}）",
                                     f"multi-year class codes must be between 0 and {NO_CODE - 1} (found {c[bad][0]})")
            c[none] = NO_CODE
        out = ca * PAIR + cb
        out[ma & mb] = MASKED
        return out


class TooManyPairs(Exception):
    """More than 256 distinct (from, to) pairs in one task: the step is counted on full pair codes."""


class BandCache:
    """The windows a task reads, kept per raster for the task's steps: a year read as the "from" of
    one step and the "to" of the next (or by a period spanning several years) is decoded once.
    Bounded (``max_bytes``); an evicted window is read again."""

    def __init__(self, max_bytes: int = 1 << 30):
        self.max_bytes, self.bytes, self._d = max_bytes, 0, {}

    def read(self, src: LandcoverRaster, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        key = (str(src.path), row0, row1, col0, col1)
        v = self._d.get(key)
        if v is None:
            v = src.read(row0, row1, col0, col1)
            while self._d and self.bytes + v.nbytes > self.max_bytes:
                self.bytes -= self._d.pop(next(iter(self._d))).nbytes
            self._d[key] = v
            self.bytes += v.nbytes
        return v


class PairCompactor:
    """Two uint8 years' codes to one uint8 code per cell: the index of its (from, to) pair in the
    order met (at most 256; ``compact`` returns None at a 257th). ``decode`` turns the indices of a
    result back into the pair codes ``PairRaster`` gives (bit for bit the same codes: a year's
    nodata value is ``NO_CODE``)."""

    def __init__(self, a: LandcoverRaster, b: LandcoverRaster):
        self.lut = np.full(65536, -1, np.int16)
        self.table = np.zeros(256, np.int64)
        self.used = np.zeros(1, np.int64)
        self._nodata = [int(r.nodata) if r.nodata is not None and float(r.nodata).is_integer() else None
                        for r in (a, b)]

    @staticmethod
    def eligible(a: LandcoverRaster, b: LandcoverRaster) -> bool:
        return all(r.dtype == np.uint8 and not r.uses_mask for r in (a, b))

    def compact(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray | None:
        from zonal import kernels  # start-up time: numba loads only for a multi-year run

        out, ok = kernels.compact_pairs(np.ascontiguousarray(ra).ravel(), np.ascontiguousarray(rb).ravel(),
                                        self.lut, self.table, self.used)
        return out.reshape(ra.shape) if ok else None

    def decode(self, codes: dict[int, float]) -> dict[int, float]:
        out: dict[int, float] = {}
        for k, v in codes.items():
            a, b = divmod(int(self.table[int(k)]), 256)
            a = NO_CODE if a == self._nodata[0] else a
            b = NO_CODE if b == self._nodata[1] else b
            code = a * PAIR + b
            out[code] = out.get(code, 0.0) + v
        return out


class CompactPairRaster:
    """Two uint8 years without mask bands as one uint8 raster of ``PairCompactor`` indices, so the
    compiled single-year counter counts transitions (``TooManyPairs`` past 256 pairs); ``decode``
    gives the pair codes back."""

    def __init__(self, a: LandcoverRaster, b: LandcoverRaster, cache: BandCache | None = None):
        self.a, self.b = a, b
        self.transform, self.width, self.height, self.area = a.transform, a.width, a.height, a.area
        self.block_rows = a.block_rows
        self.cache = cache or BandCache()
        self.pairs = PairCompactor(a, b)
        self.decode = self.pairs.decode

    eligible = staticmethod(PairCompactor.eligible)

    def read(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        out = self.pairs.compact(self.cache.read(self.a, row0, row1, col0, col1),
                                 self.cache.read(self.b, row0, row1, col0, col1))
        if out is None:
            raise TooManyPairs()
        return out

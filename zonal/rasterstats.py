"""Area-weighted statistics of a continuous raster (solar irradiance, wind speed, a water-stress
index, ...) per park: ``criterion_stats``. The DEM statistics (``zonal.terrain``) share its pieces:
``ContinuousRaster`` (an open raster read window by window, invalid cells as NaN),
``WeightedStats`` (the weighted statistics) and ``park_cells`` (a park's cells and weights).

Weight of a cell = (exact fraction of the cell covered by the park, ``zonal.coverage``: the
exactextract quantity) × (ground area of the cell in m², ``zonal.pixelarea.PixelArea`` in
``ground`` mode: on the ellipsoid for geographic rasters, corrected for the areal scale of a
non-equal-area projection). On an equal-area projection the weight is proportional to the coverage
alone, so ``mean`` equals exactextract's ``mean``; on a geographic raster exactextract weights by
coverage only, and this mean differs by the change of cell area with latitude.

Cells left out: the raster's nodata value, cells hidden by an internal mask band, non-finite values,
cells outside the raster (only the part of a park inside the raster counts). Band 1 is read.
Parks are reprojected to the raster's CRS (the raster is never resampled); each park's window is
read alone, in row strips of at most ``zonal.polygonstats.MAX_STRIP_PIXELS`` cells.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import rasterio
from rasterio.windows import Window

from core.errors import InputError
from layers.readers.raster import check_dataset, open_raster
from zonal.coverage import pieces
from zonal.landcover import geoseries, to_raster_crs
from zonal.pixelarea import PixelArea
from zonal.polygonstats import MAX_STRIP_PIXELS

STATS = ("mean", "min", "max", "p10", "p90")
QUANTILES = {"p10": 0.10, "p90": 0.90}
TIE_TOLERANCE = 1e-12  # relative: a cumulative weight this close to q·W counts as reaching it


def check_stats(stats) -> tuple[str, ...]:
    stats = (stats,) if isinstance(stats, str) else tuple(stats)
    bad = [s for s in stats if s not in STATS]
    if bad or not stats:
        raise InputError(f"统计量须为 {', '.join(STATS)} 之一，实际为 {bad or '（空）'}",
                         f"a statistic must be one of {', '.join(STATS)}, got {bad or '(none)'}")
    return stats


class ContinuousRaster:
    """An open continuous raster (use as a context manager): band 1, read window by window as
    float64 with NaN for nodata, masked and non-finite cells; ground pixel areas in ``area``."""

    def __init__(self, path):
        self.path = Path(path)
        self._ds = None

    def __enter__(self):
        try:
            ds = open_raster(self.path)  # a GeoTIFF or a checked VRT: GDAL never guesses
        except rasterio.errors.RasterioIOError as exc:
            raise InputError(f"无法打开栅格 {self.path.name}：{exc}",
                             f"cannot open raster {self.path.name}: {exc}") from exc
        try:
            check_dataset(ds, self.path.name, categorical=False)  # CRS, north-up, size limits
        except InputError:
            ds.close()
            raise
        self._ds = ds
        self.crs = pyproj.CRS.from_user_input(ds.crs.to_wkt())
        self.transform = ds.transform
        self.width, self.height = ds.width, ds.height
        self.nodata = ds.nodata
        self.uses_mask = ds.nodata is None and rasterio.enums.MaskFlags.per_dataset in ds.mask_flag_enums[0]
        self.area = PixelArea(self.crs, self.transform, self.width, self.height, "ground")
        return self

    def __exit__(self, *exc):
        self._ds.close()

    def read(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Values of a window inside the raster, float64, invalid cells NaN."""
        win = Window(c0, r0, c1 - c0, r1 - r0)
        raw = self._ds.read(1, window=win)
        out = raw.astype(np.float64)
        if self.nodata is not None:
            out[_is_nodata(raw, self.nodata)] = np.nan
        if self.uses_mask:
            out[self._ds.read_masks(1, window=win) == 0] = np.nan
        out[~np.isfinite(out)] = np.nan
        return out

    def read_padded(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Like ``read`` for a window that may reach beyond the raster: cells outside are NaN."""
        out = np.full((r1 - r0, c1 - c0), np.nan)
        ra, rb = max(r0, 0), min(r1, self.height)
        ca, cb = max(c0, 0), min(c1, self.width)
        if ra < rb and ca < cb:
            out[ra - r0:rb - r0, ca - c0:cb - c0] = self.read(ra, rb, ca, cb)
        return out


def _is_nodata(raw: np.ndarray, nodata: float) -> np.ndarray:
    if np.isnan(nodata):
        return np.isnan(raw) if raw.dtype.kind == "f" else np.zeros(raw.shape, bool)
    if raw.dtype.kind in "iu":
        info = np.iinfo(raw.dtype)
        if not float(nodata).is_integer() or not info.min <= nodata <= info.max:
            return np.zeros(raw.shape, bool)  # a nodata value the band cannot hold matches no cell
        return raw == raw.dtype.type(int(nodata))
    return raw == raw.dtype.type(nodata)  # compared in the band's own precision (float32 nodata)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q):
    """Lower weighted quantile: the smallest value v among the cells such that the weight of the
    cells with value ≤ v is at least q × the total weight (up to ``TIE_TOLERANCE`` relative, so
    that rounding in the sums does not decide an exact tie). Always the value of a cell, never an
    interpolation; NaN without cells. Cells of equal value are one step of the cumulative weight
    (their order does not matter). ``q`` a number (→ float) or a sequence (→ list, one sort)."""
    qs = np.atleast_1d(np.asarray(q, dtype="float64"))
    if values.size == 0:
        out = [float("nan")] * qs.size
    else:
        order = np.argsort(values)
        v = values[order]
        cum = np.cumsum(weights[order])
        total = cum[-1]
        idx = np.searchsorted(cum, qs * total - TIE_TOLERANCE * total, side="left")
        out = [float(v[min(int(i), v.size - 1)]) for i in idx]
    return out[0] if np.ndim(q) == 0 else out


class WeightedStats:
    """Weighted statistics of cells added strip by strip: sums and extremes on the fly; the values
    themselves are kept only when a quantile is asked for."""

    def __init__(self, keep_values: bool):
        self.keep = keep_values
        self.sw = self.swv = 0.0
        self.lo, self.hi = np.inf, -np.inf
        self._v: list[np.ndarray] = []
        self._w: list[np.ndarray] = []

    def add(self, values: np.ndarray, weights: np.ndarray) -> None:
        """Cells with weight > 0 and a finite value (the caller filters)."""
        if values.size == 0:
            return
        self.sw += float(weights.sum())
        self.swv += float((values * weights).sum())
        self.lo = min(self.lo, float(values.min()))
        self.hi = max(self.hi, float(values.max()))
        if self.keep:
            self._v.append(values)
            self._w.append(weights)

    def result(self, stats) -> dict[str, float]:
        if self.sw <= 0:
            return {s: float("nan") for s in stats}
        out = {"mean": self.swv / self.sw, "min": self.lo, "max": self.hi}
        qs = [s for s in stats if s in QUANTILES]
        if qs:
            vals = weighted_quantile(np.concatenate(self._v), np.concatenate(self._w), [QUANTILES[s] for s in qs])
            out.update(zip(qs, vals))
        return {s: out[s] for s in stats}


def park_cells(src: ContinuousRaster, geom, layers_fn, accs: list[WeightedStats]) -> None:
    """Add a park's cells to ``accs``, one accumulator per layer of ``layers_fn``.

    ``geom`` is in the raster's CRS. The park is cut at the pixel grid once; its window, clipped to
    the raster, is taken in row strips of at most ``MAX_STRIP_PIXELS`` cells. For each strip
    ``layers_fn(r0, r1, c0, c1)`` (raster rows and columns, inside the raster) returns a
    (layers, rows, columns) array with NaN where a layer has no value; each layer's cells with
    weight > 0 and a value go to its accumulator.
    """
    p = pieces(geom, src.transform)
    if p is None:
        return
    step = max(1, MAX_STRIP_PIXELS // max(p.width, 1))
    ca, cb = max(p.col0, 0), min(p.col0 + p.width, src.width)
    if ca >= cb:
        return
    first = max(0, -p.row0)  # window rows above the raster are skipped
    last = min(p.height, src.height - p.row0)
    for r0 in range(first, last, step):
        r1 = min(r0 + step, last)
        cov = p.strip(r0, r1)[:, ca - p.col0:cb - p.col0]
        ra, rb = p.row0 + r0, p.row0 + r1
        wt = cov * src.area.weights(ra, rb, ca, cb)
        layers = layers_fn(ra, rb, ca, cb)
        for acc, vals in zip(accs, layers):
            m = (wt > 0) & np.isfinite(vals)
            acc.add(vals[m], wt[m])


def parks_in_raster_crs(parks, src):
    """The parks' geometries in the raster's CRS (a park that cannot be placed on the raster: empty)."""
    local, _far = to_raster_crs(geoseries(parks), src)
    return local


def criterion_stats(parks, path, stats=("mean",)) -> pd.DataFrame:
    """Per park (rows in the order and index of ``parks``, a GeoSeries or GeoDataFrame with a CRS),
    the statistics ``stats`` of the raster's valid cells, each cell weighted by w = coverage
    fraction × ground area (see the module docstring). With W = Σ w over the cells with w > 0:

    - ``mean`` = Σ w·v / W;
    - ``min`` / ``max`` = the smallest / largest v over the cells with w > 0 (a cell the park only
      touches along an edge has w = 0 and does not count);
    - ``p10`` / ``p90`` = the lower weighted quantile q = 0.10 / 0.90: the smallest v such that the
      weight of the cells with value ≤ v is ≥ q·W (``weighted_quantile``).

    NaN for a park that covers no valid cell (outside the raster, only nodata, empty geometry).
    Columns are the names in ``stats``; the raster's values are in its own units.
    """
    stats = check_stats(stats)
    keep = any(s in QUANTILES for s in stats)
    with ContinuousRaster(path) as src:
        local = parks_in_raster_crs(parks, src)
        rows = []
        for g in local.values:
            acc = WeightedStats(keep)
            park_cells(src, g, lambda r0, r1, c0, c1: src.read(r0, r1, c0, c1)[None], [acc])
            rows.append(acc.result(stats))
    return pd.DataFrame(rows, index=local.index, columns=list(stats), dtype="float64")

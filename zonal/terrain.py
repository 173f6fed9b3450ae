"""Terrain of each park from a DEM: ``terrain_stats`` → ``elev_mean_m``, ``slope_mean_deg``,
``slope_p90_deg``, weighted like ``zonal.rasterstats.criterion_stats`` (exact coverage fraction ×
ground area of the cell; ``mean`` and the lower weighted quantile ``p90`` defined there).

Slope (Horn 1981, the 3×3 kernel of GDAL's ``gdaldem slope`` and ArcGIS): for a cell e with
neighbours ::

    a b c
    d e f
    g h i

``dz/dx = [(c − a)/dx_top + 2·(f − d)/dx_mid + (i − g)/dx_bottom] / 8`` and
``dz/dy = [(a + 2b + c) − (g + 2h + i)] / (4·D)``, slope = atan(hypot(dz/dx, dz/dy)) in degrees,
where dx_row is the east-west size of one cell in that row and D the north-south distance between
the centres of the rows above and below (2 cells). With equal dx in the three rows this is Horn's
``((c + 2f + i) − (a + 2d + g)) / (8·dx)``.

- Geographic DEMs (EPSG:4326, CGCS2000): sizes in metres on the raster's ellipsoid, per row
  (``pyproj.Geod``): dx = the geodesic length of one cell along the row's parallel at the cell-centre
  latitude, D = the meridian arc between the centres of the rows above and below.
- Projected DEMs: dx = |a|, D = 2·|e| of the geotransform, in the projection's units (metres). The
  projection's scale is ignored: for UTM and Gauss-Krüger zones over Gansu (36–43°N, within 3° of
  the central meridian) the scale is within 0.9996–1.0005, so tan(slope) is off by < 0.1%
  (< 0.03° at 45°).
- Elevations are taken in the DEM's units, assumed metres (a DEM in feet would need converting).
- Nodata honoured: a cell whose 3×3 neighbourhood holds a nodata, masked or non-finite cell, or
  reaches beyond the raster, has no slope (it is left out of the slope statistics; its elevation
  still counts). The window of each strip is read with a one-cell margin.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj

from zonal.rasterstats import ContinuousRaster, WeightedStats, park_cells, parks_in_raster_crs

TERRAIN_COLUMNS = ("elev_mean_m", "slope_mean_deg", "slope_p90_deg")


def cell_sizes_m(src: ContinuousRaster, r0: int, r1: int):
    """(dx, D) for the slope of rows [r0, r1): dx of rows r0 − 1 … r1 (the three rows of each
    kernel), shape (r1 − r0 + 2, 1), and D of rows r0 … r1 − 1, shape (r1 − r0, 1); scalars for a
    projected raster."""
    t = src.transform
    if not src.crs.is_geographic:
        return abs(t.a), 2.0 * abs(t.e)
    geod = pyproj.Geod(a=src.crs.ellipsoid.semi_major_metre, b=src.crs.ellipsoid.semi_minor_metre)
    rows = np.arange(r0 - 1, r1 + 1, dtype="float64")
    lat = np.clip(t.f + t.e * (rows + 0.5), -90.0, 90.0)
    lon = np.zeros_like(lat)
    _, _, dx = geod.inv(lon, lat, lon + abs(t.a), lat)
    _, _, d = geod.inv(lon[2:], lat[2:], lon[2:], lat[:-2])
    return np.asarray(dx)[:, None], np.asarray(d)[:, None]


def horn_slope_deg(z: np.ndarray, dx, d) -> np.ndarray:
    """Slope (degrees) of the interior of ``z`` (rows + 2, columns + 2, NaN = no value); ``dx`` per
    row of ``z`` (scalar or (rows + 2, 1)), ``d`` per interior row (scalar or (rows, 1)). A NaN
    anywhere in a cell's 3×3 neighbourhood gives NaN."""
    dx = np.broadcast_to(np.asarray(dx, dtype="float64"), (z.shape[0], 1))
    grad_ew = (z[:, 2:] - z[:, :-2]) / dx  # per row: east − west difference over one cell width
    dzdx = (grad_ew[:-2] + 2.0 * grad_ew[1:-1] + grad_ew[2:]) / 8.0
    ns = z[:, :-2] + 2.0 * z[:, 1:-1] + z[:, 2:]  # per row: Horn's 1-2-1 weighted sum
    dzdy = (ns[:-2] - ns[2:]) / (4.0 * np.asarray(d, dtype="float64"))
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def _layers(src: ContinuousRaster):
    def fn(r0, r1, c0, c1):
        z = src.read_padded(r0 - 1, r1 + 1, c0 - 1, c1 + 1)
        dx, d = cell_sizes_m(src, r0, r1)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = horn_slope_deg(z, dx, d)
        return np.stack([z[1:-1, 1:-1], slope])
    return fn


def terrain_stats(parks, dem_path) -> pd.DataFrame:
    """Per park (index of ``parks``, a GeoSeries or GeoDataFrame with a CRS): ``elev_mean_m`` (the
    weighted mean elevation of the valid cells), ``slope_mean_deg`` and ``slope_p90_deg`` (weighted
    mean and lower weighted 0.9 quantile of the slope of the cells that have one). NaN where a park
    covers no cell with a value."""
    with ContinuousRaster(dem_path) as src:
        local = parks_in_raster_crs(parks, src)
        fn = _layers(src)
        rows = []
        for g in local.values:
            elev, slope = WeightedStats(False), WeightedStats(True)
            park_cells(src, g, fn, [elev, slope])
            s = slope.result(("mean", "p90"))
            rows.append((elev.result(("mean",))["mean"], s["mean"], s["p90"]))
    return pd.DataFrame(rows, index=local.index, columns=list(TERRAIN_COLUMNS), dtype="float64")

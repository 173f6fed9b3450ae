"""Measures of declared inputs: one column per park from an input that ``layers.inputs`` declares
with ``measure=NAME`` (a distance to a new kind of feature, a raster criterion such as a slope).

A measure is ``fn(parks, value, spec) -> array`` (one float per park, NaN where it does not apply):
``parks`` a GeoSeries of the park polygons, ``value`` a GeoDataFrame (vector input) or the path of a
raster (raster input), ``spec`` the ``layers.inputs.Input``. The column id, unit, label and ranking
direction come from the declaration (``Input.column``, ``units``, ``column_label``, ``direction``).

Built in:
- ``distance_km``: geodesic distance (km) from each park to the nearest feature (the method of the
  transport distances, ``indicators.transport.nearest_km``).
- ``raster_mean``: the coverage-weighted mean of a raster's valid cells inside each park — every
  cell weighted by the exact fraction of it the park covers (``zonal.coverage``, the exactextract
  quantity); cells at nodata are left out; NaN when the park covers no valid cell.

May import: ``core``, ``layers``, ``zonal`` and the indicators below it.
"""
from __future__ import annotations

from typing import Callable

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.windows import Window

from core.errors import InputError
from indicators.transport import nearest_km
from zonal.coverage import coverage

Measure = Callable[[gpd.GeoSeries, object, object], np.ndarray]
MEASURES: dict[str, Measure] = {}


def register_measure(name: str) -> Callable[[Measure], Measure]:
    """Decorator: ``@register_measure("name")`` makes ``fn`` the measure an input names."""
    def deco(fn: Measure) -> Measure:
        if name in MEASURES and MEASURES[name] is not fn:
            raise ValueError(f"measure {name!r} is already registered")
        MEASURES[name] = fn
        return fn
    return deco


def unregister_measure(name: str) -> None:
    if name in ("distance_km", "raster_mean"):
        raise ValueError(f"measure {name!r} is built in")
    MEASURES.pop(name, None)


def measure(spec, parks: gpd.GeoSeries, value) -> np.ndarray:
    fn = MEASURES.get(spec.measure)
    if fn is None:
        raise InputError(f"输入“{spec.label.zh}”的计算方法 {spec.measure!r} 未注册。",
                         f"input '{spec.label.en}': measure {spec.measure!r} is not registered.")
    out = np.asarray(fn(parks, value, spec), dtype="float64")
    if out.shape != (len(parks),):
        raise ValueError(f"measure {spec.measure!r} returned {out.shape}, expected ({len(parks)},)")
    return out


@register_measure("distance_km")
def distance_km(parks: gpd.GeoSeries, value: gpd.GeoDataFrame, spec) -> np.ndarray:
    return nearest_km(parks, value.geometry)


@register_measure("raster_mean")
def raster_mean(parks: gpd.GeoSeries, value, spec) -> np.ndarray:
    """Coverage-weighted mean of the valid cells of the raster at ``value`` inside each park (one
    window per park: a province-scale raster is never read whole)."""
    out = np.full(len(parks), np.nan)
    with rasterio.open(value) as ds:
        geoms = parks.to_crs(ds.crs).values if parks.crs is not None else parks.values
        for k, geom in enumerate(geoms):
            if geom is None or geom.is_empty:
                continue
            frac, row0, col0 = coverage(geom, ds.transform)
            if frac.size == 0:
                continue
            r0, c0 = max(row0, 0), max(col0, 0)  # the part of the park's window inside the raster
            r1, c1 = min(row0 + frac.shape[0], ds.height), min(col0 + frac.shape[1], ds.width)
            if r1 <= r0 or c1 <= c0:
                continue
            w = frac[r0 - row0:r1 - row0, c0 - col0:c1 - col0]
            vals = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
            ok = ~np.ma.getmaskarray(vals) & (w > 0)
            if ok.any():
                out[k] = float(np.sum(w[ok] * vals.data[ok].astype("float64")) / np.sum(w[ok]))
    return out

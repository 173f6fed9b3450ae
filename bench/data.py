"""Synthetic inputs for the benchmarks, generated once into bench/out/ (git-ignored).

Rasters are uint8 land cover with CLCD codes (1-9) and spatial structure like real land cover
(large, medium and small patches, 10% speckle; ~0.2 byte/pixel deflated,
close to the 0.27 of the real Gansu CLCD file), deflate-compressed, tiled 512, in the Albers
CRS of CLCD (30 m), so files compress and decompress like real tiles.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

OUT = Path(__file__).resolve().parent / "out"
ALBERS = ("+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 "
          "+ellps=WGS84 +units=m +no_defs")
PIXEL = 30.0
ORIGIN = (-1_000_000.0, 4_800_000.0)  # upper-left corner in Albers (west Gansu, ~95E 42N)


def _structure(rows: slice, width: int, seed: int) -> np.ndarray:
    """Land-cover-like codes for a strip of rows: deterministic per (row, col)."""
    r = np.arange(rows.start, rows.stop)
    c = np.arange(width)
    big = _hash2(r // 400, c // 400, seed) % 9 + 1
    med = _hash2(r // 37, c // 37, seed + 1)
    fine = _hash2(r // 5, c // 5, seed + 3)
    out = np.where((med % 10) < 3, med % 9 + 1, big)
    out = np.where((fine % 10) < 2, fine % 9 + 1, out).astype(np.uint8)
    speck = _hash2(r, c, seed + 2)
    mask = (speck % 10) == 0
    out[mask] = (speck[mask] % 9 + 1).astype(np.uint8)
    return out


def _hash2(r: np.ndarray, c: np.ndarray, seed: int) -> np.ndarray:
    h = (r[:, None].astype(np.uint64) * np.uint64(73856093)) ^ (c[None, :].astype(np.uint64) * np.uint64(19349663))
    h ^= np.uint64(seed * 83492791 + 1)
    h = (h * np.uint64(2654435761)) % np.uint64(2**32)
    return (h >> np.uint64(7)).astype(np.int64)


def landcover_raster(name: str, width: int, height: int, seed: int = 7) -> Path:
    """Create (once) bench/out/<name>.tif; returns its path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.tif"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.tif")
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint8",
                   crs=ALBERS, transform=Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1]),
                   nodata=0, tiled=True, blockxsize=512, blockysize=512, compress="deflate",
                   BIGTIFF="IF_SAFER", NUM_THREADS="2")
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, height, 512):
            r1 = min(r0 + 512, height)
            dst.write(_structure(slice(r0, r1), width, seed), 1, window=Window(0, r0, width, r1 - r0))
    os.replace(tmp, path)
    return path


def parks(n: int, width: int, height: int, seed: int = 3, rmin_km: float = 2, rmax_km: float = 20):
    """n irregular park polygons (2-20 km radius) inside the raster, as a GeoDataFrame in Albers."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    x0, y1 = ORIGIN
    span_x, span_y = width * PIXEL, height * PIXEL
    geoms = []
    for _ in range(n):
        r = rng.uniform(rmin_km, rmax_km) * 1000
        cx = x0 + rng.uniform(r, span_x - r)
        cy = y1 - rng.uniform(r, span_y - r)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 48))
        rad = r * rng.uniform(0.6, 1.0, 48)
        geoms.append(shapely.Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)])))
    return gpd.GeoDataFrame({"park_id": [f"P{i:04d}" for i in range(n)]}, geometry=geoms, crs=ALBERS)

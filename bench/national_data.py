"""The synthetic "national" inputs, made in code, for the tests (tests/test_tiled.py)
and the benchmark (bench/bench_national.py) alike: real deflate GeoTIFF tiles of land-cover-like
codes, a VRT of N_TILES × N_TILES of them (10¹⁰ px, EPSG:4326, 1/12000°), and irregular parks.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
import shapely.affinity
from affine import Affine

D = 1 / 12000  # degrees per pixel
LON0, LAT0 = 92.0, 42.0
TILE = 10_000
N_TILES = 10  # per side: 100,000² pixels
N_PARKS = 3000


def source_tile(path: Path, seed: int, size: int = TILE, texture: bool = False, zlevel: int = 1) -> Path:
    """A real deflate GeoTIFF of land-cover-like codes (patches of 200 and 25 px, 255 = nodata);
    ``texture``: 5% single-pixel specks, so decoding costs like a real tile (the benchmark).
    Written to a temporary name first: an interrupted run never leaves half a tile."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(1, 10, (size // 200 + 1, size // 200 + 1), dtype=np.uint8)
    a = np.repeat(np.repeat(coarse, 200, 0), 200, 1)[:size, :size]
    med = rng.integers(1, 10, (size // 25 + 1, size // 25 + 1), dtype=np.uint8)
    sel = rng.random(med.shape) < 0.3

    def up(x):
        return np.repeat(np.repeat(x, 25, 0), 25, 1)[:size, :size]

    a = np.where(up(sel), up(med), a)
    if texture:
        speck = rng.random((size, size)) < 0.05
        a[speck] = rng.integers(1, 10, int(speck.sum()), dtype=np.uint8)
    a[size // 3: size // 3 + 700, size // 2: size // 2 + 900] = 255  # a nodata patch in every tile
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=Affine(D, 0, 0, 0, -D, 0), nodata=255, tiled=True,
                       blockxsize=512, blockysize=512, compress="deflate", zlevel=zlevel) as ds:
        ds.write(a, 1)
    tmp.replace(path)
    return path


def national_vrt(folder: Path, sources: list[Path], n: int = N_TILES, tile: int = TILE,
                 width: int | None = None, name: str = "national.vrt") -> Path:
    srcs = []
    for i in range(n):
        for j in range(n):
            s = sources[(i * 7 + j * 3) % len(sources)]
            srcs.append(
                f'<SimpleSource><SourceFilename relativeToVRT="1">{s.name}</SourceFilename><SourceBand>1</SourceBand>'
                f'<SourceProperties RasterXSize="{tile}" RasterYSize="{tile}" DataType="Byte" BlockXSize="512" '
                f'BlockYSize="512"/><SrcRect xOff="0" yOff="0" xSize="{tile}" ySize="{tile}"/>'
                f'<DstRect xOff="{j * tile}" yOff="{i * tile}" xSize="{tile}" ySize="{tile}"/></SimpleSource>')
    w = width or n * tile
    xml = (f'<VRTDataset rasterXSize="{w}" rasterYSize="{w}"><SRS>EPSG:4326</SRS>'
           f'<GeoTransform>{LON0!r}, {D!r}, 0, {LAT0!r}, 0, {-D!r}</GeoTransform>'
           f'<VRTRasterBand dataType="Byte" band="1"><NoDataValue>255</NoDataValue>{"".join(srcs)}'
           f'</VRTRasterBand></VRTDataset>')
    p = folder / name
    p.write_text(xml)
    return p


def to_lonlat(geom):
    return shapely.transform(geom, lambda xy: np.column_stack([LON0 + xy[:, 0] * D, LAT0 - xy[:, 1] * D]))


def make_parks(n: int, seed: int = 11) -> gpd.GeoDataFrame:
    """Irregular parks (30-200 px radius): a third centred on a tile edge, 10% with a hole, 2%
    across the raster's edge; plus three elongated polygons larger than a tile."""
    rng = np.random.default_rng(seed)
    size = N_TILES * TILE
    geoms = []
    for k in range(n):
        r = rng.uniform(30, 200)
        cx, cy = rng.uniform(r, size - r, 2)
        if k % 3 == 0:  # on a tile edge
            if rng.random() < 0.5:
                cx = rng.integers(1, N_TILES) * TILE + rng.uniform(-r / 2, r / 2)
            else:
                cy = rng.integers(1, N_TILES) * TILE + rng.uniform(-r / 2, r / 2)
        if k % 50 == 1:  # partly outside the raster
            cx = rng.uniform(-r / 2, r / 2)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 16))
        rad = r * rng.uniform(0.55, 1.0, 16)
        g = shapely.Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
        if k % 10 == 5:
            g = g.difference(shapely.Point(cx, cy).buffer(r * 0.3, 12))
        geoms.append(to_lonlat(g))
    for cx, cy, ang in ((25_000, 34_000, 0.3), (61_000, 70_000, -0.5), (5_000, 95_000, 1.2)):
        e = shapely.affinity.rotate(shapely.affinity.scale(shapely.Point(cx, cy).buffer(1, 64), 7_000, 1_300),
                                    ang, use_radians=True)
        geoms.append(to_lonlat(e.difference(shapely.Point(cx, cy).buffer(400, 16))))
    return gpd.GeoDataFrame({"park_id": [f"P{i}" for i in range(len(geoms))]}, geometry=geoms, crs=4326)

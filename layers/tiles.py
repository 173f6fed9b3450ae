"""Web-map tiles of a raster (``render_tile``): the 256-pixel PNG at ``z/x/y`` (Web Mercator, the
slippy-map grid every web map uses), read with rio-tiler from a COG (``layers.cog``) and coloured
with the legend's palette (classes: nearest resampling, codes without a colour and nodata
transparent) or a colour ramp over a stretch (continuous values), optionally shifted to GCJ-02 for
the Gaode basemap (the offset at the tile's centre: < 1 m of variation inside a tile from zoom 8).

``native_zoom`` is the zoom whose pixels match the raster's (the deepest tile level worth reading:
beyond it the web map enlarges). Reading is the caller's thread; a file is opened per tile (~2 ms).
"""
from __future__ import annotations

import functools
import io
import math
from pathlib import Path

import numpy as np

from core import crs as ccrs

TILE = 256
# colour ramps for continuous rasters: (stops 0..1 → RGB); "viridis"-like and a red-yellow-green
RAMPS = {
    "viridis": [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)],
    "rdylgn": [(215, 48, 39), (252, 141, 89), (254, 224, 139), (217, 239, 139), (145, 207, 96), (26, 152, 80)],
}


def native_zoom(path: str | Path) -> int:
    """The zoom whose Web Mercator pixel is no larger than the raster's pixel at its centre."""
    from rio_tiler.io import Reader

    with Reader(str(path)) as r:
        return int(r.maxzoom)


def render_tile(path: str | Path, z: int, x: int, y: int, *, colors: dict[int, str] | None = None,
                ramp: str = "viridis", stretch: tuple[float, float] | None = None,
                gcj: bool = False) -> bytes | None:
    """The PNG of tile ``z/x/y`` (None: the raster does not reach it). ``colors``: {code: "#rrggbb"}
    for classes; otherwise ``ramp`` over ``stretch`` (min, max; default the raster's 2–98 %)."""
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader

    classes = colors is not None
    kw = dict(resampling_method="nearest", reproject_method="nearest") if classes else \
        dict(resampling_method="bilinear", reproject_method="bilinear")
    with Reader(str(path)) as r:
        try:
            if gcj:
                img = _gcj_tile(r, z, x, y, kw)
            else:
                if not r.tile_exists(x, y, z):
                    return None
                img = r.tile(x, y, z, tilesize=TILE, **kw)
        except TileOutsideBounds:
            return None
        if classes:
            return _palette_png(img, colors)
        lo, hi = stretch if stretch is not None else default_stretch(path)
        return _ramp_png(img, lo, hi, RAMPS.get(ramp, RAMPS["viridis"]))


def _gcj_tile(r, z, x, y, kw):
    """The tile of the GCJ-02 grid, sampled exactly: each tile pixel's centre (GCJ-02) is taken back
    to WGS84 (exact on a 17 × 17 lattice, bilinear between: the offset bends by < 0.1 m across 1/16
    of a tile), then into the raster's CRS, and takes the value of the raster pixel holding it (on
    the coarsest overview still finer than the tile's pixels). Nearest for continuous rasters too."""
    import morecantile
    import pyproj
    import rasterio
    from rasterio.windows import Window
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.models import ImageData

    tms = morecantile.tms.get("WebMercatorQuad")
    xb = tms.xy_bounds(morecantile.Tile(x, y, z))  # the tile in Web Mercator metres
    step = (xb.right - xb.left) / TILE
    merc = _merc_lonlat()
    k = np.linspace(0.5, TILE - 0.5, 17)  # the lattice, in tile pixels
    glon, glat = merc.transform(*np.meshgrid(xb.left + k * step, xb.top - k * step))
    wlon, wlat = (np.asarray(v, float) for v in ccrs.gcj02_to_wgs84(glon, glat))
    c = np.arange(TILE) + 0.5
    lon, lat = merc.transform(*np.meshgrid(xb.left + c * step, xb.top - c * step))  # every centre, GCJ-02
    ix = np.interp(c, k, np.arange(17.0))
    lon = lon + _bilinear(wlon - glon, ix)
    lat = lat + _bilinear(wlat - glat, ix)
    ds = r.dataset
    X, Y = pyproj.Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True).transform(lon, lat)
    # how many full-resolution pixels lie between neighbouring tile pixels, measured where both are
    # on the raster (at a low zoom a projected grid folds far from the raster: only its part counts)
    c0, r0 = (~ds.transform) * (X, Y)
    on = np.isfinite(c0) & np.isfinite(r0) & (c0 >= 0) & (c0 < ds.width) & (r0 >= 0) & (r0 < ds.height)
    if not on.any():
        raise TileOutsideBounds("outside")
    both = on[:, 1:] & on[:, :-1]
    step = np.hypot(np.diff(c0, axis=1), np.diff(r0, axis=1))[both]
    tile_px = float(np.median(step)) if step.size else float(max(ds.width, ds.height))
    fit = [i for i, f in enumerate(ds.overviews(1)) if f <= tile_px]
    with rasterio.open(ds.name, **({"overview_level": fit[-1]} if fit else {})) as lv:
        col, row = (~lv.transform) * (X, Y)
        col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
        inside = (col >= 0) & (col < lv.width) & (row >= 0) & (row < lv.height)
        if not inside.any():
            raise TileOutsideBounds("outside")
        c0, c1, r0, r1 = col[inside].min(), col[inside].max() + 1, row[inside].min(), row[inside].max() + 1
        win = lv.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    vals = np.ma.masked_all((TILE, TILE), dtype=win.dtype)
    vals[inside] = win[row[inside] - r0, col[inside] - c0]
    return ImageData(vals[None, ...], bounds=tuple(xb))


def _merc_lonlat():
    import pyproj

    return pyproj.Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def _bilinear(lattice: np.ndarray, ix: np.ndarray) -> np.ndarray:
    """Values of a 17 × 17 lattice at every (row, col) pair of fractional lattice coordinates ``ix``."""
    i0 = np.minimum(np.floor(ix).astype(int), lattice.shape[0] - 2)
    f = ix - i0
    a = lattice[i0][:, i0] * (1 - f)[None, :] + lattice[i0][:, i0 + 1] * f[None, :]
    b = lattice[i0 + 1][:, i0] * (1 - f)[None, :] + lattice[i0 + 1][:, i0 + 1] * f[None, :]
    return a * (1 - f)[:, None] + b * f[:, None]


def _palette_png(img, colors: dict[int, str]) -> bytes:
    """A palette PNG (one index per coloured code; index 0 transparent: nodata, masked, codes
    without a colour), written with fast compression: ~1 ms where an RGBA PNG takes ~8 ms."""
    from PIL import Image

    keys = np.array(sorted(int(c) for c, h in colors.items() if isinstance(h, str) and len(h) == 7)[:255],
                    dtype=np.int64)
    data = np.asarray(img.data[0]).astype(np.int64)
    valid = _valid(img)
    pos = np.searchsorted(keys, data).clip(0, max(len(keys) - 1, 0))
    hit = valid & (keys[pos] == data) if len(keys) else np.zeros(data.shape, bool)
    idx = np.where(hit, pos + 1, 0).astype(np.uint8)
    palette = [0, 0, 0]
    for k in keys.tolist():
        h = colors[k] if k in colors else colors[str(k)]
        palette += [int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)]
    im = Image.fromarray(idx, "P")
    im.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))
    buf = io.BytesIO()
    im.save(buf, format="PNG", transparency=0, compress_level=1)
    return buf.getvalue()


def default_stretch(path: str | Path) -> tuple[float, float]:
    """The default stretch of a continuous raster: 2–98 % of its values (from its smallest overview)."""
    p = Path(path)
    st = p.stat()
    return _stretch_of(str(p), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _stretch_of(path: str, mtime_ns: int, size: int) -> tuple[float, float]:
    from rio_tiler.io import Reader

    with Reader(path) as r:
        s = next(iter(r.statistics(max_size=512).values()))
    lo, hi = float(s.percentile_2), float(s.percentile_98)
    return (lo, hi if hi > lo else lo + 1.0)


def _ramp_png(img, lo: float, hi: float, stops) -> bytes:
    from rio_tiler.utils import render

    v = img.data[0].astype("float64")
    valid = _valid(img) & np.isfinite(v)  # a NaN nodata (or an infinite value): transparent
    v = np.where(valid, v, lo)
    t = np.clip((v - lo) / (hi - lo), 0, 1) * (len(stops) - 1)
    k = np.minimum(np.floor(t).astype(int), len(stops) - 2)
    f = (t - k)[..., None]
    a, b = np.asarray(stops, float)[k], np.asarray(stops, float)[k + 1]
    rgb = np.rint(a + (b - a) * f).astype(np.uint8).transpose(2, 0, 1)
    return render(rgb, mask=np.where(valid, 255, 0).astype(np.uint8), img_format="PNG")


def _valid(img) -> np.ndarray:
    """Pixels with data (rio-tiler's masked array: nodata, outside the raster and the alpha band masked)."""
    return ~np.ma.getmaskarray(img.array)[0]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The slippy-map tile holding a WGS84 point (for tests and the benchmark)."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y

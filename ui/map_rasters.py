"""Land cover on the folium map: ``landcover_png`` renders a classified raster (the default 5 km land
cover, or the small display copy of a land cover registered before map tiles) as a palette PNG warped to Web Mercator, one colour per
code its legend declares and transparent elsewhere, at most 1024 pixels on its long side; ``add_raster``
lays that image over the map in its own toggleable group (shifted to GCJ-02 for the Gaode basemap,
optionally in a pane of the side-by-side view).
"""
from __future__ import annotations

import base64
import html
import io

import folium
import numpy as np
import rasterio
import rasterio.enums
import rasterio.warp

from core import crs


def landcover_png(path, legend_colors: dict[int, str], nodata: int | None = None,
                  max_side: int = 1024) -> tuple[str, list]:
    """Classified PNG (data URL) of a land cover warped to Web Mercator, at most ``max_side``
    pixels on its long side (a province view on a screen), and its bounds.

    The source (the default 5 km land cover, or a user land cover's display copy) is read at
    about the output's resolution (nearest; overviews used when present), so a 30 m province
    raster renders as fast as the 5 km default. Palette PNG: index 0 is transparent (nodata and
    codes without a colour), one index per legend code."""
    import math

    from PIL import Image

    dst_crs = "EPSG:3857"
    with rasterio.open(path) as src:
        src_crs = src.crs or "EPSG:4326"
        tr, w, h = rasterio.warp.calculate_default_transform(src_crs, dst_crs, src.width, src.height, *src.bounds)
        k = max(w, h) / max_side
        if k > 1:
            w2, h2 = max(1, math.ceil(w / k)), max(1, math.ceil(h / k))
            tr = tr * tr.scale(w / w2, h / h2)
            w, h = w2, h2
        ks = max(1, int(min(src.width / w, src.height / h)))  # read at about the output's resolution
        shape = (max(1, math.ceil(src.height / ks)), max(1, math.ceil(src.width / ks)))
        data = src.read(1, out_shape=shape, resampling=rasterio.enums.Resampling.nearest)
        src_tr = src.transform * src.transform.scale(src.width / shape[1], src.height / shape[0])
        nod = src.nodata if nodata is None else nodata
        out = np.full((h, w), 255 if nod is None else nod, dtype=data.dtype)
        rasterio.warp.reproject(data, out, src_transform=src_tr, src_crs=src_crs, dst_transform=tr, dst_crs=dst_crs,
                                resampling=rasterio.warp.Resampling.nearest, src_nodata=nod, dst_nodata=nod)
        wb = rasterio.warp.transform_bounds(dst_crs, "EPSG:4326", tr.c, tr.f + tr.e * h, tr.c + tr.a * w, tr.f)
    codes = sorted(c for c in legend_colors if c >= 0)[:255]
    lut = np.zeros(max(int(out.max(initial=0)), max(codes, default=0)) + 1, dtype=np.uint8)
    palette = [0, 0, 0]
    for i, code in enumerate(codes, start=1):
        lut[code] = i
        hexcol = legend_colors[code]
        palette += [int(hexcol[1:3], 16), int(hexcol[3:5], 16), int(hexcol[5:7], 16)]
    idx = lut[np.clip(out, 0, None).astype(np.int64)]
    if nod is not None and float(nod).is_integer() and 0 <= nod < lut.size:
        idx[out == nod] = 0
    img = Image.fromarray(idx, "P")
    img.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=0)
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return url, [[wb[1], wb[0]], [wb[3], wb[2]]]


def add_raster(m: folium.Map, url: str, bounds: list, title: str, opacity: float, show: bool,
               gcj: bool, pane: str | None = None) -> None:
    if gcj:  # 5 km pixels: a single offset at the centre is accurate to a few metres of it
        clat = (bounds[0][0] + bounds[1][0]) / 2
        clon = (bounds[0][1] + bounds[1][1]) / 2
        glon, glat = crs.wgs84_to_gcj02(clon, clat)
        dlon, dlat = float(glon) - clon, float(glat) - clat
        bounds = [[bounds[0][0] + dlat, bounds[0][1] + dlon], [bounds[1][0] + dlat, bounds[1][1] + dlon]]
    group = folium.FeatureGroup(name=html.escape(title), show=show)  # the layer control sets innerHTML
    folium.raster_layers.ImageOverlay(url, bounds=bounds, opacity=opacity, interactive=False,
                                      zindex=1, **({"pane": pane} if pane else {})).add_to(group)
    group.add_to(m)


OVERZOOM = 3  # tile levels the server draws past a raster's native zoom (a pixel 8 tile pixels wide)


def add_tiles(m: folium.Map, url: str, title: str, opacity: float, show: bool, native_zoom: int,
              pane: str | None = None) -> None:
    """A raster served as tiles by the dashboard's own tile service (``ui.tileserver``: the URL is a
    grant, already shifted to GCJ-02 when the basemap needs it), in its own toggleable group. Tiles
    are asked for down to ``OVERZOOM`` levels past the raster's native zoom (the server enlarges
    with nearest: a class edge stays sharp where a browser's scaling of a native tile blurs it),
    and the browser enlarges beyond."""
    group = folium.FeatureGroup(name=html.escape(title), show=show)  # the layer control sets innerHTML
    folium.raster_layers.TileLayer(tiles=url, attr=html.escape(title), name=html.escape(title), overlay=True,
                                   control=False, opacity=opacity, max_native_zoom=native_zoom + OVERZOOM, max_zoom=22,
                                   tile_size=256, zindex=1, **({"pane": pane} if pane else {})).add_to(group)
    group.add_to(m)

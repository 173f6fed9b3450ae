"""The Map page's view as a picture: a PNG rendered server-side with Pillow (no browser, no
matplotlib) from the same layers, styles and legend sections the map shows.

Layout (``render_png``): title bar; the map in Web Mercator (as on screen) with a north arrow and
a scale bar (true at the view's centre latitude); on the right the legend (the map's legend
sections, colour swatches) and the data sources with their status badges; at the bottom the date
and the coordinate note. ``LEGEND_SWATCH_BOXES`` of the last render tell where each swatch was
drawn (tests check those pixels). A one-page PDF of it: ``reports.pdf.mappage``.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import InputError

R = 6378137.0
GANSU_BOUNDS = (92.3, 32.5, 108.8, 42.8)  # lon/lat: west, south, east, north
BACKGROUND = (255, 255, 255, 255)
MAP_BACKGROUND = (246, 248, 250, 255)
FONT_CANDIDATES = (  # CJK-capable fonts Pillow can read (TrueType/OpenType collections)
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: SC
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
)


@dataclass
class VectorLayer:
    """Polygons, lines or points in any CRS; ``style`` as in the catalog (color, weight,
    fill_color, fill_opacity, dash, radius) plus ``fills``: one fill colour per feature."""
    gdf: object
    style: dict
    opacity: float = 1.0
    fills: Sequence[str] | None = None


@dataclass
class RasterLayer:
    """A classified raster drawn with one colour per code (``colors``: code → '#rrggbb')."""
    path: str | Path
    colors: dict
    opacity: float = 0.7
    nodata: float | None = None


@dataclass
class Export:
    title: str
    layers: list = field(default_factory=list)  # VectorLayer | RasterLayer, bottom first
    legend: list = field(default_factory=list)  # [{"title", "items": [{"label", "fill", "stroke", "dash"}]}]
    sources: list = field(default_factory=list)  # [(name, status badge text)]
    date: str = ""
    notes: list = field(default_factory=list)  # extra lines under the map (CRS, caveats)
    labels: dict = field(default_factory=dict)  # "legend", "sources", "date", "north" texts


LEGEND_SWATCH_BOXES: list[tuple[tuple[int, int, int, int], tuple[int, int, int]]] = []


# --- helpers -------------------------------------------------------------------------------------------
def _font(size: int):
    from PIL import ImageFont

    for path, idx in FONT_CANDIDATES:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size, index=idx)
            except OSError:
                continue
    return ImageFont.load_default(size)


def _rgb(hexcol, default=(120, 120, 120)) -> tuple[int, int, int]:
    if not isinstance(hexcol, str) or not hexcol.startswith("#") or len(hexcol) not in (4, 7):
        return default
    h = hexcol[1:]
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    try:
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    except ValueError:
        return default


def merc(lon, lat):
    lat = np.clip(np.asarray(lat, dtype=float), -85.05, 85.05)
    return np.radians(np.asarray(lon, dtype=float)) * R, R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


class _View:
    """Lon/lat bounds fitted (aspect kept) into a pixel box of the image."""

    def __init__(self, bounds, box):
        w, s, e, n = bounds
        if not (e > w and n > s):
            raise InputError("导出范围无效", "the export extent is empty or invalid")
        (x0, x1), (y0, y1) = merc([w, e], [s, n])
        bx0, by0, bx1, by1 = box
        k = min((bx1 - bx0) / (x1 - x0), (by1 - by0) / (y1 - y0))  # pixels per metre
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.k = k
        self.box = box
        self.mx0 = cx - (bx1 - bx0) / 2 / k  # mercator metres at the box's left edge
        self.my1 = cy + (by1 - by0) / 2 / k  # … and top edge
        self.lat0 = (s + n) / 2

    def px(self, lon, lat):
        x, y = merc(lon, lat)
        return self.box[0] + (x - self.mx0) * self.k, self.box[1] + (self.my1 - y) * self.k

    def merc_bounds(self):
        bx0, by0, bx1, by1 = self.box
        return self.mx0, self.my1 - (by1 - by0) / self.k, self.mx0 + (bx1 - bx0) / self.k, self.my1


def _dashed(draw, pts, fill, width, dash=(8, 5)):
    on, off = dash
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        seg = math.hypot(x1 - x0, y1 - y0)
        if seg == 0:
            continue
        pos = 0.0
        while pos < seg:
            a, b = pos / seg, min(pos + on, seg) / seg
            draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                      fill=fill, width=width)
            pos += on + off


def _draw_vector(img, layer: VectorLayer, view: _View):
    import shapely
    from PIL import Image, ImageDraw

    gdf = layer.gdf
    if gdf is None or len(gdf) == 0:
        return
    if gdf.crs is None:
        raise InputError("地图图层没有坐标参考系", "a map layer has no CRS")
    g = gdf.to_crs(4326)
    s = layer.style
    op = max(0.0, min(1.0, float(layer.opacity)))
    stroke = _rgb(s.get("color", "#3388ff"))
    stroke_a = int(255 * op)
    fill_op = float(s.get("fill_opacity", 0.2)) * op
    width = max(1, int(round(float(s.get("weight", 1.0)) * 1.5)))
    dash = s.get("dash")
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    x0, y0, x1, y1 = view.box

    def to_px(coords):
        c = np.asarray(coords, dtype=float)
        px, py = view.px(c[:, 0], c[:, 1])
        return np.column_stack([px, py])

    fills = list(layer.fills) if layer.fills is not None else [None] * len(g)
    for geom, fcol in zip(g.geometry.values, fills):
        if geom is None or geom.is_empty:
            continue
        geom = shapely.transform(geom, to_px)
        geom = geom.simplify(0.4, preserve_topology=True)
        fill = _rgb(fcol or s.get("fill_color") or s.get("color", "#3388ff"))
        for part in shapely.get_parts(geom):
            kind = part.geom_type
            if kind == "Polygon":
                ext = [tuple(p) for p in np.asarray(part.exterior.coords)]
                if fill_op > 0 and len(ext) >= 3:
                    d.polygon(ext, fill=fill + (int(255 * fill_op),))
                    for ring in part.interiors:
                        d.polygon([tuple(p) for p in np.asarray(ring.coords)], fill=(0, 0, 0, 0))
                for ring in [part.exterior, *part.interiors]:
                    pts = [tuple(p) for p in np.asarray(ring.coords)]
                    if dash:
                        _dashed(d, pts, stroke + (stroke_a,), width)
                    else:
                        d.line(pts, fill=stroke + (stroke_a,), width=width, joint="curve")
            elif kind == "LineString":
                pts = [tuple(p) for p in np.asarray(part.coords)]
                if dash:
                    _dashed(d, pts, stroke + (stroke_a,), width)
                else:
                    d.line(pts, fill=stroke + (stroke_a,), width=width, joint="curve")
            elif kind == "Point":
                r = float(s.get("radius", 5)) * 1.3
                d.ellipse([part.x - r, part.y - r, part.x + r, part.y + r],
                          fill=_rgb(s.get("fill_color") or s.get("color")) + (int(230 * op),),
                          outline=stroke + (stroke_a,), width=2)
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).rectangle([x0, y0, x1, y1], fill=255)
    clipped = Image.new("RGBA", img.size, (0, 0, 0, 0))
    clipped.paste(over, (0, 0), mask)
    img.alpha_composite(clipped)


def _overview_for(path, out_px_m: float) -> dict:
    """``rasterio.open`` options reading the coarsest overview still finer than the output's pixels
    (``out_px_m``: Web Mercator metres): a province map reads an overview, not the 30 m COG."""
    import rasterio
    import rasterio.warp

    with rasterio.open(path) as src:
        factors = src.overviews(1)
        if not factors:
            return {}
        x0, _, x1, _ = rasterio.warp.transform_bounds(src.crs or "EPSG:4326", "EPSG:3857", *src.bounds)
        src_px = (x1 - x0) / src.width
    fit = [i for i, f in enumerate(factors) if f * src_px <= out_px_m]
    return {"overview_level": fit[-1]} if fit else {}


def _draw_raster(img, layer: RasterLayer, view: _View):
    import rasterio
    import rasterio.warp
    from PIL import Image
    from rasterio.transform import from_bounds

    bx0, by0, bx1, by1 = (int(round(v)) for v in view.box)
    w, h = bx1 - bx0, by1 - by0
    mx0, my0, mx1, my1 = view.merc_bounds()
    dst_tr = from_bounds(mx0, my0, mx1, my1, w, h)
    with rasterio.open(layer.path, **_overview_for(layer.path, (mx1 - mx0) / max(w, 1))) as src:
        nod = src.nodata if layer.nodata is None else layer.nodata
        fillv = 0 if nod is None else nod
        out = np.full((h, w), fillv, dtype=src.dtypes[0])
        rasterio.warp.reproject(rasterio.band(src, 1), out, src_crs=src.crs or "EPSG:4326", dst_transform=dst_tr,
                                dst_crs="EPSG:3857", resampling=rasterio.warp.Resampling.nearest,
                                src_nodata=nod, dst_nodata=fillv)
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    alpha = int(255 * max(0.0, min(1.0, float(layer.opacity))))
    valid = np.ones(out.shape, dtype=bool) if nod is None else out != nod
    for code, col in layer.colors.items():
        sel = valid & (out == code)
        if sel.any():
            rgba[sel] = (*_rgb(col), alpha)
    img.alpha_composite(Image.fromarray(rgba, "RGBA"), (bx0, by0))


def _north_arrow(d, x, y, size, font, label):
    d.polygon([(x, y), (x - size * 0.45, y + size), (x, y + size * 0.72)], fill=(30, 30, 30, 255))
    d.polygon([(x, y), (x + size * 0.45, y + size), (x, y + size * 0.72)], fill=(255, 255, 255, 255),
              outline=(30, 30, 30, 255))
    d.text((x, y - 4), label, fill=(30, 30, 30, 255), font=font, anchor="md")


def _scale_bar(d, view: _View, x, y, max_px, font):
    """A bar whose length is a round number of km, true at the view's centre latitude."""
    m_per_px = 1 / view.k * math.cos(math.radians(view.lat0))
    nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000]
    km = max([n for n in nice if n * 1000 / m_per_px <= max_px] or [1])
    L = km * 1000 / m_per_px
    half = L / 2
    d.rectangle([x, y, x + half, y + 7], fill=(30, 30, 30, 255))
    d.rectangle([x + half, y, x + L, y + 7], fill=(255, 255, 255, 255), outline=(30, 30, 30, 255))
    d.rectangle([x, y, x + L, y + 7], outline=(30, 30, 30, 255))
    d.text((x, y + 11), "0", fill=(30, 30, 30, 255), font=font)
    d.text((x + L, y + 11), f"{km:g} km", fill=(30, 30, 30, 255), font=font, anchor="ma")
    return km


def _wrap(d, text, font, width):
    """Lines of ``text`` no wider than ``width`` pixels (CJK: any character may break)."""
    lines, cur = [], ""
    for ch in str(text):
        if d.textlength(cur + ch, font=font) > width and cur:
            lines.append(cur)
            cur = ch.lstrip()
        else:
            cur += ch
    if cur:
        lines.append(cur)
    return lines or [""]


# --- the picture ---------------------------------------------------------------------------------------
def render_png(ex: Export, bounds=GANSU_BOUNDS, size: tuple[int, int] = (1800, 1200)) -> bytes:
    """The map view ``bounds`` (lon/lat west, south, east, north) as PNG bytes."""
    from PIL import Image, ImageDraw

    W, H = size
    if W < 600 or H < 400:
        raise InputError("导出图片太小", "the export image is too small")
    img = Image.new("RGBA", (W, H), BACKGROUND)
    d = ImageDraw.Draw(img)
    f_title, f_h, f_t, f_s = _font(30), _font(19), _font(16), _font(14)
    pad, top, bottom = 24, 70, 80
    panel_w = int(W * 0.27)
    box = (pad, top, W - panel_w - 2 * pad, H - bottom)
    d.text((pad, 22), ex.title, fill=(20, 40, 60, 255), font=f_title)
    d.rectangle(box, fill=MAP_BACKGROUND)
    view = _View(bounds, box)
    for layer in ex.layers:
        if isinstance(layer, RasterLayer):
            _draw_raster(img, layer, view)
        else:
            _draw_vector(img, layer, view)
    d = ImageDraw.Draw(img)
    d.rectangle(box, outline=(90, 90, 90, 255), width=2)
    lab = ex.labels
    _north_arrow(d, box[2] - 40, box[1] + 34, 44, f_t, lab.get("north", "N"))
    # scale bar on a white plate in the map's lower left
    d.rectangle([box[0] + 10, box[3] - 52, box[0] + 260, box[3] - 10], fill=(255, 255, 255, 220))
    _scale_bar(d, view, box[0] + 22, box[3] - 44, 220, f_s)
    # legend + sources panel
    LEGEND_SWATCH_BOXES.clear()
    px0, y = W - panel_w - pad + 8, top
    pw = panel_w - 8
    d.text((px0, y), lab.get("legend", "Legend"), fill=(20, 40, 60, 255), font=f_h)
    y += 30
    for sec in ex.legend:
        if y > H - bottom - 120:
            break
        for line in _wrap(d, sec.get("title", ""), f_t, pw):
            d.text((px0, y), line, fill=(60, 60, 60, 255), font=f_t)
            y += 20
        for it in sec.get("items", []):
            if y > H - bottom - 120:
                break
            fill = it.get("fill")
            sw = (px0 + 2, y + 3, px0 + 28, y + 17)
            if fill and fill != "transparent":
                d.rectangle(sw, fill=_rgb(fill) + (255,), outline=_rgb(it.get("stroke", "#666")) + (255,))
                LEGEND_SWATCH_BOXES.append((sw, _rgb(fill)))
            else:
                d.rectangle(sw, fill=(255, 255, 255, 255), outline=_rgb(it.get("stroke", "#666")) + (255,),
                            width=3 if it.get("dash") else 2)
            lines = _wrap(d, it.get("label", ""), f_s, pw - 36)
            for j, line in enumerate(lines[:2]):
                d.text((px0 + 36, y + 1 + 17 * j), line, fill=(30, 30, 30, 255), font=f_s)
            y += max(22, 17 * min(2, len(lines)) + 4)
        y += 8
    y = max(y + 6, H - bottom - 110 - 20 * max(0, len(ex.sources) - 3))
    y = min(y, H - bottom - 30)
    d.text((px0, y), lab.get("sources", "Sources"), fill=(20, 40, 60, 255), font=f_h)
    y += 26
    for name, badge in ex.sources:
        for line in _wrap(d, f"{name} [{badge}]" if badge else name, f_s, pw)[:2]:
            if y > H - 20:
                break
            d.text((px0, y), line, fill=(50, 50, 50, 255), font=f_s)
            y += 18
    # footer: date and notes
    fy = H - bottom + 14
    d.text((pad, fy), f"{lab.get('date', 'Date')}: {ex.date}", fill=(50, 50, 50, 255), font=f_t)
    for i, note in enumerate(ex.notes[:2]):
        d.text((pad, fy + 24 + 20 * i), _wrap(d, note, f_s, W - panel_w - 3 * pad)[0], fill=(90, 90, 90, 255), font=f_s)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def non_background_share(png: bytes, box=None) -> float:
    """Share of pixels (in ``box`` or the whole image) that are neither the page nor the map's
    empty background: how much was drawn."""
    from PIL import Image

    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    if box is not None:
        x0, y0, x1, y1 = box
        im = im[y0:y1, x0:x1]
    bg = np.all(im == BACKGROUND[:3], axis=-1) | np.all(im == MAP_BACKGROUND[:3], axis=-1)
    return float(1 - bg.mean())

"""The report's map: province outline, zones (filled, with a legend), parks numbered as in the
ranking (grey when excluded) and a scale bar, as a reportlab vector Drawing."""
from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from core.errors import InputError
from core.i18n import t

_ZONE_COLORS = ("#cfe8cf", "#cde3f3", "#f3e3c3", "#e6d5ef", "#f6d6d6", "#e0e0c8", "#d4efe9")


def _to_lonlat(gdf):
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        raise InputError("地图图层没有坐标参考系", "a map layer has no CRS")
    return gdf.to_crs(4326)


def _rings(geom) -> list[list[tuple[float, float]]]:
    import shapely

    out = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        out.append(list(poly.exterior.coords))
        out.extend(list(r.coords) for r in poly.interiors)
    return out


def map_drawing(province, zones, parks, park_labels: Mapping[str, tuple[str, bool]], lang: str,
                 font: str, width: float, zone_field: str | None):
    """A vector map (reportlab Drawing) and its extent note."""
    from reportlab.graphics.shapes import FILL_EVEN_ODD, Circle, Drawing, Line, Path as RPath, Rect, String
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth

    province, zones, parks = _to_lonlat(province), _to_lonlat(zones), _to_lonlat(parks)
    layers = [g for g in (province, zones, parks) if g is not None]
    if not layers:
        return None, ""
    base = province if province is not None else (zones if zones is not None else parks)
    w, s, e, n = base.total_bounds
    if parks is not None:
        pw, ps, pe, pn = parks.total_bounds
        w, s, e, n = min(w, pw), min(s, ps), max(e, pe), max(n, pn)
    pad = 0.03 * max(e - w, n - s, 0.05)
    w, s, e, n = w - pad, s - pad, e + pad, n + pad
    lat0 = (s + n) / 2
    k = math.cos(math.radians(lat0))
    # legend: parks, then zones (full names, wrapped into rows right of the scale bar)
    items = [(colors.HexColor("#c0392b"), t("report.park", lang)), (colors.HexColor("#7f7f7f"), t("report.park_excluded", lang))]
    zone_fill = []
    if zones is not None:
        field = zone_field or next((f for f in (f"name_{lang}", "name_zh", "zone", "name") if f in zones.columns), None)
        for i, (_, z) in enumerate(zones.iterrows()):
            col = z.get("color") if "color" in zones.columns else None
            fallback = colors.HexColor(_ZONE_COLORS[i % len(_ZONE_COLORS)])
            try:
                fill = colors.HexColor(col) if isinstance(col, str) and col else fallback
            except (ValueError, TypeError):
                fill = fallback
            fill = colors.Color(fill.red, fill.green, fill.blue, alpha=0.55)
            zone_fill.append(fill)
            if field:
                items.append((fill, str(z[field])[:60]))
    left = width * 0.22
    pos, x, y = [], left, 0.0
    for _, text in items:
        wd = 11 + stringWidth(text, font, 6.5) + 12
        if x + wd > width and x > left:
            x, y = left, y + 11
        pos.append((x, y))
        x += wd
    legend_h = max(24.0, y + 20)
    scale = min(width / ((e - w) * k), 380 / (n - s))
    height = (n - s) * scale + legend_h
    d = Drawing(width, height)
    x0 = (width - (e - w) * k * scale) / 2

    def xy(lon, lat):
        return x0 + (lon - w) * k * scale, legend_h + (lat - s) * scale

    tol = max(e - w, n - s) / 1500  # about half a point: invisible simplification

    def poly_path(geom, fill, stroke, stroke_width):
        pts, ops = [], []
        for ring in _rings(geom.simplify(tol, preserve_topology=True) if tol > 0 else geom):
            for i, (lon, lat) in enumerate(ring):
                pts.extend(xy(lon, lat))
                ops.append(0 if i == 0 else 1)
            ops.append(3)
        if not pts:
            return None
        return RPath(pts, ops, fillColor=fill, strokeColor=stroke, strokeWidth=stroke_width, fillMode=FILL_EVEN_ODD)

    shapes = []
    if zones is not None:
        for fill, geom in zip(zone_fill, zones.geometry):
            p = poly_path(geom, fill, colors.white, 0.3)
            if p is not None:
                shapes.append(p)

    if province is not None:
        for geom in province.geometry:
            p = poly_path(geom, None, colors.black, 0.8)
            if p is not None:
                shapes.append(p)
    if parks is not None:
        ids = parks["park_id"].astype(str) if "park_id" in parks.columns else pd.Series(map(str, range(len(parks))))
        for pid, geom in zip(ids, parks.geometry):
            if geom is None or geom.is_empty:
                continue
            label, excluded = park_labels.get(pid, ("", False))
            col = colors.HexColor("#7f7f7f") if excluded else colors.HexColor("#c0392b")
            p = poly_path(geom, col, col, 0.5)
            if p is not None:
                shapes.append(p)
            c = geom.representative_point()
            cx, cy = xy(c.x, c.y)
            shapes.append(Circle(cx, cy, 5.5, fillColor=colors.white, strokeColor=col, strokeWidth=1.2))
            if label:
                shapes.append(String(cx, cy - 2.4, label, fontName=font, fontSize=6.5, fillColor=col, textAnchor="middle"))
    for sh in shapes:
        d.add(sh)
    # scale bar (true at lat0: one plotted degree = 111.32 km on both axes)
    km_per_pt = 111.32 / scale
    nice = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    bar_km = max([b for b in nice if b / km_per_pt <= width * 0.2] or [nice[0]])
    by = legend_h - 10
    d.add(Line(0, by, bar_km / km_per_pt, by, strokeColor=colors.black, strokeWidth=1.5))
    d.add(String(0, by + 4, f"{bar_km:g} km", fontName=font, fontSize=7))
    for (lx, ly), (fill, text) in zip(pos, items):
        d.add(Rect(lx, legend_h - 12 - ly, 8, 8, fillColor=fill, strokeColor=colors.grey, strokeWidth=0.3))
        d.add(String(lx + 11, legend_h - 10 - ly, text, fontName=font, fontSize=6.5))
    note = t("report.map_note", lang, w=w + pad, e=e - pad, s=s + pad, n=n - pad, lat0=lat0)
    return d, note


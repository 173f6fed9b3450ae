"""Legend sections of the map, from the layer catalog: the colour of every code a land-cover legend
classifies (``landcover_colors``, also the key of the cached land-cover image), the legend entry of a
visible catalog layer (``legend_section``: a raster's classes, a colour-by-field layer's features, or
one swatch in the layer's style) and of a land-cover overlay (``landcover_legend_section``). The map's
legend control that shows them is ``ui.mapview.add_legend``; the PNG/PDF export uses the same sections.
"""
from __future__ import annotations

import html

from core.text import pick
from layers.catalog import LayerSpec
from layers.legends import CLASSES, get_legend


def landcover_colors(legend_id: str) -> tuple[tuple[int, str], ...]:
    """(raster code, colour) of every code the legend classifies (hashable: a cache key); a
    built-in legend id or the path of a custom legend CSV."""
    colour = {c.id: c.color for c in CLASSES}
    return tuple(sorted((code, colour[cls]) for code, cls in get_legend(legend_id).codes.items()))


def legend_section(spec: LayerSpec, lang: str, title: str, fc: dict | None = None) -> dict:
    """The legend entry of one visible layer, from its catalog declaration: a raster's declared
    land-cover legend (its classes, canonical order), a colour-by-field layer's features (named in
    ``lang``), or one swatch in the layer's style."""
    s = spec.style
    if spec.kind == "raster":
        return landcover_legend_section(spec.legend, lang, title)
    elif s.get("color_field") and fc and fc["features"]:
        items = [{"label": html.unescape(pick(f["properties"].get(spec.name_field or "", ""),
                                              f["properties"].get("name_en", ""), lang)),
                  "fill": f["properties"].get("_fill"), "stroke": s.get("color", "#555")} for f in fc["features"]]
    else:
        items = [{"label": spec.title(lang),
                  "fill": s.get("fill_color", "transparent") if s.get("fill_opacity", 0) > 0 else "transparent",
                  "stroke": s.get("color", "#333"), "dash": bool(s.get("dash"))}]
    return {"title": title, "items": items}


def landcover_legend_section(legend: str, lang: str, title: str) -> dict:
    """The legend entry of a land-cover overlay: the canonical classes its legend uses (canonical
    order, their colours)."""
    used = set(get_legend(legend).codes.values())
    items = [{"label": pick(c.label_zh, c.label_en, lang), "fill": c.color, "stroke": "#666"}
             for c in CLASSES if c.id in used]
    return {"title": title, "items": items}

"""The user's transport datasets on the map (roads, railways, stations, airports), one group per kind:
the style of each kind (``TRANSPORT_STYLE``), the display FeatureCollection of one kind
(``transport_geojson``: lines simplified for display only, tooltip text escaped), the layer itself
(``add_transport``) and its legend entry (``transport_legend_item``).
"""
from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np

from core import crs
from ui.map_vectors import escape_text, format_value

TRANSPORT_STYLE = {
    "expressway": {"color": "#d84315", "weight": 3.0},
    "major_road": {"color": "#f9a825", "weight": 2.0},
    "railway": {"color": "#37474f", "weight": 2.0, "dash": "8 4"},
    "station": {"color": "#6a1b9a", "radius": 4},
    "airport": {"color": "#1565c0", "radius": 6},
}


def transport_geojson(gdf: gpd.GeoDataFrame, label: str, *, gcj: bool, simplify_deg: float = 0.001) -> dict:
    """FeatureCollection of one kind of transport features for display: lines simplified
    (``simplify_deg``, topology kept; distances use the full detail), the tooltip text escaped."""
    import shapely

    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    geoms = g.geometry.values
    if simplify_deg:
        geoms = shapely.simplify(np.asarray(geoms), simplify_deg, preserve_topology=True)
    if gcj:
        geoms = crs.geom_wgs84_to_gcj02(geoms)
    names = [format_value(v) for v in g["name"]] if "name" in g.columns else [""] * len(g)
    feats = []
    for geom, name in zip(geoms, names):
        if geom is None or geom.is_empty:
            continue
        text = f"{label} · {name}" if name else label
        feats.append({"type": "Feature", "properties": {"label": escape_text(text)},
                      "geometry": geom.__geo_interface__})
    return {"type": "FeatureCollection", "features": feats}


def add_transport(m: folium.Map, fc: dict, kind: str, title: str, show: bool) -> None:
    """One kind of transport: lines in the kind's style, points as small circles; tooltips."""
    st_ = TRANSPORT_STYLE.get(kind, {"color": "#333333", "weight": 1.5})
    group = folium.FeatureGroup(name=html.escape(title), show=show)  # the layer control sets innerHTML
    style = {"color": st_["color"], "weight": st_.get("weight", 1.5), "dashArray": st_.get("dash"),
             "fillColor": st_["color"], "fillOpacity": 0.9, "opacity": 0.95}
    folium.GeoJson(fc, name=f"transport_{kind}", style_function=lambda f, s=style: s,
                   marker=folium.CircleMarker(radius=st_.get("radius", 4), fill=True, weight=1.5),
                   tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False, sticky=True) if fc["features"] else None,
                   smooth_factor=0.5).add_to(group)
    group.add_to(m)


def transport_legend_item(kind: str, label: str) -> dict:
    st_ = TRANSPORT_STYLE.get(kind, {"color": "#333333"})
    return {"label": label, "fill": st_["color"] if "radius" in st_ else "transparent", "stroke": st_["color"],
            "dash": bool(st_.get("dash"))}

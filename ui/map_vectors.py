"""Vector layers on the folium map: tooltip text escaped for the browser (``escape_text``,
``escape_frame``: HTML special characters and the characters of a JavaScript template literal), the
FeatureCollection of one catalog layer as sent to the browser (``geojson_for``: WGS84, simplified or a
display copy, shifted to GCJ-02 for the Gaode basemap), its Leaflet style from the catalog
(``vector_style``), and ``add_vector``, which draws a layer in its own toggleable group — points as
circles, polygons and lines embedded or, when their geometry is served as a static file
(``ui.map_geometry_files``), fetched by the browser (``FetchedGeoJson``).
"""
from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry
from branca.element import MacroElement
from jinja2 import Template

from core import crs
from layers.catalog import LayerSpec
from ui import displaygeom
from ui.map_geometry_files import geometry_url


def escape_text(text) -> str:
    """Text safe in a tooltip: HTML special characters escaped, and also the backtick, ``$`` and the
    backslash, because folium writes a Tooltip's text into a JavaScript template literal (`…`),
    where ``${…}`` would run code (a park named ``${alert(1)}``)."""
    return html.escape(str(text)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def script_json(payload) -> str:
    """JSON for a payload written inside a <script> element: ``<`` as ``\\u003c``, so no text in it
    (``</script>``, ``<!--``) can end or change the element, whatever its callers escaped."""
    return json.dumps(payload).replace("<", "\\u003c")


def escape_frame(df: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """String copies of ``fields`` escaped for tooltips (``escape_text``)."""
    out = pd.DataFrame(index=df.index)
    for f in fields:
        col = df[f]
        out[f] = [escape_text(format_value(v)) for v in col]
    return out


def format_value(v) -> str:
    """A cell as display text: None/NaN → "", floats with thousands separators and 2 decimals."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{v:,.2f}"
    return str(v)


def geojson_for(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, gcj: bool, simplify_deg: float,
                max_vertices: int | None = None) -> dict:
    """The FeatureCollection sent to the browser for one layer (escaped, simplified).
    ``max_vertices``: a display copy (``ui.displaygeom.for_display``: at least ``simplify_deg``,
    coarser until the layer has at most that many vertices, coordinates rounded)."""
    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    fields = [f for f in spec.tooltip if f in g.columns]
    props = escape_frame(g, fields)
    color_field = spec.style.get("color_field")
    if color_field and color_field in g.columns:
        props["_fill"] = g[color_field].astype(str).values
    geoms = g.geometry.values
    if max_vertices is not None and spec.kind != "points":
        geoms = displaygeom.for_display(geoms, max_vertices, simplify_deg)
    elif simplify_deg and spec.kind != "points":
        geoms = gpd.GeoSeries(geoms).simplify(simplify_deg, preserve_topology=True).values
    if gcj:
        geoms = crs.geom_wgs84_to_gcj02(geoms)
    feats = []
    for geom, (_, row) in zip(geoms, props.iterrows()):
        if geom is None or geom.is_empty:
            continue
        feats.append({"type": "Feature", "properties": row.to_dict(),
                      "geometry": geom.__geo_interface__})
    return {"type": "FeatureCollection", "features": feats}


def _style(spec: LayerSpec, opacity: float = 1.0):
    base = vector_style(spec, opacity)

    def fn(feature):
        fill = feature["properties"].get("_fill") or base["fillColor"]
        return {**base, "fillColor": fill}

    return fn


# Fetches the geometry, joins it to the inline properties, draws it with the layer's style (colour
# per feature from ``_fill``), scaled by the layer's opacity, in the layer's pane. Tooltip values
# arrive HTML-escaped (``escape_frame``), the aliases too. The page's groups are made again when one
# of them changes (a click, a toggle): a file once fetched and parsed is kept by its URL (the name
# is its content's digest), and the layer is drawn again from it before the next frame is painted.
class FetchedGeoJson(MacroElement):
    """A GeoJSON layer whose geometry is fetched from a static file (``geometry_file``)."""

    _template = Template("""{% macro script(this, kwargs) %}
(function(group, P){
  var kept = window.__gansu_geometry = window.__gansu_geometry || {};
  if (!kept[P.url]) kept[P.url] = fetch(P.url).then(function(r){ if (!r.ok) throw new Error(r.status); return r.json(); })
    .catch(function(e){ delete kept[P.url]; throw e; });
  kept[P.url].then(function(geoms){
    var feats = [];
    for (var i = 0; i < geoms.length; i++) feats.push({type: 'Feature', properties: P.props[i], geometry: geoms[i]});
    var lyr = L.geoJSON({type: 'FeatureCollection', features: feats}, {
      pane: P.pane || 'overlayPane', smoothFactor: 0.5,
      style: function(f){ var s = Object.assign({}, P.style); if (f.properties._fill) s.fillColor = f.properties._fill; return s; }
    });
    if (P.fields.length) lyr.bindTooltip(function(l){
      var p = l.feature.properties, h = '<table>';
      P.fields.forEach(function(f, i){ h += '<tr><th style="text-align:left;padding-right:6px">' + P.aliases[i] +
        '</th><td>' + (p[f] == null ? '' : p[f]) + '</td></tr>'; });
      return h + '</table>'; }, {sticky: true});
    lyr.addTo(group);
    group.fire('gansu:loaded');
  }).catch(function(e){ console.warn('layer geometry not loaded', P.url, e); });
})({{ this._parent.get_name() }}, {{ this.payload }});
{% endmacro %}""")

    def __init__(self, url: str, props: list[dict], style: dict, fields: list[str], aliases: list[str],
                 pane: str | None = None):
        super().__init__()
        self._name = "FetchedGeoJson"
        self.payload = script_json({"url": url, "props": props, "style": style, "fields": fields,
                                    "aliases": [escape_text(a) for a in aliases], "pane": pane})


# Many points of one layer as circle markers, drawn by one script from a JSON payload: a folium
# CircleMarker and Tooltip per point are two templates rendered and compiled on every run of the
# Map page (the illustrative parks' markers and the airports were two thirds of drawing the layers).
# The labels arrive HTML-escaped (``escape_text``) and Leaflet puts them in the tooltip as HTML.
class PointMarkers(MacroElement):
    """Circle markers (``points``: [lat, lon, escaped label or ""]) with one Leaflet style."""

    _template = Template("""{% macro script(this, kwargs) %}
(function(group, P){
  P.points.forEach(function(p){
    var mk = L.circleMarker([p[0], p[1]], P.style);
    if (p[2]) mk.bindTooltip('<div>' + p[2] + '</div>', {sticky: true, className: 'foliumtooltip'});
    mk.addTo(group);
  });
})({{ this._parent.get_name() }}, {{ this.payload }});
{% endmacro %}""")

    def __init__(self, points: list[list], style: dict):
        super().__init__()
        self._name = "PointMarkers"
        self.payload = script_json({"points": points, "style": style})


def _marker_style(radius: float, color, fill_color, opacity: float, weight: float) -> dict:
    return {"radius": radius, "color": color, "weight": weight, "fill": True, "fillColor": fill_color,
            "fillOpacity": round(0.9 * opacity, 3), "opacity": opacity}


def vector_style(spec: LayerSpec, opacity: float = 1.0) -> dict:
    """Leaflet path options of a catalog layer, every alpha scaled by ``opacity``."""
    s = spec.style
    return {"color": s.get("color", "#3388ff"), "weight": s.get("weight", 1.0),
            "fillColor": s.get("fill_color", s.get("color", "#3388ff")),
            "fillOpacity": round(s.get("fill_opacity", 0.2) * opacity, 3), "opacity": round(opacity, 3),
            "dashArray": s.get("dash")}


def add_vector(m: folium.Map, fc: dict, spec: LayerSpec, lang: str, title: str,
               aliases: dict[str, str], show: bool, *, geometry: tuple[str, str] | None = None,
               opacity: float = 1.0, pane: str | None = None) -> None:
    """One vector layer in its own toggleable group. ``geometry`` = (JSON, digest) from
    ``split_geometry``: the geometry is served as a static file and fetched (``fc`` then only
    needs the properties); else it is embedded in the page."""
    group = folium.FeatureGroup(name=html.escape(title), show=show)  # the layer control sets innerHTML
    fields = [f for f in spec.tooltip if fc["features"] and f in fc["features"][0]["properties"]]
    tooltip = folium.GeoJsonTooltip(fields=fields, aliases=[escape_text(aliases.get(f, f)) for f in fields],
                                    sticky=True) if fields else None
    if spec.kind == "points":
        s = spec.style
        points = []
        for feat in fc["features"]:
            lon, lat = feat["geometry"]["coordinates"][:2]
            points.append([lat, lon, " · ".join(v for v in (feat["properties"].get(f, "") for f in fields) if v)])
        PointMarkers(points, _marker_style(s.get("radius", 5), s.get("color"), s.get("fill_color"), opacity,
                                           1.5)).add_to(group)
    elif geometry is not None and (url := geometry_url(*geometry)):
        FetchedGeoJson(url, [f["properties"] for f in fc["features"]],
                       vector_style(spec, opacity), fields, [aliases.get(f, f) for f in fields],
                       pane).add_to(group)
    else:
        if geometry is not None:  # the static folder is not writable: embed the geometry after all
            fc = {"type": "FeatureCollection",
                  "features": [{"type": "Feature", "properties": f["properties"], "geometry": g}
                               for f, g in zip(fc["features"], json.loads(geometry[0]))]}
        folium.GeoJson(fc, name=spec.id, style_function=_style(spec, opacity), tooltip=tooltip,
                       smooth_factor=0.5, **({"pane": pane} if pane else {})).add_to(group)
        if spec.style.get("centroid_marker"):  # small polygons stay visible at province scale
            points = []
            for feat in fc["features"]:
                c = shapely.geometry.shape(feat["geometry"]).representative_point()
                points.append([c.y, c.x, " · ".join(v for v in (feat["properties"].get(f, "") for f in fields[:3]) if v)])
            PointMarkers(points, _marker_style(5, spec.style.get("color"), spec.style.get("fill_color"), opacity,
                                               2)).add_to(group)
    group.add_to(m)

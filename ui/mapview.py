"""Map rendering with folium, fully offline by default.

- ``OfflineMap`` loads Leaflet's JS/CSS from the dashboard's own static folder (no CDN); no
  tiles unless the user picks an online basemap.
- Vector layers go in as GeoJSON with every attribute value HTML-escaped before it reaches the
  browser (tooltips insert HTML). Styles and legends come from the layer catalog.
- Land cover is drawn as a classified PNG, reprojected to Web Mercator so pixels sit where they
  belong, coloured and explained by the legend its catalog entry declares.
- Legend sections are built here from catalog styles (``legend_section``), and so is the small
  detail map of one park (``park_detail_map``).
- With the Gaode basemap (GCJ-02), every overlay is shifted into GCJ-02 so that it lines up.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import time

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.enums
import rasterio.warp
import shapely.geometry
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from core import crs
from core.i18n import pick, t
from layers.legends import CLASSES, get_legend
from layers import catalog
from layers.catalog import LayerSpec
from ui import displaygeom
from ui.assets import REPO, SIDE_BY_SIDE_CSS, SIDE_BY_SIDE_JS, URL_PREFIX

LEAFLET_JS = f"{URL_PREFIX}/leaflet/leaflet.js"
LEAFLET_CSS = f"{URL_PREFIX}/leaflet/leaflet.css"
GANSU_FIT = [[32.5, 92.3], [42.8, 108.8]]  # [[lat_min, lon_min], [lat_max, lon_max]]

BASEMAPS = ("none", "osm", "tianditu_vec", "tianditu_img", "gaode")


class OfflineMap(folium.Map):
    """folium.Map whose only assets are Leaflet's, served from /app/static/vendor."""

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]


class OfflineDraw(folium.plugins.Draw):
    """folium's Draw plugin with Leaflet.draw served from /app/static/vendor (no CDN)."""

    default_js = [("leaflet_draw_js", f"{URL_PREFIX}/leaflet-draw/leaflet.draw.js")]
    default_css = [("leaflet_draw_css", f"{URL_PREFIX}/leaflet-draw/leaflet.draw.css")]


def add_draw(m: folium.Map) -> None:
    """Polygon and rectangle drawing only (parks are areas)."""
    OfflineDraw(export=False, position="topleft",
                draw_options={"polyline": False, "circle": False, "marker": False,
                              "circlemarker": False, "polygon": {"allowIntersection": False},
                              "rectangle": True},
                edit_options={"edit": False, "remove": True}).add_to(m)


class _Script(MacroElement):
    """A piece of JS run after the map exists; ``payload`` is JSON-encoded, never raw HTML."""

    def __init__(self, js_body: str, payload):
        super().__init__()
        self._name = "GansuScript"
        self.payload = json.dumps(payload, ensure_ascii=False)
        self._template = Template(
            "{% macro script(this, kwargs) %}(function(map, payload){" + js_body
            + "})({{ this._parent.get_name() }}, {{ this.payload }});{% endmacro %}")


ICON_PATH_JS = "L.Icon.Default.imagePath = '" + URL_PREFIX + "/leaflet/images/';"

# Legend control: items are escaped with textContent, never innerHTML of user text.
LEGEND_JS = """
var ctl = L.control({position: 'bottomleft'});
ctl.onAdd = function() {
  var div = L.DomUtil.create('div', 'gansu-legend');
  div.style.cssText = 'background:rgba(255,255,255,.92);padding:6px 9px;font:12px sans-serif;' +
    'max-height:240px;max-width:260px;overflow:auto;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3)';
  var h = document.createElement('b'); h.className = 'gansu-legend-toggle'; h.style.cursor = 'pointer';
  h.title = payload.toggle; h.textContent = '\u25be ' + payload.title; div.appendChild(h);
  var body = document.createElement('div'); body.className = 'gansu-legend-body'; div.appendChild(body);
  L.DomEvent.on(h, 'click', function() {
    var open = body.style.display === 'none';
    body.style.display = open ? '' : 'none';
    h.textContent = (open ? '\u25be ' : '\u25b8 ') + payload.title;
  });
  payload.sections.forEach(function(sec) {
    var s = document.createElement('div'); s.style.marginTop = '4px';
    var st = document.createElement('i'); st.textContent = sec.title; s.appendChild(st);
    sec.items.forEach(function(it) {
      var row = document.createElement('div');
      var sw = document.createElement('span');
      sw.style.cssText = 'display:inline-block;width:14px;height:10px;margin-right:5px;' +
        'vertical-align:middle;border:' + (it.dash ? '2px dashed ' : '1px solid ') + it.stroke +
        ';background:' + it.fill;
      row.appendChild(sw);
      var tx = document.createElement('span'); tx.textContent = it.label; row.appendChild(tx);
      s.appendChild(row);
    });
    body.appendChild(s);
  });
  L.DomEvent.disableClickPropagation(div);
  return div;
};
ctl.addTo(map);
"""


def escape_text(text) -> str:
    """Text safe in a tooltip: HTML special characters escaped, and also the backtick, ``$`` and the
    backslash, because folium writes a Tooltip's text into a JavaScript template literal (`…`),
    where ``${…}`` would run code (a park named ``${alert(1)}``)."""
    return html.escape(str(text)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def escape_frame(df: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """String copies of ``fields`` escaped for tooltips (``escape_text``)."""
    out = pd.DataFrame(index=df.index)
    for f in fields:
        col = df[f]
        out[f] = [escape_text(_fmt(v)) for v in col]
    return out


def _fmt(v) -> str:
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


# --- geometry served once per data build as a static file ---------------------------------------
# A layer's geometry goes to static/cache/geo/<sha256 of its content>.json (served by Streamlit at
# /app/static/cache/geo/…, localhost) and the map's JS fetches it; the page's script carries only
# the (escaped) properties. A rerun then sends a few KB instead of ~1 MB, folium renders it in a
# few ms, and the browser keeps the file (content-addressed: a new build means a new name).
GEO_DIR = REPO / "static" / "cache" / "geo"
GEO_URL = "/app/static/cache/geo"
GEO_DECIMALS = 5  # ~1 m: far below a screen pixel at any zoom the province map is used at
GEO_KEEP_DAYS = 30  # files nobody asked for in this long are pruned


def split_geometry(fc: dict) -> tuple[list[dict], str, str]:
    """(properties per feature, geometry array as compact JSON, its SHA-256) of a
    FeatureCollection; coordinates rounded to ``GEO_DECIMALS``."""
    def rnd(c):
        if isinstance(c, (list, tuple)):
            if c and isinstance(c[0], (int, float)):
                return [round(float(v), GEO_DECIMALS) for v in c]
            return [rnd(x) for x in c]
        return c

    geoms = [{"type": f["geometry"]["type"], "coordinates": rnd(f["geometry"]["coordinates"])}
             if f["geometry"].get("type") != "GeometryCollection" else f["geometry"] for f in fc["features"]]
    data = json.dumps(geoms, separators=(",", ":"))
    return [f["properties"] for f in fc["features"]], data, hashlib.sha256(data.encode()).hexdigest()[:24]


def geometry_file(data: str, digest: str, root=None) -> str:
    """Write the geometry file when missing (atomically); its URL under /app/static."""
    root = GEO_DIR if root is None else root
    path = root / f"{digest}.json"
    if not path.is_file():
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{digest}.{os.getpid()}.tmp"
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
        _prune(root)
    return f"{GEO_URL}/{digest}.json"


def _geometry_url(data: str, digest: str) -> str | None:
    try:
        return geometry_file(data, digest)
    except OSError:
        return None


def _prune(root) -> None:
    cutoff = time.time() - GEO_KEEP_DAYS * 86400
    for p in root.glob("*.json"):
        try:
            if p.stat().st_atime < cutoff and p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass


# Fetches the geometry, joins it to the inline properties, draws it with the layer's style (colour
# per feature from ``_fill``), scaled by the layer's opacity, in the layer's pane. Tooltip values
# arrive HTML-escaped (``escape_frame``), the aliases too.
class FetchedGeoJson(MacroElement):
    """A GeoJSON layer whose geometry is fetched from a static file (``geometry_file``)."""

    _template = Template("""{% macro script(this, kwargs) %}
(function(group, P){
  fetch(P.url).then(function(r){ return r.json(); }).then(function(geoms){
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
        self.payload = json.dumps({"url": url, "props": props, "style": style, "fields": fields,
                                   "aliases": [escape_text(a) for a in aliases], "pane": pane})


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
        for feat in fc["features"]:
            lon, lat = feat["geometry"]["coordinates"][:2]
            label = " · ".join(v for v in (feat["properties"].get(f, "") for f in fields) if v)
            folium.CircleMarker(location=[lat, lon], radius=s.get("radius", 5), color=s.get("color"),
                                fill=True, fill_color=s.get("fill_color"), fill_opacity=round(0.9 * opacity, 3),
                                opacity=opacity, weight=1.5, tooltip=folium.Tooltip(label)).add_to(group)
    elif geometry is not None and (url := _geometry_url(*geometry)):
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
            for feat in fc["features"]:
                c = shapely.geometry.shape(feat["geometry"]).representative_point()
                label = " · ".join(v for v in (feat["properties"].get(f, "") for f in fields[:3]) if v)
                folium.CircleMarker(location=[c.y, c.x], radius=5, color=spec.style.get("color"),
                                    weight=2, fill=True, fill_color=spec.style.get("fill_color"),
                                    fill_opacity=round(0.9 * opacity, 3), opacity=opacity,
                                    tooltip=folium.Tooltip(label)).add_to(group)
    group.add_to(m)


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


def basemap_layer(m: folium.Map, basemap: str, tianditu_key: str | None) -> bool:
    """Add the chosen basemap; returns False when it could not be added (e.g. no key)."""
    if basemap == "osm":
        folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                         attr="© OpenStreetMap contributors", name="OpenStreetMap",
                         control=False).add_to(m)
    elif basemap in ("tianditu_vec", "tianditu_img"):
        if not tianditu_key:
            return False
        lyr, lab = ("vec", "cva") if basemap == "tianditu_vec" else ("img", "cia")
        for layer in (lyr, lab):
            url = (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                   f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                   f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}")
            folium.TileLayer(url, attr="© 天地图 Tianditu", subdomains="01234567",
                             name=f"Tianditu {layer}", control=False).add_to(m)
    elif basemap == "gaode":
        folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                         "&style=8&x={x}&y={y}&z={z}", attr="© 高德 AutoNavi", subdomains="1234",
                         name="Gaode", control=False).add_to(m)
    return True


# Inside the streamlit-folium iframe the map takes the frame's whole height (the frame's own height
# is st_folium's ``height``, or the page's CSS: ``ui.maplayers.fill_height``).
FILL_FRAME_CSS = "<style>#map_div { height: 100vh !important; }</style>"


def fill_frame(m: folium.Map) -> None:
    m.get_root().header.add_child(folium.Element(FILL_FRAME_CSS), name="gansu_fill_frame")


def new_map(lang: str, fit=GANSU_FIT) -> OfflineMap:
    m = OfflineMap(location=[36.5, 100.5], zoom_start=5, tiles=None, control_scale=True,
                   prefer_canvas=False)
    _Script(ICON_PATH_JS, None).add_to(m)
    m.fit_bounds(fit)
    return m


def add_legend(m: folium.Map, lang: str, sections: list[dict]) -> None:
    _Script(LEGEND_JS, {"title": t("map.legend", lang), "toggle": t("mv.legend.toggle", lang),
                        "sections": sections}).add_to(m)


# --- side by side: two panes clipped left and right of a divider (vendored leaflet-side-by-side) ---
def add_pane(m: folium.Map, name: str, z_index: int = 390) -> None:
    """A Leaflet pane under the regular overlays (z 400): the compared layers sit below boundaries."""
    folium.map.CustomPane(name, z_index=z_index, pointer_events=True).add_to(m)


class SideBySide(JSCSSMixin, MacroElement):
    """leaflet-side-by-side 2.2.0 (served from /app/static/vendor, see ui/assets.py) clipping two
    panes: it clips a layer's ``getContainer()``, so each side is a stand-in layer whose container
    is its pane (image overlays and vectors in the pane are clipped together)."""

    default_js = [("leaflet_side_by_side", SIDE_BY_SIDE_JS)]
    default_css = [(f"leaflet_side_by_side_{i}", u) for i, u in enumerate(SIDE_BY_SIDE_CSS)]
    _template = Template("""{% macro script(this, kwargs) %}
(function(map, P){
  if (!(L.control && L.control.sideBySide)) { console.warn('leaflet-side-by-side is not vendored'); return; }
  var PaneLayer = L.Layer.extend({
    initialize: function(name){ this._pane = name; },
    onAdd: function(){}, onRemove: function(){},
    getContainer: function(){ return this._map ? this._map.getPane(this._pane) : map.getPane(this._pane); }
  });
  var left = new PaneLayer(P.left).addTo(map), right = new PaneLayer(P.right).addTo(map);
  map.gansuSideBySide = L.control.sideBySide(left, right).addTo(map);
})({{ this._parent.get_name() }}, {{ this.payload }});
{% endmacro %}""")

    def __init__(self, left: str, right: str):
        super().__init__()
        self._name = "SideBySide"
        self.payload = json.dumps({"left": left, "right": right})


def add_side_by_side(m: folium.Map, left_pane: str, right_pane: str) -> None:
    SideBySide(left_pane, right_pane).add_to(m)


def finish(m: folium.Map) -> None:
    folium.LayerControl(collapsed=True, position="topright").add_to(m)


# --- legends and small maps, from the catalog ----------------------------------------------------
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


# --- transport datasets (the user's roads, railways, stations, airports) -----------------------
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
    names = [_fmt(v) for v in g["name"]] if "name" in g.columns else [""] * len(g)
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


def _style_of(layer_id: str, weight: float | None = None, fill_opacity: float | None = None) -> dict:
    s = catalog.BY_ID[layer_id].style
    out = {"color": s.get("color", "#3388ff"), "weight": s.get("weight", 1.0),
           "fillColor": s.get("fill_color", s.get("color", "#3388ff")),
           "fillOpacity": s.get("fill_opacity", 0.2), "dashArray": s.get("dash")}
    if weight is not None:
        out["weight"] = weight
    if fill_opacity is not None:
        out["fillOpacity"] = fill_opacity
    return out


def park_detail_map(geom, lang: str, redline: gpd.GeoDataFrame | None = None) -> OfflineMap:
    """A map zoomed to one park (styled as the catalog's parks) with the nearby part of the
    protection layer (styled as the catalog's protection layer); both as display copies
    (``ui.displaygeom``: a park of 200,000 vertices is not sent whole)."""
    x0, y0, x1, y1 = geom.bounds
    pad = max(x1 - x0, y1 - y0) * 1.5 + 0.01
    m = new_map(lang, fit=[[y0 - pad, x0 - pad], [y1 + pad, x1 + pad]])
    if redline is not None:
        near = redline.cx[x0 - pad:x1 + pad, y0 - pad:y1 + pad]
        if len(near):
            spec = catalog.BY_ID["protection_proxy"]
            style = _style_of(spec.id, weight=1.0)
            folium.GeoJson(geojson_for(near, spec, gcj=False, simplify_deg=displaygeom.MIN_TOLERANCE,
                                       max_vertices=displaygeom.LAYER_VERTEX_CAP),
                           style_function=lambda f, s=style: s).add_to(m)
    style = _style_of("parks_demo", weight=3.0, fill_opacity=0.4)
    shown = displaygeom.for_display(np.array([geom], dtype=object))[0]
    folium.GeoJson(shapely.geometry.mapping(shown), style_function=lambda f, s=style: s).add_to(m)
    return m

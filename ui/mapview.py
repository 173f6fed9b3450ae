"""The folium map itself, fully offline by default: ``OfflineMap`` loads Leaflet's JS/CSS from the
dashboard's own static folder (no CDN) and draws no tiles unless the user picks an online basemap
(``basemap_layer``; with the Gaode basemap, GCJ-02, every overlay is shifted to line up). Here too are
the map's controls — drawing (``add_draw``), the legend (``add_legend``, items written with
textContent), the layer control (``finish``), the side-by-side view (``add_pane``,
``add_side_by_side``) — and the small detail map of one park (``park_detail_map``). Layers are drawn
by ``ui.map_vectors``, ``ui.map_rasters`` and ``ui.map_transport``; legend sections come from
``ui.map_legends``.

A map that stays (the Map page): ``freeze`` marks what is the map itself (Leaflet, the drawing
tools: the same script on every run, so streamlit-folium keeps the map, its centre and its zoom);
``overlay_groups`` then takes every layer, control and note added since out of the map as feature
groups, which streamlit-folium swaps in the map that stays (``feature_group_to_add``); ``datum_group``
keeps the place on screen when the basemap's datum changes (WGS84 ↔ GCJ-02).
"""
from __future__ import annotations

import functools
import json

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely.geometry
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from core.i18n import t
from layers import catalog
from ui import displaygeom
from ui.assets import SIDE_BY_SIDE_CSS, SIDE_BY_SIDE_JS, URL_PREFIX
from ui.map_vectors import geojson_for

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


def map_name(el) -> str:
    """The JS name of the map an element is on: its parent, or the map above the feature group it
    is in (a group swapped in by streamlit-folium is still the map's child when it is rendered)."""
    p = el._parent
    while p is not None and not isinstance(p, folium.Map):
        p = p._parent
    return (p or el._parent).get_name()


class _Script(MacroElement):
    """A piece of JS run after the map exists; ``payload`` is JSON-encoded, never raw HTML. In a
    feature group, ``group`` is that group (a control the script adds goes when the group goes)."""

    def __init__(self, js_body: str, payload):
        super().__init__()
        self._name = "GansuScript"
        self.payload = json.dumps(payload, ensure_ascii=False)
        self._template = _script_template(js_body)

    def map_name(self) -> str:
        return map_name(self)


@functools.lru_cache(maxsize=64)
def _script_template(js_body: str) -> Template:
    """The template of a ``_Script`` (a few fixed bodies): compiled once, not on every run."""
    return Template("{% macro script(this, kwargs) %}(function(map, payload, group){" + js_body
                    + "})({{ this.map_name() }}, {{ this.payload }}, {{ this._parent.get_name() }});{% endmacro %}")


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
  function show(open) {  // remembered in the map's window: a legend made again keeps it
    window.__gansu_legend_closed = !open;
    body.style.display = open ? '' : 'none';
    h.textContent = (open ? '\u25be ' : '\u25b8 ') + payload.title;
  }
  show(!window.__gansu_legend_closed);
  L.DomEvent.on(h, 'click', function() { show(body.style.display === 'none'); });
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
if (group !== map && group.once) group.once('remove', function() { ctl.remove(); });
"""


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
PANE_JS = """if (!map.getPane(payload.name)) { var p = map.createPane(payload.name); p.style.zIndex = payload.z; }"""


def add_pane(m: folium.Map, name: str, z_index: int = 390) -> None:
    """A Leaflet pane under the regular overlays (z 400): the compared layers sit below boundaries.
    Made once in the map that stays (a second createPane would stack a second pane)."""
    _Script(PANE_JS, {"name": name, "z": z_index}).add_to(m)


class SideBySide(JSCSSMixin, MacroElement):
    """leaflet-side-by-side 2.2.0 (served from /app/static/vendor, see ui/assets.py) clipping two
    panes: it clips a layer's ``getContainer()``, so each side is a stand-in layer whose container
    is its pane (image overlays and vectors in the pane are clipped together)."""

    default_js = [("leaflet_side_by_side", SIDE_BY_SIDE_JS)]
    default_css = [(f"leaflet_side_by_side_{i}", u) for i, u in enumerate(SIDE_BY_SIDE_CSS)]
    # Turned on after the map was made (the map stays), the plugin is not loaded yet: it is loaded
    # then. In a feature group, the divider goes when the group goes.
    _template = Template("""{% macro script(this, kwargs) %}
(function(map, P, group){
  var gone = false, parts = [];
  function make() {
    if (gone) return;
    if (!(L.control && L.control.sideBySide)) { console.warn('leaflet-side-by-side is not vendored'); return; }
    var PaneLayer = L.Layer.extend({
      initialize: function(name){ this._pane = name; },
      onAdd: function(){}, onRemove: function(){},
      getContainer: function(){ return this._map ? this._map.getPane(this._pane) : map.getPane(this._pane); }
    });
    var left = new PaneLayer(P.left).addTo(map), right = new PaneLayer(P.right).addTo(map);
    map.gansuSideBySide = L.control.sideBySide(left, right).addTo(map);
    parts = [map.gansuSideBySide, left, right];
  }
  if (group !== map && group.once) group.once('remove', function() {
    gone = true; parts.forEach(function(p) { p.remove(); });
    if (map.gansuSideBySide === parts[0]) map.gansuSideBySide = null; });
  if (L.control && L.control.sideBySide) { make(); return; }
  P.css.forEach(function(u) { if (!document.querySelector('link[href="' + u + '"]')) {
    var l = document.createElement('link'); l.rel = 'stylesheet'; l.href = u; document.head.appendChild(l); } });
  var s = document.querySelector('script[src="' + P.js + '"]');
  if (!s) { s = document.createElement('script'); s.src = P.js; document.body.appendChild(s); }
  s.addEventListener('load', make);
})({{ this.map_name() }}, {{ this.payload }}, {{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, left: str, right: str):
        super().__init__()
        self._name = "SideBySide"
        self.payload = json.dumps({"left": left, "right": right, "js": SIDE_BY_SIDE_JS, "css": SIDE_BY_SIDE_CSS})

    def map_name(self) -> str:
        return map_name(self)


def add_side_by_side(m: folium.Map, left_pane: str, right_pane: str) -> None:
    SideBySide(left_pane, right_pane).add_to(m)


def finish(m: folium.Map) -> None:
    folium.LayerControl(collapsed=True, position="topright").add_to(m)


def layer_control() -> folium.LayerControl:
    """The layer control of a map that stays (given to st_folium: remade with the feature groups)."""
    return folium.LayerControl(collapsed=True, position="topright")


# --- a map that stays: the map itself once, what is drawn over it as feature groups -------------
def freeze(m: folium.Map) -> folium.Map:
    """Mark what ``m`` holds now as the map itself; what is added later goes to ``overlay_groups``."""
    m._gansu_base = set(m._children)
    return m


def overlay_groups(m: folium.Map) -> list[folium.FeatureGroup]:
    """Take out of ``m`` everything added since ``freeze``, in order, as feature groups: a layer
    group stays itself, other elements (a basemap's tile layer, a pane, the legend, the divider)
    go into groups of their own (``control=False``: not in the layer control)."""
    base = getattr(m, "_gansu_base", set())
    groups: list[folium.FeatureGroup] = []
    loose = None
    for name in [k for k in m._children if k not in base]:
        el = m._children.pop(name)
        if isinstance(el, folium.FeatureGroup):
            groups.append(el)
            loose = None
            continue
        if loose is None:
            loose = folium.FeatureGroup(name=f"gansu_{len(groups)}", control=False)
            groups.append(loose)
        loose.add_child(el, name=name)
    return groups


# WGS84 -> GCJ-02 in the browser: the same formula and constants as core.crs (wgs84_to_gcj02, and
# gcj02_to_wgs84 by the same fixed-point iteration); tests/test_browser_map_view.py checks the two agree.
GCJ_JS = """
var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
function delta(lon, lat) {
  var x = lon - 105.0, y = lat - 35.0;
  var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dlat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dlon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  var radlat = lat / 180.0 * PI, s = Math.sin(radlat), magic = 1.0 - EE * s * s, sm = Math.sqrt(magic);
  return [(dlon * 180.0) / (A / sm * Math.cos(radlat) * PI), (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sm) * PI)];
}
function toGcj(lat, lon) {
  if (!(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)) return [lat, lon];
  var d = delta(lon, lat); return [lat + d[1], lon + d[0]];
}
function toWgs(lat, lon) {
  var w = [lat, lon];
  for (var i = 0; i < 30; i++) {
    var f = toGcj(w[0], w[1]), e0 = f[0] - lat, e1 = f[1] - lon;
    w = [w[0] - e0, w[1] - e1];
    if (Math.abs(e0) < 1e-10 && Math.abs(e1) < 1e-10) break;
  }
  return w;
}
"""

# The first group of every set. When the overlays' datum changes (a WGS84 basemap <-> Gaode's
# GCJ-02), the view moves by the offset at its centre, zoom kept: the place at the centre of the
# screen stays there. The last click and the drawn shapes were in the other datum: they are
# cleared, as a new map would have them, and the map reports its new view (and the cleared click).
DATUM_JS = GCJ_JS + """
// streamlit-folium keeps every group it ever added in window.feature_group; those it took off the
// map before this set was made are let go (a long session would hold every earlier set)
window.feature_group = (window.feature_group || []).filter(function(l) { return !!l._map; });
var prev = window.__gansu_datum;
window.__gansu_datum = payload.gcj;
if (prev === undefined || prev === payload.gcj) return;
var c = map.getCenter(), n = payload.gcj ? toGcj(c.lat, c.lng) : toWgs(c.lat, c.lng);
var g = window.__GLOBAL_DATA__;
if (g) { g.lat_lng_clicked = null; g.last_active_drawing = null; g.all_drawings = null; }
if (window.drawnItems && window.drawnItems.clearLayers) window.drawnItems.clearLayers();
map.setView(n, map.getZoom(), {animate: false});
map.fire('moveend');
"""


def datum_group(gcj: bool) -> folium.FeatureGroup:
    """A group holding only the datum of the overlays (``DATUM_JS``); first of the groups."""
    fg = folium.FeatureGroup(name="gansu_datum", control=False)
    _Script(DATUM_JS, {"gcj": bool(gcj)}).add_to(fg)
    return fg


# What the map reports besides a click and a drawing: its view (``bounds``), only while the export
# asks for the current view. streamlit-folium sends the map's value whenever what it reports changes,
# and each value reruns the map's fragment (``ui.map_shown``): reporting the view made the map rerun
# twice when it opened and once after every pan or zoom. streamlit-folium reads the list of what it
# reports (``returned_objects``) from its window data on every report; the view is added to it (and
# reported at once) or taken out here.
VIEW_REPORT_JS = """
var g = window.__GLOBAL_DATA__;
if (!g || !g.returned_objects) return;
var has = g.returned_objects.indexOf('bounds') >= 0;
if (payload.view && !has) { g.returned_objects = g.returned_objects.concat(['bounds']); map.fire('moveend'); }
if (!payload.view && has) { g.returned_objects = g.returned_objects.filter(function(k) { return k !== 'bounds'; }); }
"""


def view_report_group(report: bool) -> folium.FeatureGroup:
    """A group holding only whether the map reports its view (``VIEW_REPORT_JS``)."""
    fg = folium.FeatureGroup(name="gansu_view", control=False)
    _Script(VIEW_REPORT_JS, {"view": bool(report)}).add_to(fg)
    return fg


# --- the small map of one park (the Parks page's card) ------------------------------------------
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

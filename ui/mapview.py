"""The folium map itself, fully offline by default: ``OfflineMap`` loads Leaflet's JS/CSS from the
dashboard's own static folder (no CDN) and draws no tiles unless the user picks an online basemap
(``basemap_layer``; with the Gaode basemap, GCJ-02, every overlay is shifted to line up). Here too are
the map's controls — drawing (``add_draw``), the legend (``add_legend``, items written with
textContent), the layer control (``finish``), the side-by-side view (``add_pane``,
``add_side_by_side``) — and the small detail map of one park (``park_detail_map``). Layers are drawn
by ``ui.map_vectors``, ``ui.map_rasters`` and ``ui.map_transport``; legend sections come from
``ui.map_legends``.
"""
from __future__ import annotations

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

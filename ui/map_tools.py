"""The Map page's working tools: click to query, offline place search, measure.

- ``search_box``: a search field above the map for province, prefecture, county and park names
  (Chinese characters, pinyin or English; ``indicators.placesearch``). The chosen place is
  highlighted and the map fits it without being rebuilt (st_folium's ``feature_group_to_add``).
- ``add_measure_draw``: the vendored Leaflet.draw with the line and polygon tools.
- ``view``: what st_folium gets besides the map that stays: the layers, legend and basemap as
  feature groups over it (a sidebar change keeps the user's centre and zoom), the layer control,
  the highlighted place, the clicked point, the measure label.
- ``panel``: under the map, what the data in use says at the last clicked point
  (``indicators.pointquery.query_point``, computed server-side) and the geodesic length/area of the
  last drawn shape. With the Gaode basemap the map is in GCJ-02: clicks and drawings are converted
  back to WGS84 before anything is computed.
"""
from __future__ import annotations

import json

import folium
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template

from core import crs, paths
from core.errors import GansuError
from core.i18n import t
from core.text import pick
from indicators import placesearch, pointquery
from layers import catalog
from ui import common, data_in_use, map_vectors, mapview
from ui import parks as parks_ui
from ui.mdtext import md

MAP_KEY = "main_map"  # st_folium's key on the Map page: its last value is in session state
RETURNED = ["last_clicked", "last_active_drawing"]
MEASURE_TAG = "gansu_measure"  # property of the shapes drawn with the measure tools


tip_text = map_vectors.escape_text  # folium tooltips sit in a JS template literal: one escaping for the house


md_text = md  # text shown through Markdown (st.caption) as typed: the house's one escaping


# --- drawing tools for measuring ----------------------------------------------------------------------
def add_measure_draw(m: folium.Map) -> None:
    """Line and polygon drawing (the vendored Leaflet.draw, no CDN) for the measure tool."""
    mapview.OfflineDraw(
        export=False, position="topleft",
        draw_options={"polyline": {"shapeOptions": {"color": "#ff6f00", "weight": 3}},
                      "polygon": {"allowIntersection": False, "shapeOptions": {"color": "#ff6f00"}},
                      "rectangle": False, "circle": False, "marker": False, "circlemarker": False},
        edit_options={"edit": False, "remove": True}).add_to(m)
    _TagDrawn().add_to(m)


class _TagDrawn(MacroElement):
    """Marks shapes drawn with the tools (``properties.gansu_measure``): st_folium also reports a
    clicked layer feature (a county, the province) as its "last active drawing", which is not
    something the user measured. Registered in the map's script, before st_folium's own handler."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.on('draw:created', function(e) {"
        " e.layer.feature = {type: 'Feature', properties: {" + MEASURE_TAG + ": true}}; });{% endmacro %}")

    def __init__(self):
        super().__init__()
        self._name = "GansuTagDrawn"


def is_measured(drawing) -> bool:
    """A shape drawn with the measure tools (not a clicked layer feature)."""
    return (isinstance(drawing, dict) and isinstance(drawing.get("geometry"), dict)
            and bool((drawing.get("properties") or {}).get(MEASURE_TAG)))


# --- place search ---------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _boundary_index(build: str) -> list[placesearch.Place]:
    return placesearch.build_index(*(common.cached_layer(lid, build, None)
                                     for lid in ("province", "prefectures", "counties")))


@st.cache_resource(show_spinner=False, max_entries=8)
def _park_index(build: str, version: str) -> list[placesearch.Place]:
    return placesearch.build_index(parks=parks_ui.all_parks(build, version))


def place_index() -> list[placesearch.Place]:
    """Every searchable place: the build's boundaries, the illustrative and the saved parks."""
    build = common.build_id()
    try:
        parks = _park_index(build, parks_ui.parks_version())
    except GansuError:
        parks = []
    return _boundary_index(build) + parks


def _place_label(p: placesearch.Place, lang: str) -> str:
    name = pick(p.name_zh, p.name_en, lang) if p.name_en and p.name_en != p.name_zh else p.name_zh
    extra = f" · {p.name_zh}" if lang != "zh" and name != p.name_zh else ""
    parent = f" · {p.parent_zh}" if p.parent_zh else ""
    return f"{name}{extra} · {t(f'mq.kind.{p.kind}', lang)}{parent}"


def search_box(lang: str) -> placesearch.Place | None:
    """The search field and its matches; the chosen place (the best match by default)."""
    c1, c2 = st.columns([2, 3])
    q = c1.text_input(t("mq.search.label", lang), key="map_search", placeholder=t("mq.search.placeholder", lang),
                      max_chars=60)
    if not q.strip():
        return None
    hits = placesearch.search(place_index(), q, limit=12)
    if not hits:
        c2.caption(t("mq.search.none", lang, q=md_text(q.strip())))
        return None
    i = c2.selectbox(t("mq.search.results", lang), range(len(hits)), format_func=lambda k: _place_label(hits[k], lang),
                     key=f"map_search_pick_{placesearch.normalise(q)}")
    return hits[i or 0]


class _FitOnce(MacroElement):
    """Fits the map to ``bounds`` once per search: the feature groups are re-evaluated whenever
    one of them changes (a click moves its marker), and only a new ``token`` fits again."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function(p){var m = window.map; if (!m) return;"
        " if (window.__gansu_fit_token !== p.token) { window.__gansu_fit_token = p.token;"
        " m.fitBounds(p.bounds, {maxZoom: 13, padding: [24, 24]}); }})({{ this.payload }});{% endmacro %}")

    def __init__(self, bounds: list, token: str):
        super().__init__()
        self._name = "GansuFitOnce"
        self.payload = json.dumps({"bounds": bounds, "token": token})


def _search_token(place: placesearch.Place) -> str:
    """Changes whenever the search (its text or the chosen match) changes."""
    key = f"{place.kind}|{place.id}|{placesearch.normalise(st.session_state.get('map_search', ''))}"
    if st.session_state.get("_mq_search_key") != key:
        st.session_state["_mq_search_key"] = key
        st.session_state["_mq_search_n"] = st.session_state.get("_mq_search_n", 0) + 1
    return f"{st.session_state['_mq_search_n']}"


# --- what st_folium gets besides the map: the overlays, the view and the dynamic layers ----------
DATUM_KEY = "_map_datum"  # the overlays' datum on the last run (True: GCJ-02) and whether it just changed


def view(m: folium.Map, place: placesearch.Place | None, gcj: bool, lang: str, report_view: bool = False) -> dict:
    """Keyword arguments for st_folium. The map ``m`` stays (its script is the same on every run,
    ``maplayers.base_map``): the layers, the legend and the basemap added to it since are taken out
    as feature groups and swapped in over it, with the layer control, so a change keeps the user's
    centre and zoom. After them, the groups of the tools: the chosen place highlighted (the map
    fits it once per search), the clicked point, the measure label. The first group holds the
    overlays' datum: when it changes the view moves to keep the same place on screen. The last group
    says whether the map reports its view (``report_view``: the export's current view)."""
    prev = st.session_state.get(DATUM_KEY, {}).get("gcj")
    st.session_state[DATUM_KEY] = {"gcj": gcj, "switched": prev is not None and prev != gcj}
    groups = [mapview.datum_group(gcj), *mapview.overlay_groups(m)]
    if place is not None:
        geom = crs.geom_wgs84_to_gcj02(place.geometry) if gcj else place.geometry
        x0, y0, x1, y1 = (float(v) for v in geom.bounds)
        if shapely.get_num_coordinates(geom) > 2000:  # an outline to see, sent with every rerun: kept small
            geom = shapely.simplify(geom, 0.0005, preserve_topology=True)
        fg = folium.FeatureGroup(name=t("mq.search.results", lang), control=False)
        folium.GeoJson(shapely.geometry.mapping(geom), name="gansu_search_highlight",
                       style_function=lambda f: {"color": "#00e5ff", "weight": 4, "fillColor": "#00e5ff",
                                                 "fillOpacity": 0.15},
                       tooltip=folium.Tooltip(tip_text(_place_label(place, lang)))).add_to(fg)
        _FitOnce([[y0, x0], [y1, x1]], _search_token(place)).add_to(fg)
        groups.append(fg)
    last = _current(st.session_state.get(MAP_KEY))
    click = last.get("last_clicked")
    if click and "lat" in click and "lng" in click:
        fg = folium.FeatureGroup(name=t("mq.click.title", lang), control=False)
        folium.CircleMarker([click["lat"], click["lng"]], radius=7, color="#000000", weight=2, fill=True,
                            fill_color="#ffeb3b", fill_opacity=0.9).add_to(fg)
        groups.append(fg)
    drawing = last.get("last_active_drawing")
    label = _measure_label(drawing, gcj, lang) if is_measured(drawing) else None
    if label:
        fg = folium.FeatureGroup(name=t("mq.measure.title", lang), control=False)
        lat, lon = label[0]
        folium.CircleMarker([lat, lon], radius=3, color="#ff6f00", fill=True, fill_opacity=1,
                            tooltip=folium.Tooltip(tip_text(label[1]), permanent=True)).add_to(fg)
        groups.append(fg)
    groups.append(mapview.view_report_group(report_view))
    return {"feature_group_to_add": groups, "layer_control": mapview.layer_control()}


def _current(out) -> dict:
    """The map's last value, or nothing when the basemap's datum changed on this run: its click and
    drawing were in the other datum (the map clears them and reports again)."""
    if not isinstance(out, dict) or st.session_state.get(DATUM_KEY, {}).get("switched"):
        return {}
    return out


def _measure_label(drawing, gcj: bool, lang: str):
    """((lat, lon) in display coordinates, text) for the last drawn shape, or None."""
    try:
        geom = shapely.geometry.shape(drawing["geometry"])
        res = measure_drawing(drawing, gcj)
    except (GansuError, KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
        return None
    if res["kind"] == "line":
        text = f"{res['length_km']:,.3f} km"
        x, y = shapely.get_coordinates(geom)[-1]
    elif res["kind"] == "polygon":
        text = f"{res['area_km2']:,.4f} km² · {res['area_mu']:,.1f} {t('mq.unit.mu', lang)}"
        c = geom.representative_point()
        x, y = c.x, c.y
    else:
        return None
    return (float(y), float(x)), text


# --- computations on the clicked point and the drawn shape -------------------------------------------
def clicked_wgs84(click: dict, gcj: bool) -> tuple[float, float]:
    """(lon, lat) in WGS84 of a Leaflet click ({"lat", "lng"}); from GCJ-02 when it is the basemap."""
    lon, lat = float(click["lng"]), float(click["lat"])
    if gcj:
        wlon, wlat = crs.gcj02_to_wgs84(lon, lat)
        return float(wlon), float(wlat)
    return lon, lat


def measure_drawing(drawing: dict, gcj: bool) -> dict:
    geom = shapely.geometry.shape(drawing["geometry"])
    if gcj:
        geom = crs.geom_gcj02_to_wgs84(geom)
    return pointquery.measure(geom)


def _landcovers(inputs) -> list[pointquery.LandCoverInput]:
    """The default MODIS land cover, the user's land cover and the second year, when in use."""
    spec = catalog.BY_ID["landcover"]
    out = []
    if paths.landcover_path().is_file():
        out.append(pointquery.LandCoverInput("default", t("mq.lc.default", "zh"), t("mq.lc.default", "en"),
                                             str(paths.landcover_path()), spec.legend))
    for role, fn in (("landcover", data_in_use.landcover_dataset), ("landcover_alt", data_in_use.landcover_alt_dataset)):
        try:
            d = fn()
        except GansuError:
            d = None
        if d is not None:
            out.append(pointquery.LandCoverInput(role, d.label("zh"), d.label("en"), d.raster_path, d.legend))
    return out


def _redline_replaced() -> bool:
    try:
        return bool(common.in_use().get("redline")) or common.active_upload("protection_proxy") is not None
    except GansuError:
        return False


def query(lon: float, lat: float) -> dict:
    """``pointquery.query_point`` on the data in use (raises GansuError when an input is refused)."""
    inputs = data_in_use.inputs()
    prefectures = common.load_layer("prefectures")[0]
    counties = common.load_layer("counties")[0]
    parks = parks_ui.current_parks()
    return pointquery.query_point(lon, lat, landcovers=_landcovers(inputs), zones=inputs.zones,
                                  zone_field=inputs.zone_field, prefectures=prefectures, counties=counties,
                                  redline=inputs.redline, parks=parks, transport=inputs.transport)


# --- the panel ----------------------------------------------------------------------------------------------
def _table(rows: list[tuple[str, str]], lang: str) -> None:
    df = pd.DataFrame(rows, columns=[t("mq.col.item", lang), t("mq.col.value", lang)])
    st.table(df, hide_index=True)


def _name(d: dict | None, lang: str) -> str:
    if not d:
        return t("mq.outside", lang)
    return pick(d.get("name_zh") or "", d.get("name_en") or d.get("name_zh") or "", lang)


def layer_rows(ans: dict, lang: str, redline_user: bool = False) -> list[tuple[str, str]]:
    rows = []
    for lc in ans["landcover"]:
        layer = pick(lc["label_zh"], lc["label_en"], lang)
        if lc["status"] == "ok":
            cls = pick(lc["class_zh"], lc["class_en"], lang)
            v = t("mq.lc.value", lang, cls=cls, code=lc["code"], label=lc["code_label"] or "—", legend=lc["legend_name"])
        elif lc["status"] == "outside":
            v = t("mq.lc.outside", lang)
        else:
            v = t(f"mq.lc.{lc['status']}", lang, code=lc["code"], legend=lc["legend_name"])
        rows.append((t("mq.lc.row", lang, layer=layer), v))
    rows.append((t("mq.zone", lang), _name(ans["zone"], lang)))
    rows.append((t("mq.prefecture", lang), _name(ans["prefecture"], lang)))
    county = ans["county"]
    rows.append((t("mq.county", lang), _name(county, lang) + (f" ({county['adcode']})" if county and county.get("adcode") else "")))
    red = ans["redline"]
    if red is not None:
        v = t("mq.redline.in" if red["inside"] else "mq.redline.out", lang)
        if red["basis"]:
            v += f"（{', '.join(red['basis'])}）" if lang == "zh" else f" ({', '.join(red['basis'])})"
        v += f" · {t('mq.redline.user' if redline_user else 'mq.redline.proxy', lang)}"
        rows.append((t("mq.redline", lang), v))
    parks = ans["parks"]
    rows.append((t("mq.park", lang), "; ".join(f"{p['park_id']} {pick(p['name'], p['name_en'], lang)}" for p in parks)
                 if parks else t("mq.park.none", lang)))
    for kind, km in ans["transport"].items():
        rows.append((t("mq.dist", lang, kind=t(f"ws.kind.{kind}", lang)),
                     t("mq.dist.none", lang) if km is None else f"{km:,.2f}"))
    return rows


def coordinate_rows(c: dict, lang: str) -> list[tuple[str, str]]:
    rows = [(t("mq.coord.decimal", lang), f"{c['lon']:.8f}, {c['lat']:.8f}"),
            (t("mq.coord.dms", lang), f"{c['dms_lon']}, {c['dms_lat']}")]
    gk = c["gk"]
    if gk is None:
        rows.append((t("mq.coord.gk_zone", lang), t("mq.coord.gk_none", lang)))
    else:
        rows += [(t("mq.coord.gk_zone", lang), t("mq.coord.gk_zone.value", lang, zone=gk["zone"], epsg=gk["epsg"],
                                                 cm=gk["central_meridian"])),
                 (t("mq.coord.gk_e", lang), f"{gk['easting']:.3f}"),
                 (t("mq.coord.gk_n", lang), f"{gk['northing']:.3f}")]
    rows.append((t("mq.coord.gcj", lang), f"{c['gcj_lon']:.8f}, {c['gcj_lat']:.8f}"))
    return rows


def measure_rows(res: dict, lang: str) -> list[tuple[str, str]]:
    rows = [(t("mq.measure.shape", lang), t(f"mq.measure.{res['kind']}", lang))]
    if res["kind"] == "line":
        rows.append((t("mq.measure.length", lang), f"{res['length_km']:,.3f}"))
    elif res["kind"] == "polygon":
        rows += [(t("mq.measure.area_km2", lang), f"{res['area_km2']:,.4f}"),
                 (t("mq.measure.area_mu", lang), f"{res['area_mu']:,.1f}"),
                 (t("mq.measure.perimeter", lang), f"{res['length_km']:,.3f}")]
    rows.append((t("mq.measure.vertices", lang), str(res["n_vertices"])))
    return rows


def point_panel(click: dict | None, lang: str, gcj: bool) -> None:
    st.subheader(t("mq.click.title", lang))
    if not click or "lat" not in click or "lng" not in click:
        st.caption(t("mq.click.hint", lang))
        return
    lon, lat = clicked_wgs84(click, gcj)
    if gcj:
        st.caption(t("mq.click.gcj", lang))
    try:
        ans = query(lon, lat)
    except GansuError as e:
        st.error(t("mq.error", lang, why=e.message(lang)))
        return
    st.markdown(f"**{t('mq.layers.title', lang)}**")
    _table(layer_rows(ans, lang, _redline_replaced()), lang)
    st.markdown(f"**{t('mq.coords.title', lang)}**")
    _table(coordinate_rows(ans["coords"], lang), lang)


def measure_panel(drawing: dict | None, lang: str, gcj: bool) -> None:
    st.subheader(t("mq.measure.title", lang))
    st.caption(t("mq.measure.hint", lang))
    if not is_measured(drawing):
        return
    try:
        res = measure_drawing(drawing, gcj)
    except GansuError as e:
        st.error(t("mq.error", lang, why=e.message(lang)))
        return
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
        st.error(t("mq.error", lang, why="GeoJSON"))
        return
    _table(measure_rows(res, lang), lang)


def panel(out: dict | None, lang: str, gcj: bool, place: placesearch.Place | None = None) -> None:
    """Under the map: the chosen place, the point query and the measure of the last drawn shape."""
    out = _current(out)
    if place is not None:
        st.caption(t("mq.search.shown", lang, name=md_text(_place_label(place, lang))))
    c1, c2 = st.columns([3, 2])
    with c1:
        point_panel(out.get("last_clicked"), lang, gcj)
    with c2:
        measure_panel(out.get("last_active_drawing"), lang, gcj)

"""The Map page's pieces: the sidebar (basemap, layer switches, land-cover opacity), the base
map, and each visible catalog layer added through the caches with its legend section (built by
``ui.map_legends`` from the catalog). The export of the map (PNG, PDF page) is ``ui.map_export``.

The data in use takes part: a user land cover in use replaces the default overlay (its display
copy, coloured by its own legend, badge "uploaded by user"), a second land-cover year is a second
overlay, and the transport datasets in use are drawn by kind with a legend entry per kind. A user
red line or zones replace the default layers through the active-upload mechanism."""
from __future__ import annotations

import os

import folium
import streamlit as st

from core.errors import GansuError
from core.i18n import t
from layers import catalog
from storage import workspace as ws
from ui import (assets, common, data_in_use, displaygeom, map_geometry_files, map_legends, map_rasters,
                map_tiles, map_tools, map_transport, map_vectors, mapview)
from ui import parks as parks_ui
from ui.mdtext import md

WS_TRANSPORT = "ws_transport"  # sidebar switch of the user's transport datasets
WS_LC_ALT = "ws_landcover_alt"  # sidebar switch of the second land-cover year
WS_RASTERS = "ws_rasters"  # sidebar switch of the siting rasters in use (criteria, DEM)


def sidebar(specs: list[catalog.LayerSpec], lang: str) -> tuple[str, dict[str, bool], float]:
    """(basemap, visible per layer id, land-cover opacity); the first visit reads ?layers= and
    ?basemap=, every choice is written back to the URL."""
    common.init_from_query("map_vis_", [sp.id for sp in specs], "layers")
    if st.query_params.get("basemap") in mapview.BASEMAPS and "map_basemap" not in st.session_state:
        st.session_state["map_basemap"] = st.query_params["basemap"]
    with st.sidebar:
        basemap = st.selectbox(t("map.basemap", lang), mapview.BASEMAPS,
                               format_func=lambda b: t(f"basemap.{b}", lang), key="map_basemap")
        st.markdown(f"**{t('map.layers', lang)}**")
        visible = {}
        user_lc = dataset_or_none(data_in_use.landcover_dataset)
        for spec in specs:
            st.session_state.setdefault(f"map_vis_{spec.id}", spec.visible)
            label = f"{spec.title(lang)} · {t(f'map.status.{spec.status}', lang)}"
            if spec.kind == "raster" and user_lc is not None:
                label = f"{md(user_lc.label(lang))} · {t('map.status.user', lang)}"
            visible[spec.id] = st.checkbox(label, key=f"map_vis_{spec.id}")
        alt = dataset_or_none(data_in_use.landcover_alt_dataset)
        if alt is not None:
            st.session_state.setdefault(f"map_vis_{WS_LC_ALT}", False)
            visible[WS_LC_ALT] = st.checkbox(f"{t('inuse.second_year', lang)}: {md(alt.label(lang))} · "
                                             f"{t('map.status.user', lang)}", key=f"map_vis_{WS_LC_ALT}")
        if _user_transport_ids():
            st.session_state.setdefault(f"map_vis_{WS_TRANSPORT}", True)
            visible[WS_TRANSPORT] = st.checkbox(f"{t('ws.map.transport', lang)} · {t('map.status.user', lang)}",
                                                key=f"map_vis_{WS_TRANSPORT}")
        if _siting_rasters():
            st.session_state.setdefault(f"map_vis_{WS_RASTERS}", False)
            visible[WS_RASTERS] = st.checkbox(f"{t('ws.map.rasters', lang)} · {t('map.status.user', lang)}",
                                              key=f"map_vis_{WS_RASTERS}")
        opacity = st.slider(t("map.lc_opacity", lang), 0.1, 1.0, 0.7, 0.05, key="map_lc_opacity")
        layer_opacity_sliders(specs, visible, lang)
        compare_controls(lang)
    fill_height()
    common.share_state({"layers": ",".join(i for i, v in visible.items() if v), "basemap": basemap})
    choice = compare_choice()
    if choice is not None:  # a compared layer is drawn in its side's pane only, not a second time
        visible = {**visible, **{c: False for c in choice}}
    return basemap, visible, opacity


def base_map() -> folium.Map:
    """The map that stays: Leaflet, the full-frame style, the measure tools. Its script is the same
    on every run (no layer, no language, no basemap in it), so streamlit-folium keeps the map in
    the page and with it the user's centre and zoom; everything added later is swapped in as
    feature groups (``mapview.overlay_groups``, given to st_folium by ``map_tools.view``)."""
    m = mapview.new_map("zh")  # the map itself has no text: the same in both languages
    mapview.fill_frame(m)  # the map takes the whole (page-height) frame
    map_tools.add_measure_draw(m)
    return mapview.freeze(m)


def add_basemap(m, basemap: str, lang: str) -> bool:
    """Add the chosen basemap over the map that stays; notes on online tiles and GCJ-02. True: the
    map is in GCJ-02 (every overlay is shifted to line up with Gaode's tiles)."""
    if basemap != "none":
        if not mapview.basemap_layer(m, basemap, common.tianditu_key()):
            st.warning(t("map.no_tianditu_key", lang))
        else:
            st.info(t("map.online_warning", lang))
    gcj = basemap == "gaode"
    if gcj:
        st.caption(t("map.gcj_note", lang))
    return gcj


def add_layer(m, spec: catalog.LayerSpec, lang: str, gcj: bool, lc_opacity: float, *,
              pane: str | None = None, prefix: str = "") -> dict | None:
    """Add one visible layer (the user's upload when one replaces it); its legend section, or
    None when there is nothing to draw. ``pane``: a Leaflet pane (the side-by-side view)."""
    title = f"{prefix}{spec.title(lang)} · {t(f'map.status.{spec.status}', lang)}"
    if spec.kind == "raster":
        user_lc = dataset_or_none(data_in_use.landcover_dataset)
        if user_lc is not None:
            return add_user_landcover(m, user_lc, lang, gcj, lc_opacity, True, prefix=prefix, pane=pane)
        url, bounds = common.landcover_overlay(common.build_id(), map_legends.landcover_colors(spec.legend))
        map_rasters.add_raster(m, url, bounds, title, lc_opacity, True, gcj, pane=pane)
        return map_legends.legend_section(spec, lang, f"{prefix}{spec.title(lang)}")
    if spec.source == "store:parks":
        fc = _saved_parks_fc(spec.id, common.build_id(), parks_ui.parks_version(), gcj)
        if not fc["features"]:
            return None
    else:
        rec = common.active_upload(spec.id)
        fc, geometry = vector_payload(spec.id, common.build_id(), rec["upload_id"] if rec else None, gcj)
        if rec:
            title = f"{prefix}{spec.title(lang)} · {t('map.status.user', lang)}"
            spec = common.spec_for(spec.id, common.load_layer(spec.id)[0])
        map_vectors.add_vector(m, fc, spec, lang, title, {f: f for f in spec.tooltip}, True,
                               geometry=geometry, opacity=layer_opacity(spec.id), pane=pane)
        return map_legends.legend_section(spec, lang, title, fc)
    map_vectors.add_vector(m, fc, spec, lang, title, {f: f for f in spec.tooltip}, True,
                           opacity=layer_opacity(spec.id), pane=pane)
    return map_legends.legend_section(spec, lang, title, fc)


@st.cache_data(show_spinner=False, max_entries=8)
def _saved_parks_fc(layer_id: str, build: str, version: str, gcj: bool) -> dict:
    """The saved parks (uploaded/drawn) as a display copy (``ui.displaygeom``: simplified, at most
    ``LAYER_VERTEX_CAP`` vertices, sent with every run of the page); the numbers use the exact
    geometry. Made once per parks version."""
    mine = parks_ui.all_parks(build, version)
    mine = mine[mine["source"] != "illustrative"]
    return map_vectors.geojson_for(mine, catalog.BY_ID[layer_id], gcj=gcj, simplify_deg=displaygeom.MIN_TOLERANCE,
                                   max_vertices=displaygeom.LAYER_VERTEX_CAP)


# --- the workspace: a user land cover, a second year, transport datasets ------------------------
def dataset_or_none(fn):
    """A dataset of the data in use, or None when the store has none (or cannot say)."""
    try:
        return fn()
    except GansuError:
        return None


def _siting_rasters() -> list[ws.Dataset]:
    try:
        return map_tiles.rasters_in_use()
    except GansuError:
        return []


def _user_transport_ids() -> list[str]:
    try:
        return [i for i in common.in_use().get("transport", []) if i != ws.BUILTIN_AIRPORTS]
    except GansuError:
        return []


@st.cache_data(show_spinner=False, max_entries=8)
def _user_landcover_png(display_path: str, sha256: str, colors: tuple, nodata) -> tuple[str, list]:
    return map_rasters.landcover_png(display_path, dict(colors), None if nodata is None else int(nodata))


def add_user_landcover(m, ds: ws.Dataset, lang: str, gcj: bool, opacity: float, show: bool,
                       prefix: str = "", pane: str | None = None) -> dict | None:
    """A user land cover drawn as tiles of its COG (``ui.tileserver``; a dataset registered before
    COGs: its small display copy as one image) with the colours of its legend; its legend
    section (title with the "uploaded by user" badge), or None when it cannot be drawn (said)."""
    title = f"{prefix}{ds.label(lang)} · {t('map.status.user', lang)}"
    if map_tiles.add_landcover(m, ds, title, opacity, show, gcj, pane=pane):  # a COG: full-resolution tiles
        return map_legends.landcover_legend_section(ds.legend, lang, title)
    try:
        url, bounds = _user_landcover_png(ds.display_path, ds.sha256, map_legends.landcover_colors(ds.legend),
                                          ds.nodata)
    except (GansuError, OSError, ValueError) as e:  # the display copy is gone or unreadable
        why = e.message(lang) if isinstance(e, GansuError) else type(e).__name__
        st.warning(t("ws.map.display_missing", lang, name=md(ds.name), why=md(why)))
        return None
    map_rasters.add_raster(m, url, bounds, title, opacity, show, gcj, pane=pane)
    return map_legends.landcover_legend_section(ds.legend, lang, title)


@st.cache_data(show_spinner=False, max_entries=32)
def _transport_fc(dataset_id: str, sha256: str, kind: str, label: str, gcj: bool) -> dict:
    feats = common.store().dataset_features(dataset_id, kind)
    return map_transport.transport_geojson(feats, label, gcj=gcj, simplify_deg=0.001)


def add_workspace_layers(m, visible: dict, lang: str, gcj: bool, lc_opacity: float) -> list[dict]:
    """The second land-cover year, the siting rasters (criteria, DEM) and the transport datasets in use;
    their legend sections."""
    sections = []
    if visible.get(WS_RASTERS):
        sections += map_tiles.add_rasters(m, _siting_rasters(), lang, gcj, lc_opacity)
    alt = dataset_or_none(data_in_use.landcover_alt_dataset)
    if alt is not None and visible.get(WS_LC_ALT):
        sec = add_user_landcover(m, alt, lang, gcj, lc_opacity, True, prefix=f"{t('inuse.second_year', lang)}: ")
        if sec:
            sections.append(sec)
    ids = _user_transport_ids()
    if not ids or not visible.get(WS_TRANSPORT):
        return sections
    items = []
    for kind in ws.TRANSPORT_KINDS:
        for i in ids:
            ds = common.dataset(i)
            if kind not in ds.kinds:
                continue
            label = f"{t(f'ws.kind.{kind}', lang)} · {ds.name}"
            fc = _transport_fc(ds.id, ds.sha256, kind, label, gcj)
            if not fc["features"]:
                continue
            map_transport.add_transport(m, fc, kind, f"{label} · {t('map.status.user', lang)}", True)
            items.append(map_transport.transport_legend_item(kind, label))
    if items:
        sections.append({"title": f"{t('ws.map.transport', lang)} · {t('map.status.user', lang)}", "items": items})
    return sections


# --- speed: geometry once per build as a static file ------------------------------------------------
INLINE_ENV = "GANSU_MAP_INLINE_GEOMETRY"  # "1": embed the geometry in the page as before (bench.bench_map)


@st.cache_data(show_spinner=False, max_entries=64)
def _split(layer_id: str, build: str, upload_id: str | None, gcj: bool) -> tuple[dict, str, str]:
    fc = common.layer_geojson(layer_id, build, upload_id, gcj)
    props, data, digest = map_geometry_files.split_geometry(fc)
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": p, "geometry": None}
                                                      for p in props]}, data, digest


def vector_payload(layer_id: str, build: str, upload_id: str | None, gcj: bool) -> tuple[dict, tuple | None]:
    """(FeatureCollection, geometry) for ``map_vectors.add_vector``: polygon and line layers send only
    their properties in the page and their geometry as a static file (written once per build,
    upload and GCJ choice); point layers and layers drawn with centroid markers stay inline."""
    spec = catalog.BY_ID[layer_id]
    if spec.kind == "points" or spec.style.get("centroid_marker") or os.environ.get(INLINE_ENV) == "1":
        return common.layer_geojson(layer_id, build, upload_id, gcj), None
    fc, data, digest = _split(layer_id, build, upload_id, gcj)
    return fc, (data, digest)


# --- layout: per-layer opacity, the map filling the page height ------------------------------------
def layer_opacity(layer_id: str) -> float:
    return float(st.session_state.get(f"map_op_{layer_id}", 1.0))


def layer_opacity_sliders(specs: list[catalog.LayerSpec], visible: dict[str, bool], lang: str) -> None:
    """One opacity slider per visible vector layer (the land cover has its own slider above)."""
    shown = [sp for sp in specs if sp.kind != "raster" and visible.get(sp.id)]
    if not shown:
        return
    with st.expander(t("mv.opacity", lang)):
        for sp in shown:
            st.slider(sp.title(lang), 0.0, 1.0, 1.0, 0.05, key=f"map_op_{sp.id}")


MAP_CSS = """<style>
/* the Map page's map fills the window height (the iframe; the map inside follows it) */
iframe[title="streamlit_folium.st_folium"] { height: calc(100vh - 190px) !important; min-height: 420px; }
</style>"""


def fill_height() -> None:
    st.html(MAP_CSS)


# --- side by side --------------------------------------------------------------------------------------
CMP_LEFT, CMP_RIGHT = "gansuLeft", "gansuRight"


def compare_options() -> list[str]:
    """What can be compared: the land cover in use, the second land-cover year when one is in use,
    zones and the protection (red line) layer."""
    opts = ["landcover"]
    if dataset_or_none(data_in_use.landcover_alt_dataset) is not None:
        opts.append(WS_LC_ALT)
    return opts + ["zones", "protection_proxy"]


def _cmp_label(opt: str, lang: str) -> str:
    if opt == WS_LC_ALT:
        alt = dataset_or_none(data_in_use.landcover_alt_dataset)
        return f"{t('inuse.second_year', lang)}: {alt.label(lang)} · {t('map.status.user', lang)}" if alt else opt
    spec = catalog.BY_ID[opt]
    if opt == "landcover":
        user_lc = dataset_or_none(data_in_use.landcover_dataset)
        if user_lc is not None:
            return f"{user_lc.label(lang)} · {t('map.status.user', lang)}"
    return f"{spec.title(lang)} · {t(f'map.status.{spec.status}', lang)}"


def compare_controls(lang: str) -> None:
    st.markdown(f"**{t('mv.compare', lang)}**")
    if not st.toggle(t("mv.compare.on", lang), key="map_compare"):
        return
    opts = compare_options()
    st.session_state.setdefault("map_cmp_left", opts[0])
    st.session_state.setdefault("map_cmp_right", WS_LC_ALT if WS_LC_ALT in opts else "zones")
    for k in ("map_cmp_left", "map_cmp_right"):
        if st.session_state[k] not in opts:
            st.session_state[k] = opts[0]
    st.selectbox(t("mv.compare.left", lang), opts, format_func=lambda o: _cmp_label(o, lang), key="map_cmp_left")
    st.selectbox(t("mv.compare.right", lang), opts, format_func=lambda o: _cmp_label(o, lang), key="map_cmp_right")
    if not assets.side_by_side_available():
        st.warning(t("mv.compare.missing", lang))


def compare_choice() -> tuple[str, str] | None:
    if not st.session_state.get("map_compare"):
        return None
    opts = compare_options()
    left, right = st.session_state.get("map_cmp_left"), st.session_state.get("map_cmp_right")
    return (left, right) if left in opts and right in opts else None


def add_compare(m, lang: str, gcj: bool) -> list[dict]:
    """The side-by-side view: the left choice in its own pane left of the divider, the right one
    right of it (vendored leaflet-side-by-side clipping the two panes); their legend sections."""
    choice = compare_choice()
    if choice is None:
        return []
    lc_opacity = float(st.session_state.get("map_lc_opacity", 0.7))
    sections = []
    for opt, pane, side in ((choice[0], CMP_LEFT, "mv.compare.left"), (choice[1], CMP_RIGHT, "mv.compare.right")):
        mapview.add_pane(m, pane)
        prefix = f"{t(side, lang)}: "
        if opt == WS_LC_ALT:
            alt = dataset_or_none(data_in_use.landcover_alt_dataset)
            sec = add_user_landcover(m, alt, lang, gcj, lc_opacity, True, prefix=prefix, pane=pane) if alt else None
        else:
            sec = add_layer(m, catalog.BY_ID[opt], lang, gcj, lc_opacity, pane=pane, prefix=prefix)
        if sec:
            sections.append(sec)
    mapview.add_side_by_side(m, CMP_LEFT, CMP_RIGHT)
    return sections

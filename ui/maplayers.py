"""The Map page's pieces: the sidebar (basemap, layer switches, land-cover opacity), the base
map, and each visible catalog layer added through the caches with its legend section (built by
``ui.mapview`` from the catalog).

The data in use takes part: a user land cover in use replaces the default overlay (its display
copy, coloured by its own legend, badge "uploaded by user"), a second land-cover year is a second
overlay, and the transport datasets in use are drawn by kind with a legend entry per kind. A user
red line or zones replace the default layers through the active-upload mechanism."""
from __future__ import annotations

import streamlit as st

from core.errors import GansuError
from core.i18n import t
from layers import catalog
from layers import workspace as ws
from ui import common, data_in_use, mapview
from ui import parks as parks_ui

WS_TRANSPORT = "ws_transport"  # sidebar switch of the user's transport datasets
WS_LC_ALT = "ws_landcover_alt"  # sidebar switch of the second land-cover year


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
        user_lc = _safe(data_in_use.landcover_dataset)
        for spec in specs:
            st.session_state.setdefault(f"map_vis_{spec.id}", spec.visible)
            label = f"{spec.title(lang)} · {t(f'map.status.{spec.status}', lang)}"
            if spec.kind == "raster" and user_lc is not None:
                label = f"{user_lc.label(lang)} · {t('map.status.user', lang)}"
            visible[spec.id] = st.checkbox(label, key=f"map_vis_{spec.id}")
        alt = _safe(data_in_use.landcover_alt_dataset)
        if alt is not None:
            st.session_state.setdefault(f"map_vis_{WS_LC_ALT}", False)
            visible[WS_LC_ALT] = st.checkbox(f"{t('inuse.second_year', lang)}: {alt.label(lang)} · "
                                             f"{t('map.status.user', lang)}", key=f"map_vis_{WS_LC_ALT}")
        if _user_transport_ids():
            st.session_state.setdefault(f"map_vis_{WS_TRANSPORT}", True)
            visible[WS_TRANSPORT] = st.checkbox(f"{t('ws.map.transport', lang)} · {t('map.status.user', lang)}",
                                                key=f"map_vis_{WS_TRANSPORT}")
        opacity = st.slider(t("map.lc_opacity", lang), 0.1, 1.0, 0.7, 0.05, key="map_lc_opacity")
    common.share_state({"layers": ",".join(i for i, v in visible.items() if v), "basemap": basemap})
    return basemap, visible, opacity


def base_map(basemap: str, lang: str) -> tuple:
    """(map, gcj): the offline map with the chosen basemap; notes on online tiles and GCJ-02."""
    m = mapview.new_map(lang)
    if basemap != "none":
        if not mapview.basemap_layer(m, basemap, common.tianditu_key()):
            st.warning(t("map.no_tianditu_key", lang))
        else:
            st.info(t("map.online_warning", lang))
    gcj = basemap == "gaode"
    if gcj:
        st.caption(t("map.gcj_note", lang))
    return m, gcj


def add_layer(m, spec: catalog.LayerSpec, lang: str, gcj: bool, lc_opacity: float) -> dict | None:
    """Add one visible layer (the user's upload when one replaces it); its legend section, or
    None when there is nothing to draw."""
    title = f"{spec.title(lang)} · {t(f'map.status.{spec.status}', lang)}"
    if spec.kind == "raster":
        user_lc = _safe(data_in_use.landcover_dataset)
        if user_lc is not None:
            return add_user_landcover(m, user_lc, lang, gcj, lc_opacity, True)
        url, bounds = common.landcover_overlay(common.build_id(), mapview.landcover_colors(spec.legend))
        mapview.add_raster(m, url, bounds, title, lc_opacity, True, gcj)
        return mapview.legend_section(spec, lang, spec.title(lang))
    if spec.source == "store:parks":
        mine = parks_ui.current_parks()
        mine = mine[mine["source"] != "illustrative"]
        if mine.empty:
            return None
        fc = mapview.geojson_for(mine, spec, gcj=gcj, simplify_deg=0)
    else:
        rec = common.active_upload(spec.id)
        fc = common.layer_geojson(spec.id, common.build_id(), rec["upload_id"] if rec else None, gcj)
        if rec:
            title = f"{spec.title(lang)} · {t('map.status.user', lang)}"
            spec = common.spec_for(spec.id, common.load_layer(spec.id)[0])
    mapview.add_vector(m, fc, spec, lang, title, {f: f for f in spec.tooltip}, True)
    return mapview.legend_section(spec, lang, title, fc)


# --- the workspace: a user land cover, a second year, transport datasets ------------------------
def _safe(fn):
    """A dataset of the data in use, or None when the store has none (or cannot say)."""
    try:
        return fn()
    except GansuError:
        return None


def _user_transport_ids() -> list[str]:
    try:
        return [i for i in ws.in_use(common.store()).get("transport", []) if i != ws.BUILTIN_AIRPORTS]
    except GansuError:
        return []


@st.cache_data(show_spinner=False, max_entries=8)
def _user_landcover_png(display_path: str, sha256: str, colors: tuple, nodata) -> tuple[str, list]:
    return mapview.landcover_png(display_path, dict(colors), None if nodata is None else int(nodata))


def add_user_landcover(m, ds: ws.Dataset, lang: str, gcj: bool, opacity: float, show: bool,
                       prefix: str = "") -> dict | None:
    """A user land cover drawn from its display copy with the colours of its legend; its legend
    section (title with the "uploaded by user" badge), or None when it cannot be drawn (said)."""
    title = f"{prefix}{ds.label(lang)} · {t('map.status.user', lang)}"
    try:
        url, bounds = _user_landcover_png(ds.display_path, ds.sha256, mapview.landcover_colors(ds.legend), ds.nodata)
    except (GansuError, OSError, ValueError) as e:  # the display copy is gone or unreadable
        why = e.message(lang) if isinstance(e, GansuError) else type(e).__name__
        st.warning(t("ws.map.display_missing", lang, name=ds.name, why=why))
        return None
    mapview.add_raster(m, url, bounds, title, opacity, show, gcj)
    return mapview.landcover_legend_section(ds.legend, lang, title)


@st.cache_data(show_spinner=False, max_entries=32)
def _transport_fc(dataset_id: str, sha256: str, kind: str, label: str, gcj: bool) -> dict:
    feats = common.store().dataset_features(dataset_id, kind)
    return mapview.transport_geojson(feats, label, gcj=gcj, simplify_deg=0.001)


def add_workspace_layers(m, visible: dict, lang: str, gcj: bool, lc_opacity: float) -> list[dict]:
    """The second land-cover year and the transport datasets in use; their legend sections."""
    sections = []
    alt = _safe(data_in_use.landcover_alt_dataset)
    if alt is not None and visible.get(WS_LC_ALT):
        sec = add_user_landcover(m, alt, lang, gcj, lc_opacity, True, prefix=f"{t('inuse.second_year', lang)}: ")
        if sec:
            sections.append(sec)
    ids = _user_transport_ids()
    if not ids or not visible.get(WS_TRANSPORT):
        return sections
    s = common.store()
    items = []
    for kind in ws.TRANSPORT_KINDS:
        for i in ids:
            ds = ws.get(s, i)
            if kind not in ds.kinds:
                continue
            label = f"{t(f'ws.kind.{kind}', lang)} · {ds.name}"
            fc = _transport_fc(ds.id, ds.sha256, kind, label, gcj)
            if not fc["features"]:
                continue
            mapview.add_transport(m, fc, kind, f"{label} · {t('map.status.user', lang)}", True)
            items.append(mapview.transport_legend_item(kind, label))
    if items:
        sections.append({"title": f"{t('ws.map.transport', lang)} · {t('map.status.user', lang)}", "items": items})
    return sections

"""The Map page's pieces: the sidebar (basemap, layer switches, land-cover opacity), the base
map, and each visible catalog layer added through the caches with its legend section (built by
``ui.mapview`` from the catalog)."""
from __future__ import annotations

import streamlit as st

from core.i18n import t
from layers import catalog
from ui import common, mapview
from ui import parks as parks_ui


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
        for spec in specs:
            st.session_state.setdefault(f"map_vis_{spec.id}", spec.visible)
            visible[spec.id] = st.checkbox(f"{spec.title(lang)} · {t(f'map.status.{spec.status}', lang)}",
                                           key=f"map_vis_{spec.id}")
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

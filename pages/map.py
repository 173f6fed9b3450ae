"""Map: every catalog layer, toggleable, styled from the catalog, with a legend. Offline by
default (no basemap); online basemaps only when the user picks one."""
import html

import streamlit as st
from streamlit_folium import st_folium

from indicators.legends import CLASSES, get_legend
from layers import catalog
from ui import mapview
from core.i18n import t
from ui import common
from ui import parks as parks_ui

lg = common.lang()
st.title(t("map.title", lg))
if common.require_data(lg):
    specs = catalog.available_layers()
    common.init_from_query("map_vis_", [sp.id for sp in specs], "layers")
    if st.query_params.get("basemap") in mapview.BASEMAPS and "map_basemap" not in st.session_state:
        st.session_state["map_basemap"] = st.query_params["basemap"]
    with st.sidebar:
        basemap = st.selectbox(t("map.basemap", lg), mapview.BASEMAPS,
                               format_func=lambda b: t(f"basemap.{b}", lg), key="map_basemap")
        st.markdown(f"**{t('map.layers', lg)}**")
        visible = {}
        for spec in specs:
            badge = t(f"map.status.{spec.status}", lg)
            st.session_state.setdefault(f"map_vis_{spec.id}", spec.visible)
            visible[spec.id] = st.checkbox(f"{spec.title(lg)} · {badge}", key=f"map_vis_{spec.id}")
        lc_opacity = st.slider(t("map.lc_opacity", lg), 0.1, 1.0, 0.7, 0.05, key="map_lc_opacity")

    common.share_state({"layers": ",".join(i for i, v in visible.items() if v), "basemap": basemap})
    key = common.tianditu_key()
    gcj = basemap == "gaode"
    m = mapview.new_map(lg)
    if basemap != "none":
        if not mapview.basemap_layer(m, basemap, key):
            st.warning(t("map.no_tianditu_key", lg))
        else:
            st.info(t("map.online_warning", lg))
    if gcj:
        st.caption(t("map.gcj_note", lg))

    legend_sections = []
    igbp = get_legend("igbp")
    class_color = {c.id: c.color for c in CLASSES}
    for spec in specs:
        if not visible[spec.id]:
            continue  # the sidebar is the layer switch; hidden layers are not sent to the browser
        title = f"{spec.title(lg)} · {t(f'map.status.{spec.status}', lg)}"
        if spec.kind == "raster":
            colors = tuple(sorted((code, class_color[cls]) for code, cls in igbp.codes.items()))
            url, bounds = common.landcover_overlay(common.build_id(), colors)
            mapview.add_raster(m, url, bounds, title, lc_opacity, visible[spec.id], gcj)
            if visible[spec.id]:
                legend_sections.append({"title": spec.title(lg), "items": [
                    {"label": c.label_zh if lg == "zh" else c.label_en, "fill": c.color,
                     "stroke": "#666"} for c in CLASSES]})
            continue
        if spec.source == "store:parks":
            mine = parks_ui.current_parks()
            mine = mine[mine["source"] != "illustrative"]
            if mine.empty:
                continue
            fc = mapview.geojson_for(mine, spec, gcj=gcj, simplify_deg=0)
            mapview.add_vector(m, fc, spec, lg, title, {f: f for f in spec.tooltip}, True)
            legend_sections.append({"title": title, "items": [{"label": spec.title(lg), "fill": spec.style["fill_color"],
                                                               "stroke": spec.style["color"]}]})
            continue
        rec = common.active_upload(spec.id)
        fc = common.layer_geojson(spec.id, common.build_id(), rec["upload_id"] if rec else None, gcj)
        if rec:
            title = f"{spec.title(lg)} · {t('map.status.user', lg)}"
            spec = common.spec_for(spec.id, common.load_layer(spec.id)[0])
        aliases = {f: f for f in spec.tooltip}
        mapview.add_vector(m, fc, spec, lg, title, aliases, visible[spec.id])
        if visible[spec.id]:
            st_ = spec.style
            if spec.style.get("color_field") and fc["features"]:
                nf = "name_en" if lg == "en" and "name_en" in spec.tooltip else spec.name_field
                items = [{"label": html.unescape(f["properties"].get(nf or "", "")),
                          "fill": f["properties"].get("_fill"), "stroke": st_.get("color", "#555")}
                         for f in fc["features"]]
            else:
                items = [{"label": spec.title(lg), "fill": st_.get("fill_color", "transparent")
                          if st_.get("fill_opacity", 0) > 0 else "transparent",
                          "stroke": st_.get("color", "#333"), "dash": bool(st_.get("dash"))}]
            legend_sections.append({"title": title, "items": items})
    mapview.add_legend(m, lg, legend_sections)
    mapview.finish(m)
    st_folium(m, height=640, use_container_width=True, returned_objects=[], key="main_map")

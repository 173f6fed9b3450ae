"""The Map page's map and what sits under it (the point query, the measure, the export), as one
Streamlit fragment: what the map sends back (its view after a pan or a zoom, a click, a drawn shape)
reruns this part alone, not the whole page.

The map reported its view (``bounds``: the export's "current view") whenever it moved, and twice
when a visit opened it (its first view, then the view once the map had grown to the window's
height); each report reran the whole page (the data-in-use line, the sidebar, the search): three
runs per visit, one more per pan. Now the map reports its view only while the export asks for the
current view (``mapview.view_report_group``), and a report reruns ``shown`` only: the map that stays
(the same script every time: ``maplayers.base_map``) with the layers, legend and basemap drawn over
it from the sidebar's choices of the last full run (their data come from the caches), the tools'
groups for the new click or drawing, and the panels under it. A change in the sidebar or the search
reruns the page. The layers are made again on every run of the fragment: streamlit-folium renames
the elements it renders, so a layer object cannot be drawn twice.
"""
from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from ui import fragment_gate, map_export, map_tools, maplayers, mapview


@st.fragment
def shown(specs: list, visible: dict, basemap: str, lc_opacity: float, place, lang: str) -> None:
    fragment_gate.check()  # a rerun of this part alone passes no gate of app.py: the sign-in checked here
    m = maplayers.base_map()
    with st.container():  # the notes on the basemap and the layers: one block, so the map keeps its place
        gcj = maplayers.add_basemap(m, basemap, lang)
        sections = [maplayers.add_layer(m, spec, lang, gcj, lc_opacity) for spec in specs if visible[spec.id]]
        sections += maplayers.add_workspace_layers(m, visible, lang, gcj, lc_opacity)
        sections += maplayers.add_compare(m, lang, gcj)
    mapview.add_legend(m, lang, [s for s in sections if s])
    out = st_folium(m, height=640, use_container_width=True, returned_objects=map_tools.RETURNED + map_export.RETURNED,
                    key=map_tools.MAP_KEY, **map_tools.view(m, place, gcj, lang, report_view=map_export.wants_view()))
    map_tools.panel(out, lang, gcj, place)
    map_export.export_panel(out, specs, visible, lang)

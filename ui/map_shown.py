"""The Map page's map and what sits under it (the point query, the measure, the export), as one
Streamlit fragment: what the map sends back (its view after a pan or a zoom, a click, a drawn shape)
reruns this part alone, not the whole page.

The map reports its view (``bounds``: the export's "current view") whenever it moves, and twice
when a visit opens it (its first view, then the view once the map has grown to the window's
height). Each report used to rerun the whole page (the data in use, the sidebar, every layer):
three runs per visit, one more per pan. Now the page builds the layers once per full run, takes them
out as feature groups (``mapview.overlay_groups``) and hands them to ``shown``; a report from the
map reruns ``shown`` only: a fresh copy of the map that stays (the same script every time:
``maplayers.base_map``), the same groups, the tools' groups for the new click or drawing, and the
panels under it. A change in the sidebar or the search still reruns the page.
"""
from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from ui import map_export, map_tools, maplayers


@st.fragment
def shown(overlays: list, specs: list, visible: dict, place, gcj: bool, lang: str) -> None:
    m = maplayers.base_map()
    out = st_folium(m, height=640, use_container_width=True, returned_objects=map_tools.RETURNED + map_export.RETURNED,
                    key=map_tools.MAP_KEY, **map_tools.view(m, place, gcj, lang, overlays=overlays))
    map_tools.panel(out, lang, gcj, place)
    map_export.export_panel(out, specs, visible, lang)

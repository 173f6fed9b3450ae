"""Map: every catalog layer, toggleable, styled from the catalog, with a legend, on the data in
use (a user land cover, a second year, transport datasets, red line and zones). Offline by
default (no basemap); online basemaps only when the user picks one. A place search above the
map; under it, what the data says at the clicked point and the measure of a drawn shape. The map
itself stays from run to run (layers, basemap and legend are swapped in over it): a change in the
sidebar keeps the user's centre and zoom."""
import streamlit as st
from streamlit_folium import st_folium

from layers import catalog
from ui import common, map_export, map_tools, maplayers, mapview

lg = common.page("map.title")
specs = catalog.available_layers()
basemap, visible, lc_opacity = maplayers.sidebar(specs, lg)
place = map_tools.search_box(lg)
m = maplayers.base_map()
with st.container():  # the notes on the basemap and the layers: one block, so the map keeps its place
    gcj = maplayers.add_basemap(m, basemap, lg)
    sections = [maplayers.add_layer(m, spec, lg, gcj, lc_opacity) for spec in specs if visible[spec.id]]
    sections += maplayers.add_workspace_layers(m, visible, lg, gcj, lc_opacity)
    sections += maplayers.add_compare(m, lg, gcj)
mapview.add_legend(m, lg, [s for s in sections if s])
out = st_folium(m, height=640, use_container_width=True, returned_objects=map_tools.RETURNED + map_export.RETURNED,
                key=map_tools.MAP_KEY, **map_tools.view(m, place, gcj, lg))
map_tools.panel(out, lg, gcj, place)
map_export.export_panel(out, specs, visible, lg)

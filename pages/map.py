"""Map: every catalog layer, toggleable, styled from the catalog, with a legend, on the data in
use (a user land cover, a second year, transport datasets, red line and zones). Offline by
default (no basemap); online basemaps only when the user picks one."""
from streamlit_folium import st_folium

from layers import catalog
from ui import common, maplayers, mapview

lg = common.page("map.title")
specs = catalog.available_layers()
basemap, visible, lc_opacity = maplayers.sidebar(specs, lg)
m, gcj = maplayers.base_map(basemap, lg)
sections = [maplayers.add_layer(m, spec, lg, gcj, lc_opacity) for spec in specs if visible[spec.id]]
sections += maplayers.add_workspace_layers(m, visible, lg, gcj, lc_opacity)
mapview.add_legend(m, lg, [s for s in sections if s])
mapview.finish(m)
st_folium(m, height=640, use_container_width=True, returned_objects=[], key="main_map")

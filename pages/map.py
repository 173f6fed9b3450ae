"""Map: every catalog layer, toggleable, styled from the catalog, with a legend, on the data in
use (a user land cover, a second year, transport datasets, red line and zones). Offline by
default (no basemap); online basemaps only when the user picks one. A place search above the
map; under it, what the data says at the clicked point and the measure of a drawn shape. The map
itself stays from run to run (layers, basemap and legend are swapped in over it): a change in the
sidebar keeps the user's centre and zoom."""
from ui import common, map_shown, map_tools, maplayers

lg = common.page("map.title")
specs = common.available_layers()
basemap, visible, lc_opacity = maplayers.sidebar(specs, lg)
place = map_tools.search_box(lg)
# the map, its layers and the panels under it: what the map reports (a pan, a click, a drawing) reruns them alone
map_shown.shown(specs, visible, basemap, lc_opacity, place, lg)

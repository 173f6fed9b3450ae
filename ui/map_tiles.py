"""A land cover on a folium map as tiles of its COG, from the dashboard's own tile service
(``ui.tileserver``): the grant for this session's viewer, the raster's native zoom, the layer.
Used by the Map (``ui.maplayers``) and the park detail maps (``ui.parks_card``)."""
from __future__ import annotations

import rasterio.errors
import streamlit as st

from layers import cog, tiles
from storage import workspace as ws
from ui import common, map_legends, map_rasters, session, tileserver


@st.cache_data(show_spinner=False, max_entries=64)
def native_zoom(path: str, sha256: str) -> int | None:
    """The raster's native web-map zoom when its map copy is a COG (tiles), else None (a land cover
    registered before map tiles: its small display copy)."""
    try:
        return tiles.native_zoom(path) if cog.tile_ready(path) else None
    except (OSError, ValueError, rasterio.errors.RasterioError):
        return None


def tile_layer(ds: ws.Dataset, gcj: bool) -> tuple[str, int] | None:
    """(tile URL granted to this session's viewer, native zoom) of a land cover with a COG."""
    if not ds.display_path:
        return None
    z = native_zoom(ds.display_path, ds.sha256)
    if z is None:
        return None
    url = tileserver.grant(ds.id, ds.display_path, common.actor(), colors=dict(map_legends.landcover_colors(ds.legend)),
                           gcj=gcj, minutes=session.session_minutes())
    return url, z


def add_landcover(m, ds: ws.Dataset, title: str, opacity: float, show: bool, gcj: bool,
                  pane: str | None = None) -> bool:
    """The land cover's tiles on ``m`` in a toggleable group; False when it has no COG."""
    got = tile_layer(ds, gcj)
    if got is None:
        return False
    map_rasters.add_tiles(m, got[0], title, opacity, show, got[1], pane=pane)
    return True

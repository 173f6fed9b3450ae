"""Rasters on a folium map as tiles of their COG, from the dashboard's own tile service
(``ui.tileserver``): the grant for this session's viewer, the raster's native zoom, the layer. A
land cover in its legend's colours (the Map, ``ui.maplayers``; the park detail maps,
``ui.parks_card``); the siting rasters in use (criteria, DEM) on a colour ramp with its legend."""
from __future__ import annotations

import rasterio.errors
import streamlit as st

from core.i18n import t
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


RAMP = "viridis"


def rasters_in_use() -> list[ws.Dataset]:
    """The criterion rasters and the DEM in use, in that order."""
    chosen = common.in_use()
    return [common.dataset(i) for role in ("criterion", "dem") for i in chosen.get(role, [])]


@st.cache_data(show_spinner=False, max_entries=64)
def _stretch(path: str, sha256: str) -> tuple[float, float]:
    return tiles.default_stretch(path)


def add_rasters(m, datasets: list[ws.Dataset], lang: str, gcj: bool, opacity: float) -> list[dict]:
    """Each continuous raster with a COG as tiles on a colour ramp over its 2–98 % stretch; its legend
    section (the name and unit, the ramp's ends and middle with their values)."""
    sections = []
    for ds in datasets:
        z = native_zoom(ds.display_path, ds.sha256) if ds.display_path else None
        if z is None:
            continue
        lo, hi = _stretch(ds.display_path, ds.sha256)
        url = tileserver.grant(ds.id, ds.display_path, common.actor(), ramp=RAMP, stretch=(lo, hi), gcj=gcj,
                               minutes=session.session_minutes())
        unit = (ds.params or {}).get("unit") or ("m" if ds.role == "dem" else "")
        title = t("ws.map.raster_title", lang, name=(ds.params or {}).get("name") or ds.name, unit=unit or "—")
        map_rasters.add_tiles(m, url, f"{title} · {t('map.status.user', lang)}", opacity, True, z)
        stops = tiles.RAMPS[RAMP]
        marks = [(0, lo), (len(stops) // 2, (lo + hi) / 2), (len(stops) - 1, hi)]
        items = [{"label": f"{v:,.4g}", "fill": "#%02x%02x%02x" % tuple(stops[k]), "stroke": "#666666"} for k, v in marks]
        sections.append({"title": f"{title} · {t('map.status.user', lang)}", "items": items})
    return sections

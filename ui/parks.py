"""Per-park indicators for the UI: the indicator engine on the current layers, cached by the
content that feeds it (build id + active uploads), so reruns are instant."""
from __future__ import annotations

import streamlit as st

from geodata import paths
from ui import common


@st.cache_data(show_spinner=False, max_entries=16)
def park_indicators(build: str, zones_upload: str | None, redline_upload: str | None):
    from indicators.engine import compute_parks

    parks = common._load_layer("parks_demo", build, None)
    zones = common._load_layer("zones", build, zones_upload)
    redline = common._load_layer("protection_proxy", build, redline_upload)
    airports = common._load_layer("airports", build, None)
    zone_field = "name_zh" if "name_zh" in zones.columns else None
    return compute_parks(parks, landcover=paths.landcover_path(), legend="igbp",
                         transport={"airport": airports}, redline=redline, zones=zones,
                         zone_field=zone_field or "zone", id_field="park_id", name_field="name_zh")


def current():
    return park_indicators(common.build_id(), common.active_upload_id("zones"),
                           common.active_upload_id("protection_proxy"))

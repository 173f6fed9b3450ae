"""Parks for the UI: illustrative defaults + the user's saved parks, and their indicators from
the indicator engine, cached by the content that feeds it (build id, active uploads, parks
version), so reruns are instant and any save recomputes."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from core import paths
from layers import catalog
from ui import common


def parks_version() -> str:
    return common.store().parks_version()


@st.cache_data(show_spinner=False, max_entries=16)
def all_parks(build: str, version: str) -> gpd.GeoDataFrame:
    demo = common._load_layer("parks_demo", build, None)
    demo = gpd.GeoDataFrame({"park_id": demo["park_id"], "name": demo["name_zh"],
                             "name_en": demo["name_en"], "source": "illustrative"},
                            geometry=demo.geometry.values, crs=demo.crs)
    user = common.store().parks()
    if len(user):
        user = gpd.GeoDataFrame({"park_id": user["park_id"], "name": user["name"],
                                 "name_en": user["name"], "source": user["source"]},
                                geometry=user.geometry.values, crs=4326)
        return pd.concat([demo, user], ignore_index=True)
    return demo


@st.cache_data(show_spinner=False, max_entries=16)
def park_indicators(build: str, zones_upload: str | None, redline_upload: str | None,
                    version: str) -> pd.DataFrame:
    from indicators.engine import compute_parks

    parks = all_parks(build, version)
    zones = common._load_layer("zones", build, zones_upload)
    redline = common._load_layer("protection_proxy", build, redline_upload)
    airports = common._load_layer("airports", build, None)
    zone_field = "name_zh" if "name_zh" in zones.columns else "zone"
    out = compute_parks(parks, landcover=paths.landcover_path(), legend=catalog.BY_ID["landcover"].legend,
                        transport={"airport": airports}, redline=redline, zones=zones,
                        zone_field=zone_field, id_field="park_id", name_field="name")
    out["source"] = parks["source"].values
    return out


def current() -> pd.DataFrame:
    return park_indicators(common.build_id(), common.active_upload_id("zones"),
                           common.active_upload_id("protection_proxy"), parks_version())


def current_parks() -> gpd.GeoDataFrame:
    return all_parks(common.build_id(), parks_version())


def park_picker(df: pd.DataFrame, lang: str, key: str) -> str:
    """Select one park (initial choice from ``?park=``; the choice is written back to the URL)."""
    from core.i18n import t

    names = dict(zip(df["park_id"], df["name"]))
    ids = list(names)
    qp = st.query_params.get("park")
    pid = st.selectbox(t("parks.select", lang), ids, index=ids.index(qp) if qp in ids else 0,
                       format_func=lambda p: f"{p} · {names[p]}", key=key)
    common.share_state({"park": pid})
    return pid


# Uploaded files are parsed once per (content, options), not on every rerun of the page.
# Errors (UploadError/CRSMissing) are raised, not cached, so a corrected choice re-reads.
@st.cache_data(show_spinner=False, max_entries=8)
def upload_layers(filename: str, data: bytes) -> list[str]:
    from layers import readers

    return readers.list_layers(filename, data)


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(filename: str, data: bytes, layer: str | None, assume_crs: str | None, gcj02: bool):
    from layers import readers

    return readers.read_vector(filename, data, layer=layer, assume_crs=assume_crs, gcj02=gcj02)

"""The Home page's pieces: headline figures computed from the data (cached by build and upload),
the parks count (illustrative + the user's saved parks, so a save shows at once), the zone-area
table and the land-cover chart of the land cover in use (cached by its SHA-256, named in the
heading)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core import crs, paths
from core.errors import GansuError
from core.i18n import t
from core.text import pick
from storage import workspace as ws
from layers.legends import CLASS_BY_ID
from ui import charts, common, data_in_use, tables
from ui import parks as parks_ui
from ui import raster_sources
from ui.mdtext import md  # the dataset name in the heading
from zonal.landcover import raster_class_totals


@st.cache_data(show_spinner=False)
def headline(build: str, zones_upload: str | None) -> dict:
    """Province area, counts and zone areas (illustrative parks only: the user's parks change
    without a rebuild, see ``n_parks``). Land-cover shares: ``landcover_shares_of``."""
    province = common.cached_layer("province", build, None)
    prefectures = common.cached_layer("prefectures", build, None)
    counties = common.cached_layer("counties", build, None)
    parks = common.cached_layer("parks_demo", build, None)
    zones = common.cached_layer("zones", build, zones_upload)
    area = float(crs.equal_area_km2(province).sum())
    zone_area = crs.equal_area_km2(zones)
    zrows = [{"name_zh": a, "name_en": b, "area_km2": round(float(x), 0),
              "share_pct": round(100 * float(x) / area, 1)}
             for a, b, x in zip(zones["name_zh"], zones["name_en"], zone_area)]
    return {"province_area_km2": area, "n_prefectures": len(prefectures),
            "n_counties": len(counties), "n_illustrative_parks": len(parks), "zones": zrows}


@st.cache_data(show_spinner=False, max_entries=8)
def landcover_shares_of(sha256: str, raster: str, legend: str, build: str) -> list[dict]:
    """Class shares of a land cover inside the province (geodesic/equal-area pixel areas, exact
    coverage fractions), cached by the raster's content (SHA-256) and legend."""
    province = common.cached_layer("province", build, None)
    leg = Path(legend) if legend.lower().endswith(".csv") else legend
    per_code = raster_class_totals(raster, leg, mask_geom=province.geometry.iloc[0], mask_crs=province.crs)
    totals = per_code.groupby("class")["area_km2"].sum().to_dict()
    lc_total = sum(totals.values()) or 1.0
    return [{"class": k, "label_zh": CLASS_BY_ID[k].label_zh, "label_en": CLASS_BY_ID[k].label_en,
             "color": CLASS_BY_ID[k].color, "share_pct": round(100 * v / lc_total, 2)}
            for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v > 0 and k in CLASS_BY_ID]


@st.cache_resource(show_spinner=False, max_entries=8)
def landcover_figure(sha256: str, raster: str, legend: str, build: str, lang: str):
    """The bars of ``landcover_shares_of`` in ``lang`` (None when there is no class to show): made
    once per land cover, legend and language and shared by every session. A shared figure is never
    changed: ``st.plotly_chart`` only reads it (``to_dict``)."""
    rows = landcover_shares_of(sha256, raster, legend, build)
    return charts.landcover_bars(rows, lang) if rows else None


def landcover_in_use(lang: str) -> tuple[str, str, str, str]:
    """(raster, legend, SHA-256, name) of the land cover in use: the user's dataset (checked: a
    changed file raises InputError) or the built-in MODIS layer."""
    d = data_in_use.landcover_dataset()
    if d is None:
        build = common.build_id()
        sha = common.manifest(build).get("files", {}).get(paths.LANDCOVER_NAME, {}).get("sha256") or build
        return str(paths.landcover_path()), raster_sources.default_legend(), sha, t("home.lc_default_name", lang)
    ws.verify(d)
    return d.raster_path, d.legend, d.sha256, f"{d.name} {d.year or ''}".strip()


def current_headline() -> dict:
    return headline(common.build_id(), common.active_upload_id("zones"))


def n_parks() -> int:
    """Every park the Parks page lists: illustrative + the user's saved ones."""
    return len(parks_ui.current_parks())


def metrics(h: dict, lang: str) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("home.province_area", lang), f"{h['province_area_km2']:,.0f}")
    c2.metric(t("home.n_prefectures", lang), h["n_prefectures"])
    c3.metric(t("home.n_counties", lang), h["n_counties"])
    c4.metric(t("home.n_parks", lang), n_parks())


def zone_areas(h: dict, lang: str) -> None:
    st.subheader(t("home.zone_areas", lang))
    z = pd.DataFrame(h["zones"])
    view = pd.DataFrame({t("col.zone", lang): [pick(a, b, lang) for a, b in zip(z["name_zh"], z["name_en"])],
                         t("col.area_km2", lang): z["area_km2"], t("col.share_pct", lang): z["share_pct"]})
    st.dataframe(view, hide_index=True, width="stretch", placeholder=tables.NA)


def landcover_shares(h: dict, lang: str) -> None:
    """The land cover in use, named in the heading; a changed referenced file: its message."""
    try:
        raster, legend, sha, name = landcover_in_use(lang)
        fig = landcover_figure(sha, raster, legend, common.build_id(), lang)
    except GansuError as e:
        st.subheader(t("home.lc_shares_of", lang, name="—"))
        data_in_use.run_error(e, lang)
        return
    st.subheader(t("home.lc_shares_of", lang, name=md(name)))
    if fig is not None:
        st.plotly_chart(fig, width="stretch")
    st.caption(t("home.lc_note", lang))


def where_next(lang: str) -> None:
    st.subheader(t("home.where_next", lang))
    for page, key, icon in (("pages/map.py", "home.go_map", ":material/map:"),
                            ("pages/parks.py", "home.go_parks", ":material/factory:"),
                            ("pages/data.py", "home.go_data", ":material/menu_book:")):
        common.page_link(page, t(key, lang), icon)

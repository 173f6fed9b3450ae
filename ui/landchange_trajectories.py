"""The land-change tab's trajectories: for a level (province, zones, prefectures, counties, the key
areas, the red line, parks) and one of its units, the area of each class per year (one small chart
per class), the chosen class beside the official series of the matching indicator (forest coverage,
grassland vegetation cover, wetland protection, desertified land treated: a chart of its own, never
one line with the land-cover proxy), the MapBiomas-style table (unit × class, one column per year)
with its download, the trend of every class (Theil–Sen km²/yr, Mann–Kendall p) over a chosen window
and the units coloured by the trend of a class.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

import reports
from core.i18n import t
from core.text import pick
from indicators import landchange
from ui import common, tables
from ui import targets as ui_targets
from ui import landchange_views as v
from ui.targets_views import indicator_label, region_label


def level_picker(units: pd.DataFrame, lang: str, key: str) -> str:
    opts = v.levels_present(units)
    return st.radio(t("targets.lc.level", lang), opts, horizontal=True, key=key,
                    format_func=lambda lv: v.level_label(lv, lang))


def geojson(level: str) -> dict:
    """The polygons of a mapped level keyed by ``properties.unit_id`` (key areas: the counties)."""
    return ui_targets.level_geojson("county" if level == "key_areas" else level, common.build_id(),
                                    common.active_upload_id("zones"))


def trend_map(tr: pd.DataFrame, level: str, cls: str, lang: str):
    d = v.at_level(tr, level)
    d = d[d["class"] == cls].copy()
    d["name"] = v.names(d, lang)
    label = f"{v.lc_class_label(cls, lang)}: {v.head('trend_km2_yr', lang)}"
    return v.choropleth(d, geojson(level), "trend_km2_yr", label, diverging=True)


def _official(stats: pd.DataFrame, traj_unit: pd.DataFrame, unit_row: pd.Series, lang: str) -> None:
    present = [c for c in traj_unit["class"].unique() if c != "nodata"
               and traj_unit.loc[traj_unit["class"] == c, "area_km2"].abs().sum() > 0]
    if not present:
        return
    first = next((c for c in v.OFFICIAL_MATCH if c in present), present[0])
    cls = st.selectbox(t("landchange.traj.compare", lang), present, index=present.index(first),
                       format_func=lambda c: v.lc_class_label(c, lang), key="landchange_traj_class")
    name = pick(str(unit_row["name_zh"]), str(unit_row["name_en"]), lang)
    ind, hist, region = v.official_series(stats, cls, str(unit_row["name_zh"]))
    c1, c2 = st.columns(2)
    c1.plotly_chart(v.proxy_figure(traj_unit, cls, name, lang), width="stretch", key="landchange_traj_proxy")
    if ind is None:
        c2.info(t("landchange.traj.no_official", lang, cls=v.lc_class_label(cls, lang)))
        return
    label = indicator_label(ind, lang)
    if hist.empty:
        c2.info(t("landchange.traj.no_points", lang, indicator=label))
        return
    unit_text = str(hist["unit"].iloc[-1]) if "unit" in hist.columns else ""
    c2.plotly_chart(v.official_figure(hist, label, unit_text, region_label(region, lang), lang), width="stretch",
                    key="landchange_traj_official")
    c2.caption(t("landchange.traj.official_note", lang, region=region_label(region, lang)))


def trajectories_section(up: landchange.UnitPairs, stats: pd.DataFrame, lang: str) -> dict:
    """Draw the section; returns what the exports need: the trajectories (all units), the level and
    the trend window chosen."""
    st.caption(t("landchange.traj.help", lang))
    traj = landchange.trajectories(up)
    level = level_picker(up.units, lang, "landchange_traj_level")
    rows = v.at_level(up.units, level).reset_index(drop=True)
    labels = v.names(rows, lang)
    k = st.selectbox(t("landchange.traj.unit", lang), range(len(rows)), format_func=lambda i: labels[i],
                     key=f"landchange_traj_unit_{level}") if len(rows) > 1 else 0
    unit = rows.iloc[int(k or 0)]
    traj_unit = traj[(traj["level"] == unit["level"]) & (traj["unit_id"] == unit["unit_id"])]
    st.plotly_chart(v.class_chart(traj_unit, lang), width="stretch", key="landchange_traj_classes")
    _official(stats, traj_unit, unit, lang)

    st.markdown(f"**{t('landchange.traj.table', lang, level=v.level_label(level, lang))}**")
    table = v.trajectory_table(traj, level, lang)
    st.dataframe(table, hide_index=True, width="stretch", key="landchange_traj_table", placeholder=tables.NA)
    st.download_button(t("landchange.dl.traj_csv", lang), lambda: reports.csv_bytes(table),
                       "landcover_trajectories.csv", "text/csv", key="landchange_dl_traj")

    st.markdown(f"**{t('landchange.trend.title', lang)}**")
    years = list(up.years)
    window = st.select_slider(t("landchange.trend.window", lang), options=years, value=(years[0], years[-1]),
                              key="landchange_trend_window") if len(years) > 2 else (years[0], years[-1])
    window = (int(window[0]), int(window[1]))
    tr = landchange.trends(v.at_level(traj, level), window)
    st.caption(t("landchange.trend.help", lang))
    st.dataframe(v.trend_table(tr, level, lang), hide_index=True, width="stretch", key="landchange_trend_table",
                 placeholder=tables.NA)
    if level in v.MAPPED and len(tr):
        classes = [c for c in dict.fromkeys(tr["class"]) if (tr.loc[tr["class"] == c, "last_km2"] > 0).any()
                   or (tr.loc[tr["class"] == c, "first_km2"] > 0).any()] or list(dict.fromkeys(tr["class"]))
        cls = st.selectbox(t("landchange.trend.map_class", lang), classes, key="landchange_trend_class",
                           format_func=lambda c: v.lc_class_label(c, lang))
        st.plotly_chart(trend_map(tr, level, cls, lang), width="stretch", key="landchange_trend_map")
    return {"traj": traj, "window": window, "level": level}

"""The land-change tab's labelled views: unit levels (with the action plan's key areas as a preset
of counties), class and UNCCD-class labels, the trajectory table (MapBiomas style: unit × class rows,
one column per year), the trend, degradation and matrix tables as users see them (headers are labels
with units, never ids; names in the page's language), and the tab's charts: class areas per year,
the official series of the matching indicator beside them (a chart of its own, never the same line),
and the units coloured by a value; ``wait_for`` follows a background job. Nothing here reads the
store or computes areas (``indicators.landchange`` does; ``ui.targets_landchange`` runs it).
"""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.i18n import t
from core.text import pick
from indicators import ldn
from indicators import targets as tg
from indicators.landchange import LABELS
from layers.legends import CLASS_BY_ID, CLASS_IDS
from ui.charts import GANSU_CENTER
from ui.targets_views import class_label

# the levels a user picks from; "key_areas" is a preset of counties (tables/key_areas.csv)
LEVELS = ("province", "zone", "prefecture", "county", "key_areas", "redline", "park")
LEVEL_KEYS = {"province": "targets.level.province", "zone": "targets.level.zone",
              "prefecture": "targets.level.prefecture", "county": "targets.level.county",
              "key_areas": "landchange.level.key_areas", "redline": "landchange.level.redline",
              "park": "landchange.level.park"}
MAPPED = ("province", "zone", "prefecture", "county", "key_areas")  # levels with a choropleth (their polygons)
PERIOD_KEYS = {"baseline": "landchange.period.baseline", "reporting": "landchange.period.reporting"}
# land-cover class -> the official indicator of the same thing (tables/targets.csv), shown beside it
OFFICIAL_MATCH = {"forest": "forest_coverage_pct", "grassland": "grassland_veg_cover_pct",
                  "wetland": "wetland_protection_pct", "barren": "desertified_land_treated_pct"}
VERDICT_COLORS = {"improved": "#1a9850", "stable": "#ffffbf", "degraded": "#d73027", "nodata": "#bdbdbd"}


def wait_for(job, text: str) -> None:
    """While a background job runs: ``text`` and a spinner-free check every two seconds that reruns
    the page when the job has ended."""
    @st.fragment(run_every=2.0)
    def _wait():
        if job.phase in ("done", "error"):
            st.rerun()
        st.info(text)

    _wait()


def level_label(level: str, lang: str) -> str:
    return t(LEVEL_KEYS[level], lang)


def key_area_names() -> set[str]:
    return set(ldn.key_areas()["name_zh"].astype(str))


def at_level(df: pd.DataFrame, level: str) -> pd.DataFrame:
    """The rows of one level; ``key_areas``: the county rows named in the key-areas table."""
    if level == "key_areas":
        return df[(df["level"] == "county") & df["name_zh"].astype(str).isin(key_area_names())]
    return df[df["level"] == level]


def levels_present(units: pd.DataFrame) -> list[str]:
    return [lv for lv in LEVELS if len(at_level(units, lv))]


def names(df: pd.DataFrame, lang: str) -> list[str]:
    return [pick(str(a), str(b), lang) for a, b in zip(df["name_zh"], df["name_en"])]


def lc_class_label(c: str, lang: str) -> str:
    return class_label(c, lang)


def unccd_label(c: str, lang: str) -> str:
    return ldn.UNCCD_LABELS[c].pick(lang)


def head(col: str, lang: str) -> str:
    """A header of an engine column: its label with its unit (``indicators.landchange.LABELS``)."""
    text = LABELS[col].pick(lang)
    return text[:1].upper() + text[1:]


# --- tables ------------------------------------------------------------------------------------
def trajectory_table(traj: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    """Unit × class rows, one column per year (km²); a class with no area in any year is left out;
    no data (no class that year) kept as its own row, so each unit's column adds up to its area."""
    d = at_level(traj, level)
    wide = d.pivot_table(index=["unit_id", "name_zh", "name_en", "class"], columns="year", values="area_km2",
                         aggfunc="sum", sort=False).reset_index()
    years = [c for c in wide.columns if isinstance(c, (int,)) or str(c).isdigit()]
    keep = wide[years].abs().sum(axis=1) > 0
    wide = wide[keep]
    order = {c: i for i, c in enumerate((*CLASS_IDS, "nodata"))}
    wide = wide.assign(_o=wide["class"].map(order)).sort_values(["unit_id", "_o"], kind="stable")
    out = pd.DataFrame({t("targets.col.unit_name", lang): names(wide, lang),
                        t("landchange.col.class", lang): [lc_class_label(c, lang) for c in wide["class"]]})
    for y in years:
        out[t("landchange.col.year_km2", lang, year=int(y))] = wide[y].to_numpy(float)
    return out.reset_index(drop=True)


def trend_table(tr: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    d = at_level(tr, level)
    d = d[(d["first_km2"] != 0) | (d["last_km2"] != 0) | (d["trend_km2_yr"].fillna(0) != 0)]
    return pd.DataFrame({
        t("targets.col.unit_name", lang): names(d, lang),
        t("landchange.col.class", lang): [lc_class_label(c, lang) for c in d["class"]],
        head("trend_km2_yr", lang): d["trend_km2_yr"].to_numpy(float),
        head("mk_p", lang): d["mk_p"].to_numpy(float),
        head("n_years", lang): d["n_years"].to_numpy(int),
        head("first_km2", lang): d["first_km2"].to_numpy(float),
        head("last_km2", lang): d["last_km2"].to_numpy(float),
    })


DEG_COLS = ("improved_km2", "improved_pct", "stable_km2", "stable_pct", "degraded_km2", "degraded_pct",
            "nodata_km2", "nodata_pct", "area_km2", "desertified_km2", "rehabilitated_km2", "desertification_net_km2")


def degradation_table(deg: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    """Per unit and period: improved / stable / degraded / no-data km² and % of the unit's area
    (the four add up to it), the unit's area and the desertification proxy."""
    d = at_level(deg, level)
    out = pd.DataFrame({
        t("targets.col.unit_name", lang): names(d, lang),
        head("period", lang): [t(PERIOD_KEYS[p], lang) for p in d["period"]],
        t("landchange.col.years", lang): [f"{a}–{b}" for a, b in zip(d["year_from"], d["year_to"])],
    })
    for c in DEG_COLS:
        out[head(c, lang)] = d[c].to_numpy(float)
    return out.reset_index(drop=True)


def matrix_grid(m: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The 7 × 7 matrix with UNCCD class labels (rows: initial class, columns: final class)."""
    g = m.loc[list(ldn.UNCCD), list(ldn.UNCCD)].astype(int).copy()
    g.index = [unccd_label(c, lang) for c in ldn.UNCCD]
    g.columns = [unccd_label(c, lang) for c in ldn.UNCCD]
    g.index.name = t("landchange.matrix.from_to", lang)
    return g


def matrix_from_grid(grid: pd.DataFrame) -> pd.DataFrame:
    """Back from the labelled grid (by position) to the matrix of UNCCD ids."""
    m = pd.DataFrame(grid.to_numpy(), index=list(ldn.UNCCD), columns=list(ldn.UNCCD))
    m.index.name, m.columns.name = "from", "to"
    return m


def class_net_table(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Net change per class (km²) of each protected layer: one row per class, one column per layer."""
    out = pd.DataFrame({t("landchange.col.class", lang): [lc_class_label(c, lang) for c in CLASS_IDS]})
    for _, r in summary.iterrows():
        out[f"{pick(r['name_zh'], r['name_en'], lang)} (km²)"] = [float(r[f"{c}_net_km2"]) for c in CLASS_IDS]
    return out


PC_KEYS = {"area_km2": "landchange.pc.area_km2", "valid_km2": "landchange.pc.valid_km2",
           "nodata_km2": "landchange.pc.nodata_km2", "changed_km2": "landchange.pc.changed_km2",
           "changed_pct": "landchange.pc.changed_pct", "parcel_count": "landchange.pc.parcel_count"}


def protected_summary(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One row per layer: its area, the area with data in both years, no data, changed km² and %,
    and the number of parcels of change."""
    out = pd.DataFrame({t("landchange.col.layer", lang): names(summary, lang)})
    for c, key in PC_KEYS.items():
        if c in summary.columns:
            out[t(key, lang)] = summary[c].to_numpy()
    return out


# --- charts ------------------------------------------------------------------------------------
def class_chart(traj_unit: pd.DataFrame, lang: str) -> go.Figure:
    """One small chart per class: the unit's area of that class per year (km², each its own y axis)."""
    d = traj_unit[traj_unit.groupby("class")["area_km2"].transform(lambda s: s.abs().sum()) > 0].copy()
    d["label"] = [lc_class_label(c, lang) for c in d["class"]]
    colors = {lc_class_label(c, lang): (CLASS_BY_ID[c].color if c in CLASS_BY_ID else "#9e9e9e")
              for c in d["class"].unique()}
    fig = px.line(d, x="year", y="area_km2", color="label", facet_col="label", facet_col_wrap=3, markers=True,
                  color_discrete_map=colors, labels={"year": t("landchange.col.year", lang), "area_km2": "km²",
                                                     "label": t("landchange.col.class", lang)})
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.update_xaxes(tickformat="d")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_layout(height=220 * max(1, -(-d["label"].nunique() // 3)), showlegend=False,
                      margin=dict(l=10, r=10, t=30, b=10))
    return fig


def proxy_figure(traj_unit: pd.DataFrame, cls: str, unit: str, lang: str) -> go.Figure:
    d = traj_unit[traj_unit["class"] == cls].sort_values("year")
    fig = go.Figure(go.Scatter(x=d["year"], y=d["area_km2"], mode="lines+markers", name=lc_class_label(cls, lang),
                               line=dict(color=CLASS_BY_ID[cls].color if cls in CLASS_BY_ID else "#555")))
    fig.update_layout(title=t("landchange.traj.proxy_title", lang, cls=lc_class_label(cls, lang), unit=unit),
                      xaxis_title=t("landchange.col.year", lang), yaxis_title="km²", height=320,
                      margin=dict(l=10, r=10, t=50, b=10))
    fig.update_xaxes(tickformat="d")
    return fig


def official_figure(hist: pd.DataFrame, label: str, unit_text: str, region: str, lang: str) -> go.Figure:
    fig = go.Figure(go.Scatter(x=hist["year"], y=hist["value"], mode="lines+markers", name=label,
                               line=dict(color="#444444", dash="dot")))
    fig.update_layout(title=t("landchange.traj.official_title", lang, indicator=label, region=region),
                      xaxis_title=t("landchange.col.year", lang), yaxis_title=unit_text, height=320,
                      margin=dict(l=10, r=10, t=50, b=10))
    fig.update_xaxes(tickformat="d")
    return fig


def official_series(stats: pd.DataFrame, cls: str, name_zh: str) -> tuple[str | None, pd.DataFrame, str]:
    """(indicator, its points on one usable basis, region) for the class: the unit's own region
    when the statistics have it, else the province's; (None, empty, "") for no matching indicator."""
    ind = OFFICIAL_MATCH.get(cls)
    if ind is None:
        return None, pd.DataFrame(), ""
    region = name_zh if len(stats[(stats["indicator"] == ind) & (stats["region"] == name_zh)]) else tg.PROVINCE
    hist, _ = tg.history(stats, ind, region)
    return ind, hist, region


def choropleth(d: pd.DataFrame, geojson: dict, metric: str, label: str, diverging: bool = False) -> go.Figure:
    """Units coloured by ``metric`` (columns unit_id, name, metric); a trend on a scale centred on 0."""
    kw = dict(color_continuous_scale="RdBu", color_continuous_midpoint=0.0) if diverging else \
        dict(color_continuous_scale="OrRd")
    fig = px.choropleth_map(d, geojson=geojson, locations="unit_id", featureidkey="properties.unit_id", color=metric,
                            hover_name="name", hover_data={"unit_id": False, metric: ":.4g"}, map_style="white-bg",
                            center=GANSU_CENTER, zoom=4.2, opacity=0.85, labels={metric: label}, **kw)
    fig.update_layout(height=480, margin=dict(l=0, r=0, t=0, b=0))
    return fig

"""Plotly figures of the dashboard (targets trajectory, choropleth, transition heatmap and Sankey,
the Home land-cover bars) and their offline export. Figures only: the data arrive ready, labels
in the UI language."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.i18n import t
from core.text import pick
from indicators import targets as tg

GANSU_CENTER = {"lat": 37.8, "lon": 101.5}


def trajectory_figure(tdf: pd.DataFrame, stats: pd.DataFrame, indicator: str, region: str, lang: str) -> go.Figure:
    """Official history, required path to each target, historical trend and the targets."""
    tr = tg.trajectory(tdf, stats, indicator, region)
    row = tdf.loc[tdf["indicator"] == indicator].iloc[0]
    fig = go.Figure()
    h = tr["history"]
    fig.add_trace(go.Scatter(x=h["year"], y=h["value"], mode="lines+markers", name=t("targets.chart.history", lang),
                             line=dict(color="#1f4e79", width=3)))
    for ty in tr["required"]["target_year"].unique() if len(tr["required"]) else []:
        r = tr["required"][tr["required"]["target_year"] == ty]
        fig.add_trace(go.Scatter(x=r["year"], y=r["value"], mode="lines", line=dict(dash="dash", color="#c0392b"),
                                 name=t("targets.chart.required", lang, year=int(ty))))
    if len(tr["trend"]):
        fig.add_trace(go.Scatter(x=tr["trend"]["year"], y=tr["trend"]["value"], mode="lines",
                                 line=dict(dash="dot", color="#7f8c8d"), name=t("targets.chart.trend", lang)))
    g = tr["targets"]
    fig.add_trace(go.Scatter(x=g["target_year"], y=g["target_value"], mode="markers+text",
                             marker=dict(symbol="star", size=16, color="#e67e22"),
                             text=[f"{v:g}" for v in g["target_value"]], textposition="top center",
                             name=t("targets.chart.target", lang)))
    fig.update_layout(title=f"{pick(row['label_zh'], row['label_en'], lang)} · {region}", height=380,
                      xaxis_title=t("targets.col.year", lang), yaxis_title=row["unit"],
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


def choropleth(d: pd.DataFrame, geojson: dict, metric: str, label: str) -> go.Figure:
    """Units coloured by ``metric`` (columns unit_id, name and the metric; features keyed by
    ``properties.unit_id``)."""
    fig = px.choropleth_map(d, geojson=geojson, locations="unit_id", featureidkey="properties.unit_id", color=metric,
                            hover_name="name", hover_data={"unit_id": False, metric: ":.3g"},
                            color_continuous_scale="YlGn" if metric != "lc_built_up_pct" else "OrRd",
                            map_style="white-bg", center=GANSU_CENTER, zoom=4.2, opacity=0.85,
                            labels={metric: label})
    fig.update_layout(height=520, margin=dict(l=0, r=0, t=0, b=0))
    return fig


def heatmap(labelled: pd.DataFrame, lang: str) -> go.Figure:
    """Transition matrix (km², rows = baseline class, columns = later class, labelled)."""
    fig = px.imshow(labelled, text_auto=".3g", color_continuous_scale="Blues", aspect="auto",
                    labels=dict(x=t("targets.change.to", lang), y=t("targets.change.from", lang), color="km²"))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def sankey(labelled: pd.DataFrame, colors: list[str]) -> go.Figure:
    """Flows between the classes of a labelled transition matrix; ``colors`` one per class."""
    n = len(labelled)
    src, dst, val = [], [], []
    for i in range(n):
        for j in range(n):
            v = float(labelled.iat[i, j])
            if v > 0:
                src.append(i)
                dst.append(n + j)
                val.append(v)
    fig = go.Figure(go.Sankey(node=dict(label=list(labelled.index) + list(labelled.columns),
                                        color=list(colors) + list(colors), pad=12),
                              link=dict(source=src, target=dst, value=val)))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def landcover_bars(rows: list[dict], lang: str) -> go.Figure:
    """Home: land-cover class shares (rows with label_zh, label_en, color, share_pct)."""
    lc = pd.DataFrame(rows)
    cls = t("col.class", lang)
    lc[cls] = [pick(a, b, lang) for a, b in zip(lc["label_zh"], lc["label_en"])]
    fig = px.bar(lc, x="share_pct", y=cls, orientation="h", color=cls, color_discrete_sequence=list(lc["color"]),
                 labels={"share_pct": t("col.share_pct", lang)})
    fig.update_layout(showlegend=False, height=320, margin=dict(l=0, r=0, t=10, b=0))
    return fig


def composition_pie(labels: tuple[str, ...], km2: tuple[float, ...], colors: tuple[str, ...]) -> go.Figure:
    """Parks card: a park's land-cover composition (km² per class, one colour per class)."""
    comp = pd.DataFrame({"class": list(labels), "km2": list(km2)})
    fig = px.pie(comp, names="class", values="km2", color="class", color_discrete_sequence=list(colors))
    fig.update_layout(height=280, margin=dict(l=0, r=0, t=10, b=0))
    return fig


def pools_bar(labels: tuple[str, ...], tc: tuple[float, ...]) -> go.Figure:
    """Parks card: a park's carbon per pool (t C)."""
    fig = px.bar(pd.DataFrame({"pool": list(labels), "tc": list(tc)}), x="pool", y="tc", labels={"tc": "t C", "pool": ""})
    fig.update_layout(height=280, margin=dict(l=0, r=0, t=10, b=0))
    return fig


def figure_html(fig: go.Figure) -> bytes:
    """Self-contained HTML (plotly.js inlined: opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")


def png_export_available() -> bool:
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return True

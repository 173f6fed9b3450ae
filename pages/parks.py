"""Parks: indicators of every park from the indicator engine (the same numbers as the CLI),
with pass/fail colouring, reliability notes and a detail card per park."""
import pandas as pd
import plotly.express as px
import streamlit as st

from indicators import table as ind
from indicators.legends import CLASSES
from layers.i18n import t
from ui import common, parks

lg = common.lang()
st.title(t("parks.title", lg))
st.caption(t("parks.intro", lg))
if common.require_data(lg):
    df = parks.current()
    st.warning(t("parks.demo_note", lg))
    cols = ["park_id", "name", "area_km2", "carbon_stock_tc", "carbon_stock_tco2e",
            "carbon_sink_tco2_yr", "green_coverage_pct", "green_pass", "dist_airport_km",
            "redline_overlap_km2", "redline_overlap_pct", "zone", "reliability"]
    view = df[cols].copy()
    labels = {c: ind.label(c, lg, with_unit=True) for c in cols}

    def colour(row):
        out = [""] * len(row)
        g = cols.index("green_pass")
        out[g] = "background-color: #d7f2dc" if row["green_pass"] else "background-color: #f9d6d5"
        r = cols.index("redline_overlap_km2")
        out[r] = "background-color: #f9d6d5" if row["redline_overlap_km2"] > 0 else ""
        return out

    styled = view.style.apply(colour, axis=1).format(
        {"area_km2": "{:,.1f}", "carbon_stock_tc": "{:,.0f}", "carbon_stock_tco2e": "{:,.0f}",
         "carbon_sink_tco2_yr": "{:,.0f}", "green_coverage_pct": "{:.1f}", "dist_airport_km": "{:.1f}",
         "redline_overlap_km2": "{:.2f}", "redline_overlap_pct": "{:.1f}"}, na_rep="—")
    st.dataframe(styled.relabel_index([labels[c] for c in cols], axis=1), hide_index=True,
                 width="stretch", key="parks_table")
    low = df[df["reliability"] != "ok"]
    if len(low):
        st.info(t("parks.reliability_note", lg, n=len(low)))

    names = dict(zip(df["park_id"], df["name"]))
    pid = st.selectbox(t("parks.select", lg), list(names), format_func=lambda p: f"{p} · {names[p]}",
                       key="parks_selected")
    row = df[df["park_id"] == pid].iloc[0]
    st.subheader(f"{row['name']} ({pid})")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(ind.label("carbon_stock_tc", lg, True), f"{row['carbon_stock_tc']:,.0f}")
    c2.metric(ind.label("carbon_sink_tco2_yr", lg, True), f"{row['carbon_sink_tco2_yr']:,.0f}")
    c3.metric(ind.label("green_coverage_pct", lg, True), f"{row['green_coverage_pct']:.1f}",
              t("parks.pass", lg) if row["green_pass"] else t("parks.fail", lg))
    c4.metric(ind.label("redline_overlap_pct", lg, True), f"{row['redline_overlap_pct']:.1f}")
    left, right = st.columns(2)
    with left:
        comp = pd.DataFrame({"class": [c.label_zh if lg == "zh" else c.label_en for c in CLASSES],
                             "km2": [row[f"lc_{c.id}_km2"] for c in CLASSES],
                             "color": [c.color for c in CLASSES]})
        comp = comp[comp["km2"] > 0]
        fig = px.pie(comp, names="class", values="km2", color="class",
                     color_discrete_sequence=list(comp["color"]), title=t("parks.composition", lg))
        fig.update_layout(height=320, margin=dict(l=0, r=0, t=40, b=0))
        st.plotly_chart(fig, width="stretch")
    with right:
        pools = pd.DataFrame({"pool": [ind.label(f"carbon_{p}_tc", lg) for p in ind.POOLS],
                              "tc": [row[f"carbon_{p}_tc"] for p in ind.POOLS]})
        fig = px.bar(pools, x="pool", y="tc", title=t("parks.pools", lg),
                     labels={"tc": "t C", "pool": ""})
        fig.update_layout(height=320, margin=dict(l=0, r=0, t=40, b=0))
        st.plotly_chart(fig, width="stretch")
    st.markdown(f"**{ind.label('zone', lg)}**: {row['zone']} · **{ind.label('reliability', lg)}**: "
                f"{row['reliability']}")
    if isinstance(row.get("warnings"), str) and row["warnings"]:
        st.caption(row["warnings"])
    with st.expander(t("parks.definitions", lg)):
        st.dataframe(ind.table_frame(lg), hide_index=True, width="stretch")

"""Home: what the dashboard is, headline figures from the data, where to go next."""
import pandas as pd
import plotly.express as px
import streamlit as st

from core.i18n import pick, t
from ui import common, figures

lg = common.lang()
st.title(t("app.title", lg))
st.caption(t("app.subtitle", lg))
if common.require_data(lg):
    h = figures.headline(common.build_id(), common.active_upload_id("zones"))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("home.province_area", lg), f"{h['province_area_km2']:,.0f}")
    c2.metric(t("home.n_prefectures", lg), h["n_prefectures"])
    c3.metric(t("home.n_counties", lg), h["n_counties"])
    c4.metric(t("home.n_parks", lg), h["n_parks"])

    left, right = st.columns(2)
    with left:
        st.subheader(t("home.zone_areas", lg))
        z = pd.DataFrame(h["zones"])
        z[t("col.zone", lg)] = [pick(a, b, lg) for a, b in zip(z["name_zh"], z["name_en"])]
        z = z.rename(columns={"area_km2": t("col.area_km2", lg), "share_pct": t("col.share_pct", lg)})
        st.dataframe(z[[t("col.zone", lg), t("col.area_km2", lg), t("col.share_pct", lg)]],
                     hide_index=True, width="stretch")
    with right:
        st.subheader(t("home.lc_shares", lg))
        lc = pd.DataFrame(h["landcover"])
        lc[t("col.class", lg)] = [pick(a, b, lg) for a, b in zip(lc["label_zh"], lc["label_en"])]
        fig = px.bar(lc, x="share_pct", y=t("col.class", lg), orientation="h",
                     color=t("col.class", lg), color_discrete_sequence=list(lc["color"]),
                     labels={"share_pct": t("col.share_pct", lg)})
        fig.update_layout(showlegend=False, height=320, margin=dict(l=0, r=0, t=10, b=0))
        st.plotly_chart(fig, width="stretch")
        st.caption(t("home.lc_note", lg))

    st.subheader(t("home.where_next", lg))
    for page, key, icon in (("pages/map.py", "home.go_map", ":material/map:"),
                            ("pages/parks.py", "home.go_parks", ":material/factory:"),
                            ("pages/data.py", "home.go_data", ":material/menu_book:")):
        common.page_link(page, t(key, lg), icon)

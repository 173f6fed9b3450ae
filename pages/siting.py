"""Siting: compare two or more parks with weighted criteria, red-line exclusion, sensitivity;
save named scenarios; export the ranking and a printable report. The view is in the URL."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from indicators import siting
from indicators import table as ind
from core.errors import InputError
from core.i18n import t
from core.text import Text
from ui import common, parks, report, tables

lg = common.page("siting.title", "siting.intro")
store = common.store()
df = parks.current()
names = dict(zip(df["park_id"], df["name"]))
criteria = siting.default_criteria(df)

# ---- initial state from the URL (?parks=P01,P02&w=carbon_stock_tc:2,...) or a saved scenario
if not st.session_state.get("_siting_init"):
    st.session_state["_siting_init"] = True
    qp_parks = [p for p in (st.query_params.get("parks") or "").split(",") if p in names]
    st.session_state["siting_parks"] = qp_parks or [p for p in names if p.startswith("P")]
    weights_qp = {}
    for item in (st.query_params.get("w") or "").split(","):
        k, _, v = item.partition(":")
        try:
            weights_qp[k] = float(v)
        except ValueError:
            pass
    for c in criteria:
        st.session_state[f"siting_w_{c}"] = weights_qp.get(c, 1.0)

for c in criteria:  # criteria that appear later (e.g. a new transport layer) start at weight 1
    st.session_state.setdefault(f"siting_w_{c}", 1.0)
scen = store.scenarios()
with st.sidebar:
    st.markdown(f"**{t('siting.scenarios', lg)}**")
    pick = st.selectbox(t("siting.load", lg), ["—"] + list(scen), key="siting_load_pick")
    if pick != "—" and st.button(t("siting.load.do", lg), key="siting_load_btn"):
        sc = scen[pick]
        st.session_state["siting_parks"] = [p for p in sc["selection"] if p in names]
        for c in criteria:
            st.session_state[f"siting_w_{c}"] = float(sc["weights"].get(c, 0.0))
        st.session_state["siting_exclude"] = bool(sc["settings"].get("exclude_redline", True))
        st.session_state["siting_green"] = float(sc["settings"].get("green_threshold_pct", 15.0))
        st.session_state["siting_name"] = pick
        st.rerun()

selected = st.multiselect(t("siting.parks", lg), list(names), format_func=lambda p: f"{p} · {names[p]}",
                          key="siting_parks")
left, right = st.columns([1, 2])
with left:
    st.markdown(f"**{t('siting.weights', lg)}**")
    raw_w = {c: st.slider(ind.label(c, lg, True), 0.0, 10.0, step=0.5, key=f"siting_w_{c}")
             for c in criteria}
    st.session_state.setdefault("siting_exclude", True)
    st.session_state.setdefault("siting_green", 15.0)
    exclude = st.checkbox(t("siting.exclude", lg), key="siting_exclude")
    green = st.number_input(t("siting.green", lg), 0.0, 100.0, step=1.0, key="siting_green")
with right:
    if len(selected) < 2:
        st.info(t("siting.need_two", lg))
        st.stop()
    sub = df[df["park_id"].isin(selected)].reset_index(drop=True)
    try:
        ranked = siting.rank(sub, raw_w, criteria, exclude_redline=exclude, green_threshold_pct=green)
    except InputError as e:
        st.error(e.message(lg))
        st.stop()
    w = ranked.attrs["weights"]
    st.caption(t("siting.weights_norm", lg) + " · ".join(
        f"{ind.label(c, lg)} {w[c]:.0%}" for c in criteria if w[c] > 0))
    dirs = siting.directions_frame(criteria)
    reasons = [Text(zh, en).pick(lg) for zh, en in zip(ranked["exclusion_reason_zh"], ranked["exclusion_reason_en"])]
    notes = [Text(zh, en).pick(lg) for zh, en in zip(ranked["flag_note_zh"], ranked["flag_note_en"])]
    table_ = pd.DataFrame({
        "rank": ranked["rank"], "park": ranked["park_id"] + " · " + ranked["name"],
        "score": ranked["score"].round(3),
        "excluded": pd.Series(reasons, index=ranked.index).where(ranked["excluded"], ""),
        "flag_green": pd.Series(notes, index=ranked.index).where(ranked["flag_green"], ""),
    })
    st.dataframe(tables.labelled(table_, lg, {"park": t("siting.col.park", lg), "excluded": t("siting.col.excluded", lg),
                                              "flag_green": t("siting.col.flag", lg)}),
                 hide_index=True, width="stretch", key="siting_table")
    for r, reason in zip(ranked.itertuples(), reasons):
        if r.excluded:
            st.error(f"{r.park_id} · {r.name}: {reason}")
    ok = ranked[~ranked["excluded"]].head(8)
    if len(ok):
        fig = go.Figure()
        theta = [ind.label(c, lg) for c in criteria]
        for r in ok.itertuples():
            vals = [getattr(r, f"norm_{c}") for c in criteria]
            fig.add_trace(go.Scatterpolar(r=vals + vals[:1], theta=theta + theta[:1], fill="toself",
                                          name=f"{r.park_id} · {r.name}", opacity=0.55))
        fig.update_layout(polar=dict(radialaxis=dict(range=[0, 1])), height=420,
                          title=t("siting.radar", lg), margin=dict(l=30, r=30, t=50, b=20))
        st.plotly_chart(fig, width="stretch")
with st.expander(t("siting.directions", lg)):
    st.dataframe(tables.labelled(pd.DataFrame({
        "id": dirs["id"], "label": [Text(zh, en).pick(lg) for zh, en in zip(dirs["label_zh"], dirs["label_en"])],
        "unit": dirs["unit"], "direction": dirs["table_direction"], "siting_direction": dirs["siting_direction"],
        "description": [Text(zh, en).pick(lg) for zh, en in zip(dirs["note_zh"], dirs["note_en"])]}), lg),
        hide_index=True, width="stretch", key="siting_directions")

st.subheader(t("siting.sensitivity", lg))
sens = siting.sensitivity(sub, raw_w, 0.10, criteria, exclude_redline=exclude, green_threshold_pct=green)
if sens.empty:
    st.success(t("siting.stable", lg))
else:
    st.dataframe(tables.labelled(pd.DataFrame({
        "criterion": [Text(zh, en).pick(lg) for zh, en in zip(sens["criterion_label_zh"], sens["criterion_label_en"])],
        "change": sens["change"], "park": sens["park_id"] + " · " + sens["name"],
        "rank_from": sens["rank_from"], "rank_to": sens["rank_to"]}), lg, {"park": t("siting.col.park", lg)}),
        hide_index=True, width="stretch", key="siting_sensitivity")

# ---- save, export, share
st.subheader(t("siting.save", lg))
c1, c2 = st.columns([2, 1])
name = c1.text_input(t("siting.name", lg), key="siting_name", max_chars=120)
settings = {"exclude_redline": exclude, "green_threshold_pct": green}
if c2.button(t("siting.save.do", lg), key="siting_save", disabled=not name.strip()):
    store.save_scenario(name.strip(), selected, raw_w, settings)
    st.success(t("siting.saved", lg, name=name.strip()))
d1, d2 = st.columns(2)
scenario_name = name.strip() or t("siting.unsaved", lg)
# built only when clicked (deferred data), so ranking stays instant while weights move
d1.download_button(t("siting.dl.excel", lg), lambda: report.scenario_excel(sub, ranked, sens, lg),
                   "siting_scenario.xlsx", key="siting_dl_xlsx", on_click="ignore")
d2.download_button(t("siting.dl.pdf", lg), lambda: report.scenario_pdf(scenario_name, sub, ranked, lg),
                   "siting_scenario.pdf", "application/pdf", key="siting_dl_pdf", on_click="ignore")
common.share_state({"parks": ",".join(selected),
                    "w": ",".join(f"{c}:{raw_w[c]:g}" for c in criteria)})
st.caption(t("siting.share", lg))

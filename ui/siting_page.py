"""The Siting page's pieces: state from the URL or a saved scenario, weight sliders for the
criteria present in the park indicators (a distance criterion for each transport kind in use) and
the model settings (``siting_model``: unknown rule, value functions), the ranking with the parks set
aside and excluded and its score decomposition (``siting_ranking``), the radar chart, criterion
directions, the detail tables (±10% sensitivity, Monte Carlo) below the SMAA figure
(``siting_robustness``), saving a scenario and the exports (naming the data in use).
``pages/siting.py`` calls them in order."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import GansuError, InputError
from core.i18n import t
from core.text import Text
from storage.values import clean_name
from indicators import carbon, exclusions, runs, siting, siting_sensitivity, siting_stability
from indicators import table as ind
from layers.legends import get_legend
from indicators.siting_value import ValueFunction
from ui import auth, common, data_in_use, report, runlog, seen_versions, siting_model, siting_ranking, tables
from ui.siting_robustness import Smaa
from ui.mdtext import md


@dataclass
class Choice:
    selected: list[str]
    weights: dict[str, float]
    exclude: bool
    unknown: str = siting_model.DEFAULT_UNKNOWN  # "set-aside" | "drop-criterion" (siting.UNKNOWN_POLICIES)
    value_functions: dict[str, ValueFunction] = field(default_factory=dict)  # the non-linear ones


def criteria(df: pd.DataFrame) -> list[str]:
    """The criteria present in the park indicators (``siting.default_criteria``): transport
    distances follow the kinds of the data in use."""
    return siting.default_criteria(df)


WEIGHT_MIN, WEIGHT_MAX, WEIGHT_STEP = 0.0, 10.0, 0.5  # the weight sliders' range
URL_NOTICE = "_siting_url_notice"  # what a shared link asked for that could not be used


def clamp_weight(v: float) -> float:
    """A finite weight brought into the sliders' range."""
    return min(max(float(v), WEIGHT_MIN), WEIGHT_MAX)


def weights_from_link(raw: str, crits: list[str]) -> tuple[dict[str, float], list[str]]:
    """(weights, problems) of ``?w=crit:value,...``: values outside 0–10 are clamped, values that
    are not finite numbers and unknown criteria are left out; each is named in ``problems``."""
    out, problems = {}, []
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        k, _, v = item.partition(":")
        try:
            w = float(v)
        except ValueError:
            w = math.nan
        if k not in crits or not math.isfinite(w):
            problems.append(item[:60])
            continue
        out[k] = clamp_weight(w)
        if out[k] != w:
            problems.append(f"{item[:60]} → {out[k]:g}")
    return out, problems


def parks_from_link(raw: str, names: dict) -> tuple[list[str], list[str]]:
    """(known park ids in order, unknown ones) of ``?parks=a,b``."""
    ids = [p for p in dict.fromkeys((raw or "").split(",")) if p.strip()]
    return [p for p in ids if p in names], [p[:60] for p in ids if p not in names]


def init_state(names: dict, crits: list[str], lang: str | None = None) -> None:
    """Initial state from the URL (?parks=P01,P02&w=carbon_stock_tc:2,...), once per session;
    criteria that appear later (e.g. a new transport layer) start at weight 1. A link is typed
    by anyone: what cannot be used is left out or brought into range and said once (bilingual)."""
    if not st.session_state.get("_siting_init"):
        st.session_state["_siting_init"] = True
        qp_parks, unknown = parks_from_link(st.query_params.get("parks"), names)
        st.session_state["siting_parks"] = qp_parks or [p for p in names if p.startswith("P")]
        weights_qp, problems = weights_from_link(st.query_params.get("w"), crits)
        for c in crits:
            st.session_state[f"siting_w_{c}"] = weights_qp.get(c, 1.0)
        bad = unknown + problems
        if bad:
            st.session_state[URL_NOTICE] = "; ".join(bad[:12]) + (" …" if len(bad) > 12 else "")
    for c in crits:
        st.session_state.setdefault(f"siting_w_{c}", 1.0)
    siting_model.init_state(crits)
    if st.session_state.get(URL_NOTICE):
        st.warning(t("siting.link.unusable", lang or common.lang(), items=md(st.session_state.pop(URL_NOTICE))))


def scenario_sidebar(names: dict, crits: list[str], lang: str) -> None:
    store = common.store()
    scen = store.scenarios()
    with st.sidebar:
        st.markdown(f"**{t('siting.scenarios', lang)}**")
        if scen:
            owners = pd.DataFrame({"name": list(scen), "created_by": [v.get("created_by") for v in scen.values()],
                                   "office": [v.get("office") for v in scen.values()]})
            shown = set(auth.owner_filter(owners, lang, key="siting_owner_filter")["name"])
            scen = {k: v for k, v in scen.items() if k in shown}
        pick = st.selectbox(t("siting.load", lang), ["—"] + list(scen), key="siting_load_pick")
        if pick != "—" and store.allowed(common.actor(), "owner", scen[pick].get("created_by")):
            st.button(t("siting.delete", lang), key="siting_delete_btn", on_click=_delete_scenario, args=(pick, lang))
        unused = st.session_state.pop("siting_load_unused", None)
        if unused:
            st.warning(t("siting.load.unused", lang, names=", ".join(md(ind.label(c, lang)) for c in unused)))
        msg = st.session_state.pop("siting_delete_result", None)
        if msg:
            (st.success if msg[0] == "success" else st.error)(msg[1])
        if pick != "—" and st.button(t("siting.load.do", lang), key="siting_load_btn"):
            sc = scen[pick]
            st.session_state["siting_parks"] = [p for p in sc["selection"] if p in names]
            for c in crits:
                st.session_state[f"siting_w_{c}"] = _stored_weight(sc["weights"].get(c, 0.0))
            unused = sorted(c for c, v in sc["weights"].items() if c not in crits and _stored_weight(v) > 0)
            if unused:  # e.g. the total sink of a scenario saved when it counted as a benefit
                st.session_state["siting_load_unused"] = unused
            st.session_state["siting_exclude"] = bool(sc["settings"].get("exclude_redline", True))
            siting_model.restore(sc["settings"], crits)  # unknown rule and value functions
            st.session_state["siting_name"] = pick
            st.rerun()


def _stored_weight(v) -> float:
    """A saved scenario's weight for a slider (0 when it is not a finite number)."""
    try:
        w = float(v)
    except (TypeError, ValueError):
        return 0.0
    return clamp_weight(w) if math.isfinite(w) else 0.0


def _delete_scenario(name: str, lang: str) -> None:
    """To the recycle bin (owner or admin restores it on the Data page)."""
    try:
        common.store().delete_scenario(name, actor=common.actor())
    except GansuError as e:
        st.session_state["siting_delete_result"] = ("error", e.message(lang))
        return
    st.session_state["siting_load_pick"] = "—"
    st.session_state["siting_delete_result"] = ("success", t("bin.moved", lang))


def park_choice(names: dict, lang: str) -> list[str]:
    return st.multiselect(t("siting.parks", lang), list(names), format_func=lambda p: f"{p} · {names[p]}",
                          key="siting_parks")


def weight_controls(selected: list[str], crits: list[str], lang: str) -> Choice:
    st.markdown(f"**{t('siting.weights', lang)}**")
    raw_w = {c: st.slider(ind.label(c, lang, True), WEIGHT_MIN, WEIGHT_MAX, step=WEIGHT_STEP, key=f"siting_w_{c}")
             for c in crits}
    st.session_state.setdefault("siting_exclude", True)
    exclude = st.checkbox(t("siting.exclude", lang), key="siting_exclude")
    model = siting_model.controls(crits, lang)
    return Choice(selected, raw_w, exclude, model.unknown, model.value_functions)


def ranking(df: pd.DataFrame, ch: Choice, crits: list[str], lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the selected parks' rows, the ranking) shown as a table (parks set aside and excluded under
    the ranked ones), the score decomposition and a radar chart; the page stops with a message when
    fewer than two parks are chosen or the weights are unusable."""
    if len(ch.selected) < 2:
        st.info(t("siting.need_two", lang))
        st.stop()
    sub = df[df["park_id"].isin(ch.selected)].reset_index(drop=True)
    try:
        ranked = siting.rank(sub, ch.weights, crits, exclude_redline=ch.exclude, unknown=ch.unknown,
                             value_functions=ch.value_functions)
    except InputError as e:
        st.error(e.message(lang))
        st.stop()
    w = ranked.attrs["weights"]
    st.caption(t("siting.weights_norm", lang) + " · ".join(
        f"{ind.label(c, lang)} {w[c]:.0%}" for c in crits if w[c] > 0))
    if ch.value_functions:
        st.caption(t("siting.vf.in_use", lang, items=md(" · ".join(
            f"{ind.label(c, lang)}: {vf.text()}" for c, vf in ch.value_functions.items()))))
    siting_ranking.table(ranked, crits, lang)
    for r in ranked.itertuples():
        if r.excluded:
            st.error(f"{md(r.park_id)} · {md(r.name)}: {Text(r.exclusion_reason_zh, r.exclusion_reason_en).pick(lang)}")
    siting_ranking.decomposition(ranked, crits, lang)
    radar(ranked, crits, lang)
    return sub, ranked


def radar(ranked: pd.DataFrame, crits: list[str], lang: str) -> None:
    ok = ranked[ranked["rank"].notna()].head(8)  # the ranked parks (none set aside: their values are unknown)
    if not len(ok):
        return
    fig = go.Figure()
    theta = [ind.label(c, lang) for c in crits]
    for r in ok.itertuples():
        vals = [getattr(r, f"norm_{c}") for c in crits]
        fig.add_trace(go.Scatterpolar(r=vals + vals[:1], theta=theta + theta[:1], fill="toself",
                                      name=f"{r.park_id} · {r.name}", opacity=0.55))
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 1])), height=420,
                      title=t("siting.radar", lang), margin=dict(l=30, r=30, t=50, b=20))
    st.plotly_chart(fig, width="stretch")


def directions(crits: list[str], lang: str) -> None:
    dirs = siting.directions_frame(crits)
    with st.expander(t("siting.directions", lang)):
        st.dataframe(tables.labelled(pd.DataFrame({
            "id": dirs["id"], "label": [Text(zh, en).pick(lang) for zh, en in zip(dirs["label_zh"], dirs["label_en"])],
            "unit": dirs["unit"], "direction": dirs["table_direction"], "siting_direction": dirs["siting_direction"],
            "description": [Text(zh, en).pick(lang) for zh, en in zip(dirs["note_zh"], dirs["note_en"])]}), lang),
            hide_index=True, width="stretch", key="siting_directions", placeholder=tables.NA)


def _detail_note(ch: Choice, lang: str) -> None:
    """The detail tables rank with linear value functions (the ±10% table also sets parks aside):
    said when the model settings differ."""
    if ch.value_functions:
        st.caption(t("siting.detail.note", lang))


def sensitivity(sub: pd.DataFrame, ch: Choice, crits: list[str], lang: str) -> pd.DataFrame:
    """Detail under the SMAA figure: the ranks that move when one weight at a time moves ±10%."""
    st.subheader(t("siting.detail.sensitivity", lang))
    sens = siting_sensitivity.sensitivity(sub, ch.weights, 0.10, crits, exclude_redline=ch.exclude, unknown=ch.unknown,
                                          value_functions=ch.value_functions)
    if sens.empty:
        st.success(t("siting.stable", lang))
    else:
        st.dataframe(tables.labelled(pd.DataFrame({
            "criterion": [Text(zh, en).pick(lang) for zh, en in zip(sens["criterion_label_zh"], sens["criterion_label_en"])],
            "change": sens["change"], "park": sens["park_id"] + " · " + sens["name"],
            "rank_from": sens["rank_from"], "rank_to": sens["rank_to"]}), lang, {"park": t("siting.col.park", lang)}),
            hide_index=True, width="stretch", key="siting_sensitivity", placeholder=tables.NA)
    return sens


def save_and_export(sub: pd.DataFrame, ranked: pd.DataFrame, sens: pd.DataFrame, ch: Choice, crits: list[str],
                    lang: str, acc: Smaa | None = None) -> None:
    """Save the scenario (parks, weights, the red-line rule, the unknown rule and the value functions)
    and the Excel/PDF exports (with the SMAA columns when ``acc`` is given)."""
    st.subheader(t("siting.save", lang))
    c1, c2 = st.columns([2, 1])
    name = c1.text_input(t("siting.name", lang), key="siting_name", max_chars=120)
    settings = {"exclude_redline": ch.exclude,
                **siting_model.settings(siting_model.Model(ch.unknown, ch.value_functions))}
    if auth.can("editor") and c2.button(t("siting.save.do", lang), key="siting_save", disabled=not name.strip()):
        try:
            common.store().save_scenario(name.strip(), ch.selected, ch.weights, settings, actor=common.actor(),
                                         expected_version=seen_versions.expected("scenarios", clean_name(name, 120)))
        except GansuError as e:  # someone else's scenario of that name, the role check, or saved meanwhile
            st.error(e.message(lang))
        else:
            runlog.log_scenario(name.strip(), _provenance(ranked, ch, acc))  # the saved scenario in the run log
            st.success(t("siting.saved", lang, name=md(name.strip())))
    seen_versions.remember("scenarios")
    d1, d2 = st.columns(2)
    scenario_name = name.strip() or t("siting.unsaved", lang)
    sources = report.sources_records(lang)  # read now: the files are built when clicked
    # built only when clicked (deferred data), so ranking stays instant while weights move
    prov = _provenance(ranked, ch, acc, sub)  # provenance in each file, each export in the run log (audit)
    smaa_table = acc.table if acc is not None else None
    d1.download_button(t("siting.dl.workbook", lang),
                       runlog.logged("siting_excel", scenario_name,
                                     lambda: report.scenario_excel(sub, ranked, sens, lang, sources, prov,
                                                                   st.session_state.get("_siting_mc"), smaa_table),
                                     prov),
                       "siting_scenario.xlsx", key="siting_dl_xlsx", on_click="ignore")
    d2.download_button(t("siting.dl.pdf", lang),
                       runlog.logged("siting_pdf", scenario_name,
                                     lambda: report.scenario_pdf(scenario_name, sub, ranked, lang, sources, prov), prov),
                       "siting_scenario.pdf", "application/pdf", key="siting_dl_pdf", on_click="ignore")
    common.share_state({"parks": ",".join(ch.selected),
                        "w": ",".join(f"{c}:{ch.weights[c]:g}" for c in crits)})
    st.caption(t("siting.share", lang))


# --- rank stability (Monte Carlo of weights and carbon densities) ------------------------------
def _provenance(ranked: pd.DataFrame, ch: Choice, acc: Smaa | None = None, sub: pd.DataFrame | None = None) -> dict:
    """The record of a saved or exported scenario: weights, the red-line and unknown rules, the
    value functions, the criteria dropped, the SMAA settings (when run) and the Monte Carlo's, and
    the compliance verdicts of the parks (``sub``), which the export's audit-log row keeps."""
    comp = exclusions.verdicts(sub).to_dict("records") if sub is not None and len(sub) else []
    return runlog.record(weights=ranked.attrs.get("weights", {}),
                         thresholds={"exclude_redline": ch.exclude, **siting_model.provenance(ranked),
                                     **(acc.settings() if acc is not None else {}),
                                     "mc_draws": siting_stability.MC_DRAWS, "mc_seed": siting_stability.MC_SEED,
                                     "mc_weight_spread": siting_stability.MC_WEIGHT_SPREAD,
                                     "stable_share": siting_stability.STABLE_SHARE},
                         extra={"parks": list(ch.selected), **({"compliance": comp} if comp else {})})


def _ranges():
    """(class density ranges, sink-rate ranges, carbon-at-stake ranges) of the pools and sink tables
    of the data in use."""
    inputs = data_in_use.inputs()
    legend = get_legend(runs.legend_arg(inputs.legend))
    pools = carbon.load_pools(inputs.options.get("carbon_pools"), legend)
    return (siting_stability.class_ranges(pools, legend),
            siting_stability.rate_ranges(carbon.load_sink_rates(inputs.options.get("sink_rates"))),
            siting_stability.class_ranges(pools, legend, "at_stake"))


def rank_stability(sub: pd.DataFrame, ch: Choice, crits: list[str], lang: str) -> pd.DataFrame | None:
    """How often the ranking changes when weights (±10%) and carbon densities (their ranges) vary:
    a seeded Monte Carlo (``siting_stability.rank_stability``), parks whose rank is not stable flagged.
    Detail under the SMAA figure."""
    st.subheader(t("siting.detail.mc", lang))
    _detail_note(ch, lang)
    try:
        dens, rates, stake = _ranges()
        mc = siting_stability.rank_stability(sub, ch.weights, crits, densities=dens, rates=rates,
                                             stake_densities=stake, exclude_redline=ch.exclude, unknown=ch.unknown)
    except GansuError as e:
        st.warning(e.message(lang))
        return None
    a = mc.attrs
    st.caption(t("siting.mc.caption", lang, n=a["n"], seed=a["seed"], spread=f"{a['weight_spread']:.0%}",
                 changed=f"{a['changed_pct']:.1f}", stable=f"{siting_stability.STABLE_SHARE:.0%}"))
    def cells(s: pd.Series, fmt: str) -> list[str]:
        return ["—" if pd.isna(v) else fmt.format(v) for v in s]

    shown = pd.DataFrame({
        "park": mc["park_id"] + " · " + mc["name"], "rank": cells(mc["rank"], "{:.0f}"),
        "rank_min": cells(mc["rank_min"], "{:.0f}"), "rank_max": cells(mc["rank_max"], "{:.0f}"),
        "same_rank_pct": cells(mc["same_rank_pct"], "{:.1f}"),
        "stable": [("—" if pd.isna(v) else t("siting.mc.yes" if v else "siting.mc.no", lang)) for v in mc["stable"]]})
    st.dataframe(tables.labelled(shown, lang, {"park": t("siting.col.park", lang)}), hide_index=True,
                 width="stretch", key="siting_mc_table", placeholder=tables.NA)
    unstable = mc[mc["stable"].fillna(True) == False]  # noqa: E712 - nullable boolean
    if len(unstable):
        st.warning(t("siting.mc.unstable", lang, parks=md("、".join(unstable["park_id"] + " · " + unstable["name"]))))
    st.session_state["_siting_mc"] = mc  # the Excel export's "rank_stability" sheet
    return mc

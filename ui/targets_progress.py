"""The Targets page's progress tab: the progress table first (one row per target, counted from
today), the reference values (no status, no gap), then the basis selectors (collapsed), the
citation of any row, the status rule, the trajectory chart and the exports. The arithmetic is in
``indicators.target_progress``; the labelled tables in ``ui.targets_views``.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

import reports
from core.i18n import t
from core.text import pick
from indicators import provenance
from indicators import targets as tg
from ui import charts, runlog, tables
from ui.mdtext import md
from ui.targets_views import (
    basis_options,
    definitions,
    indicator_label,
    progress_view,
    reference_view,
    region_label,
    source_card,
    styled_progress,
    targets_view,
)


def basis_choices(stats: pd.DataFrame, tdf: pd.DataFrame, lang: str) -> dict:
    """One selectbox per indicator with several usable bases, in a collapsed expander (the page
    opens on progress); options are named in ``lang`` (English with the published Chinese name in
    brackets). Returns indicator → basis."""
    chosen = {}
    multi = [i for i in dict.fromkeys(tdf["indicator"]) if len(basis_options(stats, i, tdf)) > 1]
    if not multi:
        return chosen
    with st.expander(t("targets.progress.basis_title", lang), expanded=False):
        st.caption(t("targets.progress.basis_default", lang))
        st.caption(t("targets.progress.basis_usable", lang))
        for ind in multi:
            opts = basis_options(stats, ind, tdf)
            tag = hashlib.sha256("\n".join(opts).encode()).hexdigest()[:8]  # new bases: back to the default
            chosen[ind] = st.selectbox(t("targets.progress.basis_pick", lang, indicator=md(indicator_label(ind, lang, tdf))),
                                       opts, format_func=lambda b, i=ind: tg.basis_label(i, b, lang),
                                       key=f"targets_basis_{ind}_{tag}")
    return chosen


def run_date_choice(lang: str) -> dt.date:
    """The run date (today unless a date is chosen, for a report as of a date), collapsed."""
    with st.expander(t("targets.progress.run_date_title", lang), expanded=False):
        day = st.date_input(t("targets.progress.run_date_pick", lang), value=dt.date.today(), key="targets_run_date",
                            min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
    return tg.run_date_of(day)


def _source_picker(pt: pd.DataFrame, rt: pd.DataFrame, lang: str) -> None:
    """The citation of any row of the progress or the reference table."""
    rows = [(pt, i) for i in range(len(pt))] + [(rt, i) for i in range(len(rt))]
    ref = t("targets.source.ref_marker", lang)
    labels = [f"{pick(a, b, lang)} · {region_label(r, lang)} · {y}" for a, b, r, y in
              zip(pt["label_zh"], pt["label_en"], pt["region"], pt["target_year"])]
    labels += [f"{pick(a, b, lang)} · {region_label(r, lang)} · {tg.basis_label(i, bs, lang)} · {ref}" for a, b, r, i, bs in
               zip(rt["label_zh"], rt["label_en"], rt["region"], rt["indicator"], rt["basis"])]
    k = st.selectbox(t("targets.source.pick", lang), range(len(rows)), format_func=lambda j: labels[j],
                     key="targets_source_row")
    df, i = rows[k]
    st.markdown(source_card(df.iloc[i], lang))


def progress_workbook(tdf: pd.DataFrame, stats: pd.DataFrame, lang: str, basis: dict, run_date, prov: dict) -> bytes:
    """The progress export: the progress and reference tables as shown (labels, states, citations),
    the targets, the official statistics and the report table (column ids, both-language reasons)."""
    return reports.excel_bytes({t("targets.sheet.progress", lang): progress_view(tdf, stats, lang, basis, run_date),
                                t("targets.sheet.references", lang): reference_view(tdf, stats, lang, run_date),
                                t("targets.sheet.targets", lang): targets_view(tdf, lang),
                                t("targets.sheet.official", lang): stats,
                                "report": tg.report_table(tdf, stats, basis, run_date)},
                               lang, provenance=prov, extra=tg.report_labels())


def progress_tab(tdf: pd.DataFrame, stats: pd.DataFrame, lang: str) -> None:
    st.subheader(t("targets.progress.title", lang))
    st.caption(t("targets.progress.official_only", lang))
    date_slot = st.empty()
    definitions(lang)
    table_slot, refs_slot = st.container(), st.container()  # progress first; its bases and date are chosen below
    basis = basis_choices(stats, tdf, lang)
    run_date = run_date_choice(lang)  # years left and stale values are counted from it
    date_slot.caption(t("targets.progress.run_date", lang, date=run_date.isoformat(), years=tg.STALE_YEARS))
    view = progress_view(tdf, stats, lang, basis, run_date)
    refs = reference_view(tdf, stats, lang, run_date)
    with table_slot:
        st.dataframe(styled_progress(view, lang), hide_index=True, width="stretch", key="targets_progress_table",
                     placeholder=tables.NA)
    with refs_slot:
        st.markdown(f"**{t('targets.ref.title', lang)}**")
        st.caption(t("targets.progress.prefecture_ref_note", lang))
        st.dataframe(refs, hide_index=True, width="stretch", key="targets_reference_table", placeholder=tables.NA)
    pt = tg.progress_table(tdf, stats, basis, run_date)
    rt = tg.reference_table(tdf, stats, run_date)
    with st.expander(t("targets.source.title", lang)):
        _source_picker(pt, rt, lang)
    with st.expander(t("targets.rule.title", lang)):
        st.write(tg.STATUS_RULE[lang])
    inds = list(dict.fromkeys(tdf["indicator"]))
    usable = stats[tg.usable_mask(stats)] if len(stats) else stats
    with_data = [i for i in inds if i in set(usable["indicator"])] or inds
    ind = st.selectbox(t("targets.progress.pick", lang), inds, index=inds.index(with_data[0]),
                       format_func=lambda i: indicator_label(i, lang, tdf), key="targets_pick_indicator")
    regions = list(dict.fromkeys(list(tdf.loc[tdf["indicator"] == ind, "region"])
                                 + sorted(set(usable.loc[usable["indicator"] == ind, "region"]))))
    region = st.selectbox(t("targets.progress.chart_region", lang), regions, format_func=lambda r: region_label(r, lang),
                          key="targets_pick_region") if len(regions) > 1 else regions[0]
    hist, used = tg.history(stats, ind, region, basis.get(ind))
    one_basis = stats[(stats["indicator"] == ind) & (stats["region"] == region) & (stats["basis"] == (used or ""))]
    fig = charts.trajectory_figure(tdf, one_basis, ind, region, lang)  # one usable basis only: never a mixed line
    st.plotly_chart(fig, width="stretch", key="targets_trajectory")
    if used is not None:
        st.caption(t("targets.progress.chart_basis", lang, basis=md(tg.basis_label(ind, used, lang))))
    if usable[usable["indicator"] == ind].empty:
        st.info(t("targets.progress.no_data", lang))
    c1, c2 = st.columns(2)
    prov = provenance.record(tables={"targets": tg.TARGETS_CSV, "official_stats": stats, "bases": tg.BASES_CSV},
                             thresholds={"trend_years": tg.TREND_YEARS, "at_risk_ratio": tg.AT_RISK_RATIO,
                                         "about_tolerance": tg.ABOUT_TOLERANCE, "stale_years": tg.STALE_YEARS},
                             extra={"statistics": "store", "basis": basis, "run_date": run_date.isoformat()})
    c1.download_button(t("targets.dl.progress_xlsx", lang),
                       runlog.logged("targets_excel", "progress",
                                     lambda: progress_workbook(tdf, stats, lang, basis, run_date, prov), prov),
                       "targets_progress.xlsx", key="targets_dl_progress")
    c2.download_button(t("targets.dl.chart_html", lang), lambda: charts.figure_html(fig), f"trajectory_{ind}.html",
                       "text/html", key="targets_dl_chart")
    if not charts.png_export_available():
        st.caption(t("targets.dl.png_note", lang))

"""The Targets page's labelled views: bilingual labels of indicators, regions, classes and zones;
the progress, targets, indicators and proxy tables as users see them (headers are labels with
units, never ids), their status colours and column configs; the transition-matrix tables and
chart; the one workbook writer of the page. Nothing here reads the store or computes
(``ui.targets`` does the page's work and calls these).
"""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

import reports
from core.i18n import t
from core.text import pick
from indicators import change
from indicators import targets as tg
from layers.legends import CLASS_BY_ID, CLASS_IDS
from ui import charts, common
from ui.mdtext import md

STATUS_COLOR = {"on_track": "#d7f2dc", "at_risk": "#fde7c4", "off_track": "#f9d6d5", "no_trend": "#eeeeee",
                "no_trend_restated": "#eeeeee", "year_passed": "#e4e9f2", "achieved": "#d7f2dc", "missed": "#f9d6d5",
                "not_comparable": "#eeeeee", "no_data": "#eeeeee", "reference": "#eeeeee"}
LINK = re.compile(r"https?://[^\s()<>\[\]\\`]+")  # a source address shown as a link (nothing that ends it early)
COMPARATOR_SIGN = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "~": "≈"}
STAT_HEADERS = {"indicator": "targets.col.indicator_code", "region": "targets.col.region", "year": "targets.col.year",
                "value": "targets.col.value", "unit": "targets.col.unit", "source": "targets.col.stat_source",
                "basis": "targets.col.basis", "source_url": "targets.col.source_url",
                "source_date": "targets.col.source_date", "quote": "targets.col.quote", "note": "targets.col.note",
                "origin": "targets.col.origin"}


def workbook(sheets: dict[str, pd.DataFrame], lang: str) -> bytes:
    """An .xlsx of labelled tables (a labelled index, e.g. a transition matrix's classes, becomes
    the first column) through the one Excel writer, ``reports.excel_bytes``."""
    flat = {k: (df.reset_index() if df.index.name is not None else df.reset_index(drop=True))
            for k, df in sheets.items()}
    return reports.excel_bytes(flat, lang)


# --- the targets table (editable CSV, reloaded when it changes)
@st.cache_data(show_spinner=False)
def _targets(mtime: float) -> pd.DataFrame:
    return tg.load_targets()


def targets() -> pd.DataFrame:
    return _targets(tg.TARGETS_CSV.stat().st_mtime)


def definitions(lang: str) -> None:
    with st.popover(t("targets.defs.button", lang), icon=":material/menu_book:"):
        st.markdown(t("targets.defs.forest", lang))
        st.markdown(t("targets.defs.grass", lang))
        st.markdown(t("targets.defs.proxy", lang))


# --- labels and labelled tables ----------------------------------------------------------------
def indicator_label(indicator: str, lang: str, tdf: pd.DataFrame | None = None) -> str:
    tdf = targets() if tdf is None else tdf
    r = tdf[tdf["indicator"] == indicator]
    return indicator if r.empty else pick(r.iloc[0]["label_zh"], r.iloc[0]["label_en"], lang)


def region_label(region: str, lang: str) -> str:
    return t("targets.region.province", lang) if region == "甘肃省" else region


def class_label(c: str, lang: str) -> str:
    if c == change.NODATA_CLASS:
        return t("targets.change.nodata", lang)
    return pick(CLASS_BY_ID[c].label_zh, CLASS_BY_ID[c].label_en, lang)


def dash(v) -> str:
    """A text cell: "—" for empty/None/NaN (never "None"/"nan")."""
    v = tg.cell_text(v)
    return v if v else "—"


def status_text(status: str, target_year, stale, latest_year, age, lang: str) -> str:
    """A status in words; a stale latest value says so ("off track · stale (2018, 8 years old)")."""
    text = t(f"targets.status.{status}", lang, year=int(target_year) if pd.notna(target_year) else "—")
    if bool(stale) and pd.notna(latest_year) and pd.notna(age):
        text += " · " + t("targets.status.stale", lang, year=int(latest_year), age=int(age))
    return text


def years_left_text(n, target_year, lang: str) -> str:
    if n is None or pd.isna(n):
        return "—"
    n = int(n)
    if n > 0:
        return str(n)
    return t("targets.years_left.this_year", lang) if n == 0 else t("targets.years_left.passed", lang, year=int(target_year))


def target_basis_label(zh, en, lang: str) -> str:
    return dash(pick(tg.cell_text(zh), tg.cell_text(en) or tg.cell_text(zh), lang))


def progress_view(tdf: pd.DataFrame, stats: pd.DataFrame, lang: str, basis: dict | None = None,
                  run_date=None) -> pd.DataFrame:
    """One row per target (its own region), one usable basis per indicator (``basis``: indicator
    → basis; default the basis of the latest value), counted from ``run_date`` (today)."""
    pt = tg.progress_table(tdf, stats, basis, run_date)
    verify = t("targets.verify", lang)
    num = lambda c: pd.to_numeric(pt[c], errors="coerce").round(10)  # noqa: E731
    out = pd.DataFrame({
        t("targets.col.indicator", lang): [pick(a, b, lang) for a, b in zip(pt["label_zh"], pt["label_en"])],
        t("targets.col.region", lang): [region_label(r, lang) for r in pt["region"]],
        t("targets.col.target_year", lang): pt["target_year"],
        t("targets.col.target", lang): [f"{COMPARATOR_SIGN[c]} {v:g}" for c, v in zip(pt["comparator"], pt["target_value"])],
        t("targets.col.status", lang): [status_text(*a, lang) for a in zip(pt["status"], pt["target_year"], pt["stale"],
                                                                          pt["latest_year"], pt["age_years"])],
        t("targets.col.years_left", lang): [years_left_text(n, y, lang) for n, y in zip(pt["years_left"], pt["target_year"])],
        t("targets.col.latest", lang): pd.to_numeric(pt["latest_value"], errors="coerce"),
        t("targets.col.latest_year", lang): pd.to_numeric(pt["latest_year"], errors="coerce").astype("Int64"),
        t("targets.col.basis", lang): [tg.basis_label(i, b, lang) if b else "—" for i, b in zip(pt["indicator"], pt["basis"])],
        t("targets.col.target_basis", lang): [target_basis_label(a, b, lang) for a, b in
                                              zip(pt["target_basis"], pt["target_basis_en"])],
        t("targets.col.gap", lang): num("gap"),
        t("targets.col.required", lang): num("required_per_yr"),
        t("targets.col.historical", lang): num("historical_per_yr"),
        t("targets.col.unit", lang): pt["unit"],
        t("targets.col.restated", lang): [dash(x) for x in pt["restated_years"]],
        t("targets.col.source", lang): [dash(x) for x in pt["latest_source"]],
        t("targets.col.source_date", lang): [dash(x) for x in pt["source_date"]],
        t("targets.col.source_url", lang): [dash(x) for x in pt["source_url"]],
        t("targets.col.quote", lang): [dash(x) for x in pt["quote"]],
        t("targets.col.verify", lang): [verify if o == "seed" else "—" for o in pt["origin"]],
        t("targets.col.clause", lang): [dash(x) for x in pt["source_clause"]],
    })
    out.attrs["status"] = list(pt["status"])
    return out


def reference_view(tdf: pd.DataFrame, stats: pd.DataFrame, lang: str, run_date=None) -> pd.DataFrame:
    """Values shown for reference (``tg.reference_table``): no status, no gap; each with its kind,
    basis, reason and citation."""
    rt = tg.reference_table(tdf, stats, run_date)
    verify = t("targets.verify", lang)
    out = pd.DataFrame({
        t("targets.col.indicator", lang): [pick(a, b, lang) for a, b in zip(rt["label_zh"], rt["label_en"])],
        t("targets.col.region", lang): [region_label(r, lang) for r in rt["region"]],
        t("targets.col.kind", lang): [t(f"targets.ref.kind.{k}", lang) for k in rt["kind"]],
        t("targets.col.basis", lang): [tg.basis_label(i, b, lang) for i, b in zip(rt["indicator"], rt["basis"])],
        t("targets.col.value", lang): rt["value"].astype("float64"),
        t("targets.col.year", lang): rt["year"].astype("Int64"),
        t("targets.col.unit", lang): rt["unit"],
        t("targets.col.age", lang): [t("targets.status.stale", lang, year=int(y), age=int(a)) if s else "—"
                                     for y, a, s in zip(rt["year"], rt["age_years"], rt["stale"])],
        t("targets.col.reason", lang): [dash(pick(a, b, lang)) for a, b in zip(rt["reason_zh"], rt["reason_en"])],
        t("targets.col.restated", lang): [dash(x) for x in rt["restated_years"]],
        t("targets.col.source", lang): [dash(x) for x in rt["latest_source"]],
        t("targets.col.source_date", lang): [dash(x) for x in rt["source_date"]],
        t("targets.col.source_url", lang): [dash(x) for x in rt["source_url"]],
        t("targets.col.quote", lang): [dash(x) for x in rt["quote"]],
        t("targets.col.verify", lang): [verify if o == "seed" else "—" for o in rt["origin"]],
    })
    return out


def styled_progress(view: pd.DataFrame, lang: str):
    """Status cells coloured (no emoji: intranet machines may lack emoji fonts); empty cells "—"."""
    col = t("targets.col.status", lang)
    status = view.attrs.get("status", [])

    def colour(c: pd.Series):
        if c.name != col:
            return [""] * len(c)
        return [f"background-color: {STATUS_COLOR[s]}" for s in status]

    return view.style.apply(colour, axis=0).format(na_rep="—").format(
        {t("targets.col.latest", lang): "{:g}", t("targets.col.gap", lang): "{:.3g}",
         t("targets.col.required", lang): "{:.3g}", t("targets.col.historical", lang): "{:.3g}"}, na_rep="—")


def basis_options(stats: pd.DataFrame, indicator: str, tdf: pd.DataFrame | None = None) -> list[str]:
    """The bases progress may use for an indicator in its target regions (the province unless
    the targets table says otherwise), the default first. A basis of another measure, another
    base year or an incomparable one is never offered."""
    tdf = targets() if tdf is None else tdf
    regions = list(dict.fromkeys(tdf.loc[tdf["indicator"] == indicator, "region"])) or [tg.PROVINCE]
    out: list[str] = []
    for r in regions:
        out += [b for b in tg.bases(stats, indicator, r) if b not in out]
    return out


def source_card(row: pd.Series, lang: str) -> str:
    """Markdown: title, date, link, value, basis, quote and the verification mark of one progress
    or reference row. The statistics' texts are typed or imported: shown as text (``md``); the
    link only for a plain http(s) address, its text escaped too."""
    if not tg.cell_text(row.get("latest_source")):
        return t("targets.source.none", lang)
    url = tg.cell_text(row.get("source_url"))
    value = row.get("latest_value", row.get("value"))
    year = row.get("latest_year", row.get("year"))
    basis = tg.basis_label(tg.cell_text(row.get("indicator")), tg.cell_text(row.get("basis")), lang)
    lines = [f"**{md(row['latest_source'])}**",
             f"{t('targets.col.source_date', lang)}: {md(dash(row.get('source_date')))} · "
             f"{t('targets.col.basis', lang)}: {md(basis)}",
             f"{t('targets.col.source_url', lang)}: " + (f"[{md(url)}]({url})" if LINK.fullmatch(url)
                                                         else md(url or "—"))]
    if value is not None and pd.notna(value) and pd.notna(year):
        lines.append(md(t("targets.source.value", lang, value=f"{float(value):g}", unit=tg.cell_text(row.get("unit")),
                          year=int(year))))
    if tg.cell_text(row.get("restated_years")):
        lines.append(md(t("targets.source.restated", lang, years=row["restated_years"])))
    if tg.cell_text(row.get("quote")):
        lines.append(f"> {md(row['quote'])}")
    if row.get("origin") == "seed":
        lines.append(f"*{t('targets.verify', lang)}*")
    return "\n\n".join(lines)


def targets_view(tdf: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The targets table with labelled headers (the indicator code kept for CSV imports)."""
    return pd.DataFrame({
        t("targets.col.indicator", lang): [pick(a, b, lang) for a, b in zip(tdf["label_zh"], tdf["label_en"])],
        t("targets.col.indicator_code", lang): tdf["indicator"],
        t("targets.col.region", lang): [region_label(r, lang) for r in tdf["region"]],
        t("targets.col.target_year", lang): tdf["target_year"],
        t("targets.col.target", lang): [f"{COMPARATOR_SIGN[c]} {v:g}" for c, v in zip(tdf["comparator"], tdf["target_value"])],
        t("targets.col.unit", lang): tdf["unit"],
        t("targets.col.direction", lang): [t(f"targets.direction.{d}", lang) for d in tdf["direction"]],
        t("targets.col.base_year", lang): tdf["base_year"],
        t("targets.col.target_basis", lang): [target_basis_label(a, b, lang) for a, b in
                                              zip(tdf.get("basis", [""] * len(tdf)), tdf.get("basis_en", [""] * len(tdf)))],
        t("targets.col.source_doc", lang): tdf["source_doc"],
        t("targets.col.clause", lang): tdf["source_clause"],
    })


def indicators_view(tdf: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One row per indicator: code (as typed in a CSV), label, unit, direction, base year."""
    ind = tg.indicator_table(tdf)
    return pd.DataFrame({
        t("targets.col.indicator_code", lang): ind["indicator"],
        t("targets.col.indicator", lang): [pick(a, b, lang) for a, b in zip(ind["label_zh"], ind["label_en"])],
        t("targets.col.unit", lang): ind["unit"],
        t("targets.col.direction", lang): [t(f"targets.direction.{d}", lang) for d in ind["direction"]],
        t("targets.col.base_year", lang): ind["base_year"],
    })


def stats_column_config(tdf: pd.DataFrame, lang: str) -> dict:
    """Labels for the editable statistics table (its columns keep the CSV names)."""
    cfg = {c: st.column_config.Column(label=t(k, lang)) for c, k in STAT_HEADERS.items()}
    cfg["year"] = st.column_config.NumberColumn(label=t(STAT_HEADERS["year"], lang), format="%d")
    cfg["value"] = st.column_config.NumberColumn(label=t(STAT_HEADERS["value"], lang))
    cfg["indicator"] = st.column_config.SelectboxColumn(label=t(STAT_HEADERS["indicator"], lang),
                                                        options=list(dict.fromkeys(tdf["indicator"])))
    cfg["source_url"] = st.column_config.LinkColumn(label=t(STAT_HEADERS["source_url"], lang))
    cfg["origin"] = st.column_config.SelectboxColumn(label=t(STAT_HEADERS["origin"], lang), options=["seed", "user"],
                                                     disabled=True)
    return cfg


def _range(low, high) -> str:
    """A low–high range in millions, or "—"."""
    if pd.isna(low) or pd.isna(high):
        return "—"
    return f"{low / 1e6:,.2f}–{high / 1e6:,.2f}"


def proxy_table(df: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    d = df[df["level"] == level].copy()
    out = pd.DataFrame({t("targets.col.unit_name", lang): [pick(a, b, lang) for a, b in zip(d["name_zh"], d["name_en"])],
                        t("targets.col.area_km2", lang): d["area_km2"].values})
    for c in CLASS_IDS:
        out[f"{class_label(c, lang)} (%)"] = d[f"lc_{c}_pct"].values
    out[t("targets.col.carbon_mtc", lang)] = d["carbon_stock_tc"].values / 1e6
    out[t("targets.col.carbon_range_mtc", lang)] = [_range(a, b) for a, b in zip(d["carbon_stock_low_tc"], d["carbon_stock_high_tc"])]
    out[t("targets.col.sink_mtco2", lang)] = d["carbon_sink_tco2_yr"].values / 1e6
    out[t("targets.col.sink_range_mtco2", lang)] = [_range(a, b) for a, b in zip(d["carbon_sink_low_tco2_yr"],
                                                                                 d["carbon_sink_high_tco2_yr"])]
    out[t("targets.col.coverage_pct", lang)] = d["landcover_coverage_pct"].values
    return out


def metric_options(lang: str) -> dict[str, str]:
    opts = {f"lc_{c}_pct": f"{class_label(c, lang)} (%)" for c in CLASS_IDS}
    opts["carbon_density_tc_ha"] = t("targets.metric.density", lang)
    opts["carbon_stock_tc"] = t("targets.metric.stock", lang)
    opts["carbon_sink_tco2_yr"] = t("targets.metric.sink", lang)
    return opts


def zone_label(z: str, lang: str) -> str:
    if z == change.TOTAL:
        return t("targets.change.total", lang)
    zones = common.cached_layer("zones", common.build_id(), common.active_upload_id("zones"))
    en = dict(zip(zones["name_zh"].astype(str), zones.get("name_en", zones["name_zh"]).astype(str)))
    return pick(z, en.get(z), lang)


def matrix_labelled(m: pd.DataFrame, lang: str) -> pd.DataFrame:
    keep = _classes_present(m)
    out = m.loc[keep, keep].copy()
    out.index = [class_label(c, lang) for c in keep]
    out.columns = [class_label(c, lang) for c in keep]
    out.index.name = t("targets.change.from_to", lang)
    return out


def _classes_present(m: pd.DataFrame) -> list[str]:
    return [c for c in m.index if m.loc[c].sum() > 0 or m[c].sum() > 0]


def change_summary(cres: change.ChangeResult, lang: str) -> pd.DataFrame:
    s = cres.summary
    return pd.DataFrame({
        t("targets.col.zone", lang): [zone_label(z, lang) for z in s["zone"]],
        t("targets.change.net_forest", lang): s["forest_net_km2"],
        t("targets.change.net_grass", lang): s["grassland_net_km2"],
        t("targets.change.changed", lang): s["changed_km2"],
        t("targets.change.carbon_change", lang): s["carbon_change_tc"],
        t("targets.change.carbon_change_co2", lang): s["carbon_change_tco2e"],
    })


def change_chart(m: pd.DataFrame, kind: str, lang: str):
    ml = matrix_labelled(m, lang)
    if kind == "heatmap":
        return charts.heatmap(ml, lang)
    colors = [CLASS_BY_ID[c].color if c in CLASS_BY_ID else "#999999" for c in _classes_present(m)]
    return charts.sankey(ml, colors)

"""Targets of the Gansu action plan (甘政办发〔2025〕30号) and progress towards them: one name for
the pieces (``from indicators import targets as tg``) and the report table of the CLI and the
Excel export.

- tables (targets, official statistics, validation): ``indicators.target_tables``;
- bases (口径), their use for a target, restated publications: ``indicators.target_bases``;
- progress, references, trajectories (counted from the run date): ``indicators.target_progress``.
"""
from __future__ import annotations

import pandas as pd

from core.i18n import t
from core.text import Text
from indicators.target_bases import (
    BASES_CSV,
    USES,
    Basis,
    basis_info,
    basis_label,
    load_bases,
    publications,
    refresh_seed,
    usable_mask,
)
from indicators.target_progress import (
    ABOUT_TOLERANCE,
    AT_RISK_RATIO,
    REFERENCE_KINDS,
    STALE_YEARS,
    STATUS_RULE,
    STATUSES,
    TREND_YEARS,
    Progress,
    bases,
    history,
    is_met,
    points,
    progress,
    progress_table,
    reference_table,
    run_date_of,
    trajectory,
    trend_per_year,
)
from indicators.target_tables import (
    CITATION_KEY,
    COMPARATORS,
    OFFICIAL_SEED_CSV,
    PROVINCE,
    STAT_ALL,
    STAT_COLUMNS,
    STAT_OPTIONAL,
    STAT_TEXT,
    TARGET_COLUMNS,
    TARGET_OPTIONAL,
    TARGETS_CSV,
    cell_text,
    indicator_table,
    load_seed_stats,
    load_targets,
    mark_user_edits,
    normalise_stats,
    read_stats_bytes,
    validate_stats,
)

# The public surface of targets: the pieces gathered from the three modules above, and the report table.
# ``cell_text`` (a table cell as text) is used by ``ui.targets_views`` through this façade.
__all__ = [
    # indicators.target_bases
    "BASES_CSV", "USES", "Basis", "basis_info", "basis_label", "load_bases", "publications", "refresh_seed",
    "usable_mask",
    # indicators.target_progress
    "ABOUT_TOLERANCE", "AT_RISK_RATIO", "REFERENCE_KINDS", "STALE_YEARS", "STATUS_RULE", "STATUSES", "TREND_YEARS",
    "Progress", "bases", "history", "is_met", "points", "progress", "progress_table", "reference_table",
    "run_date_of", "trajectory", "trend_per_year",
    # indicators.target_tables
    "CITATION_KEY", "COMPARATORS", "OFFICIAL_SEED_CSV", "PROVINCE", "STAT_ALL", "STAT_COLUMNS", "STAT_OPTIONAL",
    "STAT_TEXT", "TARGET_COLUMNS", "TARGET_OPTIONAL", "TARGETS_CSV", "cell_text", "indicator_table", "load_seed_stats",
    "load_targets", "mark_user_edits", "normalise_stats", "read_stats_bytes", "validate_stats",
    # this module: the report table of the CLI and the Excel export
    "REPORT_COLUMNS", "VERIFY", "report_labels", "report_table", "status_reason",
]

# --- the report table (CLI and Excel) ------------------------------------------------------------
REPORT_COLUMNS = ("indicator", "target", "target_en", "region", "row_kind", "target_year", "comparator",
                  "target_value", "unit", "target_basis", "target_basis_en", "latest_value", "latest_year", "basis",
                  "basis_en", "basis_verified", "run_date", "years_left", "age_years", "stale", "restated_years", "gap",
                  "required_per_yr", "historical_per_yr", "status", "status_rule", "status_rule_zh", "source_title",
                  "source_url", "source_date", "quote", "verify")
VERIFY = {"seed": ("媒体转载——请以原始发布为准", "reported in the press — verify against the original publication")}


def _notes(r) -> tuple[str, str]:
    """(zh, en) remarks on a row's latest value: stale, restated, unverified basis."""
    zh, en = [], []
    if r.get("stale"):
        zh.append(f"最新数值为 {int(r['latest_year'])} 年，距运行日期已 {int(r['age_years'])} 年（超过 {STALE_YEARS} 年：数据陈旧）")
        en.append(f"latest value from {int(r['latest_year'])}, {int(r['age_years'])} years before the run date "
                  f"(over {STALE_YEARS}: stale)")
    if r.get("restated_years"):
        zh.append(f"{r['restated_years']} 年的数值为同一发布的重复引用，只算一个数据点")
        en.append(f"the value of {r['restated_years']} restates the same publication: one point")
    if r.get("basis") and not r.get("basis_verified", True):
        zh.append("口径待核实")
        en.append("basis unverified")
    return "；".join(zh), "; ".join(en)


def status_reason(r) -> tuple[str, str]:
    """(zh, en) one-line reason of a progress row's status, with its numbers."""
    s, ty = r["status"], int(r["target_year"])
    if s == "no_data":
        zh, en = "无官方数据", "no official data"
    elif s == "not_comparable":
        zh, en = ("仅有与目标口径不可比的数值（见参考值），不计算差距",
                  "only values on a basis not comparable with the target (see the reference values): no gap")
    elif s == "year_passed":
        zh, en = f"目标年已过：需要 {ty} 年数值", f"target year passed: {ty} value needed"
    elif s in ("achieved", "missed"):
        zh, en = ((f"{ty} 年（目标年）数值达标", f"the target year's ({ty}) value meets the target") if s == "achieved"
                  else (f"{ty} 年（目标年）数值未达标", f"the target year's ({ty}) value misses the target"))
    elif r["met"]:
        kept = s == "on_track"
        zh, en = (("已达标，按历史趋势到目标年仍达标" if kept else "已达标，但按历史趋势到目标年将不达标"),
                  ("target met; the historical trend keeps it met" if kept else
                   "target met, but the historical trend misses it by the target year"))
    elif s == "no_trend":
        zh, en = "未达标，仅一个年份，无法计算趋势", "not met; one year only, no trend"
    elif s == "no_trend_restated":
        zh, en = "未达标；各年数值为同一次清查/发布的重复引用，无趋势", "not met; the values restate one inventory or publication: no trend"
    elif r["pace_ratio"] is None or pd.isna(r["pace_ratio"]):
        zh, en = "未达标，与目标持平：按历史变化方向判定", "not met at zero distance: judged by the direction of the trend"
    else:
        ratio = r["pace_ratio"]
        cmp_ = "≥ 1" if ratio >= 1 else f"≥ {AT_RISK_RATIO}" if ratio >= AT_RISK_RATIO else f"< {AT_RISK_RATIO}"
        zh, en = f"历史 ÷ 所需 = {ratio:.2f} {cmp_}", f"historical ÷ required = {ratio:.2f} {cmp_}"
    nz, ne = _notes(r)
    return (f"{zh}；{nz}" if nz else zh), (f"{en}; {ne}" if ne else en)


def report_labels() -> dict:
    """Excel headers of the report columns (``targets.report.<id>`` in the translation table)."""
    return {c: Text(t(f"targets.report.{c}", "zh"), t(f"targets.report.{c}", "en")) for c in REPORT_COLUMNS}


def report_table(targets: pd.DataFrame, stats: pd.DataFrame, basis: dict | None = None, run_date=None) -> pd.DataFrame:
    """The columns of ``REPORT_COLUMNS`` (ids, for CSV/Excel): one row per target (``row_kind``
    "target": target and its basis, latest value, year, basis, run date, years left, age, stale,
    restatements, gap, required and historical yearly change, status and its reason), then one
    per reference value (``row_kind`` = its kind, status "reference", no target, no gap); each
    with its source title, link, date, quote and the press-verification mark."""
    pt = progress_table(targets, stats, basis, run_date)
    reasons = [status_reason(r) for _, r in pt.iterrows()]
    num = lambda c: pd.to_numeric(pt[c], errors="coerce")  # noqa: E731
    out = pd.DataFrame({
        "indicator": pt["indicator"], "target": pt["label_zh"], "target_en": pt["label_en"],
        "region": pt["region"], "row_kind": "target", "target_year": pt["target_year"], "comparator": pt["comparator"],
        "target_value": pt["target_value"], "unit": pt["unit"], "target_basis": pt["target_basis"],
        "target_basis_en": pt["target_basis_en"], "latest_value": num("latest_value"),
        "latest_year": num("latest_year").astype("Int64"), "basis": pt["basis"], "basis_en": pt["basis_en"],
        "basis_verified": pt["basis_verified"], "run_date": pt["run_date"], "years_left": pt["years_left"],
        "age_years": num("age_years").astype("Int64"), "stale": pt["stale"], "restated_years": pt["restated_years"],
        "gap": num("gap"), "required_per_yr": num("required_per_yr"), "historical_per_yr": num("historical_per_yr"),
        "status": pt["status"], "status_rule": [b for _, b in reasons], "status_rule_zh": [a for a, _ in reasons],
        "source_title": pt["latest_source"], "source_url": pt["source_url"], "source_date": pt["source_date"],
        "quote": pt["quote"], "verify": [VERIFY[o][1] if o in VERIFY else "" for o in pt["origin"]],
    })
    for c in ("gap", "required_per_yr", "historical_per_yr"):
        out[c] = out[c].round(10)  # no 1e-16 slopes
    ref = reference_table(targets, stats, run_date)
    refs = pd.DataFrame({
        "indicator": ref["indicator"], "target": ref["label_zh"], "target_en": ref["label_en"], "region": ref["region"],
        "row_kind": ref["kind"], "unit": ref["unit"], "latest_value": ref["value"],
        "latest_year": ref["year"].astype("Int64"), "basis": ref["basis"], "basis_en": ref["basis_en"],
        "basis_verified": ref["basis_verified"], "run_date": ref["run_date"],
        "age_years": ref["age_years"].astype("Int64"), "stale": ref["stale"], "restated_years": ref["restated_years"],
        "status": "reference", "status_rule": ref["reason_en"], "status_rule_zh": ref["reason_zh"],
        "source_title": ref["latest_source"], "source_url": ref["source_url"], "source_date": ref["source_date"],
        "quote": ref["quote"], "verify": [VERIFY[o][1] if o in VERIFY else "" for o in ref["origin"]],
    })
    both = pd.concat([out, refs.reindex(columns=list(REPORT_COLUMNS))], ignore_index=True) if len(refs) else out
    for c in ("target_year", "years_left"):
        both[c] = pd.to_numeric(both[c], errors="coerce").astype("Int64")
    return both[list(REPORT_COLUMNS)]

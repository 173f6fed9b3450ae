"""Targets of the Gansu action plan (甘政办发〔2025〕30号) and progress towards them.

Pure arithmetic, no Streamlit. Two tables:

- ``geodata/targets.csv``: one row per (indicator, region, target year) with the target value,
  a comparator (``>=``, ``>``, ``<=``, ``~`` = "about"), the direction (``higher``/``lower`` is
  better), a base year for relative targets (CO2 per GDP "vs 2020" / "vs 2005" are separate
  indicators because their bases differ) and the quoted source clause.
- official statistics: ``indicator, region, year, value, unit, source`` and, optional,
  ``basis, source_url, source_date, quote, note`` (seed: ``geodata/official_stats_gansu.csv``, a
  copy of ``../shared/data/official_stats_gansu.csv`` — 67 published values with title, link, date
  and verbatim quote — plus three columns: the target-table id, the basis (口径) and the numeric
  value; users edit them in the app, the store keeps them and their edits win).

Bases: one indicator may be published on several bases (air quality with or without dust days,
68/38/74 water sections, …). A trajectory and a progress row use **one** basis per indicator and
region (the user's choice, else the basis of the latest value), never a mix; within one basis two
sources may confirm the same value, two different values for one year are refused.

Progress rule (stated to users, see ``STATUS_RULE``), in "good-direction" units
(d = +1 higher is better, -1 lower is better):

- remaining = d × (target − latest); required pace = remaining / (target year − latest year);
- historical pace = d × least-squares slope of the official values over the last
  ``TREND_YEARS`` years (two points: their difference per year);
- target already met (comparator satisfied): **on track** if the historical trend keeps it met at
  the target year (or there is no trend), else **at risk**;
- not met, deadline passed: **off track**;
- not met: ratio = historical pace / required pace — ≥ 1 **on track**, ≥ 0.5 **at risk**,
  otherwise (or moving the wrong way) **off track**; one data point only: **no trend**.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core import paths
from core.errors import InputError

TARGETS_CSV = paths.TABLES / "targets.csv"
OFFICIAL_SEED_CSV = paths.TABLES / "official_stats_gansu.csv"

TARGET_COLUMNS = ("indicator", "label_zh", "label_en", "unit", "region", "target_year",
                  "target_value", "comparator", "direction", "base_year", "source_doc",
                  "source_clause")
STAT_COLUMNS = ("indicator", "region", "year", "value", "unit", "source")
STAT_OPTIONAL = ("basis", "source_url", "source_date", "quote", "note")
STAT_ALL = STAT_COLUMNS + STAT_OPTIONAL + ("origin",)  # origin: "seed" (cited press value) | "user"
STAT_TEXT = ("indicator", "region", "unit", "source") + STAT_OPTIONAL + ("origin",)
PROVINCE = "甘肃省"
COMPARATORS = (">=", ">", "<=", "<", "~")
ABOUT_TOLERANCE = 0.5  # "~ 95%" is met within 0.5 units of the target (stated in the rule)
TREND_YEARS = 10
AT_RISK_RATIO = 0.5
STATUSES = ("on_track", "at_risk", "off_track", "no_trend", "no_data")

STATUS_RULE = {
    "en": ("remaining = target − latest official value (in the better direction); required pace = "
           "remaining ÷ years left; historical pace = least-squares slope of the official values "
           f"over the last {TREND_YEARS} years. Already met: on track if the trend keeps it met at "
           "the target year, else at risk. Not met: historical ÷ required ≥ 1 → on track, "
           f"≥ {AT_RISK_RATIO} → at risk, below (or wrong direction, or deadline passed) → off track. "
           f"One data point: no trend. “About” targets count as met within ±{ABOUT_TOLERANCE}."),
    "zh": ("差距 = 目标值 − 最新官方值（按改善方向）；所需年均变化 = 差距 ÷ 剩余年数；历史年均变化 = 近"
           f"{TREND_YEARS} 年官方数值的最小二乘斜率。已达标：若按历史趋势到目标年仍达标则为“进展正常”，否则为"
           f"“存在风险”。未达标：历史 ÷ 所需 ≥ 1 为“进展正常”，≥ {AT_RISK_RATIO} 为“存在风险”，更低（或方向相反、"
           f"或已过目标年）为“进度滞后”。仅一个数据点：无趋势。“左右”类目标在 ±{ABOUT_TOLERANCE} 以内视为达标。"),
}


# --- tables ------------------------------------------------------------------------------------
def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The targets table, validated (types, comparators, directions)."""
    path = Path(path) if path else TARGETS_CSV
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"region": str, "source_clause": str})
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"目标表 {path.name} 缺少列 {missing}",
                         f"targets table {path.name} lacks columns {missing}")
    df["target_year"] = pd.to_numeric(df["target_year"], errors="raise").astype("int64")
    df["target_value"] = pd.to_numeric(df["target_value"], errors="raise").astype("float64")
    df["base_year"] = pd.to_numeric(df["base_year"], errors="coerce").astype("Int64")
    bad = sorted(set(df["comparator"]) - set(COMPARATORS))
    if bad:
        raise InputError(f"目标表含未知比较符 {bad}", f"targets table: unknown comparator(s) {bad}")
    bad = sorted(set(df["direction"]) - {"higher", "lower"})
    if bad:
        raise InputError(f"目标表的方向须为 higher/lower，实际为 {bad}",
                         f"targets table: direction must be higher/lower, got {bad}")
    return df[list(TARGET_COLUMNS)].reset_index(drop=True)  # file order (DOMAIN.md §1 order)


def indicator_table(targets: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator: id, labels, unit, direction (first target row of each)."""
    cols = ["indicator", "label_zh", "label_en", "unit", "direction", "base_year"]
    return targets[cols].drop_duplicates("indicator").reset_index(drop=True)


def load_seed_stats(path: str | Path | None = None) -> pd.DataFrame:
    """The cited seed (``official_stats_gansu.csv``: the shared table + ``indicator_id, basis,
    value_num``) in the statistics schema; every row is marked ``origin = seed`` (a press reprint
    of an official release: shown with "verify against the original publication")."""
    df = pd.read_csv(Path(path) if path else OFFICIAL_SEED_CSV, encoding="utf-8-sig", dtype=str,
                     keep_default_na=False)
    units = dict(zip(*[load_targets()[c] for c in ("indicator", "unit")]))
    out = pd.DataFrame({
        "indicator": df["indicator_id"], "region": df["region"], "year": df["year"],
        "value": df["value_num"], "unit": df["indicator_id"].map(units), "source": df["source_title"],
        "basis": df["basis"], "source_url": df["source_url"], "source_date": df["source_date"],
        "quote": df["quote"], "note": df["note"], "origin": "seed"})
    return normalise_stats(out)


def normalise_stats(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in STAT_OPTIONAL:
        if c not in out.columns:
            out[c] = ""
    if "origin" not in out.columns:
        out["origin"] = "user"
    out = out[list(STAT_ALL)]
    out["year"] = pd.to_numeric(out["year"]).astype("int64")
    out["value"] = pd.to_numeric(out["value"]).astype("float64")
    for c in STAT_TEXT:
        out[c] = out[c].map(_text)
    out.loc[out["origin"] == "", "origin"] = "user"
    return out.sort_values(["indicator", "region", "basis", "year", "source"], kind="stable").reset_index(drop=True)


def mark_user_edits(df: pd.DataFrame, seed: pd.DataFrame) -> pd.DataFrame:
    """``origin = seed`` only for rows identical to a seed row (same key, value, unit, source and
    citation); any other row — new, or a seed row the user changed — is ``user``."""
    key = ["indicator", "region", "year", "basis", "value", "unit", "source", "source_url", "source_date", "quote"]
    seeded = set(map(tuple, seed[key].astype(str).to_numpy()))
    out = df.copy()
    same = [tuple(r) in seeded for r in out[key].astype(str).to_numpy()]
    out["origin"] = ["seed" if s and o == "seed" else "user" for s, o in zip(same, out["origin"])]
    return out


def _text(v) -> str:
    """A cell as text: None/NaN/<NA> → "" (never the strings "None"/"nan")."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def read_stats_bytes(data: bytes) -> pd.DataFrame:
    """CSV bytes of official statistics (UTF-8 with or without BOM, else GB18030) → DataFrame of
    strings, not yet validated (``validate_stats`` does that). Raises InputError."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("文件不是 UTF-8 或 GB18030 文本", "the file is not UTF-8 or GB18030 text")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"无法解析为 CSV 表格：{e}", f"not a readable CSV table: {e}") from None


def validate_stats(df: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Check an uploaded/edited statistics table; return it normalised or raise InputError.

    Checks: the six columns (``basis, source_url, source_date, quote, note, origin`` may be added;
    any other column is refused, so a wrong file is not half-read),
    non-empty indicator/region/source, integer years 1949–2100, numeric values, known indicators
    (id, or its Chinese/English label, which is mapped to the id), no duplicate
    (indicator, region, year), the unit equal to the indicator's unit when given.
    """
    df = df.copy()
    df.columns = [str(c).strip().lower().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in STAT_COLUMNS if c not in df.columns]
    extra = [c for c in df.columns if c not in STAT_ALL]
    if missing or extra:
        raise InputError(
            f"统计表须恰好包含列 {', '.join(STAT_COLUMNS)}（缺少：{missing or '无'}；多余：{extra or '无'}）",
            f"the statistics table needs exactly the columns {', '.join(STAT_COLUMNS)} "
            f"(missing: {missing or 'none'}; unexpected: {extra or 'none'})")
    if df.empty:
        raise InputError("统计表没有数据行", "the statistics table has no rows")
    ind = indicator_table(targets)
    alias = {}
    for r in ind.itertuples():
        alias[r.indicator.lower()] = r.indicator
        alias[str(r.label_zh).strip().lower()] = r.indicator
        alias[str(r.label_en).strip().lower()] = r.indicator
    units = dict(zip(ind["indicator"], ind["unit"]))
    for c in STAT_OPTIONAL + ("origin",):
        if c not in df.columns:
            df[c] = ""
    for c in STAT_TEXT:
        df[c] = df[c].map(_text)
    rows = lambda mask: [int(i) + 2 for i in df.index[mask]]  # noqa: E731 - CSV line numbers
    unknown = ~df["indicator"].str.lower().isin(alias)
    if unknown.any():
        names = sorted(set(df.loc[unknown, "indicator"]))
        raise InputError(
            f"第 {rows(unknown)} 行含未知指标 {names}；可用指标：{sorted(units)}",
            f"unknown indicator(s) {names} in row(s) {rows(unknown)}; use one of {sorted(units)}")
    df["indicator"] = df["indicator"].str.lower().map(alias)
    value = pd.to_numeric(df["value"], errors="coerce")
    if value.isna().any():
        bad = value.isna()
        raise InputError(f"第 {rows(bad)} 行的数值不是数字：{list(df.loc[bad, 'value'])}",
                         f"non-numeric value(s) in row(s) {rows(bad)}: {list(df.loc[bad, 'value'])}")
    year = pd.to_numeric(df["year"], errors="coerce")
    bad = year.isna() | (year % 1 != 0) | (year < 1949) | (year > 2100)
    if bad.any():
        raise InputError(f"年份须为 1949–2100 的整数；见第 {rows(bad)} 行",
                         f"year must be a whole number 1949–2100; row(s) {rows(bad)}")
    for c, zh in (("region", "地区"), ("source", "来源")):
        empty = df[c] == ""
        if empty.any():
            raise InputError(f"第 {rows(empty)} 行的{zh}为空：每个数值都须注明{zh}",
                             f"empty {c} in row(s) {rows(empty)}: every value needs its {c}")
    df["unit"] = np.where(df["unit"] == "", df["indicator"].map(units), df["unit"])
    wrong = df["unit"] != df["indicator"].map(units)
    if wrong.any():
        raise InputError(
            f"第 {rows(wrong)} 行的单位与目标单位不一致（应为 {sorted(set(df.loc[wrong, 'indicator'].map(units)))}）",
            f"unit differs from the target's unit in row(s) {rows(wrong)} "
            f"(expected {sorted(set(df.loc[wrong, 'indicator'].map(units)))})")
    df["value"], df["year"] = value, year.astype("int64")
    key = ["indicator", "region", "year", "basis"]
    dup = df.duplicated(key, keep=False) & (df.groupby(key)["value"].transform("nunique") > 1)
    dup |= df.duplicated(key + ["source"], keep=False)
    if dup.any():
        raise InputError(f"第 {rows(dup)} 行的指标/地区/年份/口径重复（同一口径同一年只能有一个数值；不同口径请填写“口径”列）",
                         f"duplicate indicator/region/year/basis in row(s) {rows(dup)} (one value per year "
                         "and basis; give different bases in the basis column)")
    return normalise_stats(df)


# --- progress ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    latest_year: int | None
    latest_value: float | None
    gap: float | None  # target − latest (natural units, signed)
    years_left: int | None
    required_per_yr: float | None  # natural units per year (signed)
    historical_per_yr: float | None  # natural units per year (signed)
    projected_value: float | None  # latest + historical × years_left
    met: bool | None
    pace_ratio: float | None  # historical ÷ required in the better direction
    status: str


def is_met(value: float, target: float, comparator: str) -> bool:
    if comparator == ">=":
        return value >= target - 1e-9
    if comparator == ">":
        return value > target
    if comparator == "<=":
        return value <= target + 1e-9
    if comparator == "<":
        return value < target
    if comparator == "~":
        return abs(value - target) <= ABOUT_TOLERANCE + 1e-9 or value > target
    raise ValueError(comparator)


def trend_per_year(years, values, window: int = TREND_YEARS) -> float | None:
    """Least-squares slope (units per year) over the points within ``window`` years of the last."""
    y = np.asarray(years, dtype="float64")
    v = np.asarray(values, dtype="float64")
    if y.size == 0:
        return None
    keep = y >= y.max() - window
    y, v = y[keep], v[keep]
    if np.unique(y).size < 2:
        return None
    return float(np.polyfit(y, v, 1)[0])


def progress(history: pd.DataFrame, target_value: float, target_year: int, comparator: str,
             direction: str) -> Progress:
    """Progress of one target from its official history (columns year, value)."""
    h = history.dropna(subset=["year", "value"]).sort_values("year")
    if h.empty:
        return Progress(None, None, None, None, None, None, None, None, None, "no_data")
    d = 1.0 if direction == "higher" else -1.0
    ly, lv = int(h["year"].iloc[-1]), float(h["value"].iloc[-1])
    gap = target_value - lv
    years_left = int(target_year) - ly
    slope = trend_per_year(h["year"], h["value"])
    met = is_met(lv, target_value, comparator)
    projected = lv + slope * years_left if slope is not None and years_left > 0 else None
    required = gap / years_left if years_left > 0 else None
    ratio = None
    if met:
        keeps = projected is None or is_met(projected, target_value, comparator)
        status = "on_track" if keeps else "at_risk"
        required = 0.0 if years_left > 0 else None
    elif years_left <= 0:
        status = "off_track"
    elif slope is None:
        status = "no_trend"
    else:
        ratio = (d * slope) / (d * required)
        status = "on_track" if ratio >= 1.0 else "at_risk" if ratio >= AT_RISK_RATIO else "off_track"
    return Progress(ly, lv, gap, years_left, required, slope, projected, met, ratio, status)


def bases(stats: pd.DataFrame, indicator: str, region: str | None = None) -> list[str]:
    """The bases of an indicator (in one region, or all), the default first: a basis holding
    values a user entered (users' own data wins over the seed), else the basis of the latest
    value (ties: more values)."""
    h = stats[(stats["indicator"] == indicator) & ((stats["region"] == region) if region else True)]
    if h.empty:
        return []
    h = h.assign(_user=(h["origin"] != "seed") if "origin" in h.columns else True)
    order = (h.groupby("basis").agg(user=("_user", "any"), last=("year", "max"), n=("year", "size"))
             .sort_values(["user", "last", "n"], ascending=False, kind="stable"))
    return list(order.index)


def history(stats: pd.DataFrame, indicator: str, region: str, basis: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """One basis's rows of an indicator in a region (``basis`` when that region has it, else the
    basis of its latest value), one row per year (sources confirming the same value are merged:
    the first source in file order is cited). Returns (rows, basis used)."""
    h = stats[(stats["indicator"] == indicator) & (stats["region"] == region)]
    if h.empty:
        return h, None
    avail = bases(stats, indicator, region)
    used = basis if basis in avail else avail[0]
    h = h[h["basis"] == used].sort_values(["year"], kind="stable").drop_duplicates("year", keep="first")
    return h.reset_index(drop=True), used


def progress_table(targets: pd.DataFrame, stats: pd.DataFrame, basis: dict | None = None) -> pd.DataFrame:
    """One row per target and region: the target's own region first, then every other region
    (prefectures) with official values of the indicator, measured against the same target
    (the plan sets province targets only). ``basis``: indicator → chosen basis (else the basis
    of each region's latest value); one basis per row, never mixed."""
    basis = basis or {}
    rows = []
    for t in targets.itertuples(index=False):
        regions = [t.region] + sorted(set(stats.loc[stats["indicator"] == t.indicator, "region"]) - {t.region})
        for region in regions:
            hist, used = history(stats, t.indicator, region, basis.get(t.indicator))
            p = progress(hist[["year", "value"]], float(t.target_value), int(t.target_year),
                         t.comparator, t.direction)
            last = hist.iloc[-1] if len(hist) else None
            src = (lambda c: (last[c] if last is not None else ""))  # noqa: E731
            rows.append({
                "indicator": t.indicator, "label_zh": t.label_zh, "label_en": t.label_en,
                "region": region, "target_region": t.region, "unit": t.unit, "target_year": int(t.target_year),
                "comparator": t.comparator, "target_value": float(t.target_value),
                "base_year": t.base_year, "direction": t.direction,
                "latest_year": p.latest_year, "latest_value": p.latest_value, "basis": used or "",
                "n_bases": len(bases(stats, t.indicator, region)), "gap": p.gap,
                "years_left": p.years_left, "required_per_yr": p.required_per_yr,
                "historical_per_yr": p.historical_per_yr, "projected_value": p.projected_value,
                "pace_ratio": p.pace_ratio, "met": p.met, "status": p.status,
                "n_points": int(len(hist)), "latest_source": src("source"), "source_url": src("source_url"),
                "source_date": src("source_date"), "quote": src("quote"), "origin": src("origin"),
                "source_clause": t.source_clause,
            })
    return pd.DataFrame(rows)


def trajectory(targets: pd.DataFrame, stats: pd.DataFrame, indicator: str, region: str,
               basis: str | None = None) -> dict:
    """Series for a trajectory chart of one basis (``history``): history, targets, and the
    required path from the latest official value to each later target (straight line), plus the
    historical trend line. ``out["basis"]`` names the basis used."""
    hist, used = history(stats, indicator, region, basis)
    tg = targets[(targets["indicator"] == indicator) & (targets["region"] == region)].sort_values("target_year")
    out = {"history": hist[["year", "value"]].reset_index(drop=True),
           "targets": tg[["target_year", "target_value"]].reset_index(drop=True),
           "required": pd.DataFrame(columns=["year", "value", "target_year"]),
           "trend": pd.DataFrame(columns=["year", "value"]), "basis": used}
    if hist.empty:
        return out
    ly, lv = int(hist["year"].iloc[-1]), float(hist["value"].iloc[-1])
    req = []
    for ty, tv in zip(tg["target_year"], tg["target_value"]):
        if int(ty) > ly:
            req += [{"year": ly, "value": lv, "target_year": int(ty)},
                    {"year": int(ty), "value": float(tv), "target_year": int(ty)}]
    out["required"] = pd.DataFrame(req, columns=["year", "value", "target_year"])
    slope = trend_per_year(hist["year"], hist["value"])
    if slope is not None and len(tg):
        end = max(int(tg["target_year"].max()), ly)
        out["trend"] = pd.DataFrame({"year": [ly, end], "value": [lv, lv + slope * (end - ly)]})
    return out


# --- the report table (CLI and Excel) ------------------------------------------------------------
REPORT_COLUMNS = ("indicator", "target", "target_en", "region", "target_year", "comparator", "target_value",
                  "unit", "latest_value", "latest_year", "basis", "gap", "required_per_yr", "historical_per_yr",
                  "status", "status_rule", "status_rule_zh", "source_title", "source_url", "source_date", "verify")
VERIFY = {"seed": ("媒体转载——请以原始发布为准", "reported in the press — verify against the original publication")}


def status_reason(r) -> tuple[str, str]:
    """(zh, en) one-line reason of a progress row's status, with its numbers."""
    s = r["status"]
    if s == "no_data":
        return "无官方数据", "no official data"
    if r["met"]:
        kept = s == "on_track"
        return (("已达标，按历史趋势到目标年仍达标" if kept else "已达标，但按历史趋势到目标年将不达标"),
                ("target met; the historical trend keeps it met" if kept else
                 "target met, but the historical trend misses it by the target year"))
    if s == "off_track" and (r["years_left"] is not None and r["years_left"] <= 0):
        return "未达标且已过目标年", "not met and the target year has passed"
    if s == "no_trend":
        return "未达标，仅一个年份，无法计算趋势", "not met; one year only, no trend"
    ratio = r["pace_ratio"]
    cmp_ = "≥ 1" if ratio >= 1 else f"≥ {AT_RISK_RATIO}" if ratio >= AT_RISK_RATIO else f"< {AT_RISK_RATIO}"
    return (f"历史 ÷ 所需 = {ratio:.2f} {cmp_}", f"historical ÷ required = {ratio:.2f} {cmp_}")


def report_labels() -> dict:
    """Excel headers of the report columns (``targets.report.<id>`` in the translation table)."""
    from core.i18n import t
    from core.text import Text

    return {c: Text(t(f"targets.report.{c}", "zh"), t(f"targets.report.{c}", "en")) for c in REPORT_COLUMNS}


def report_table(targets: pd.DataFrame, stats: pd.DataFrame, basis: dict | None = None) -> pd.DataFrame:
    """One row per target and region with the columns of ``REPORT_COLUMNS`` (ids, for CSV/Excel):
    target, year, latest value and year, basis, gap, required and historical yearly change,
    status and its rule, source title and link, and the press-verification mark."""
    pt = progress_table(targets, stats, basis)
    reasons = [status_reason(r) for _, r in pt.iterrows()]
    out = pd.DataFrame({
        "indicator": pt["indicator"], "target": pt["label_zh"], "target_en": pt["label_en"],
        "region": pt["region"], "target_year": pt["target_year"], "comparator": pt["comparator"],
        "target_value": pt["target_value"], "unit": pt["unit"],
        "latest_value": pd.to_numeric(pt["latest_value"], errors="coerce"),  # (rounded below: no 1e-16 slopes)
        "latest_year": pd.to_numeric(pt["latest_year"], errors="coerce").astype("Int64"),
        "basis": pt["basis"], "gap": pd.to_numeric(pt["gap"], errors="coerce"),
        "required_per_yr": pd.to_numeric(pt["required_per_yr"], errors="coerce"),
        "historical_per_yr": pd.to_numeric(pt["historical_per_yr"], errors="coerce"),
        "status": pt["status"], "status_rule": [b for _, b in reasons], "status_rule_zh": [a for a, _ in reasons],
        "source_title": pt["latest_source"], "source_url": pt["source_url"], "source_date": pt["source_date"],
        "verify": [VERIFY[o][1] if o in VERIFY else "" for o in pt["origin"]],
    })
    for c in ("gap", "required_per_yr", "historical_per_yr"):
        out[c] = out[c].round(10)
    return out[list(REPORT_COLUMNS)]

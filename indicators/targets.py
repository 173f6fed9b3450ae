"""Targets of the Gansu action plan (甘政办发〔2025〕30号) and progress towards them.

Pure arithmetic, no Streamlit. Two tables:

- ``geodata/targets.csv``: one row per (indicator, region, target year) with the target value,
  a comparator (``>=``, ``>``, ``<=``, ``~`` = "about"), the direction (``higher``/``lower`` is
  better), a base year for relative targets (CO2 per GDP "vs 2020" / "vs 2005" are separate
  indicators because their bases differ) and the quoted source clause.
- official statistics: ``indicator, region, year, value, unit, source`` (seed in
  ``geodata/official_stats.csv``; users edit them in the app, the store keeps them).

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
OFFICIAL_SEED_CSV = paths.TABLES / "official_stats.csv"

TARGET_COLUMNS = ("indicator", "label_zh", "label_en", "unit", "region", "target_year",
                  "target_value", "comparator", "direction", "base_year", "source_doc",
                  "source_clause")
STAT_COLUMNS = ("indicator", "region", "year", "value", "unit", "source")
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
    df = pd.read_csv(Path(path) if path else OFFICIAL_SEED_CSV, encoding="utf-8-sig")
    return normalise_stats(df)


def normalise_stats(df: pd.DataFrame) -> pd.DataFrame:
    out = df[list(STAT_COLUMNS)].copy()
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    for c in ("indicator", "region", "unit", "source"):
        out[c] = out[c].fillna("").astype(str).str.strip()
    return out.sort_values(["indicator", "region", "year"]).reset_index(drop=True)


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

    Checks: exact columns (extra columns are refused too, so a wrong file is not half-read),
    non-empty indicator/region/source, integer years 1949–2100, numeric values, known indicators
    (id, or its Chinese/English label, which is mapped to the id), no duplicate
    (indicator, region, year), the unit equal to the indicator's unit when given.
    """
    df = df.copy()
    df.columns = [str(c).strip().lower().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in STAT_COLUMNS if c not in df.columns]
    extra = [c for c in df.columns if c not in STAT_COLUMNS]
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
    for c in ("indicator", "region", "unit", "source"):
        df[c] = df[c].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())
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
    dup = df.duplicated(["indicator", "region", "year"], keep=False)
    if dup.any():
        raise InputError(f"第 {rows(dup)} 行的指标/地区/年份重复",
                         f"duplicate indicator/region/year in row(s) {rows(dup)}")
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


def progress_table(targets: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """One row per target: latest official value/year, gap, required vs historical pace, status."""
    rows = []
    for t in targets.itertuples(index=False):
        hist = stats[(stats["indicator"] == t.indicator) & (stats["region"] == t.region)]
        p = progress(hist[["year", "value"]], float(t.target_value), int(t.target_year),
                     t.comparator, t.direction)
        src = hist.sort_values("year")["source"].iloc[-1] if len(hist) else ""
        rows.append({
            "indicator": t.indicator, "label_zh": t.label_zh, "label_en": t.label_en,
            "region": t.region, "unit": t.unit, "target_year": int(t.target_year),
            "comparator": t.comparator, "target_value": float(t.target_value),
            "base_year": t.base_year, "direction": t.direction,
            "latest_year": p.latest_year, "latest_value": p.latest_value, "gap": p.gap,
            "years_left": p.years_left, "required_per_yr": p.required_per_yr,
            "historical_per_yr": p.historical_per_yr, "projected_value": p.projected_value,
            "pace_ratio": p.pace_ratio, "met": p.met, "status": p.status,
            "n_points": int(len(hist)), "latest_source": src, "source_clause": t.source_clause,
        })
    return pd.DataFrame(rows)


def trajectory(targets: pd.DataFrame, stats: pd.DataFrame, indicator: str, region: str) -> dict:
    """Series for a trajectory chart: history, targets, and the required path from the latest
    official value to each later target (straight line), plus the historical trend line."""
    hist = stats[(stats["indicator"] == indicator) & (stats["region"] == region)].sort_values("year")
    tg = targets[(targets["indicator"] == indicator) & (targets["region"] == region)].sort_values("target_year")
    out = {"history": hist[["year", "value"]].reset_index(drop=True),
           "targets": tg[["target_year", "target_value"]].reset_index(drop=True),
           "required": pd.DataFrame(columns=["year", "value", "target_year"]),
           "trend": pd.DataFrame(columns=["year", "value"])}
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

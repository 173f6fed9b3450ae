"""Progress towards the plan's targets from official statistics. Pure arithmetic, no Streamlit.

Rules (stated to users, see ``STATUS_RULE``), in "good-direction" units (d = +1 higher is better,
-1 lower is better):

- **one basis** per indicator and region (the user's choice, else the basis of the latest value),
  and only a basis the target's measure allows (``indicators.target_bases``): never a mix;
- **one point per publication**: values restating one inventory or census (same value, same
  ``publication``) are one point, at the year of the first; a trend needs two distinct
  publications ("no trend (one inventory)" otherwise);
- **counted from the run date** (today, or a date given for a reproducible report): years left =
  target year − run year; a latest value more than ``STALE_YEARS`` years before the run year is
  **stale** (the status says so); a target year already passed needs that year's value
  ("target year passed") unless one is there (**met** / **missed** in the target year);
- remaining = d × (target − latest); required pace = remaining / (target year − latest year);
  historical pace = d × least-squares slope over the last ``TREND_YEARS`` years of publications;
- already met: **on track** if the trend keeps it met at the target year (or there is no trend),
  else **at risk**; not met: historical ÷ required ≥ 1 **on track**, ≥ 0.5 **at risk**, otherwise
  (or moving the wrong way) **off track**;
- only values on a basis not comparable with the target: **not comparable**, no gap.

Prefecture rows are references (no status, no gap) unless the targets table gives the prefecture
its own target; so are values on another measure, another base year or an incomparable basis.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError
from indicators.target_bases import basis_info, publications, usable_mask
from indicators.target_tables import PROVINCE

ABOUT_TOLERANCE = 0.5  # "~ 95%" is met within 0.5 units of the target (stated in the rule)
TREND_YEARS = 10
AT_RISK_RATIO = 0.5
STALE_YEARS = 3  # a latest value more than 3 years before the run year is stale
STATUSES = ("on_track", "at_risk", "off_track", "no_trend", "no_trend_restated", "year_passed", "achieved",
            "missed", "not_comparable", "no_data", "reference")
REFERENCE_KINDS = ("prefecture", "other_measure", "other_base", "incomparable")
PREFECTURE_REASON = ("参考值：行动方案未给该地区设此目标，不与全省目标比较",
                     "reference: the plan sets no target of its own for this region; not compared with the province's")

STATUS_RULE = {
    "en": ("One basis per indicator and only a basis that measures what the target measures; values "
           "restating one inventory or publication count once. Years are counted from the run date: years left = "
           f"target year − run year; a latest value more than {STALE_YEARS} years old is stale. remaining = target − "
           "latest official value (in the better direction); required pace = remaining ÷ (target year − latest "
           f"year); historical pace = least-squares slope over the last {TREND_YEARS} years of distinct "
           "publications. Already met: on track if the trend keeps it met at the target year, else at risk. Not "
           f"met: historical ÷ required ≥ 1 → on track, ≥ {AT_RISK_RATIO} → at risk, below (or wrong direction) → "
           "off track. One publication: no trend. Target year passed without its value: “target year passed”; "
           f"with it: met / missed. “About” targets count as met within ±{ABOUT_TOLERANCE}. Prefecture values "
           "without a target of their own, and values on another measure, base year or an incomparable basis, "
           "are references: no status, no gap."),
    "zh": ("每个指标只用一种口径，且只用与目标同一计量含义的口径；同一次清查或发布被重复引用的数值只算一次。年份从运行日期起算："
           f"剩余年数 = 目标年 − 运行年份；最新数值早于运行年份 {STALE_YEARS} 年以上为“数据陈旧”。差距 = 目标值 − 最新官方值（按改善方向）；"
           f"所需年均变化 = 差距 ÷（目标年 − 最新年份）；历史年均变化 = 近 {TREND_YEARS} 年不同发布数值的最小二乘斜率。"
           "已达标：若按历史趋势到目标年仍达标则为“进展正常”，否则为“存在风险”。未达标：历史 ÷ 所需 ≥ 1 为“进展正常”，"
           f"≥ {AT_RISK_RATIO} 为“存在风险”，更低（或方向相反）为“进度滞后”。仅一次发布：无趋势。目标年已过而无该年数值："
           f"“目标年已过”；有该年数值：达标/未达标。“左右”类目标在 ±{ABOUT_TOLERANCE} 以内视为达标。无本地区目标的市州数值，"
           "以及其他指标、其他基期或不可比口径的数值，均为参考值：不判定状态、不计算差距。"),
}


def run_date_of(run_date=None) -> dt.date:
    """The run date: a date, a datetime, "YYYY-MM-DD", or None (today)."""
    if run_date is None or run_date == "":
        return dt.date.today()
    if isinstance(run_date, dt.datetime):
        return run_date.date()
    if isinstance(run_date, dt.date):
        return run_date
    try:
        return dt.date.fromisoformat(str(run_date).strip())
    except ValueError:
        raise InputError(f"运行日期须为 YYYY-MM-DD：{run_date}", f"the run date must be YYYY-MM-DD: {run_date}") from None


@dataclass(frozen=True)
class Progress:
    latest_year: int | None
    latest_value: float | None
    gap: float | None  # target − latest (natural units, signed)
    years_left: int | None  # target year − run year
    required_per_yr: float | None  # natural units per year (signed)
    historical_per_yr: float | None  # natural units per year (signed)
    projected_value: float | None  # latest + historical × (target year − latest year)
    met: bool | None
    pace_ratio: float | None  # historical ÷ required in the better direction
    status: str
    age_years: int | None = None  # run year − latest year
    stale: bool = False
    n_publications: int = 0
    restated: bool = False  # some values restate one publication


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


def points(history: pd.DataFrame) -> pd.DataFrame:
    """One row per publication (rows with the same ``publication`` and value; without that
    column every row is its own): the year of the first, the citation of the newest, and
    ``restated_years`` (the later years that repeated it, "" when none). Sorted by year."""
    h = history.dropna(subset=["year", "value"]).sort_values("year", kind="stable").reset_index(drop=True)
    if "publication" not in h.columns:
        h = h.assign(publication=[f"row{i}" for i in range(len(h))])
    if h.empty:
        return h.assign(restated_years=pd.Series(dtype=object))
    key = h["publication"].astype(str) + "|" + h["value"].map(lambda v: f"{float(v):.10g}")
    rows = []
    for _, g in h.groupby(key, sort=False):
        r = g.iloc[-1].copy()
        first = int(g["year"].iloc[0])
        r["year"] = first
        later = [str(int(y)) for y in g["year"].iloc[1:] if int(y) != first]
        before = [x for x in str(r.get("restated_years", "") or "").split(", ") if x]  # points of points: kept
        r["restated_years"] = ", ".join(dict.fromkeys(before + later))
        rows.append(r)
    out = pd.DataFrame(rows).sort_values("year", kind="stable").reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    return out


def progress(history: pd.DataFrame, target_value: float, target_year: int, comparator: str,
             direction: str, run_date=None) -> Progress:
    """Progress of one target from its official history (columns year, value and, optional,
    publication) on one basis, counted from ``run_date`` (default today)."""
    h = points(history)
    if h.empty:
        return Progress(None, None, None, None, None, None, None, None, None, "no_data")
    run_year = run_date_of(run_date).year
    d = 1.0 if direction == "higher" else -1.0
    target_year = int(target_year)
    ly, lv = int(h["year"].iloc[-1]), float(h["value"].iloc[-1])
    gap = target_value - lv
    years_left = target_year - run_year
    age = run_year - ly
    restated = bool((h["restated_years"] != "").any())
    slope = trend_per_year(h["year"], h["value"])
    met = is_met(lv, target_value, comparator)
    projected = required = ratio = None
    done = h[h["year"] >= target_year]
    if len(done):  # the target year's value (or the first after it) is published
        status = "achieved" if is_met(float(done["value"].iloc[0]), target_value, comparator) else "missed"
    elif years_left < 0:
        status = "year_passed"
    else:
        span = target_year - ly  # ≥ 1 here
        required = gap / span
        projected = lv + slope * span if slope is not None else None
        if met:
            keeps = projected is None or is_met(projected, target_value, comparator)
            status = "on_track" if keeps else "at_risk"
            required = 0.0
        elif slope is None:
            status = "no_trend_restated" if restated else "no_trend"
        elif d * required <= 0:  # not met at zero distance ("> 52.73" at 52.73): the direction decides
            status = "on_track" if d * slope > 0 else "at_risk"
        else:
            ratio = (d * slope) / (d * required)
            status = "on_track" if ratio >= 1.0 else "at_risk" if ratio >= AT_RISK_RATIO else "off_track"
    return Progress(ly, lv, gap, years_left, required, slope, projected, met, ratio, status,
                    age_years=age, stale=age > STALE_YEARS, n_publications=len(h), restated=restated)


# --- one basis of one indicator and region ------------------------------------------------------
def bases(stats: pd.DataFrame, indicator: str, region: str | None = None, usable_only: bool = True) -> list[str]:
    """The bases of an indicator (in one region, or all) progress may use (``usable_only``), the
    default first: a basis holding values a user entered (users' own data wins over the seed),
    else the basis of the latest value (ties: more values)."""
    h = stats[(stats["indicator"] == indicator) & ((stats["region"] == region) if region else True)]
    if usable_only and len(h):
        h = h[usable_mask(h)]
    if h.empty:
        return []
    h = h.assign(_user=(h["origin"] != "seed") if "origin" in h.columns else True)
    order = (h.groupby("basis").agg(user=("_user", "any"), last=("year", "max"), n=("year", "size"))
             .sort_values(["user", "last", "n"], ascending=False, kind="stable"))
    return list(order.index)


def history(stats: pd.DataFrame, indicator: str, region: str, basis: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """The points (``points``) of one usable basis of an indicator in a region (``basis`` when that
    region has it, else the basis of its latest value); sources confirming one year's value are
    merged (the first in file order is cited). Returns (points, basis used)."""
    h = stats[(stats["indicator"] == indicator) & (stats["region"] == region)]
    avail = bases(stats, indicator, region)
    if h.empty or not avail:
        return points(h.iloc[:0].assign(publication=pd.Series(dtype=object))), None
    used = basis if basis in avail else avail[0]
    h = h[h["basis"] == used].sort_values(["year"], kind="stable").drop_duplicates("year", keep="first")
    return points(h.assign(publication=publications(h))), used


def _cite(row, c: str) -> str:
    return "" if row is None or c not in row.index else str(row[c])


def progress_table(targets: pd.DataFrame, stats: pd.DataFrame, basis: dict | None = None, run_date=None) -> pd.DataFrame:
    """One row per target (its own region; prefecture values are in ``reference_table`` unless
    the targets table gives the prefecture a target). ``basis``: indicator → chosen basis (else
    the basis of the latest value); one usable basis per row, never mixed."""
    basis = basis or {}
    day = run_date_of(run_date)
    rows = []
    for t in targets.itertuples(index=False):
        hist, used = history(stats, t.indicator, t.region, basis.get(t.indicator))
        p = progress(hist, float(t.target_value), int(t.target_year), t.comparator, t.direction, day)
        status = p.status
        if status == "no_data":
            own = stats[(stats["indicator"] == t.indicator) & (stats["region"] == t.region)]
            status = "not_comparable" if len(own) else status  # values only on bases it may not use
        last = hist.iloc[-1] if len(hist) else None
        info = basis_info(t.indicator, used) if used is not None else None
        rows.append({
            "indicator": t.indicator, "label_zh": t.label_zh, "label_en": t.label_en,
            "region": t.region, "unit": t.unit, "target_year": int(t.target_year),
            "comparator": t.comparator, "target_value": float(t.target_value), "base_year": t.base_year,
            "direction": t.direction, "target_basis": getattr(t, "basis", ""), "target_basis_en": getattr(t, "basis_en", ""),
            "run_date": day.isoformat(), "years_left": p.years_left if p.years_left is not None else int(t.target_year) - day.year,
            "latest_year": p.latest_year, "latest_value": p.latest_value, "age_years": p.age_years, "stale": p.stale,
            "basis": used or "", "basis_en": info.basis_en if info else "", "basis_verified": info.verified if info else True,
            "n_bases": len(bases(stats, t.indicator, t.region)), "gap": p.gap,
            "required_per_yr": p.required_per_yr, "historical_per_yr": p.historical_per_yr,
            "projected_value": p.projected_value, "pace_ratio": p.pace_ratio, "met": p.met, "status": status,
            "n_points": p.n_publications, "restated_years": _cite(last, "restated_years"),
            "latest_source": _cite(last, "source"), "source_url": _cite(last, "source_url"),
            "source_date": _cite(last, "source_date"), "quote": _cite(last, "quote"), "origin": _cite(last, "origin"),
            "source_clause": t.source_clause,
        })
    return pd.DataFrame(rows)


def reference_table(targets: pd.DataFrame, stats: pd.DataFrame, run_date=None) -> pd.DataFrame:
    """Values shown for reference, never measured against a target (no status, no gap): the
    latest point of each (indicator, region, basis) that is a prefecture's without a target of its
    own, or on a basis the target may not use (``kind`` = the basis's use). Indicators in the
    targets table's order, the province first."""
    day = run_date_of(run_date)
    own = set(zip(targets["indicator"], targets["region"]))
    labels = targets.drop_duplicates("indicator").set_index("indicator")
    rows = []
    for ind in dict.fromkeys(targets["indicator"]):
        s = stats[stats["indicator"] == ind]
        groups = sorted(s.groupby(["region", "basis"]), key=lambda kv: (kv[0][0] != PROVINCE, kv[0][0], kv[0][1]))
        for (region, b), g in groups:
            info = basis_info(ind, b)
            if info.usable and (ind, region) in own:
                continue  # measured in the progress table
            g = g.sort_values("year", kind="stable").drop_duplicates("year", keep="first")
            last = points(g.assign(publication=publications(g))).iloc[-1]
            kind = "prefecture" if info.usable else info.use
            reason = PREFECTURE_REASON if info.usable else (info.reason_zh, info.reason_en)
            age = day.year - int(last["year"])
            rows.append({
                "indicator": ind, "label_zh": labels.loc[ind, "label_zh"], "label_en": labels.loc[ind, "label_en"],
                "region": region, "kind": kind, "basis": b, "basis_en": info.basis_en, "basis_verified": info.verified,
                "year": int(last["year"]), "value": float(last["value"]),
                "unit": labels.loc[ind, "unit"].split(" vs ")[0] if kind == "other_base" else labels.loc[ind, "unit"],
                "run_date": day.isoformat(), "age_years": age, "stale": age > STALE_YEARS,
                "restated_years": last["restated_years"], "reason_zh": reason[0], "reason_en": reason[1],
                "latest_source": _cite(last, "source"), "source_url": _cite(last, "source_url"),
                "source_date": _cite(last, "source_date"), "quote": _cite(last, "quote"), "origin": _cite(last, "origin"),
            })
    cols = ["indicator", "label_zh", "label_en", "region", "kind", "basis", "basis_en", "basis_verified", "year", "value",
            "unit", "run_date", "age_years", "stale", "restated_years", "reason_zh", "reason_en", "latest_source",
            "source_url", "source_date", "quote", "origin"]
    return pd.DataFrame(rows, columns=cols)


def trajectory(targets: pd.DataFrame, stats: pd.DataFrame, indicator: str, region: str,
               basis: str | None = None) -> dict:
    """Series for a trajectory chart of one usable basis (``history``): its points, the targets,
    the required path from the latest point to each later target (straight line), and the trend
    line (two publications or more). ``out["basis"]`` names the basis used."""
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

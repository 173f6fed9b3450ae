"""Multi-criteria siting of candidate parks: criteria and their directions, normalise, weight, rank,
exclude. How robust a ranking is: ``siting_sensitivity`` (one weight moved ±10%) and
``siting_stability`` (Monte Carlo of weights and carbon densities).

Pure functions on the engine's DataFrame (``indicators.engine.compute_parks``), no Streamlit::

    crit = default_criteria(df)                       # criteria present in this run
    ranked = rank(df, {"carbon_at_stake_tc_per_ha": 2, "dist_railway_km": 1}, crit)
    ranked.attrs["weights"]                           # the weights, normalised to sum 1
    changes = siting_sensitivity.sensitivity(df, weights, delta=0.10)  # ranks that move when a weight moves ±10%

Method (stated so a 发改委 reviewer can redo it by hand):

* **Normalisation**: min–max per criterion over the parks being ranked (the *feasible* parks:
  red-line-excluded parks do not stretch the ranges of the others), oriented by the siting
  direction so that 1 = best, 0 = worst. A criterion with the same value for every park gives
  1.0 to all of them (it cannot discriminate; listed in ``attrs["constant"]``). A missing value
  (NaN, e.g. no road layer near the park or no land-cover data) scores 0 = worst and is flagged
  in the ``missing`` column.
* **Score** = Σ weight × normalised value, weights normalised to sum 1: score in 0–1.
* **Rank**: 1 = best; equal scores (to 1e-9) share a rank ("1, 1, 3").
* **Hard rule**: any red-line overlap > 0 excludes the park (rank NaN, reason in zh/en, listed
  after the ranked parks).

The map's vegetated share is not a siting criterion: it is not the admission checklist's greening
coverage (entered per park on the Checklist page), and whether vegetation already on a site counts
for it (a greener park) or against it (vegetation lost to building) is left to the siting
redesign; until then it is neither a default criterion nor rankable (direction 0 in the table).
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from indicators import table
from indicators.exclusions import INSIDE_KINDS
from indicators.siting_value import LINEAR, ValueFunction
from core.errors import InputError
from core.text import Text

# Default criteria, in display order. Transport distances: every kind of the indicator table;
# ``default_criteria(df)`` keeps the ones present in a run.
CRITERIA: tuple[str, ...] = (
    "carbon_at_stake_tc_per_ha",
    "carbon_sink_tco2_ha_yr",
    *(f"dist_{k}_km" for k in table.TRANSPORT_KINDS),
    "redline_overlap_pct",
    # present when the run has the criterion inputs (a DEM, grid layers, exclusion layers)
    "slope_mean_deg",
    *(f"dist_{k}_km" for k in table.GRID_KINDS),
    *(f"excl_{k}_dist_km" for k in table.EXCLUSION_KINDS if k != "urban_boundary"),  # parks belong inside that one
)

# Why each default criterion points the way it does: one line each, shown on the Siting page and in
# docs/methods.md. The carbon criteria are per hectare (a park's size must not decide) and both are
# what building on the site puts at stake, so the same vegetated hectare counts against a site once
# in each of stock and sink, never for it in one and against it in the other.
RATIONALE: dict[str, tuple[str, str]] = {
    "carbon_at_stake_tc_per_ha": ("建园会释放的碳（生物量、枯落物与表层土壤碳的流失部分），按公顷计：越低越好。",
                                  "Carbon a park built here would release (biomass, dead matter, the lost share of "
                                  "topsoil carbon), per hectare: lower is better."),
    "carbon_sink_tco2_ha_yr": ("未开发土地每公顷每年的碳汇，建园后随之失去：越低越好（不作为收益）。",
                               "The yearly sink of the undeveloped land per hectare, lost when the park is built: "
                               "lower is better (not a benefit)."),
    **{f"dist_{k}_km": ("到交通设施的距离：越近，运输与建设成本越低，越好。",
                        "Distance to transport: nearer means lower transport and construction cost, better.")
       for k in table.TRANSPORT_KINDS},
    "redline_overlap_pct": ("与生态保护红线重叠的比例：任何重叠即排除；作为准则时越低越好。",
                            "Share of the park on the ecological red line: any overlap excludes; as a criterion, "
                            "lower is better."),
    "slope_mean_deg": ("平均坡度：越陡，场地平整与建设成本越高，越低越好。",
                       "Mean slope: steeper means costlier site works, lower is better."),
    **{f"dist_{k}_km": ("到电网设施的距离：越近，接入绿电越便宜，越好。",
                        "Distance to the grid: nearer means cheaper access to green power, better.")
       for k in table.GRID_KINDS},
    **{f"excl_{k}_dist_km": ("到排除区（已排除重叠者）的距离：越远，对保护地的影响越小，越好。",
                             "Distance to an exclusion area (overlapping parks are excluded): farther means less "
                             "pressure on protected land, better.") for k in table.EXCLUSION_KINDS
       if k != "urban_boundary"},
}

# Siting direction (+1 higher is better, -1 lower is better) where it differs from the
# indicator table's direction. The default carbon criterion is carbon AT STAKE per hectare (what
# building releases: biomass, dead matter and the lost share of the topsoil carbon; lower is
# better in the table too), not the whole 0–100 cm stock, and per hectare so that park size does
# not decide. A user who picks the stock itself as a criterion gets it as lower-is-better as well:
# for siting it is what is put at risk. The sink keeps the table's +1 (a site that already has it is
# preferred); distances and red-line overlap: -1 in both. The vegetated share (map) is left out of
# the criteria until the siting redesign decides its direction (see the module docstring).
SITING_DIRECTION_OVERRIDES: dict[str, int] = {
    "carbon_stock_tc": -1,
    "carbon_stock_tco2e": -1,
    **{f"carbon_{p}_tc": -1 for p in table.POOLS},
    "carbon_sink_tco2_yr": -1,  # the undeveloped land's sink is lost when the park is built
}
UNKNOWN_POLICIES = ("set-aside", "drop-criterion")

_REASON_OVERRIDE = {
    "zh": "碳储量与碳汇为选址“受威胁”的量：建设会使其释放或失去，故选址时越低越好（指标表中作为生态价值越高越好）。",
    "en": "Carbon stock and sink are what a park puts at stake: lower is better for siting (the indicator table "
          "rates them as an ecosystem value, higher is better).",
}

# Labels of the columns this module adds (for tables, Excel headers and the report).
COLUMN_LABELS: dict[str, tuple[str, str, str]] = {  # id -> (zh, en, unit)
    "score": ("综合得分", "Score", "0–1"),
    "rank": ("排名", "Rank", ""),
    "excluded": ("已排除", "Excluded", ""),
    "exclusion_reason_zh": ("排除原因", "Exclusion reason (zh)", ""),
    "exclusion_reason_en": ("排除原因（英文）", "Exclusion reason", ""),
    "missing": ("缺失指标", "Missing criteria", ""),
    "cannot_rank_on": ("无法排序（准则值未知）", "Cannot rank on (unknown)", ""),
    "excluded_because": ("排除依据", "Excluded because", ""),
    "criterion": ("准则", "Criterion", ""),
    "criterion_label_zh": ("准则名称", "Criterion (zh)", ""),
    "criterion_label_en": ("准则名称（英文）", "Criterion", ""),
    "change": ("权重变化", "Weight change", ""),
    "weight_from": ("原权重", "Weight before", ""),
    "weight_to": ("新权重", "Weight after", ""),
    "rank_from": ("原排名", "Rank before", ""),
    "rank_to": ("新排名", "Rank after", ""),
    # the rank stability columns (``siting_stability.rank_stability``)
    "rank_min": ("最好排名（模拟）", "Best rank (simulated)", ""),
    "rank_max": ("最差排名（模拟）", "Worst rank (simulated)", ""),
    "same_rank_pct": ("保持原排名的比例", "Same rank in draws", "%"),
    "stable": ("排名稳定", "Rank stable", ""),
}

TIE_DECIMALS = 9


# --- criteria and directions -------------------------------------------------------------------
def default_criteria(df: pd.DataFrame) -> list[str]:
    """The criteria of ``CRITERIA`` and the ranked columns of declared inputs (``layers.inputs``:
    a distance, a raster criterion) present in ``df`` with at least one value."""
    declared = [c for c, ind in table.measured().items() if ind.direction]
    return [c for c in (*CRITERIA, *declared)
            if c in df.columns and pd.to_numeric(df[c], errors="coerce").notna().any()]


def direction(criterion: str) -> int:
    """Siting direction of a criterion: the table's, unless overridden for siting (see above)."""
    if criterion in SITING_DIRECTION_OVERRIDES:
        return SITING_DIRECTION_OVERRIDES[criterion]
    ind = table.BY_ID.get(criterion) or table.measured().get(criterion)
    if ind is None or ind.direction == 0:
        raise InputError(f"{criterion!r} 不是可排序的指标（指标表中没有方向）",
                         f"{criterion!r} is not a rankable indicator (no direction in the indicator table)")
    return ind.direction


def directions_frame(criteria: Iterable[str] = CRITERIA) -> pd.DataFrame:
    """id, labels, unit, table direction, siting direction and why they differ (for the UI)."""
    rows = []
    for c in criteria:
        ind = table.get(c)
        d = direction(c)
        why = RATIONALE.get(c, ("", ""))
        rows.append({"id": c, "label_zh": ind.label_zh, "label_en": ind.label_en, "unit": ind.unit,
                     "table_direction": ind.direction, "siting_direction": d,
                     "note_zh": why[0] or (_REASON_OVERRIDE["zh"] if d != ind.direction else ""),
                     "note_en": why[1] or (_REASON_OVERRIDE["en"] if d != ind.direction else "")})
    return pd.DataFrame(rows)


def _check_criteria(df: pd.DataFrame, criteria) -> list[str]:
    criteria = list(default_criteria(df) if criteria is None else criteria)
    if not criteria:
        raise InputError("没有可用的选址准则（受威胁碳量、碳汇、交通距离、红线）",
                         "no siting criterion available (carbon at stake, sink, distances, red line)")
    if len(set(criteria)) != len(criteria):
        raise InputError(f"准则重复：{criteria}", f"criteria repeated: {criteria}")
    absent = [c for c in criteria if c not in df.columns]
    if absent:
        raise InputError(f"园区指标表中没有这些准则：{absent}", f"criteria not in the park table: {absent}")
    for c in criteria:
        direction(c)  # raises for unrankable columns
    return criteria


# --- normalisation -----------------------------------------------------------------------------
def normalise(df: pd.DataFrame, criteria: Iterable[str] | None = None,
              directions: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Min–max normalised criteria, 0 = worst … 1 = best, same index as ``df``.

    Constant criterion (one distinct value, or only one park with a value): 1.0 for every park
    with a value; ids listed in ``attrs["constant"]``. NaN: 0.0 (worst), park ids listed per
    criterion in ``attrs["missing"]`` ({criterion: [park_id, ...]}).
    """
    criteria = _check_criteria(df, criteria)
    directions = dict(directions or {})
    out = pd.DataFrame(index=df.index)
    constant, missing = [], {}
    ids = park_ids(df)
    for c in criteria:
        d = directions.get(c, direction(c))
        if d not in (1, -1):
            raise InputError(f"{c!r} 的方向须为 +1 或 -1，而非 {d!r}", f"direction of {c!r} must be +1 or -1, not {d!r}")
        x = pd.to_numeric(df[c], errors="coerce").astype("float64").to_numpy()
        nan = np.isnan(x)
        if nan.all():
            n = np.zeros(len(x))
        else:
            lo, hi = np.nanmin(x), np.nanmax(x)
            span = hi - lo
            if not span > 0 or span <= 1e-12 * max(abs(lo), abs(hi)):
                n = np.ones(len(x))
                constant.append(c)
            else:
                n = (x - lo) / span if d > 0 else (hi - x) / span
        n = np.where(nan, 0.0, np.clip(n, 0.0, 1.0))
        if nan.any():
            missing[c] = [ids[i] for i in np.flatnonzero(nan)]
        out[c] = n
    out.attrs = {"constant": constant, "missing": missing}
    return out


def normalise_weights(weights: Mapping[str, float], criteria: Iterable[str]) -> dict[str, float]:
    """Weights for ``criteria`` (absent = 0) scaled to sum 1. Negative, non-finite or unknown → InputError."""
    criteria = list(criteria)
    unknown = [k for k in weights if k not in criteria]
    if unknown:
        raise InputError(f"以下权重对应的准则未使用：{unknown}（准则：{criteria}）",
                         f"weights given for criteria not in use: {unknown} (criteria: {criteria})")
    w = {}
    for c in criteria:
        try:
            v = float(weights.get(c, 0.0))
        except (TypeError, ValueError):
            raise InputError(f"{c!r} 的权重不是数字：{weights.get(c)!r}",
                             f"weight of {c!r} is not a number: {weights.get(c)!r}") from None
        if not math.isfinite(v) or v < 0:
            raise InputError(f"{c!r} 的权重须为不小于 0 的有限数，而非 {v}",
                             f"weight of {c!r} must be a finite number ≥ 0, not {v}")
        w[c] = v
    total = sum(w.values())
    if total <= 0:
        raise InputError("所有权重均为零：请至少给一个准则赋权",
                         "all weights are zero: give at least one criterion a weight")
    return {c: v / total for c, v in w.items()}


# --- ranking -----------------------------------------------------------------------------------
def park_ids(df: pd.DataFrame) -> list[str]:
    if "park_id" in df.columns:
        return [str(v) for v in df["park_id"]]
    return [str(v) for v in df.index]


def _fmt(x: float) -> str:
    """Overlap figures: 2 decimals, more for tiny overlaps so they never read as 0.00."""
    if x == 0 or abs(x) >= 0.01:
        return f"{x:,.2f}"
    return f"{x:.2g}"


def redline_exclusions(df: pd.DataFrame, exclude_redline: bool):
    n = len(df)
    excluded = np.zeros(n, dtype=bool)
    zh, en = [""] * n, [""] * n
    if not exclude_redline or not ({"redline_overlap_km2", "redline_overlap_pct"} & set(df.columns)):
        return excluded, zh, en
    km2 = pd.to_numeric(df.get("redline_overlap_km2", pd.Series(np.nan, index=df.index)), errors="coerce").to_numpy(float)
    pct = pd.to_numeric(df.get("redline_overlap_pct", pd.Series(np.nan, index=df.index)), errors="coerce").to_numpy(float)
    for i in range(n):
        if np.nan_to_num(km2[i]) > 0 or np.nan_to_num(pct[i]) > 0:
            excluded[i] = True
            a = "?" if np.isnan(km2[i]) else _fmt(km2[i])
            p = "?" if np.isnan(pct[i]) else _fmt(pct[i])
            zh[i] = f"与生态保护红线重叠 {a} km²（占园区面积 {p}%）：任何重叠即排除"
            en[i] = f"overlaps the ecological protection red line by {a} km² ({p}% of the park): any overlap excludes"
    return excluded, zh, en


def rank(df: pd.DataFrame, weights: Mapping[str, float], criteria: Iterable[str] | None = None,
         exclude_redline: bool = True, directions: Mapping[str, int] | None = None, unknown: str = "set-aside",
         value_functions: Mapping[str, ValueFunction] | None = None) -> pd.DataFrame:
    """Weighted ranking of parks; see the module docstring for the method.

    Unknowns are never neutral (``unknown``): ``set-aside`` — a park with no value on a weighted
    criterion is not ranked ("cannot rank on X", listed after the ranked parks); ``drop-criterion``
    — a weighted criterion unknown for any park in the running is dropped for every park (the other
    weights renormalised; ``attrs["dropped"]``). ``value_functions``: criterion → ``ValueFunction``
    (default linear min–max over the ranked parks).

    Returns one row per park: park_id, name, score (0–1), rank (1 = best, ties share; NaN when
    excluded or set aside), excluded, excluded_because, exclusion_reason_zh/_en, cannot_rank_on,
    missing (criteria with no value, "; "-joined), then per criterion ``norm_<c>`` (0–1),
    ``contrib_<c>`` (weight × value; sums to the score) and the raw values. Ranked parks come first
    (best first), then the parks set aside, then the excluded ones. ``attrs``: weights (normalised,
    sum 1, after any drop), criteria, directions, constant, missing, dropped, unknown,
    value_functions, rankable (park ids).
    """
    if unknown not in UNKNOWN_POLICIES:
        raise InputError(f"未知值处理方式须为 {UNKNOWN_POLICIES} 之一", f"unknown must be one of {UNKNOWN_POLICIES}")
    criteria = _check_criteria(df, criteria)
    w = normalise_weights(weights, criteria)
    vfs = dict(value_functions or {})
    if unknown_vf := [c for c in vfs if c not in criteria]:
        raise InputError(f"以下价值函数对应的准则未使用：{unknown_vf}", f"value functions for criteria not in use: {unknown_vf}")
    df = df.reset_index(drop=True)
    n = len(df)
    excluded, why_zh, why_en = redline_exclusions(df, exclude_redline)
    because = [["redline"] if e else [] for e in excluded]
    if exclude_redline:  # the exclusion layers in the run (layers/inputs.py --exclusion): a conflict excludes
        for col in [c for c in df.columns if str(c).startswith("excl_") and str(c).endswith("_verdict")]:
            kind = col[len("excl_"):-len("_verdict")]
            label = table.EXCLUSION_KINDS.get(kind, Text(kind, kind))
            for i in np.flatnonzero(df[col].astype(str).to_numpy() == "conflict"):
                excluded[i] = True
                because[i].append(kind)
                v = pd.to_numeric(df[f"excl_{kind}_overlap_pct"], errors="coerce").iloc[i] \
                    if f"excl_{kind}_overlap_pct" in df.columns else np.nan
                if kind in INSIDE_KINDS:  # the urban development boundary: the part outside it conflicts
                    share = "?" if np.isnan(v) else _fmt(100.0 - float(v))
                    zh, en = (f"位于{label.zh}之外（园区 {share}% 在边界外）：排除",
                              f"outside the {label.en} ({share}% of the park): excluded")
                else:
                    share = "?" if np.isnan(v) else _fmt(float(v))
                    zh, en = f"与{label.zh}重叠（占园区面积 {share}%）：排除", f"overlaps the {label.en} ({share}% of the park): excluded"
                why_zh[i] = "；".join(filter(None, [why_zh[i], zh]))
                why_en[i] = "; ".join(filter(None, [why_en[i], en]))
    raw = {c: pd.to_numeric(df[c], errors="coerce").astype("float64").to_numpy() for c in criteria}
    weighted = [c for c in criteria if w[c] > 0]
    dropped = []
    if unknown == "drop-criterion":
        dropped = [c for c in weighted if np.isnan(raw[c][~excluded]).any()]
        if weighted and len(dropped) == len(weighted):
            raise InputError(f"每个有权重的准则都有园区缺值（{dropped}）：无法排序，请改为“搁置园区”",
                             f"every weighted criterion is unknown for some park ({dropped}): nothing to rank on; "
                             "set the parks aside instead")
        if dropped:
            w = normalise_weights({c: v for c, v in w.items() if c not in dropped}, criteria)
    cannot = [[c for c in weighted if c not in dropped and np.isnan(raw[c][i])] for i in range(n)]
    rankable = ~excluded & np.array([not m for m in cannot], dtype=bool)
    dirs = {c: int((directions or {}).get(c, direction(c))) for c in criteria}
    norm = pd.DataFrame(np.nan, index=df.index, columns=criteria)
    constant = []
    for c in criteria:
        if dirs[c] not in (1, -1):
            raise InputError(f"{c!r} 的方向须为 +1 或 -1，而非 {dirs[c]!r}", f"direction of {c!r} must be +1 or -1, "
                             f"not {dirs[c]!r}")
        vf = vfs.get(c, LINEAR)
        if rankable.any():
            norm.loc[rankable, c] = vf.apply(raw[c][rankable], dirs[c])
            if vf.constant_for(raw[c][rankable]):
                constant.append(c)
    contrib = norm.fillna(0.0).mul(pd.Series(w)).where(pd.Series(rankable, index=df.index), np.nan, axis=0)
    score = contrib.sum(axis=1, min_count=1).where(rankable)

    ids = park_ids(df)
    out = pd.DataFrame({"park_id": ids, "name": df["name"].fillna("").astype(str) if "name" in df.columns else ""})
    out["score"] = score.to_numpy()
    out["rank"] = score.round(TIE_DECIMALS).rank(method="min", ascending=False).to_numpy()
    out["excluded"] = excluded
    out["excluded_because"] = ["; ".join(b) for b in because]
    out["exclusion_reason_zh"], out["exclusion_reason_en"] = why_zh, why_en
    out["cannot_rank_on"] = ["" if excluded[i] else "; ".join(cannot[i]) for i in range(n)]
    out["missing"] = ["; ".join(c for c in criteria if np.isnan(raw[c][i])) for i in range(n)]
    for c in criteria:
        out[f"norm_{c}"] = norm[c].where(rankable).to_numpy()
    for c in criteria:
        out[f"contrib_{c}"] = contrib[c].to_numpy()
    for c in criteria:
        out[c] = df[c].to_numpy()
    # ranked parks best first (equal scores: input order), then those set aside, then the excluded
    group = np.where(rankable, 0, np.where(excluded, 2, 1))
    key = pd.DataFrame({"g": group, "s": -out["rank"].fillna(0).to_numpy(), "o": np.arange(n)})
    out = out.iloc[key.sort_values(["g", "s", "o"], ascending=[True, False, True]).index].reset_index(drop=True)
    missing = {c: [ids[i] for i in np.flatnonzero(np.isnan(raw[c]) & ~excluded)] for c in criteria}
    out.attrs = {"weights": w, "criteria": criteria, "directions": dirs, "constant": constant,
                 "missing": {c: v for c, v in missing.items() if v}, "dropped": dropped, "unknown": unknown,
                 "value_functions": {c: vfs.get(c, LINEAR).text() for c in criteria},
                 "rankable": [ids[i] for i in np.flatnonzero(rankable)], "exclude_redline": bool(exclude_redline)}
    return out

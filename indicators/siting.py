"""Multi-criteria siting of candidate parks: normalise, weight, rank, exclude, test sensitivity.

Pure functions on the engine's DataFrame (``indicators.engine.compute_parks``), no Streamlit::

    crit = default_criteria(df)                       # criteria present in this run
    ranked = rank(df, {"carbon_at_stake_tc_per_ha": 2, "dist_railway_km": 1}, crit)
    ranked.attrs["weights"]                           # the weights, normalised to sum 1
    changes = sensitivity(df, weights, delta=0.10)    # which ranks move when a weight moves ±10%

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
from core.errors import InputError

# Default criteria, in display order. Transport distances: every kind of the indicator table;
# ``default_criteria(df)`` keeps the ones present in a run.
CRITERIA: tuple[str, ...] = (
    "carbon_at_stake_tc_per_ha",
    "carbon_sink_tco2_yr",
    *(f"dist_{k}_km" for k in table.TRANSPORT_KINDS),
    "redline_overlap_pct",
)

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
}

_REASON_OVERRIDE = {
    "zh": "碳储量为选址“受威胁”的量：建设会使其面临释放风险，故选址时越低越好（指标表中作为生态价值越高越好）。",
    "en": "Carbon stock is what a park puts at stake: lower is better for siting (the indicator table rates it as "
          "an ecosystem value, higher is better).",
}

# Labels of the columns this module adds (for tables, Excel headers and the report).
COLUMN_LABELS: dict[str, tuple[str, str, str]] = {  # id -> (zh, en, unit)
    "score": ("综合得分", "Score", "0–1"),
    "rank": ("排名", "Rank", ""),
    "excluded": ("已排除", "Excluded", ""),
    "exclusion_reason_zh": ("排除原因", "Exclusion reason (zh)", ""),
    "exclusion_reason_en": ("排除原因（英文）", "Exclusion reason", ""),
    "missing": ("缺失指标", "Missing criteria", ""),
    "criterion": ("准则", "Criterion", ""),
    "criterion_label_zh": ("准则名称", "Criterion (zh)", ""),
    "criterion_label_en": ("准则名称（英文）", "Criterion", ""),
    "change": ("权重变化", "Weight change", ""),
    "weight_from": ("原权重", "Weight before", ""),
    "weight_to": ("新权重", "Weight after", ""),
    "rank_from": ("原排名", "Rank before", ""),
    "rank_to": ("新排名", "Rank after", ""),
}

_TIE_DECIMALS = 9


# --- criteria and directions -------------------------------------------------------------------
def default_criteria(df: pd.DataFrame) -> list[str]:
    """The criteria of ``CRITERIA`` present in ``df`` with at least one value."""
    return [c for c in CRITERIA if c in df.columns and pd.to_numeric(df[c], errors="coerce").notna().any()]


def direction(criterion: str) -> int:
    """Siting direction of a criterion: the table's, unless overridden for siting (see above)."""
    if criterion in SITING_DIRECTION_OVERRIDES:
        return SITING_DIRECTION_OVERRIDES[criterion]
    ind = table.BY_ID.get(criterion)
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
        rows.append({"id": c, "label_zh": ind.label_zh, "label_en": ind.label_en, "unit": ind.unit,
                     "table_direction": ind.direction, "siting_direction": d,
                     "note_zh": _REASON_OVERRIDE["zh"] if d != ind.direction else "",
                     "note_en": _REASON_OVERRIDE["en"] if d != ind.direction else ""})
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
    ids = _ids(df)
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
def _ids(df: pd.DataFrame) -> list[str]:
    if "park_id" in df.columns:
        return [str(v) for v in df["park_id"]]
    return [str(v) for v in df.index]


def _fmt(x: float) -> str:
    """Overlap figures: 2 decimals, more for tiny overlaps so they never read as 0.00."""
    if x == 0 or abs(x) >= 0.01:
        return f"{x:,.2f}"
    return f"{x:.2g}"


def _exclusions(df: pd.DataFrame, exclude_redline: bool):
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
         exclude_redline: bool = True, directions: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Weighted ranking of parks; see the module docstring for the method.

    Returns one row per park: park_id, name, score (0–1), rank (1 = best, ties share; NaN when
    excluded), excluded, exclusion_reason_zh/_en, missing
    (criteria with no value, "; "-joined), then per criterion ``norm_<c>`` (0–1) and
    ``contrib_<c>`` (weight × normalised; sums to the score) and the raw criterion values.
    Ranked parks come first (best first), excluded parks after. ``attrs``: weights (normalised,
    sum 1), criteria, directions, constant, missing.
    """
    criteria = _check_criteria(df, criteria)
    w = normalise_weights(weights, criteria)
    df = df.reset_index(drop=True)
    excluded, why_zh, why_en = _exclusions(df, exclude_redline)
    feasible = ~excluded
    norm = pd.DataFrame(0.0, index=df.index, columns=criteria)
    attrs = {"constant": [], "missing": {}}
    if feasible.any():
        nf = normalise(df.loc[feasible], criteria, directions)
        norm.loc[feasible, criteria] = nf[criteria].to_numpy()
        attrs = nf.attrs
    contrib = norm.mul(pd.Series(w))
    score = contrib.sum(axis=1).where(feasible)

    out = pd.DataFrame({"park_id": _ids(df), "name": df["name"].fillna("").astype(str) if "name" in df.columns else ""})
    out["score"] = score.to_numpy()
    out["rank"] = score.round(_TIE_DECIMALS).rank(method="min", ascending=False).to_numpy()
    out["excluded"] = excluded
    out["exclusion_reason_zh"], out["exclusion_reason_en"] = why_zh, why_en
    miss = [[] for _ in range(len(df))]
    for c in criteria:
        for i in np.flatnonzero(pd.to_numeric(df[c], errors="coerce").isna().to_numpy()):
            miss[i].append(c)
    out["missing"] = ["; ".join(m) for m in miss]
    for c in criteria:
        out[f"norm_{c}"] = norm[c].where(feasible).to_numpy()
    for c in criteria:
        out[f"contrib_{c}"] = contrib[c].where(feasible).to_numpy()
    for c in criteria:
        out[c] = df[c].to_numpy()
    # ranked parks best first (equal scores: input order), then the excluded ones in input order
    key = pd.DataFrame({"x": excluded, "s": -out["rank"].fillna(0).to_numpy(), "o": np.arange(len(out))})
    out = out.iloc[key.sort_values(["x", "s", "o"], ascending=[True, False, True]).index].reset_index(drop=True)
    dirs = {c: int((directions or {}).get(c, direction(c))) for c in criteria}
    out.attrs = {"weights": w, "criteria": criteria, "directions": dirs,
                 "constant": list(attrs.get("constant", [])), "missing": dict(attrs.get("missing", {})),
                 "exclude_redline": bool(exclude_redline)}
    return out


# --- sensitivity -------------------------------------------------------------------------------
def perturb_weights(weights: Mapping[str, float], criterion: str, delta: float,
                    mode: str = "relative") -> dict[str, float]:
    """Weights (normalised) with ``criterion`` moved by ``delta`` and the others rescaled to sum 1.

    mode "relative": w' = w × (1 + delta) (delta=+0.10 → +10% of its weight);
    mode "absolute": w' = w + delta (percentage points of the total). w' is clipped to [0, 1];
    the other weights keep their proportions (equal shares if they were all zero).
    """
    w = dict(weights)
    total = sum(w.values())
    w = {k: v / total for k, v in w.items()}
    if mode == "relative":
        new = w[criterion] * (1 + delta)
    elif mode == "absolute":
        new = w[criterion] + delta
    else:
        raise InputError(f"mode 须为 'relative' 或 'absolute'，而非 {mode!r}",
                         f"mode must be 'relative' or 'absolute', not {mode!r}")
    new = min(max(new, 0.0), 1.0)
    others = [k for k in w if k != criterion]
    rest = sum(w[k] for k in others)
    out = {criterion: new}
    for k in others:
        out[k] = (1 - new) * (w[k] / rest if rest > 0 else 1 / len(others))
    if not others:
        out[criterion] = 1.0
    return out


def sensitivity(df: pd.DataFrame, weights: Mapping[str, float], delta: float = 0.10,
                criteria: Iterable[str] | None = None, exclude_redline: bool = True,
                mode: str = "relative",
                directions: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Which parks change rank when one criterion's weight moves by ±``delta``.

    For each criterion and sign, the weight is perturbed (``perturb_weights``: by default ±10% of
    its own value, others renormalised) and the parks re-ranked. One row per park whose rank
    changes: criterion, criterion_label_zh/_en, change ("+10%"), delta, weight_from, weight_to,
    park_id, name, rank_from, rank_to. Empty frame (same columns) when the ranking is stable.
    ``attrs["tested"]``: every (criterion, delta) tried.
    """
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise InputError(f"变化幅度须在 0 与 1 之间（0.10 = 10%），而非 {delta!r}",
                         f"delta must be between 0 and 1 (0.10 = 10%), not {delta!r}")
    base = rank(df, weights, criteria, exclude_redline, directions)
    criteria = base.attrs["criteria"]
    w0 = base.attrs["weights"]
    before = dict(zip(base["park_id"], base["rank"]))
    names = dict(zip(base["park_id"], base["name"]))
    rows, tested = [], []
    for c in criteria:
        for sign in (+1, -1):
            d = sign * delta
            w1 = perturb_weights(w0, c, d, mode)
            tested.append((c, d))
            if all(abs(w1[k] - w0[k]) < 1e-15 for k in w0):
                continue
            after = rank(df, w1, criteria, exclude_redline, directions)
            ind = table.get(c)
            label = f"{sign * delta * 100:+g}%" if mode == "relative" else f"{sign * delta * 100:+g} pp"
            for pid, r1 in zip(after["park_id"], after["rank"]):
                r0 = before[pid]
                if (np.isnan(r0) and np.isnan(r1)) or r0 == r1:
                    continue
                rows.append({"criterion": c, "criterion_label_zh": ind.label_zh, "criterion_label_en": ind.label_en,
                             "change": label, "delta": d, "weight_from": w0[c], "weight_to": w1[c],
                             "park_id": pid, "name": names[pid], "rank_from": r0, "rank_to": r1})
    cols = ["criterion", "criterion_label_zh", "criterion_label_en", "change", "delta", "weight_from",
            "weight_to", "park_id", "name", "rank_from", "rank_to"]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs = {"tested": tested, "weights": w0, "mode": mode, "delta": delta}
    return out


# --- rank stability (issue 13): Monte Carlo of weights and carbon densities ----------------------
MC_DRAWS = 2000
MC_SEED = 13
MC_WEIGHT_SPREAD = 0.10  # each weight × U(1 − 0.10, 1 + 0.10), renormalised (the ±10% of ``sensitivity``)
STABLE_SHARE = 0.90  # a park is "stable" when it keeps its rank in at least 90% of the draws
COLUMN_LABELS.update({
    "rank_min": ("最好排名（模拟）", "Best rank (simulated)", ""),
    "rank_max": ("最差排名（模拟）", "Worst rank (simulated)", ""),
    "same_rank_pct": ("保持原排名的比例", "Same rank in draws", "%"),
    "stable": ("排名稳定", "Rank stable", ""),
})


def class_ranges(pools: pd.DataFrame, legend, what: str = "stock") -> pd.DataFrame:
    """Per canonical class: low, central, high density (t C/ha), the mean over the class's codes in
    a pools table of ``indicators.carbon.load_pools``: ``what`` = ``stock`` (the four pools,
    ranges c_low/c_high) or ``at_stake`` (at_stake_low/at_stake/at_stake_high)."""
    from indicators.carbon import POOL_COLUMNS

    t = pools.copy()
    if what == "at_stake" and "at_stake" in t.columns:
        t["central"], t["low"], t["high"] = t["at_stake"], t["at_stake_low"], t["at_stake_high"]
    else:
        t["central"] = t[list(POOL_COLUMNS)].sum(axis=1)
        t["low"] = t["c_low"] if "c_low" in t.columns else t["central"]
        t["high"] = t["c_high"] if "c_high" in t.columns else t["central"]
    t["cls"] = [legend.class_of(int(c)) for c in t.index]
    return t.dropna(subset=["cls"]).groupby("cls")[["low", "central", "high"]].mean()


def rate_ranges(rates: pd.DataFrame) -> pd.DataFrame:
    """Per class: low, central, high sink rate (t CO2/ha/yr) of ``indicators.carbon.load_sink_rates``."""
    c = rates["rate_tco2_ha_yr"]
    return pd.DataFrame({"low": rates.get("rate_low", c), "central": c, "high": rates.get("rate_high", c)})


def _triangular(rng, rr: pd.DataFrame, n: int) -> pd.DataFrame:
    """n draws per class from triangular(low, central, high) (a constant where low = high)."""
    out = {}
    for cls, r in rr.iterrows():
        lo, mid, hi = float(r["low"]), float(r["central"]), float(r["high"])
        u = rng.random(n)
        if hi - lo <= 0:
            out[cls] = np.full(n, mid)
            continue
        f = (mid - lo) / (hi - lo)
        out[cls] = np.where(u < f, lo + np.sqrt(u * (hi - lo) * (mid - lo)),
                            hi - np.sqrt((1 - u) * (hi - lo) * (hi - mid)))
    return pd.DataFrame(out)


def _scaled(df: pd.DataFrame, col: str, ranges: pd.DataFrame | None, draws: pd.DataFrame | None) -> np.ndarray | None:
    """(D, P) draws of ``col`` = its value × Σ_c A_c d_c / Σ_c A_c central_c (class areas ``lc_<c>_km2``)."""
    if ranges is None or draws is None or col not in df.columns:
        return None
    classes = [c for c in ranges.index if f"lc_{c}_km2" in df.columns]
    if not classes:
        return None
    area = df[[f"lc_{c}_km2" for c in classes]].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy() * 100.0
    central = area @ ranges.loc[classes, "central"].to_numpy()  # (P,) t
    drawn = draws[classes].to_numpy() @ area.T  # (D, P)
    base = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(central > 0, drawn / np.where(central > 0, central, 1.0), 1.0)
        direct = np.where(central > 0, base * ratio, drawn)
    return np.where(np.isnan(base), np.nan, direct)


def rank_stability(df: pd.DataFrame, weights: Mapping[str, float], criteria: Iterable[str] | None = None, *,
                   densities: pd.DataFrame | None = None, rates: pd.DataFrame | None = None,
                   stake_densities: pd.DataFrame | None = None, n: int = MC_DRAWS, seed: int = MC_SEED, weight_spread: float = MC_WEIGHT_SPREAD,
                   exclude_redline: bool = True, directions: Mapping[str, int] | None = None) -> pd.DataFrame:
    """How often the ranking changes when weights and carbon densities vary within their ranges.

    ``n`` draws (seeded: the same seed gives the same figures): every weight × U(1 − s, 1 + s)
    (s = ``weight_spread``), renormalised; with ``densities`` (``class_ranges``) each class's
    density drawn from triangular(low, central, high), which moves the carbon-stock criteria of
    each park by its class areas; ``stake_densities`` (``class_ranges(…, "at_stake")``) does the same
    for the carbon-at-stake criteria; with ``rates`` (``rate_ranges``) the sink likewise. Each draw
    is ranked by the method of ``rank`` (min–max over the feasible parks, ties share a rank).

    One row per park (order of ``rank``): park_id, name, rank, rank_min, rank_max, same_rank_pct
    (share of draws with the unperturbed rank, %), stable (same_rank_pct ≥ 90%; excluded parks:
    NA). ``attrs``: n, seed, weight_spread, changed_pct (share of draws where any rank differs).
    """
    base = rank(df, weights, criteria, exclude_redline, directions)
    crit, w0 = base.attrs["criteria"], base.attrs["weights"]
    d = df.reset_index(drop=True)
    feasible = ~_exclusions(d, exclude_redline)[0]
    ids = _ids(d)
    rng = np.random.default_rng(seed)
    dens = _triangular(rng, densities, n) if densities is not None else None
    rate = _triangular(rng, rates, n) if rates is not None else None
    wv = np.array([w0[c] for c in crit]) * rng.uniform(1 - weight_spread, 1 + weight_spread, (n, len(crit)))
    wv = wv / wv.sum(axis=1, keepdims=True)
    score = np.zeros((n, int(feasible.sum())))
    dirs = {c: int((directions or {}).get(c, direction(c))) for c in crit}
    stake = _triangular(rng, stake_densities, n) if stake_densities is not None else None
    for j, c in enumerate(crit):
        x = None
        if c in ("carbon_stock_tc", "carbon_stock_tco2e", "carbon_stock_tc_per_ha") or (
                c.startswith("carbon_") and c[7:-3] in table.POOLS):
            x = _scaled(d, c, densities, dens)
        elif c in ("carbon_at_stake_tc", "carbon_at_stake_tc_per_ha"):
            x = _scaled(d, c, stake_densities, stake)
        elif c == "carbon_sink_tco2_yr":
            x = _scaled(d, c, rates, rate)
        if x is None:
            x = np.broadcast_to(pd.to_numeric(d[c], errors="coerce").to_numpy(float), (n, len(d)))
        x = x[:, feasible]
        nan = np.isnan(x)
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(np.where(nan, np.inf, x), axis=1, keepdims=True), np.nanmax(np.where(nan, -np.inf, x), axis=1, keepdims=True)
            span = hi - lo
            const = ~(span > 0) | (span <= 1e-12 * np.maximum(np.abs(lo), np.abs(hi)))
            norm = np.where(const, 1.0, ((x - lo) if dirs[c] > 0 else (hi - x)) / np.where(const, 1.0, span))
        norm = np.where(nan, 0.0, np.clip(norm, 0.0, 1.0))
        score += wv[:, [j]] * norm
    s = np.round(score, _TIE_DECIMALS)
    ranks = 1 + (s[:, None, :] > s[:, :, None]).sum(axis=2)  # (D, P_feasible): 1 + parks strictly better
    base_rank = dict(zip(base["park_id"], base["rank"]))
    fid = [i for i, f in zip(ids, feasible) if f]
    r0 = np.array([base_rank[i] for i in fid], dtype=float)
    same = (ranks == r0[None, :]) if len(fid) else np.zeros((n, 0), bool)
    stats = {pid: (int(ranks[:, k].min()), int(ranks[:, k].max()), 100.0 * same[:, k].mean()) for k, pid in enumerate(fid)}
    out = base[["park_id", "name", "rank"]].copy()
    out["rank_min"] = [stats[p][0] if p in stats else np.nan for p in out["park_id"]]
    out["rank_max"] = [stats[p][1] if p in stats else np.nan for p in out["park_id"]]
    out["same_rank_pct"] = [stats[p][2] if p in stats else np.nan for p in out["park_id"]]
    out["stable"] = pd.array([(stats[p][2] >= 100 * STABLE_SHARE) if p in stats else pd.NA for p in out["park_id"]],
                             dtype="boolean")
    changed = float(100.0 * (~same.all(axis=1)).mean()) if len(fid) else 0.0
    out.attrs = {"n": int(n), "seed": int(seed), "weight_spread": float(weight_spread), "changed_pct": changed,
                 "densities": densities is not None, "rates": rates is not None}
    return out

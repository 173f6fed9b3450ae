"""Rank stability of a siting ranking: a seeded Monte Carlo (``rank_stability``) that draws every
weight within ±``MC_WEIGHT_SPREAD`` and each land-cover class's carbon density (``class_ranges``),
carbon at stake and sink rate (``rate_ranges``) from a triangular distribution over its low–high
range, re-ranks the parks by the method of ``indicators.siting.rank`` each draw, and reports for
each park its best and worst rank and how often it keeps its rank (stable at ``STABLE_SHARE``).
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from indicators import table
from indicators.carbon import POOL_COLUMNS
from indicators.siting import TIE_DECIMALS, direction, park_ids, rank

MC_DRAWS = 2000
MC_SEED = 13
MC_WEIGHT_SPREAD = 0.10  # each weight × U(1 − 0.10, 1 + 0.10), renormalised (the ±10% of ``siting_sensitivity``)
STABLE_SHARE = 0.90  # a park is "stable" when it keeps its rank in at least 90% of the draws


def class_ranges(pools: pd.DataFrame, legend, what: str = "stock") -> pd.DataFrame:
    """Per canonical class: low, central, high density (t C/ha), the mean over the class's codes in
    a pools table of ``indicators.carbon.load_pools``: ``what`` = ``stock`` (the four pools,
    ranges c_low/c_high) or ``at_stake`` (at_stake_low/at_stake/at_stake_high)."""
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


def triangular(rng, rr: pd.DataFrame, n: int) -> pd.DataFrame:
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
        if col.endswith(("_per_ha", "_ha_yr")):  # a value per hectare: a zero central draws per hectare too
            drawn = drawn / np.where(area.sum(axis=1) > 0, area.sum(axis=1), np.nan)
        direct = np.where(central > 0, base * ratio, drawn)
    return np.where(np.isnan(base), np.nan, direct)


def rank_stability(df: pd.DataFrame, weights: Mapping[str, float], criteria: Iterable[str] | None = None, *,
                   densities: pd.DataFrame | None = None, rates: pd.DataFrame | None = None,
                   stake_densities: pd.DataFrame | None = None, n: int = MC_DRAWS, seed: int = MC_SEED, weight_spread: float = MC_WEIGHT_SPREAD,
                   exclude_redline: bool = True, directions: Mapping[str, int] | None = None,
                   unknown: str = "set-aside") -> pd.DataFrame:
    """How often the ranking changes when weights and carbon densities vary within their ranges.

    ``n`` draws (seeded: the same seed gives the same figures): every weight × U(1 − s, 1 + s)
    (s = ``weight_spread``), renormalised; with ``densities`` (``class_ranges``) each class's
    density drawn from triangular(low, central, high), which moves the carbon-stock criteria of
    each park by its class areas; ``stake_densities`` (``class_ranges(…, "at_stake")``) does the same
    for the carbon-at-stake criteria; with ``rates`` (``rate_ranges``) the sink likewise. Each draw
    is ranked by the method of ``rank`` (min–max over the parks it ranks, ties share a rank; the parks
    it excludes or sets aside for an unknown value are left out, as there). Linear value functions only.

    One row per park (order of ``rank``): park_id, name, rank, rank_min, rank_max, same_rank_pct
    (share of draws with the unperturbed rank, %), stable (same_rank_pct ≥ 90%; excluded parks:
    NA). ``attrs``: n, seed, weight_spread, changed_pct (share of draws where any rank differs).
    """
    base = rank(df, weights, criteria, exclude_redline, directions, unknown=unknown)
    crit, w0 = base.attrs["criteria"], base.attrs["weights"]
    d = df.reset_index(drop=True)
    ids = park_ids(d)
    feasible = np.isin(ids, base.attrs["rankable"])  # not excluded, not set aside
    rng = np.random.default_rng(seed)
    dens = triangular(rng, densities, n) if densities is not None else None
    rate = triangular(rng, rates, n) if rates is not None else None
    wv = np.array([w0[c] for c in crit]) * rng.uniform(1 - weight_spread, 1 + weight_spread, (n, len(crit)))
    wv = wv / wv.sum(axis=1, keepdims=True)
    score = np.zeros((n, int(feasible.sum())))
    dirs = {c: int((directions or {}).get(c, direction(c))) for c in crit}
    stake = triangular(rng, stake_densities, n) if stake_densities is not None else None
    for j, c in enumerate(crit):
        x = None
        if c in ("carbon_stock_tc", "carbon_stock_tco2e", "carbon_stock_tc_per_ha") or (
                c.startswith("carbon_") and c[7:-3] in table.POOLS):
            x = _scaled(d, c, densities, dens)
        elif c in ("carbon_at_stake_tc", "carbon_at_stake_tc_per_ha"):
            x = _scaled(d, c, stake_densities, stake)
        elif c in ("carbon_sink_tco2_yr", "carbon_sink_tco2_ha_yr"):
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
    s = np.round(score, TIE_DECIMALS)
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

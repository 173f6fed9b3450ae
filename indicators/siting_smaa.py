"""How robust a ranking is, as SMAA figures (``indicators.smaa``) on the parks ``siting.rank`` ranks:
for each park the share of draws in which it takes rank 1, 2, … (rank acceptability) and the
weights under which it comes first (central weights).

The values are the ranking's own 0–1 values (``norm_<criterion>``: directions and value functions
applied); the weights are drawn uniformly on the simplex (``simplex``: every weighting equally
likely — what the ranking is worth when nobody agrees on weights) or around the user's weights
(``around``: Dirichlet with a stated concentration). Where a criterion has a stated range (carbon
at stake and the sink per hectare: from the density and sink-rate ranges of the tables, each
park's low and high), its values are drawn within it, through the same value function. Seeded: the
same seed gives the same figures.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from indicators import smaa
from indicators.siting_value import LINEAR, ValueFunction, parse

# criterion → (low column, central column, high column): the range of a per-hectare value scales
# with its total's range (same land, same hectares)
RANGES: dict[str, tuple[str, str, str]] = {
    "carbon_at_stake_tc_per_ha": ("carbon_at_stake_low_tc", "carbon_at_stake_tc", "carbon_at_stake_high_tc"),
    "carbon_sink_tco2_ha_yr": ("carbon_sink_low_tco2_yr", "carbon_sink_tco2_yr", "carbon_sink_high_tco2_yr"),
    "carbon_at_stake_tc": ("carbon_at_stake_low_tc", "carbon_at_stake_tc", "carbon_at_stake_high_tc"),
    "carbon_sink_tco2_yr": ("carbon_sink_low_tco2_yr", "carbon_sink_tco2_yr", "carbon_sink_high_tco2_yr"),
}


def _raw_range(df: pd.DataFrame, c: str) -> tuple[np.ndarray, np.ndarray] | None:
    cols = RANGES.get(c)
    if cols is None or not set(cols) <= set(df.columns):
        return None
    lo_t, mid_t, hi_t = (pd.to_numeric(df[k], errors="coerce").to_numpy(float) for k in cols)
    x = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(mid_t > 0, x * lo_t / mid_t, x)
        hi = np.where(mid_t > 0, x * hi_t / mid_t, x)
    return np.minimum(lo, x), np.maximum(hi, x)


def _values(vf: ValueFunction, x: np.ndarray, centre: np.ndarray, direction: int) -> np.ndarray:
    """``vf`` applied to ``x`` with the min–max span of the central values (linear), 0–1."""
    if vf.kind != "linear":
        return vf.apply(x, direction)
    lo, hi = np.nanmin(centre), np.nanmax(centre)
    span = hi - lo
    if not span > 0:
        return np.ones(len(x))
    v = (x - lo) / span if direction > 0 else (hi - x) / span
    return np.clip(v, 0.0, 1.0)


def acceptability(df: pd.DataFrame, ranked: pd.DataFrame, *, n: int = smaa.DEFAULT_DRAWS,
                  seed: int = smaa.DEFAULT_SEED, mode: str = "around",
                  concentration: float = smaa.DEFAULT_CONCENTRATION, ranges: bool = True) -> tuple[pd.DataFrame,
                                                                                                    smaa.SmaaResult]:
    """(one row per ranked park: park_id, acceptability_rank1…, central_w_<criterion>…, confidence;
    the ``SmaaResult``) for the ranking ``ranked`` of the parks table ``df`` (``siting.rank``'s output)."""
    crit = [c for c in ranked.attrs["criteria"] if ranked.attrs["weights"].get(c, 0) > 0]
    ids = list(ranked.attrs["rankable"])
    d = df.reset_index(drop=True)
    d = d.set_index(d["park_id"].astype(str) if "park_id" in d.columns else d.index.astype(str)).loc[ids]
    r = ranked.set_index("park_id").loc[ids]
    values = pd.DataFrame({c: r[f"norm_{c}"].to_numpy(float) for c in crit}, index=ids)
    low = high = None
    if ranges:
        lo_m, hi_m = values.copy(), values.copy()
        for c in crit:
            rr = _raw_range(d, c)
            if rr is None:
                continue
            vf = parse(ranked.attrs["value_functions"].get(c, "linear")) if ranked.attrs.get("value_functions") \
                else LINEAR
            centre = pd.to_numeric(d[c], errors="coerce").to_numpy(float)
            a = _values(vf, rr[0], centre, ranked.attrs["directions"][c])
            b = _values(vf, rr[1], centre, ranked.attrs["directions"][c])
            lo_m[c], hi_m[c] = np.minimum(np.minimum(a, b), values[c]), np.maximum(np.maximum(a, b), values[c])
        if not (lo_m.equals(values) and hi_m.equals(values)):
            low, high = lo_m, hi_m
    weights = {c: ranked.attrs["weights"][c] for c in crit}  # the weighted criteria only (the values' columns)
    res = smaa.smaa(values, low, high, mode=mode, weights=weights, concentration=concentration, n=n, seed=seed)
    out = res.table().reset_index(names="park_id")
    return out, res

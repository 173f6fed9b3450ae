"""Sensitivity of a siting ranking (``indicators.siting.rank``): ``perturb_weights`` moves one
criterion's weight by ±``delta`` (relative, or in percentage points) and rescales the others to sum
1; ``sensitivity`` re-ranks the parks for every criterion and sign and lists the parks whose rank
changes (the ±10% table of the Siting page, the Excel workbook and the PDF report).
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from core.errors import InputError
from indicators import table
from indicators.siting import rank


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
                directions: Mapping[str, int] | None = None, unknown: str = "set-aside",
                value_functions: Mapping | None = None) -> pd.DataFrame:
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
    base = rank(df, weights, criteria, exclude_redline, directions, unknown=unknown, value_functions=value_functions)
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
            after = rank(df, w1, criteria, exclude_redline, directions, unknown=unknown,
                         value_functions=value_functions)
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

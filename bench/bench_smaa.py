"""SMAA, 100 parks × 5 criteria × 10,000 draws (target ≤ 2 s on 2 cores): ours vs a per-draw loop.

Run alone: ``python -m bench.bench_smaa``. Two cases: fixed criterion values, and every value
drawn within a ±0.1 range (the heavier case: value draws, and a second pass for the confidence
factors). Ours is ``indicators.smaa.smaa`` (vectorised over chunks of draws). The peer is the plain
implementation: a Python loop over draws (numpy within a draw: weights as normalised exponentials,
the parks' scores, an argsort, then a second loop for the confidence factors; pandas tables out, as
ours). The peer runs ``PEER_DRAWS`` draws and its time is scaled up linearly to 10,000
(extrapolated, said in the output); its peak RSS is that of the smaller run. Both sides run in
their own process, alternately, twice.
"""
from __future__ import annotations

from bench.common import run_side

N_PARKS, N_CRIT, N_DRAWS = 100, 5, 10_000
PEER_DRAWS = 1_000
SCALE = N_DRAWS / PEER_DRAWS

_DATA = f"""
import numpy as np
rng0 = np.random.default_rng(2024)
V = rng0.uniform(0.1, 0.9, ({N_PARKS}, {N_CRIT}))
RANGED = {{ranged}}
LOW, HIGH = (V - 0.1, V + 0.1) if RANGED else (None, None)
"""

_OURS = "from indicators.smaa import smaa\n"

# The per-draw loop: same definitions as ours (simplex weights, uniform values within the range,
# rank 1 = highest score, central weights, confidence factors from a second pass).
_PEER = """
import pandas as pd


def peer_smaa(V, low, high, n, seed):
    p, m = V.shape
    rng = np.random.default_rng(seed)
    acc = np.zeros((p, p))
    cw = np.zeros((p, m))
    for _ in range(n):
        w = rng.standard_exponential(m)
        w /= w.sum()
        vals = V if low is None else low + (high - low) * rng.random((p, m))
        order = np.argsort(-(vals @ w))
        acc[order, np.arange(p)] += 1
        cw[order[0]] += w
    first = acc[:, 0]
    q = np.flatnonzero(first)
    cw = cw[q] / first[q, None]
    hits = np.zeros(q.size)
    rng = np.random.default_rng(seed + 1)
    for _ in range(n if low is not None else 1):
        vals = V if low is None else low + (high - low) * rng.random((p, m))
        s = vals @ cw.T
        hits += s[q, np.arange(q.size)] >= s.max(axis=0)
    return (pd.DataFrame(acc / n, columns=pd.RangeIndex(1, p + 1)), pd.DataFrame(cw, index=q),
            pd.Series(hits / (n if low is not None else 1), index=q))
"""


def sides(ranged: bool) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    data = _DATA.format(ranged=ranged)
    ours = (data + _OURS, f"r = smaa(V, LOW, HIGH, n={N_DRAWS}, seed=1)",
            "round(float(r.rank_acceptability[1].max()), 2)")
    peer = (data + _PEER, f"acc, cw, conf = peer_smaa(V, LOW, HIGH, {PEER_DRAWS}, 1)",
            "round(float(acc[1].max()), 2)")
    return ours, peer


def compare_scaled(title: str, ours, peer, repeats: int = 2) -> dict:
    """Alternate the sides ``repeats`` times; best time of each, the peer's scaled by ``SCALE``."""
    o_runs, p_runs = [], []
    for _ in range(repeats):
        o_runs.append(run_side(*ours))
        p_runs.append(run_side(*peer))
    o = min(r["seconds"] for r in o_runs)
    p = min(r["seconds"] for r in p_runs) * SCALE
    om, pm = max(r["peak_mb"] for r in o_runs), max(r["peak_mb"] for r in p_runs)
    peer_name = f"per-draw loop (x{SCALE:g})"
    print(f"\n== {title}")
    print(f"{'side':<28}{'time s':>10}{'peak RSS MB':>14}")
    print(f"{'ours':<28}{o:>10.3f}{om:>14.0f}")
    print(f"{peer_name:<28}{p:>10.3f}{pm:>14.0f}")
    print(f"{'ratio ours/peer':<28}{o / p:>10.3f}{om / pm:>14.3f}")
    print(f"peer: {PEER_DRAWS:,} draws measured, time extrapolated linearly to {N_DRAWS:,}; "
          f"peak RSS of the {PEER_DRAWS:,}-draw run")
    print(f"checks (largest rank-1 acceptability): ours={o_runs[0]['check']} peer={p_runs[0]['check']}")
    print(f"target <= 2 s: {'PASS' if o <= 2 else 'FAIL'}")
    return {"title": title, "ours_s": o, "peer_s": p, "ratio": o / p, "ours_mb": om, "peer_mb": pm,
            "mem_ratio": om / pm}


def main() -> list[dict]:
    out = []
    for ranged, what in ((False, "fixed values"), (True, "values within ±0.1 ranges")):
        title = (f"SMAA, {N_PARKS} parks x {N_CRIT} criteria x {N_DRAWS:,} draws, {what}, "
                 "with confidence factors (target <= 2 s; peer extrapolated)")
        out.append(compare_scaled(title, *sides(ranged)))
    return out


if __name__ == "__main__":
    main()

"""SMAA, stochastic multicriteria acceptability analysis (Lahdelma & Salminen; Tervonen & Figueira
2008, "A survey on stochastic multicriteria acceptability analysis methods"), vectorised over draws.

Input: a matrix of normalised criterion values ``V`` (parks × criteria, each in [0, 1], higher is
better: the caller has applied directions and value functions). Each draw takes a weight vector and,
where value ranges are given, a value matrix; a park's score is the weighted sum of its values and
the parks are ranked by score. Over ``n`` draws ``smaa`` reports:

- ``rank_acceptability`` (parks × ranks 1..P): the share of draws in which the park takes rank r;
- ``central_weights`` (parks × criteria): the mean weight vector over the draws in which the park
  ranks first (NaN when it never does);
- ``confidence``: the share of value draws in which the park ranks first when the weights are its
  central weights (NaN when it is never first; 0 or 1 when the values are fixed);
- ``mean_weight``: the mean of the drawn weights (a check: the centre 1/m, or the user's weights).

Weights (``mode``):

- ``"simplex"``: uniform on the simplex {w ≥ 0, Σw = 1}, i.e. Dirichlet(1, …, 1), drawn as
  normalised standard exponentials (normalising independent uniforms instead would favour
  mid-range weights; ADRIA.jl#327). User weights are not used.
- ``"around"``: Dirichlet(concentration × w_user), w_user normalised to sum 1: the mean is w_user,
  the variance of weight i is w_i (1 − w_i) / (concentration + 1). A criterion with user weight 0
  always gets weight 0.

Values: without ``low``/``high`` each draw uses ``V``. With them, every cell is drawn uniformly on
[low, high], independently per cell and per draw (a cell with low = high stays fixed); ``V`` must lie
within its range.

Ties: scores are compared after rounding to ``TIE_DECIMALS`` decimals (as the siting ranking does),
and parks with equal scores share the best rank of their group ("min" ranking: 1, 1, 3). A draw in
which several parks tie for first counts as rank 1 for each of them (for the acceptability, the
central weights and the confidence factors), so a rank column may sum to more than 1; each park's
row sums to 1.

Reproducibility: ``numpy.random.SeedSequence(seed)`` (what ``numpy.random.default_rng(seed)`` seeds
with) is split into a weight stream and a value stream, each a ``default_rng``; the draws are made
in chunks (bounded memory) in order from each stream, so the figures depend on the seed only, not
on the chunk size. ``seed=None`` takes fresh entropy and reports it as ``SmaaResult.seed``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import InputError

MODES = ("simplex", "around")
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 13
DEFAULT_CONCENTRATION = 50.0  # "around": Dirichlet(50 × w); a weight of 0.2 then has sd ≈ 0.056
TIE_DECIMALS = 9  # scores equal to 9 decimals tie (the siting ranking rounds the same way)
CHUNK_CELLS = 1_000_000  # draws per chunk × parks × max(criteria, 8): a few arrays of ≤ 8 MB each


@dataclass(frozen=True)
class SmaaResult:
    rank_acceptability: pd.DataFrame  # parks × ranks 1..P, shares of the n draws
    central_weights: pd.DataFrame  # parks × criteria, NaN rows for parks never first
    confidence: pd.Series  # per park, NaN for parks never first
    mean_weight: pd.Series  # per criterion, mean of the drawn weights
    first_count: pd.Series  # per park, number of draws in which it ranked first
    seed: int
    n: int
    mode: str
    concentration: float | None  # None in "simplex" mode
    value_ranges: bool  # True when values were drawn within [low, high]

    def table(self) -> pd.DataFrame:
        """One row per park: ``acceptability_rank<r>`` for every rank, ``central_w_<criterion>`` and
        ``confidence`` (for exports)."""
        acc = self.rank_acceptability.copy()
        acc.columns = [f"acceptability_rank{r}" for r in acc.columns]
        cw = self.central_weights.copy()
        cw.columns = [f"central_w_{c}" for c in cw.columns]
        return pd.concat([acc, cw, self.confidence.rename("confidence")], axis=1)


def simplex_weights(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """n weight vectors uniform on the m-simplex (Dirichlet(1, …, 1)): normalised exponentials."""
    e = rng.standard_exponential((n, m))
    return e / e.sum(axis=1, keepdims=True)


def around_weights(rng: np.random.Generator, n: int, weights: np.ndarray, concentration: float) -> np.ndarray:
    """n weight vectors from Dirichlet(concentration × weights); ``weights`` sums to 1, zeros allowed."""
    return rng.dirichlet(concentration * np.asarray(weights, dtype=float), size=n)


def draw_weights(rng: np.random.Generator, n: int, m: int, mode: str = "simplex",
                 weights: np.ndarray | None = None, concentration: float = DEFAULT_CONCENTRATION) -> np.ndarray:
    """n × m weights of ``mode`` (``weights`` normalised, needed for "around")."""
    if mode == "simplex":
        return simplex_weights(rng, n, m)
    return around_weights(rng, n, weights, concentration)


def _sorted_ranks(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rounded scores ``s`` (draws × parks): the parks in descending order of score per row and
    the rank at each sorted position (a tie group shares the best rank of the group)."""
    order = np.argsort(-s, axis=1)  # the order within a tie does not matter: the group shares its best rank
    ss = np.take_along_axis(s, order, axis=1)
    new = np.ones(s.shape, dtype=bool)
    new[:, 1:] = ss[:, 1:] != ss[:, :-1]
    best = np.maximum.accumulate(np.where(new, np.arange(s.shape[1]), 0), axis=1) + 1
    return order, best


def ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of each column in each row of ``scores`` (draws × parks), 1 = highest; scores equal
    after rounding to ``TIE_DECIMALS`` share the best rank of their group (1, 1, 3)."""
    order, best = _sorted_ranks(np.round(scores, TIE_DECIMALS))
    out = np.empty(order.shape, dtype=np.int64)
    np.put_along_axis(out, order, best, axis=1)
    return out


def _matrix(x, name_zh: str, name_en: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"{name_zh}须为 园区 × 指标 的二维表（至少一行一列）",
                         f"{name_en} must be a parks × criteria table (at least one row and one column)")
    if not np.isfinite(a).all():
        raise InputError(f"{name_zh}含缺失或非有限值：未知值须先处理（剔除该指标或将园区列为无法排序）",
                         f"{name_en} has missing or non-finite values: handle unknowns first (drop the "
                         "criterion or set the park aside)")
    if (a < 0).any() or (a > 1).any():
        raise InputError(f"{name_zh}须为 0–1 之间的标准化值", f"{name_en} must be normalised values in [0, 1]")
    return a


def _user_weights(weights, criteria: pd.Index) -> np.ndarray:
    if weights is None:
        raise InputError("“围绕用户权重”模式需要用户权重", '"around" mode needs the user\'s weights')
    if isinstance(weights, pd.Series):
        weights = weights.to_dict()  # by label, not by position
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(criteria)
        if unknown:
            raise InputError(f"权重中有未知指标：{sorted(map(str, unknown))}",
                             f"weights name unknown criteria: {sorted(map(str, unknown))}")
        weights = [weights.get(c, 0.0) for c in criteria]
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != len(criteria) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InputError(f"权重须为 {len(criteria)} 个非负有限数且和大于 0",
                         f"weights must be {len(criteria)} non-negative finite numbers with a positive sum")
    return w / w.sum()


def _check_options(n, mode, concentration, seed) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError("抽样次数须为正整数", "the number of draws must be a positive integer")
    if mode not in MODES:
        raise InputError(f"权重模式须为 {' / '.join(MODES)}", f"weights mode must be one of {', '.join(MODES)}")
    if mode == "around" and not (np.isfinite(concentration) and concentration > 0):
        raise InputError("集中度须为正数", "the concentration must be a positive number")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise InputError("随机种子须为非负整数", "the seed must be a non-negative integer")


def _scores(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Weighted sums, draws × parks: ``w`` draws × m, ``v`` parks × m or draws × parks × m. Summed
    criterion by criterion in the same order for every park, so equal rows give equal scores."""
    out = np.zeros((w.shape[0], v.shape[-2]))
    for k in range(w.shape[1]):
        out += w[:, k, None] * v[..., k]
    return out


def _values(rng: np.random.Generator, low: np.ndarray, span: np.ndarray, c: int) -> np.ndarray:
    """c value matrices, each cell uniform on [low, low + span] (fixed where span = 0)."""
    return low + span * rng.random((c,) + low.shape)


def _chunks(n: int, size: int):
    for start in range(0, n, size):
        yield min(size, n - start)


def smaa(values, low=None, high=None, *, mode: str = "simplex",
         weights: Sequence[float] | Mapping | pd.Series | None = None, concentration: float = DEFAULT_CONCENTRATION,
         n: int = DEFAULT_DRAWS, seed: int | None = DEFAULT_SEED, confidence: bool = True,
         chunk: int | None = None) -> SmaaResult:
    """SMAA of ``values`` (parks × criteria in [0, 1], higher is better; a DataFrame's index and
    columns label the results). ``low``/``high``: optional per-cell bounds of the same shape, each
    cell drawn uniformly within them (a missing side is the value itself). ``mode``: "simplex" or
    "around" (``weights`` as a sequence in column order or a mapping criterion → weight; missing
    criteria weigh 0). ``chunk``: draws per chunk (default from ``CHUNK_CELLS``; results do not
    depend on it). ``confidence=False`` skips the confidence factors (a second pass over the value
    draws when ranges are given)."""
    _check_options(n, mode, concentration, seed)
    v = _matrix(values, "指标值", "criterion values")
    p, m = v.shape
    parks = values.index if isinstance(values, pd.DataFrame) else pd.RangeIndex(p, name="park")
    criteria = values.columns if isinstance(values, pd.DataFrame) else pd.RangeIndex(m, name="criterion")
    w_user = _user_weights(weights, criteria) if mode == "around" else None
    ranged = low is not None or high is not None
    lo = span = None
    if ranged:
        lo = v if low is None else _matrix(low, "下限", "lower bounds")
        hi = v if high is None else _matrix(high, "上限", "upper bounds")
        if lo.shape != v.shape or hi.shape != v.shape:
            raise InputError("上下限须与指标值同形", "lower and upper bounds must have the shape of the values")
        if (lo > v).any() or (v > hi).any():
            raise InputError("指标值须位于其上下限之间", "each value must lie within its lower and upper bound")
        span = hi - lo
    if chunk is None:
        chunk = max(1, CHUNK_CELLS // (p * max(m, 8)))

    ss = np.random.SeedSequence(seed)
    w_seq, v_seq = ss.spawn(2)
    w_rng, v_rng = np.random.default_rng(w_seq), np.random.default_rng(v_seq)
    counts = np.zeros(p * p, dtype=np.int64)
    first = np.zeros(p, dtype=np.int64)
    central_sum = np.zeros((p, m))
    weight_sum = np.zeros(m)
    for c in _chunks(n, chunk):
        w = draw_weights(w_rng, c, m, mode, w_user, concentration)
        s = np.round(_scores(w, _values(v_rng, lo, span, c) if ranged else v), TIE_DECIMALS)
        order, best = _sorted_ranks(s)
        counts += np.bincount((order * p + (best - 1)).ravel(), minlength=p * p)
        top = s == s.max(axis=1, keepdims=True)  # rank 1, ties included
        first += top.sum(axis=0)
        central_sum += top.T.astype(float) @ w
        weight_sum += w.sum(axis=0)

    with np.errstate(invalid="ignore", divide="ignore"):
        central = central_sum / first[:, None]
    conf = np.full(p, np.nan)
    if confidence and first.any():
        q = np.flatnonzero(first)
        if ranged:
            v_rng = np.random.default_rng(v_seq)  # the same value draws again
            hits = np.zeros(q.size, dtype=np.int64)
            for c in _chunks(n, max(1, CHUNK_CELLS // (p * q.size))):
                hits += _first_under(_values(v_rng, lo, span, c), central[q], q).sum(axis=0)
            conf[q] = hits / n
        else:
            conf[q] = _first_under(v[None], central[q], q)[0]
    return SmaaResult(
        rank_acceptability=pd.DataFrame(counts.reshape(p, p) / n, index=parks,
                                        columns=pd.RangeIndex(1, p + 1, name="rank")),
        central_weights=pd.DataFrame(central, index=parks, columns=criteria),
        confidence=pd.Series(conf, index=parks, name="confidence"),
        mean_weight=pd.Series(weight_sum / n, index=criteria, name="mean_weight"),
        first_count=pd.Series(first, index=parks, name="first_count"),
        seed=int(ss.entropy), n=int(n), mode=mode,
        concentration=float(concentration) if mode == "around" else None, value_ranges=ranged)


def _first_under(vd: np.ndarray, wc: np.ndarray, q: np.ndarray) -> np.ndarray:
    """draws × len(q) booleans: park q[j] ranks first (ties shared) on value draw ``vd[d]`` under
    its central weights ``wc[j]``."""
    s = vd @ wc.T  # draws × parks × len(q)
    own = s[:, q, np.arange(q.size)]
    # rounding is monotone: the rounded maximum is the maximum of the rounded scores
    return np.round(own, TIE_DECIMALS) >= np.round(s.max(axis=1), TIE_DECIMALS)

"""The carbon-credit rule of the Anhui plan (annex 2, 4.5.2): credits may neutralise at most 5% of
a park's emissions — with and without the park's own carbon sink counted as a removal.

    credit_check(emissions_tco2=100_000, credits_tco2=5_000, sink_tco2_yr=96_000)

Model (hand-checkable). E = the park's annual emissions after its own reductions (t CO2), C = the
credits it plans to buy and cancel, S = its annual sink from the indicator engine
(``carbon_sink_tco2_yr``).

* The rule: share = C / E ≤ 5% → "pass"/"fail". The denominator is emissions in both cases: the
  annex does not define a park's own sink as a credit, so the sink is never counted in the 5%.
* Balance without the sink: E − C (≤ 0: the park is neutral); credits needed for zero: E.
* Balance with the sink counted as the park's own removal: E − S − C; credits needed for zero:
  max(E − S, 0), and whether that is within 5% of E.
"""
from __future__ import annotations

import math

from core.errors import InputError
from core.text import Text

CREDIT_LIMIT_PCT = 5.0
CREDIT_CLAUSE_REF = "附件2 4.5.2"
CREDIT_CLAUSE_ZH = "碳信用产品中和碳排放量的比例不应超过5%"
SINK_NOTE = Text("附件未将园区自身碳汇定义为碳信用：此处碳汇只作为园区自身的清除量计入碳平衡，不计入 5% 的碳信用比例",
                 "the annex does not define a park's own sink as a credit: the sink is counted here only as the "
                 "park's own removal in its balance, never in the 5% credit share")
_TOL = 1e-9


def _number(v, key: str, zh: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{zh}（t CO2）须为数字，而非 {v!r}", f"{key} (t CO2) must be a number, not {v!r}") from None
    if not math.isfinite(x) or x < 0:
        raise InputError(f"{zh}（t CO2）须为不小于 0 的有限数，而非 {v!r}",
                         f"{key} (t CO2) must be a finite number ≥ 0, not {v!r}")
    return x


def _balance(e: float, c: float, s: float, limit_pct: float) -> dict:
    needed = max(e - s, 0.0)
    needed_pct = 0.0 if needed == 0 else (math.inf if e == 0 else 100.0 * needed / e)
    return {"sink_tco2_yr": s, "balance_tco2": e - s - c, "neutral": e - s - c <= _TOL,
            "credits_needed_tco2": needed, "credits_needed_pct": needed_pct,
            "needed_within_limit": needed_pct <= limit_pct + _TOL}


def _pct(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.2f}%"


def credit_check(emissions_tco2, credits_tco2, sink_tco2_yr=None, limit_pct: float = CREDIT_LIMIT_PCT) -> dict:
    """The 5% rule and the balance with and without the sink (see the module docstring).

    Returns {"status": "pass"|"fail", "share_pct", "limit_pct", "max_credits_tco2", "note_zh",
    "note_en", "clause_ref", "clause_zh", "without_sink": {...}, "with_sink": {...} or None,
    "sink_note_zh", "sink_note_en"}; each balance: sink_tco2_yr, balance_tco2, neutral,
    credits_needed_tco2, credits_needed_pct, needed_within_limit, note_zh, note_en. share = C / E
    × 100 (0 when C = 0; ∞ when E = 0 < C). A missing or NaN sink gives ``with_sink`` None.
    Negative or non-numeric values → InputError.
    """
    e = _number(emissions_tco2, "emissions", "排放量")
    c = _number(credits_tco2, "credits", "碳信用量")
    share = 0.0 if c == 0 else (math.inf if e == 0 else 100.0 * c / e)
    ok = share <= limit_pct + _TOL
    max_c = e * limit_pct / 100.0
    if ok:
        zh = f"碳信用占排放量 {_pct(share)}，不超过 {limit_pct:g}%"
        en = f"credits are {_pct(share)} of emissions, within the {limit_pct:g}% limit"
    else:
        zh = f"碳信用占排放量 {_pct(share)}，超过 {limit_pct:g}% 上限（最多 {max_c:,.0f} t CO2）"
        en = f"credits are {_pct(share)} of emissions, above the {limit_pct:g}% limit (at most {max_c:,.0f} t CO2)"
    without = _balance(e, c, 0.0, limit_pct)
    with_sink = None
    if sink_tco2_yr is not None and not (isinstance(sink_tco2_yr, float) and math.isnan(sink_tco2_yr)):
        with_sink = _balance(e, c, _number(sink_tco2_yr, "sink", "碳汇量"), limit_pct)
    for part, zh_w, en_w in ((without, "不计碳汇", "without the sink"), (with_sink, "计入园区碳汇", "with the park's sink")):
        if part is None:
            continue
        left_zh = "已中和" if part["neutral"] else f"尚余 {part['balance_tco2']:,.0f} t CO2 未中和"
        left_en = "neutral" if part["neutral"] else f"{part['balance_tco2']:,.0f} t CO2 left to neutralise"
        within_zh = f"在 {limit_pct:g}% 以内" if part["needed_within_limit"] else f"超出 {limit_pct:g}% 上限"
        within_en = "within" if part["needed_within_limit"] else "beyond"
        sink_zh = f"（碳汇 {part['sink_tco2_yr']:,.0f} t CO2/年）" if part is with_sink else ""
        sink_en = f" (sink {part['sink_tco2_yr']:,.0f} t CO2/yr)" if part is with_sink else ""
        part["note_zh"] = (f"{zh_w}{sink_zh}：{left_zh}；达到零排放需碳信用 {part['credits_needed_tco2']:,.0f} t CO2"
                           f"（占排放量 {_pct(part['credits_needed_pct'])}，{within_zh}）")
        part["note_en"] = (f"{en_w}{sink_en}: {left_en}; credits needed for zero: {part['credits_needed_tco2']:,.0f} t CO2 "
                           f"({_pct(part['credits_needed_pct'])} of emissions, {within_en} the {limit_pct:g}% limit)")
    return {"status": "pass" if ok else "fail", "share_pct": share, "limit_pct": limit_pct,
            "max_credits_tco2": max_c, "note_zh": zh, "note_en": en,
            "clause_ref": CREDIT_CLAUSE_REF, "clause_zh": CREDIT_CLAUSE_ZH,
            "without_sink": without, "with_sink": with_sink, "sink_note_zh": SINK_NOTE.zh, "sink_note_en": SINK_NOTE.en}

"""Zero-carbon park admission checklist (Anhui plan 2024, annex 1 准入标准) and the 5% credit rule.

The criteria are data: ``geodata/checklist_criteria.csv`` (id, labels, unit, kind, comparator,
threshold, allowed range, clause and a verbatim Chinese quote of it). The quotes are from annex 1
of 安徽省零碳产业园区建设方案（试行）(2024-05-13); the annex text is reproduced in
``../shared/seeds/gansu_action_plan_and_related_2025.txt`` (the Anhui seed file stops at the
annex titles). The two "double-high" rates of clause 2.8 (disclosure, clean-production audit)
are two criteria: the clause requires both to be 100%.

    table, overall = evaluate({"renewable_electricity_pct": 45, "iso_certified": True},
                              green_coverage_pct=17.2, green_reliability="low")
    credit_check(emissions_tco2=120_000, credits_tco2=5_000)   # ≤ 5% of emissions

Statuses per criterion: "pass", "fail", "missing" (no value entered). Overall: "fail" if any
criterion fails (missing data cannot rescue it), else "incomplete" if any is missing, else
"pass".
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from core import paths
from core.errors import InputError
from core.text import Text, pick

YES, NO, PER_YEAR = Text("是", "yes"), Text("否", "no"), Text("（每年）", " per year")
from indicators.green import GREEN_CAP_PCT

CRITERIA_CSV = paths.TABLES / "checklist_criteria.csv"
CREDIT_LIMIT_PCT = 5.0
CREDIT_CLAUSE_REF = "附件2 4.5.2"
CREDIT_CLAUSE_ZH = "碳信用产品中和碳排放量的比例不应超过5%"
GREEN_ID = "green_coverage_pct"

STATUS_LABELS: dict[str, tuple[str, str]] = {  # status -> (zh, en)
    "pass": ("达标", "pass"),
    "fail": ("未达标", "fail"),
    "missing": ("缺数据", "missing"),
    "incomplete": ("资料不全", "incomplete"),
}

COLUMN_LABELS: dict[str, tuple[str, str, str]] = {  # id -> (zh, en, unit), for tables and exports
    "label_zh": ("准入标准", "Criterion (zh)", ""),
    "label_en": ("准入标准（英文）", "Criterion", ""),
    "threshold": ("阈值", "Threshold", ""),
    "threshold_text_zh": ("要求", "Requirement (zh)", ""),
    "threshold_text_en": ("要求（英文）", "Requirement", ""),
    "value": ("填报值", "Value", ""),
    "value_text_zh": ("填报值", "Value (zh)", ""),
    "value_text_en": ("填报值（英文）", "Value", ""),
    "status": ("结果", "Status", ""),
    "note_zh": ("说明", "Note (zh)", ""),
    "note_en": ("说明（英文）", "Note", ""),
    "source": ("数据来源", "Value from", ""),
    "clause_ref": ("条款", "Clause", ""),
    "clause_zh": ("原文", "Clause text (zh)", ""),
}

_TRUE = {"1", "true", "yes", "y", "是", "有", "通过", "达到"}
_FALSE = {"0", "false", "no", "n", "否", "无", "未通过", "未达到"}
_TOL = 1e-9


@dataclass(frozen=True)
class Criterion:
    id: str
    label_zh: str
    label_en: str
    unit: str
    kind: str  # "share" (0–100 %), "number" (any finite, bounded by min/max), "bool" (yes/no)
    comparator: str  # ">=" or "==" (bool: must be yes)
    threshold: float
    min: float | None
    max: float | None
    clause_ref: str
    clause_zh: str

    def label(self, lang: str = "zh") -> str:
        return pick(self.label_zh, self.label_en, lang)

    def threshold_text(self, lang: str = "zh") -> str:
        if self.kind == "bool":
            return YES.pick(lang)
        unit = "%" if self.unit.startswith("%") else (f" {self.unit}" if self.unit else "")
        per = PER_YEAR.pick(lang) if self.unit == "%/yr" else ""
        return f"{'≥' if self.comparator == '>=' else '='} {self.threshold:g}{unit}{per}"


def _num(v: str) -> float | None:
    return float(v) if v.strip() else None


def load_criteria(path: str | Path = CRITERIA_CSV) -> tuple[Criterion, ...]:
    """Read and check the declared checklist (raises InputError on a malformed table)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            c = Criterion(r["id"].strip(), r["label_zh"], r["label_en"], r["unit"], r["kind"].strip(),
                          r["comparator"].strip(), float(r["threshold"]), _num(r["min"]), _num(r["max"]),
                          r["clause_ref"], r["clause_zh"])
        except (KeyError, ValueError) as e:
            raise InputError(f"{Path(path).name} 第 {i} 行：{e}", f"{Path(path).name} line {i}: {e}") from None
        if c.kind not in {"share", "number", "bool"} or c.comparator not in {">=", "=="}:
            raise InputError(f"{Path(path).name} 第 {i} 行：未知类型 {c.kind!r} 或比较符 {c.comparator!r}",
                             f"{Path(path).name} line {i}: kind {c.kind!r} / comparator {c.comparator!r} unknown")
        out.append(c)
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids) or GREEN_ID not in ids:
        raise InputError(f"{Path(path).name}：编号须唯一且包含 {GREEN_ID}",
                         f"{Path(path).name}: ids must be unique and include {GREEN_ID}")
    return tuple(out)


CRITERIA: tuple[Criterion, ...] = load_criteria()
BY_ID: dict[str, Criterion] = {c.id: c for c in CRITERIA}


def criteria_frame() -> pd.DataFrame:
    """The declared checklist as a table (for input forms and reports)."""
    return pd.DataFrame([{**c.__dict__, "threshold_text_zh": c.threshold_text("zh"),
                          "threshold_text_en": c.threshold_text("en")} for c in CRITERIA])


# --- input parsing -----------------------------------------------------------------------------
def _is_blank(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, str):
        return not v.strip()
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:
        return False


def _parse(c: Criterion, v: Any) -> float | bool | None:
    if _is_blank(v):
        return None
    name_en, name_zh = c.label_en, c.label_zh
    if c.kind == "bool":
        if isinstance(v, bool):
            return v
        s = str(v).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise InputError(f"{name_zh}：请填“是”或“否”，而非 {v!r}", f"{name_en}: answer yes or no, not {v!r}")
    if isinstance(v, bool):
        raise InputError(f"{name_zh}：请填数字，而非 {v!r}", f"{name_en}: enter a number, not {v!r}")
    try:
        x = float(str(v).strip().rstrip("%")) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name_zh}：{v!r} 不是数字", f"{name_en}: {v!r} is not a number") from None
    if not math.isfinite(x):
        raise InputError(f"{name_zh}：{v!r} 不是有限数", f"{name_en}: {v!r} is not a finite number") from None
    if c.min is not None and x < c.min:
        if c.min == 0:
            raise InputError(f"{name_zh}：{x:g}% 为负数；比例应在 0–100% 之间",
                             f"{name_en}: {x:g}% is negative; a share is 0–100%")
        raise InputError(f"{name_zh}：{x:g} 低于最小值 {c.min:g}", f"{name_en}: {x:g} is below the minimum {c.min:g}")
    if c.max is not None and x > c.max:
        if c.kind == "share":
            raise InputError(f"{name_zh}：{x:g}% 超过 100%；比例应在 0–100% 之间",
                             f"{name_en}: {x:g}% is above 100%; a share is 0–100%")
        raise InputError(f"{name_zh}：{x:g}{c.unit} 超过最大值 {c.max:g}{c.unit}",
                         f"{name_en}: {x:g}{c.unit} is above the maximum {c.max:g}{c.unit}")
    return x


def _passes(c: Criterion, x: float | bool) -> bool:
    if c.kind == "bool":
        return bool(x)
    if c.comparator == ">=":
        return x >= c.threshold - _TOL
    return abs(x - c.threshold) <= _TOL


def _value_text(c: Criterion, x, lang: str) -> str:
    if x is None:
        return "—"
    if c.kind == "bool":
        return (YES if x else NO).pick(lang)
    unit = "%" if c.unit.startswith("%") else (f" {c.unit}" if c.unit else "")
    return f"{x:.1f}{unit}" if abs(x - round(x)) > _TOL else f"{x:.0f}{unit}"


# --- evaluation --------------------------------------------------------------------------------
def evaluate(inputs: Mapping[str, Any] | None, green_coverage_pct: float | None = None,
             green_reliability: str | None = None) -> tuple[pd.DataFrame, str]:
    """Check one park against every criterion.

    ``inputs``: criterion id → value (numbers in %, yes/no for the two yes/no criteria; blank or
    absent = missing). Green coverage comes from the map (``green_coverage_pct`` with the
    engine's ``green_reliability`` "ok"/"low") unless ``inputs`` gives a measured value, which
    then wins. Unknown ids, negative values, shares above 100% → InputError (en + zh).

    Returns (table, overall): one row per criterion with id, label_zh/_en, unit, comparator,
    threshold, threshold_text_zh/_en, value, value_text_zh/_en, status, note_zh/_en, source
    ("input"/"map"/""), clause_ref, clause_zh; overall "pass" | "fail" | "incomplete".
    """
    inputs = dict(inputs or {})
    unknown = sorted(k for k in inputs if k not in BY_ID)
    if unknown:
        raise InputError(f"未知的准入标准项：{unknown}；可用：{list(BY_ID)}",
                         f"unknown checklist item(s): {unknown}; known: {list(BY_ID)}")
    rows = []
    for c in CRITERIA:
        value, source = _parse(c, inputs.get(c.id)), "input"
        note_zh, note_en = [], []
        if c.id == GREEN_ID and value is None:
            value = _parse(c, green_coverage_pct)
            source = "map"
            if value is not None:
                rel = (green_reliability or "").strip().lower()
                if rel == "low":
                    note_zh.append("取自土地覆盖图，可靠性低（园区覆盖的像元过少）：请以实测或规划数据核实")
                    note_en.append("from the land-cover map, low reliability (few pixels): verify with measured or planning data")
                else:
                    note_zh.append("取自土地覆盖图" + ("（可靠性：良好）" if rel == "ok" else ""))
                    note_en.append("from the land-cover map" + (" (reliability: ok)" if rel == "ok" else ""))
        if value is None:
            status, source = "missing", ""
            note_zh.append("未填报" if c.id != GREEN_ID else "未填报，地图上也无数据")
            note_en.append("not entered" if c.id != GREEN_ID else "not entered and no map value")
        else:
            status = "pass" if _passes(c, value) else "fail"
            if status == "fail":
                note_zh.append(f"未达到 {c.threshold_text('zh')}")
                note_en.append(f"below {c.threshold_text('en')}" if c.kind != "bool" else "required: yes")
        if c.id == GREEN_ID and value is not None and value > GREEN_CAP_PCT:
            note_zh.append(f"提示：超过 {GREEN_CAP_PCT:g}%，工业用地绿地率一般不超过 {GREEN_CAP_PCT:g}%（绿化覆盖率与绿地率口径不同，仅提示）")
            note_en.append(f"advisory: above {GREEN_CAP_PCT:g}%, the industrial-land green-space ratio (绿地率) cap "
                           "(a different measure from green coverage; advisory only)")
        rows.append({
            "id": c.id, "label_zh": c.label_zh, "label_en": c.label_en, "unit": c.unit,
            "comparator": c.comparator, "threshold": c.threshold,
            "threshold_text_zh": c.threshold_text("zh"), "threshold_text_en": c.threshold_text("en"),
            "value": value, "value_text_zh": _value_text(c, value, "zh"), "value_text_en": _value_text(c, value, "en"),
            "status": status, "note_zh": "；".join(note_zh), "note_en": "; ".join(note_en),
            "source": source, "clause_ref": c.clause_ref, "clause_zh": c.clause_zh,
        })
    df = pd.DataFrame(rows)
    return df, overall_status(df["status"])


def overall_status(statuses) -> str:
    """"fail" if any fails, else "incomplete" if any is missing, else "pass"."""
    s = set(statuses)
    if "fail" in s:
        return "fail"
    if "missing" in s:
        return "incomplete"
    return "pass"


def credit_check(emissions_tco2: float, credits_tco2: float, limit_pct: float = CREDIT_LIMIT_PCT) -> dict:
    """Carbon credits may neutralise at most 5% of emissions (annex 2, 4.5.2).

    Returns {"status": "pass"|"fail", "share_pct", "limit_pct", "max_credits_tco2", "note_zh",
    "note_en", "clause_ref", "clause_zh"}. share = credits / emissions × 100 (0 when both are 0;
    credits with zero emissions fail). Negative or non-numeric values → InputError.
    """
    vals = {}
    for key, v, zh in (("emissions", emissions_tco2, "排放量"), ("credits", credits_tco2, "碳信用量")):
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{zh}（t CO2）须为数字，而非 {v!r}", f"{key} (t CO2) must be a number, not {v!r}") from None
        if not math.isfinite(x) or x < 0:
            raise InputError(f"{zh}（t CO2）须为不小于 0 的有限数，而非 {v!r}",
                             f"{key} (t CO2) must be a finite number ≥ 0, not {v!r}")
        vals[key] = x
    e, c = vals["emissions"], vals["credits"]
    share = 0.0 if c == 0 else (math.inf if e == 0 else 100.0 * c / e)
    ok = share <= limit_pct + _TOL
    max_c = e * limit_pct / 100.0
    share_txt = "∞" if math.isinf(share) else f"{share:.2f}%"
    if ok:
        zh = f"碳信用占排放量 {share_txt}，不超过 {limit_pct:g}%"
        en = f"credits are {share_txt} of emissions, within the {limit_pct:g}% limit"
    else:
        zh = f"碳信用占排放量 {share_txt}，超过 {limit_pct:g}% 上限（最多 {max_c:,.0f} t CO2）"
        en = f"credits are {share_txt} of emissions, above the {limit_pct:g}% limit (at most {max_c:,.0f} t CO2)"
    return {"status": "pass" if ok else "fail", "share_pct": share, "limit_pct": limit_pct,
            "max_credits_tco2": max_c, "note_zh": zh, "note_en": en,
            "clause_ref": CREDIT_CLAUSE_REF, "clause_zh": CREDIT_CLAUSE_ZH}

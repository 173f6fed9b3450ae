"""Zero-carbon park checklists, as data, with one evaluation rule for the page, exports and CLI.

Two checklists, each a CSV (id, labels, unit, kind, comparator, threshold, allowed range, clause,
verbatim quote, veto / basic / relaxable flags, ``threshold_verified``, source, the rule's note):

* ``ANHUI`` — ``tables/checklist_criteria.csv``: every 须 item of annex 1 (准入标准) of
  安徽省零碳产业园区建设方案（试行）(2024-05-13), quoted from ``../shared/seeds/
  gansu_action_plan_and_related_2025.txt``: the basic requirements 1.1–1.5 and the admission
  criteria 2.1–2.8. Thresholds verified against that text.
* ``NATIONAL`` — ``tables/checklist_national.csv``: the indicators of the 2025 national notice
  发改环资〔2025〕910号 (1 core + 5 guidance). The notice's own text was not available: the names are
  from a research institute's summary and the thresholds from a blog, so every row carries
  ``threshold_verified = 0`` and the list is only ever "indicative".

Rules (``evaluate``), per criterion: a value is compared with the threshold → "pass"/"fail"; no
value → "missing" (the greening coverage: "needs_data", 需要实测或规划数据 — never judged from the
map); "not applicable" with its reason → "na" (neither pass nor fail; without a reason it is
refused); a threshold not verified → "indicative_meets"/"indicative_below"; a relaxation claimed
(parks of advantaged industries, annex 1 2.8: 新能源汽车、锂电池、太阳能电池) turns the failure of a
relaxable criterion into "relaxed" (relaxation claimed: to be justified); the basic requirements,
the vetoes and the legal standards of 2.5 are not relaxable.

Vetoes (``veto = 1``): 1.4 no major accident or environmental emergency since planning (a past
event no later measure undoes) and 2.8 the allowance surrender of 控排企业 (the clause itself says
"否则其所在园区不得参与创建"). A failed veto fails the park whatever else passes; "not
applicable" never passes a veto (the park is then incomplete). The other basic requirements are
not vetoes: a strategy, an organisation, an accounting scope or the environmental quality can be
put right before applying; they are not relaxable either. Each row's ``rule_zh``/``rule_en``
says why.

Overall (Anhui): "fail" if any criterion fails (vetoes first in the reasons), else "incomplete"
if anything is missing, needs data or is a veto marked not applicable, else "relaxed" if a
relaxation was needed, else "pass". A list with an unverified threshold: "indicative" only.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from core import paths
from core.errors import InputError
from core.text import Text, pick
from layers import tableschema

YES, NO, PER_YEAR = Text("是", "yes"), Text("否", "no"), Text("（每年）", " per year")
NA_TEXT = Text("不适用", "not applicable")
CRITERIA_CSV = paths.TABLES / "checklist_criteria.csv"
NATIONAL_CSV = paths.TABLES / "checklist_national.csv"
GREENING_ID = "greening_coverage_pct"
COMPARATORS = (">=", "<=", "==", "info")
KINDS = ("share", "number", "bool")

STATUS_LABELS: dict[str, tuple[str, str]] = {  # row and overall states -> (zh, en)
    "pass": ("达标", "pass"),
    "fail": ("未达标", "fail"),
    "missing": ("缺数据", "missing"),
    "needs_data": ("需要实测或规划数据", "needs measured or planned data"),
    "na": ("不适用", "not applicable"),
    "relaxed": ("已申请放宽：待论证", "relaxation claimed: to be justified"),
    "indicative_meets": ("参考：达到报道阈值", "indicative: meets the reported threshold"),
    "indicative_below": ("参考：未达到报道阈值", "indicative: short of the reported threshold"),
    "info": ("已填报（背景值）", "entered (context)"),
    "incomplete": ("资料不全", "incomplete"),
    "indicative": ("仅供参考（阈值未核实）", "indicative (threshold not verified)"),
}
OVERALLS = ("pass", "fail", "incomplete", "relaxed", "indicative")  # the overall states

COLUMN_LABELS: dict[str, tuple[str, str, str]] = {  # id -> (zh, en, unit), for tables and exports
    "checklist": ("清单", "Checklist", ""),
    "label_zh": ("准入标准", "Criterion (zh)", ""),
    "label_en": ("准入标准（英文）", "Criterion", ""),
    "threshold": ("阈值", "Threshold", ""),
    "threshold_text_zh": ("要求", "Requirement (zh)", ""),
    "threshold_text_en": ("要求（英文）", "Requirement", ""),
    "value": ("填报值", "Value", ""),
    "value_text_zh": ("填报值", "Value (zh)", ""),
    "value_text_en": ("填报值（英文）", "Value", ""),
    "status": ("结果", "Status", ""),
    "status_zh": ("结果（中文）", "Status (zh)", ""),
    "status_en": ("结果（英文）", "Status (en)", ""),
    "note_zh": ("说明", "Note (zh)", ""),
    "note_en": ("说明（英文）", "Note", ""),
    "source": ("数据来源", "Value from", ""),
    "clause_ref": ("条款", "Clause", ""),
    "clause_zh": ("原文", "Clause text (zh)", ""),
    "veto": ("否决项", "Veto", ""),
    "basic": ("基本要求", "Basic requirement", ""),
    "relaxable": ("可申请放宽", "Relaxable", ""),
    "threshold_verified": ("阈值已核实", "Threshold verified", ""),
    "criterion_source": ("标准出处", "Criterion source", ""),
    "na_reason": ("不适用理由", "Reason not applicable", ""),
    "overall": ("总体结论", "Overall", ""),
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
    kind: str  # "share" (0–100 %), "number" (bounded by min/max), "bool" (yes/no)
    comparator: str  # ">=", "<=", "==" (bool: must be yes) or "info" (a context value, no status)
    threshold: float | None
    min: float | None
    max: float | None
    clause_ref: str
    clause_zh: str
    veto: bool = False
    basic: bool = False
    relaxable: bool = True
    verified: bool = True
    source: str = ""
    rule_zh: str = ""
    rule_en: str = ""
    scale_by: str = ""  # id of the criterion whose value picks the threshold (``scale``)
    scale: tuple[tuple[float, float | None, float], ...] = ()  # (from, to, threshold): from ≤ x < to
    scale_unit: str = ""  # the unit of the ``scale_by`` criterion (filled in by ``load_checklist``)

    def label(self, lang: str = "zh") -> str:
        return pick(self.label_zh, self.label_en, lang)

    def _unit(self) -> str:
        return "%" if self.unit.startswith("%") else (f" {self.unit}" if self.unit else "")

    def threshold_text(self, lang: str = "zh", threshold: float | None = None) -> str:
        if self.kind == "bool":
            return YES.pick(lang)
        if self.comparator == "info":
            return "—"
        sign = {">=": "≥", "<=": "≤", "==": "="}[self.comparator]
        per = PER_YEAR.pick(lang) if self.unit == "%/yr" else ""
        thr = self.threshold if threshold is None else threshold
        if thr is None and self.scale:
            su = f" {self.scale_unit}" if self.scale_unit else ""
            parts = [f"{sign} {t:g}{self._unit()}（{lo:g}–{hi:g}{su}）" if hi is not None
                     else f"{sign} {t:g}{self._unit()}（≥ {lo:g}{su}）" for lo, hi, t in self.scale]
            return "；".join(parts) if lang == "zh" else "; ".join(p.replace("（", " (").replace("）", ")") for p in parts)
        return f"{sign} {thr:g}{self._unit()}{per}" if thr is not None else "—"

    def threshold_for(self, scale_value: float | None) -> float | None:
        """The threshold that applies (a scale-dependent one picked by ``scale_value``)."""
        if not self.scale:
            return self.threshold
        if scale_value is None:
            return None
        for lo, hi, t in self.scale:
            if scale_value >= lo and (hi is None or scale_value < hi):
                return t
        return None


@dataclass(frozen=True)
class Checklist:
    key: str  # "anhui" | "national"
    title: Text
    criteria: tuple[Criterion, ...]
    by_id: dict[str, Criterion] = field(compare=False, repr=False)

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.criteria)


# --- the declared tables ------------------------------------------------------------------------
def _num(v: str) -> float | None:
    return float(v) if v.strip() else None


def _flag(v: str) -> bool:
    return v.strip().lower() in ("1", "yes", "true")


def _scale(v: str) -> tuple[tuple[float, float | None, float], ...]:
    """"20-100:0.20;100-:0.30" → ((20, 100, 0.2), (100, None, 0.3))."""
    out = []
    for part in filter(None, (p.strip() for p in v.split(";"))):
        rng, thr = part.split(":")
        lo, hi = rng.split("-")
        out.append((float(lo), float(hi) if hi.strip() else None, float(thr)))
    return tuple(out)


def load_criteria(path: str | Path = CRITERIA_CSV) -> tuple[Criterion, ...]:
    """Read and check a declared checklist (raises InputError on a malformed table)."""
    name = Path(path).name
    tableschema.read(path, "checklist_criteria")  # columns, numbers and flags: layers/tableschema.py
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            c = Criterion(r["id"].strip(), r["label_zh"], r["label_en"], r["unit"], r["kind"].strip(),
                          r["comparator"].strip(), _num(r["threshold"]), _num(r["min"]), _num(r["max"]),
                          r["clause_ref"], r["clause_zh"], _flag(r.get("veto", "0")), _flag(r.get("basic", "0")),
                          _flag(r.get("relaxable", "1")), _flag(r.get("threshold_verified", "1")),
                          r.get("source", ""), r.get("rule_zh", ""), r.get("rule_en", ""),
                          r.get("scale_by", "").strip(), _scale(r.get("scale_thresholds", "")))
        except (KeyError, ValueError) as e:
            raise InputError(f"{name} 第 {i} 行：{e}", f"{name} line {i}: {e}") from None
        bad = c.kind not in KINDS or c.comparator not in COMPARATORS or (
            c.comparator in (">=", "<=", "==") and c.threshold is None and not c.scale)
        if bad or ((c.veto or c.basic) and c.relaxable):
            raise InputError(f"{name} 第 {i} 行：类型 {c.kind!r}、比较符 {c.comparator!r}、阈值或放宽标记不正确",
                             f"{name} line {i}: kind {c.kind!r}, comparator {c.comparator!r}, threshold or "
                             "relaxable flag is wrong (a veto or basic requirement cannot be relaxable)")
        out.append(c)
    ids = [c.id for c in out]
    scale_ids = {c.scale_by for c in out if c.scale_by}
    if len(set(ids)) != len(ids) or not scale_ids <= set(ids):
        raise InputError(f"{name}：编号须唯一，分档依据须为表中的编号", f"{name}: ids must be unique and scale_by an id of the table")
    return tuple(out)


def load_checklist(key: str, path: str | Path, title: Text) -> Checklist:
    criteria = load_criteria(path)
    units = {c.id: c.unit for c in criteria}
    criteria = tuple(replace(c, scale_unit=units[c.scale_by]) if c.scale_by else c for c in criteria)
    return Checklist(key, title, criteria, {c.id: c for c in criteria})


ANHUI = load_checklist("anhui", CRITERIA_CSV, Text("零碳产业园区准入标准（安徽省方案附件1）",
                                                   "Zero-carbon park admission criteria (Anhui plan, annex 1)"))
NATIONAL = load_checklist("national", NATIONAL_CSV, Text("国家零碳园区建设指标（发改环资〔2025〕910号，阈值未核实）",
                                                         "National zero-carbon park indicators (NDRC 2025 No. 910, "
                                                         "thresholds not verified)"))
CHECKLISTS: dict[str, Checklist] = {"anhui": ANHUI, "national": NATIONAL}
if GREENING_ID not in ANHUI.by_id or set(ANHUI.by_id) & set(NATIONAL.by_id):
    raise InputError(f"准入清单须包含 {GREENING_ID}，两个清单的编号不得重复",
                     f"the admission checklist must hold {GREENING_ID}; the two checklists may not share ids")
CRITERIA: tuple[Criterion, ...] = ANHUI.criteria
BY_ID: dict[str, Criterion] = {**ANHUI.by_id, **NATIONAL.by_id}  # every criterion of both lists


# --- values ---------------------------------------------------------------------------------------
def is_blank(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, str):
        return not v.strip()
    return isinstance(v, float) and math.isnan(v)


def parse_value(c: Criterion, v: Any) -> float | bool | None:
    """A typed value for criterion ``c`` (None when blank); bilingual InputError when unusable."""
    if is_blank(v):
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
            raise InputError(f"{name_zh}：{x:g} 为负数；应不小于 0", f"{name_en}: {x:g} is negative; it must be ≥ 0")
        raise InputError(f"{name_zh}：{x:g} 低于最小值 {c.min:g}", f"{name_en}: {x:g} is below the minimum {c.min:g}")
    if c.max is not None and x > c.max:
        if c.kind == "share":
            raise InputError(f"{name_zh}：{x:g}% 超过 100%；比例应在 0–100% 之间",
                             f"{name_en}: {x:g}% is above 100%; a share is 0–100%")
        raise InputError(f"{name_zh}：{x:g}{c.unit} 超过最大值 {c.max:g}{c.unit}",
                         f"{name_en}: {x:g}{c.unit} is above the maximum {c.max:g}{c.unit}")
    return x


def passes(c: Criterion, x: float | bool, thr: float) -> bool:
    """Does ``x`` meet the threshold ``thr`` of ``c`` (yes/no: must be yes)?"""
    if c.kind == "bool":
        return bool(x)
    if c.comparator == ">=":
        return x >= thr - _TOL
    if c.comparator == "<=":
        return x <= thr + _TOL
    return abs(x - thr) <= _TOL


def value_text(c: Criterion, x, lang: str) -> str:
    if x is None:
        return "—"
    if c.kind == "bool":
        return (YES if x else NO).pick(lang)
    return (f"{x:.2f}".rstrip("0").rstrip(".") if abs(x - round(x)) > _TOL else f"{x:.0f}") + c._unit()


# --- answers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Greening:
    """The greening coverage entered for a park: value (%), "planned"/"measured", source, date."""
    value: float
    kind: str
    source: str
    date: str


@dataclass(frozen=True)
class Answers:
    """One park's parsed answers (``indicators.checklist_answers.parse`` makes them)."""
    values: dict[str, Any] = field(default_factory=dict)  # criterion id -> typed value
    na: dict[str, str] = field(default_factory=dict)  # criterion id -> reason (non-empty)
    greening: Greening | None = None
    relaxation: str | None = None  # the basis of a relaxation claim (None: not claimed)
    emissions_tco2: float | None = None
    credits_tco2: float | None = None


GREENING_KINDS = {"planned": Text("规划值", "planned"), "measured": Text("实测值", "measured")}


@dataclass
class Verdict:
    checklist: Checklist
    table: pd.DataFrame  # one row per criterion
    overall: str  # one of OVERALLS
    reasons: list[Text]

    def reasons_text(self, lang: str = "zh") -> str:
        return ("；" if lang == "zh" else "; ").join(r.pick(lang) for r in self.reasons)

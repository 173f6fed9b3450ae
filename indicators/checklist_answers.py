"""A park's checklist answers — as the store keeps them and as ``python -m cli checklist`` reads
them — parsed by one function and evaluated by one function, so the page, the exports and the
CLI cannot disagree.

Saved form (``Store.save_checklist``, flat: the store keeps one level of keys; the page writes
it, the CLI builds it from its CSV)::

    {"<criterion id>": value, ...,             # either checklist; "n/a"/"不适用" = not applicable
     "_na:<criterion id>": "reason", ...,      # the reason of each "not applicable"
     "_greening_value": 18, "_greening_kind": "planned", "_greening_source": "控制性详细规划",
     "_greening_date": "2024-06",
     "_relaxation": "yes", "_relaxation_basis": "锂电池",  # advantaged industry (annex 1, 2.8)
     "_emissions_tco2": 100000, "_credits_tco2": 5000}

CLI answers CSV: ``park_id, criterion, value, not_applicable_reason, kind, source, date``; one
row per park and criterion; the greening row (criterion ``greening_coverage_pct``) uses kind
(planned|measured), source and date; ``relaxation`` (value yes/no, source = the advantaged
industry), ``emissions_tco2`` and ``credits_tco2`` are rows too.

    result = evaluate_park(saved, engine_row)   # .anhui, .national (Verdict), .credit, .hint
    rows = result_rows(park_id, name, result)   # one row per criterion + overall rows (+ credit)
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from core.errors import InputError
from core.text import Text
from indicators import checklist as ck
from indicators.checklist_eval import evaluate
from indicators.credit import credit_check
from indicators.green import MapHint, map_hint

NA_TOKENS = {"na", "n/a", "not applicable", "不适用"}
KIND_ALIASES = {"planned": "planned", "规划": "planned", "规划值": "planned",
                "measured": "measured", "实测": "measured", "实测值": "measured"}
NA_PREFIX = "_na:"
GREENING_KEYS = ("_greening_value", "_greening_kind", "_greening_source", "_greening_date")
SPECIAL = (*GREENING_KEYS, "_relaxation", "_relaxation_basis", "_emissions_tco2", "_credits_tco2")
LEGACY = ("green_coverage_pct",)  # the map-derived override saved before greening was an input: ignored
CSV_COLUMNS = ("park_id", "criterion", "value", "not_applicable_reason", "kind", "source", "date")
CSV_SPECIAL = {"emissions_tco2": "_emissions_tco2", "credits_tco2": "_credits_tco2"}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _text(v: Any) -> str:
    return "" if ck.is_blank(v) else str(v).strip()


def _greening(raw: Any, saved: Mapping) -> ck.Greening | None:
    value = ck.parse_value(ck.ANHUI.by_id[ck.GREENING_ID], raw)
    if value is None:
        return None
    kind = KIND_ALIASES.get(_text(saved.get("_greening_kind")).lower())
    source, date = _text(saved.get("_greening_source")), _text(saved.get("_greening_date"))
    missing = [Text(zh, en) for ok, zh, en in ((kind, "类型（规划值或实测值）", "kind (planned or measured)"),
                                               (source, "来源", "source"), (date, "日期", "date")) if not ok]
    if missing:
        raise InputError(f"绿化覆盖率 {value:g}%：须注明{'、'.join(m.zh for m in missing)}",
                         f"greening coverage {value:g}%: give its {', '.join(m.en for m in missing)}")
    if not _DATE.match(date) or not _valid_date(date):
        raise InputError(f"绿化覆盖率的日期须为 YYYY、YYYY-MM 或 YYYY-MM-DD，而非 {date!r}",
                         f"the greening coverage date must be YYYY, YYYY-MM or YYYY-MM-DD, not {date!r}")
    return ck.Greening(value, kind, source, date)


def _valid_date(s: str) -> bool:
    parts = [int(p) for p in s.split("-")] + [1, 1]
    try:
        dt.date(*parts[:3])
    except ValueError:
        return False
    return True


RELAXATION = ck.Criterion("relaxation", "申请放宽（优势行业）", "relaxation claimed (advantaged industry)", "", "bool",
                          "==", 1.0, None, None, "附件1 2.8", "")


def parse(saved: Mapping[str, Any] | None) -> ck.Answers:
    """The answers of one park (saved form, see the module docstring); InputError (zh + en) on
    anything the rules refuse: unknown criterion, bad value, "not applicable" without a reason or
    with a value as well, a greening value without its kind, source or date, a relaxation claimed
    without its basis."""
    saved = dict(saved or {})
    na_in = {k[len(NA_PREFIX):]: v for k, v in saved.items() if k.startswith(NA_PREFIX)}
    unknown = sorted(k for k in saved if k not in ck.BY_ID and k not in SPECIAL and k not in LEGACY
                     and not k.startswith(NA_PREFIX))
    unknown += sorted(NA_PREFIX + k for k in na_in if k not in ck.BY_ID)
    if unknown:
        raise InputError(f"未知的清单项：{unknown}（“不适用”只能用于清单项）",
                         f"unknown checklist item(s): {unknown} (“not applicable” can only name checklist items)")
    values, na, greening = {}, {}, None
    for cid, c in ck.BY_ID.items():
        raw, reason = saved.get(cid), _text(na_in.get(cid))
        if cid == ck.GREENING_ID and ck.is_blank(raw):
            raw = saved.get("_greening_value")
        marked = not ck.is_blank(raw) and str(raw).strip().lower() in NA_TOKENS
        if marked or reason:
            if not reason:
                raise InputError(f"{c.label_zh}：标为“不适用”须说明理由", f"{c.label_en}: “not applicable” needs a reason")
            if not marked and not ck.is_blank(raw):
                raise InputError(f"{c.label_zh}：已填报数值 {raw!r}，又标为不适用（{reason}）：只能选其一",
                                 f"{c.label_en}: a value ({raw!r}) and “not applicable” ({reason}): give one of them")
            na[cid] = reason
        elif cid == ck.GREENING_ID:
            greening = _greening(raw, saved)
        else:
            v = ck.parse_value(c, raw)
            if v is not None:
                values[cid] = v
    basis = None
    if ck.parse_value(RELAXATION, saved.get("_relaxation")):
        basis = _text(saved.get("_relaxation_basis"))
        if not basis:
            raise InputError("申请放宽须说明依据（园区所属的优势行业，如新能源汽车、锂电池、太阳能电池）",
                             "a relaxation claim needs its basis (the park's advantaged industry, e.g. new-energy "
                             "vehicles, lithium batteries, solar cells)")
    em, cr = saved.get("_emissions_tco2"), saved.get("_credits_tco2")
    return ck.Answers(values, na, greening, basis, None if ck.is_blank(em) else em, None if ck.is_blank(cr) else cr)


@dataclass
class ParkResult:
    answers: ck.Answers
    anhui: ck.Verdict
    national: ck.Verdict
    credit: dict | None
    hint: MapHint | None


def evaluate_park(saved: Mapping[str, Any] | None, row: Mapping | None = None) -> ParkResult:
    """Both checklists and the credit check of one park. ``row``: its indicator-engine row (the
    map hint: ``vegetated_share_pct``, ``landcover_pixels``, ``landcover_pixel_m``; the sink:
    ``carbon_sink_tco2_yr``) or None. InputError on answers the rules refuse."""
    answers = parse(saved)
    hint = map_hint(row) if row is not None and "vegetated_share_pct" in row else None  # None: no map in use
    credit = None
    if answers.emissions_tco2 is not None and answers.credits_tco2 is not None:
        sink = None if row is None else row.get("carbon_sink_tco2_yr")
        credit = credit_check(answers.emissions_tco2, answers.credits_tco2, None if ck.is_blank(sink) else float(sink))
    return ParkResult(answers, evaluate(ck.ANHUI, answers, hint), evaluate(ck.NATIONAL, answers, hint), credit, hint)


def result_rows(park_id: str, name: str, result: ParkResult) -> pd.DataFrame:
    """One row per park and criterion of both checklists, an overall row per checklist (id
    "overall", reasons in the note) and, with emissions and credits, the credit rows."""
    frames = []
    for v in (result.anhui, result.national):
        zh, en = ck.STATUS_LABELS[v.overall]
        over = {"checklist": v.checklist.key, "id": "overall", "label_zh": v.checklist.title.zh,
                "label_en": v.checklist.title.en, "status": v.overall, "status_zh": zh, "status_en": en,
                "note_zh": v.reasons_text("zh"), "note_en": v.reasons_text("en")}
        frames.append(pd.concat([v.table, pd.DataFrame([over])], ignore_index=True))
    if result.credit is not None:
        frames.append(pd.DataFrame(credit_rows(result.credit)))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "name", name)
    out.insert(0, "park_id", str(park_id))
    return out


def credit_rows(cr: dict) -> list[dict]:
    """The credit check as rows: the 5% rule, then the balance without and with the sink."""
    zh, en = ck.STATUS_LABELS[cr["status"]]
    rows = [{"checklist": "credit", "id": "credit_share", "label_zh": "碳信用占排放量比例", "label_en": "Credits as a share of emissions",
             "unit": "%", "value": cr["share_pct"], "threshold": cr["limit_pct"], "status": cr["status"],
             "status_zh": zh, "status_en": en, "note_zh": cr["note_zh"], "note_en": cr["note_en"],
             "clause_ref": cr["clause_ref"], "clause_zh": cr["clause_zh"]}]
    for key, part, lz, le in (("credit_balance_without_sink", cr["without_sink"], "碳平衡（不计碳汇）", "Balance without the sink"),
                              ("credit_balance_with_sink", cr["with_sink"], "碳平衡（计入园区碳汇）", "Balance with the park's sink")):
        if part is None:
            continue
        iz, ie = ck.STATUS_LABELS["info"]
        sink = key.endswith("with_sink")
        rows.append({"checklist": "credit", "id": key, "label_zh": lz, "label_en": le, "unit": "t CO2",
                     "value": part["balance_tco2"], "status": "info", "status_zh": iz, "status_en": ie,
                     "note_zh": part["note_zh"] + (f"；{cr['sink_note_zh']}" if sink else ""),
                     "note_en": part["note_en"] + (f"; {cr['sink_note_en']}" if sink else ""),
                     "clause_ref": cr["clause_ref"], "clause_zh": cr["clause_zh"]})
    return rows


# --- the CLI's answers file --------------------------------------------------------------------
def saved_from_rows(df: pd.DataFrame) -> dict[str, dict]:
    """park_id → saved form, from the rows of an answers CSV (see the module docstring).
    InputError names the file line (header = line 1) of every refused row."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    absent = [c for c in ("park_id", "criterion", "value") if c not in cols]
    if absent:
        raise InputError(f"answers 文件缺少列 {absent}；列应为 {list(CSV_COLUMNS)}",
                         f"the answers file lacks column(s) {absent}; columns: {list(CSV_COLUMNS)}")
    get = {c: (df[cols[c]] if c in cols else pd.Series([""] * len(df), index=df.index)) for c in CSV_COLUMNS}
    out: dict[str, dict] = {}
    seen: set[tuple[str, str]] = set()
    for i in range(len(df)):
        line = i + 2
        pid, cid = _text(get["park_id"].iloc[i]), _text(get["criterion"].iloc[i])
        val, reason = get["value"].iloc[i], _text(get["not_applicable_reason"].iloc[i])
        if not pid or not cid:
            raise InputError(f"answers 第 {line} 行：park_id 和 criterion 不能为空", f"answers line {line}: park_id and criterion are required")
        if (pid, cid) in seen:
            raise InputError(f"answers 第 {line} 行：园区 {pid} 的 {cid} 重复", f"answers line {line}: {cid} repeated for park {pid}")
        seen.add((pid, cid))
        d = out.setdefault(pid, {})
        if cid == ck.GREENING_ID:
            d.update({"_greening_value": val, "_greening_kind": get["kind"].iloc[i], "_greening_source": get["source"].iloc[i],
                      "_greening_date": get["date"].iloc[i]})
        elif cid == "relaxation":
            d.update({"_relaxation": val, "_relaxation_basis": get["source"].iloc[i]})
        elif cid in CSV_SPECIAL:
            d[CSV_SPECIAL[cid]] = val
        elif cid in ck.BY_ID:
            d[cid] = val
        else:
            raise InputError(f"answers 第 {line} 行：未知的清单项 {cid!r}",
                             f"answers line {line}: unknown criterion {cid!r} (ids: see tables/checklist_criteria.csv, "
                             "tables/checklist_national.csv, or relaxation, emissions_tco2, credits_tco2)")
        if reason:
            d[NA_PREFIX + cid] = reason
    for pid, d in out.items():  # every park's answers checked here, named by park
        try:
            parse(d)
        except InputError as e:
            raise InputError(f"answers 中园区 {pid}：{e.zh}", f"answers for park {pid}: {e.en}") from None
    return out

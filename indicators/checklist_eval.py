"""One evaluation rule for both checklists (the rules are in ``indicators.checklist``'s docstring):

    verdict = evaluate(checklist.ANHUI, answers, hint)     # hint: indicators.green.MapHint or None
    verdict.table, verdict.overall, verdict.reasons

The page, the exports and ``python -m cli checklist`` all come here through
``indicators.checklist_answers.evaluate_park``.
"""
from __future__ import annotations

import pandas as pd

from core.text import Text
from indicators.checklist import (GREENING_ID, GREENING_KINDS, NA_TEXT, STATUS_LABELS, Answers, Checklist, Criterion,
                                  Verdict, passes, value_text)
from indicators.green import MapHint

NOT_ENTERED = Text("未填报", "not entered")
NEEDS_DATA = Text("需要实测或规划数据：请在本页或命令行 answers 文件中填报绿化覆盖率（规划值或实测值，注明来源和日期）",
                  "needs measured or planned data: enter the greening coverage on this page or in the CLI answers file "
                  "(planned or measured, with its source and date)")
VETO_NA = Text("否决项不能以“不适用”通过：请回答是或否", "a veto cannot pass as “not applicable”: answer yes or no")
UNVERIFIED = Text("参考：阈值仅见报道，未与通知原文核对", "indicative: the threshold is only reported, not verified against the notice")
RELAXED = Text("已申请放宽（优势行业）：需论证", "relaxation claimed (advantaged industry): to be justified")
NOT_RELAXABLE = Text("不可放宽", "not relaxable")


def _sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


def _threshold(c: Criterion, answers: Answers) -> tuple[float | None, Text | None]:
    """(threshold that applies, why there is none)."""
    if c.comparator == "info":
        return None, None
    if not c.scale:
        return c.threshold, None
    scale = answers.values.get(c.scale_by)
    thr = c.threshold_for(scale)
    if thr is not None:
        return thr, None
    if scale is None:
        return None, Text("阈值按园区年综合能源消费量分档：请一并填报", "the threshold depends on the park's annual energy use: enter it too")
    return None, Text(f"园区能耗 {scale:g} 不在报道阈值的适用范围内", f"no threshold was reported for an energy use of {scale:g}")


def _row(c: Criterion, answers: Answers, hint: MapHint | None, relax: bool) -> dict:
    notes: list[Text] = []
    reason = answers.na.get(c.id)
    greening = answers.greening if c.id == GREENING_ID else None
    value = greening.value if greening is not None else answers.values.get(c.id)
    source = greening.kind if greening is not None else ("input" if value is not None else "")
    thr, no_thr = _threshold(c, answers)
    if reason is not None:
        status, value, source = "na", None, ""
        notes.append(Text(f"不适用：{reason}", f"not applicable: {reason}"))
        if c.veto:
            notes.append(VETO_NA)
    elif value is None:
        status = "needs_data" if c.id == GREENING_ID else "missing"
        notes.append(NEEDS_DATA if c.id == GREENING_ID else NOT_ENTERED)
    elif c.comparator == "info":
        status = "info"
    elif thr is None:
        status = "missing"
        notes.append(no_thr)
    else:
        ok = passes(c, value, thr)
        if not ok:
            notes.append(Text(f"未达到 {c.threshold_text('zh', thr)}", "required: yes" if c.kind == "bool"
                              else f"does not meet {c.threshold_text('en', thr)}"))
        if not c.verified:
            status = "indicative_meets" if ok else "indicative_below"
            notes.append(UNVERIFIED)
        elif ok:
            status = "pass"
        else:
            if relax and c.relaxable:
                status = "relaxed"
                notes.append(RELAXED)
            else:
                status = "fail"
                if relax:
                    notes.append(NOT_RELAXABLE)
    if c.veto and status == "fail":
        notes.append(Text("否决项：园区不能准入", "veto: the park cannot be admitted"))
    if greening is not None and reason is None:
        notes.append(Text(f"填报：{GREENING_KINDS[greening.kind].zh}，来源：{greening.source}，日期：{greening.date}",
                          f"entered: {GREENING_KINDS[greening.kind].en}, source: {greening.source}, date: {greening.date}"))
    if c.id == GREENING_ID and hint is not None and (hint.ok or value is None):
        notes.append(hint.text())  # a hint (labelled as such) or why the map gives none
    zh, en = STATUS_LABELS[status]
    return {
        "id": c.id, "label_zh": c.label_zh, "label_en": c.label_en, "unit": c.unit, "comparator": c.comparator,
        "threshold": thr, "threshold_text_zh": c.threshold_text("zh", thr), "threshold_text_en": c.threshold_text("en", thr),
        "value": value, "value_text_zh": NA_TEXT.zh if status == "na" else value_text(c, value, "zh"),
        "value_text_en": NA_TEXT.en if status == "na" else value_text(c, value, "en"),
        "status": status, "status_zh": zh, "status_en": en,
        "note_zh": _sep("zh").join(n.zh for n in notes), "note_en": _sep("en").join(n.en for n in notes),
        "source": source, "veto": c.veto, "basic": c.basic, "relaxable": c.relaxable, "threshold_verified": c.verified,
        "clause_ref": c.clause_ref, "clause_zh": c.clause_zh, "criterion_source": c.source,
        "na_reason": reason or "",
    }


def _names(rows: pd.DataFrame) -> Text:
    zh = "、".join(f"{r.clause_ref} {r.label_zh}" for r in rows.itertuples())
    en = "; ".join(f"{r.clause_ref} {r.label_en}" for r in rows.itertuples())
    return Text(zh, en)


def overall(table: pd.DataFrame, cl: Checklist) -> tuple[str, list[Text]]:
    """(overall state, the reasons) of one checklist's rows."""
    s = table["status"]
    if not cl.verified:
        n = {k: int((s == k).sum()) for k in ("indicative_meets", "indicative_below", "missing", "needs_data", "na")}
        return "indicative", [Text(
            f"阈值未与通知原文核对，仅供参考：达到报道阈值 {n['indicative_meets']} 项，未达到 {n['indicative_below']} 项，"
            f"缺数据 {n['missing'] + n['needs_data']} 项，不适用 {n['na']} 项",
            f"thresholds not verified against the notice, indicative only: {n['indicative_meets']} meet the reported "
            f"threshold, {n['indicative_below']} do not, {n['missing'] + n['needs_data']} missing, {n['na']} not applicable")]
    veto = table["veto"].astype(bool)
    groups = [
        (veto & (s == "fail"), Text("否决项未通过：", "veto failed: ")),
        (~veto & (s == "fail"), Text("未达标：", "not met: ")),
        (veto & (s == "na"), Text("否决项不能以“不适用”通过：", "a veto cannot pass as not applicable: ")),
        (s == "needs_data", Text("需要实测或规划数据：", "needs measured or planned data: ")),
        (s == "relaxed", Text("已申请放宽，待论证：", "relaxation claimed, to be justified: ")),
        (~veto & (s == "na"), Text("不适用（已说明理由）：", "not applicable (reason given): ")),
    ]
    reasons = [Text(head.zh + _names(table[m]).zh, head.en + _names(table[m]).en) for m, head in groups if m.any()]
    n_missing = int((s == "missing").sum())
    if n_missing:  # counted, not listed: the table shows which
        reasons.insert(sum(1 for m, _ in groups[:3] if m.any()), Text(f"缺数据 {n_missing} 项（见表中“缺数据”行）",
                                                                       f"{n_missing} item(s) missing (the “missing” rows)"))
    if (s == "fail").any():
        state = "fail"
    elif (s.isin(["missing", "needs_data"]) | (veto & (s == "na"))).any():
        state = "incomplete"
    elif (s == "relaxed").any():
        state = "relaxed"
    else:
        state = "pass"
        reasons.insert(0, Text("全部适用的准入标准达标", "every applicable criterion is met"))
    return state, reasons


def evaluate(cl: Checklist, answers: Answers, hint: MapHint | None = None) -> Verdict:
    """Every criterion of ``cl`` for one park's ``answers``; the greening row names the map ``hint``
    (never uses it). A relaxation claim (``answers.relaxation``) applies to the relaxable rows."""
    relax = answers.relaxation is not None
    table = pd.DataFrame([_row(c, answers, hint, relax) for c in cl.criteria])
    table.insert(0, "checklist", cl.key)
    state, reasons = overall(table, cl)
    if relax and cl.verified:
        reasons.append(Text(f"已申请放宽（{answers.relaxation}）：基本要求1.1–1.5、否决项和法定排放标准仍须满足，其他未达标项记为“待论证”",
                            f"relaxation claimed ({answers.relaxation}): the basic requirements 1.1–1.5, the vetoes and "
                            "the legal emission standards still apply; other criteria not met are “to be justified”"))
    return Verdict(cl, table, state, reasons)

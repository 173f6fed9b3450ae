"""The Checklist page's pieces: the per-park form (every 须 item of Anhui annex 1, the greening
coverage entered with its kind, source and date, "not applicable" with a reason, the relaxation
claim, the national indicators, emissions and credits), saved in the store, and the verdicts of
``indicators.checklist_answers.evaluate_park`` — the rules of the exports and the CLI."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import GansuError, InputError
from core.i18n import t
from core.text import pick
from indicators import checklist as ck
from indicators import checklist_answers as ca
from indicators import green
from ui import auth, common, seen_versions, tables
from ui.mdtext import md

BOOL_OPTIONS = ["", "yes", "no", "n/a"]
KIND_OPTIONS = ["", "planned", "measured"]


def _key(pid: str, cid: str) -> str:
    return f"check_{pid}_{cid}"


def _text(v) -> str:
    return "" if ck.is_blank(v) else str(v)


def _bool_prefill(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    s = _text(v).strip().lower()
    if not s:
        return ""
    if s in ca.NA_TOKENS:
        return "n/a"
    try:  # "是"/"否", "true", "1": as the rules read them
        return "yes" if ck.parse_value(ca.RELAXATION, v) else "no"
    except InputError:  # not a yes/no: shown blank, the verdict names the problem
        return ""


def _criterion(box, pid: str, c: ck.Criterion, saved: dict, lang: str) -> dict:
    """The value and not-applicable reason widgets of one criterion → their saved-form keys."""
    left, right = box.columns([3, 2])
    clause = f"{c.clause_ref[4:]} · " if c.clause_ref.startswith("附件1 ") else ""  # "1.4 · …" (national: none)
    label = f"{clause}{c.label(lang)} ({c.threshold_text(lang)})"
    why = pick(c.rule_zh, c.rule_en, lang) or None  # veto, not relaxable, … and why
    if c.kind == "bool":
        cur = _bool_prefill(saved.get(c.id))
        v = left.selectbox(label, BOOL_OPTIONS, index=BOOL_OPTIONS.index(cur), key=_key(pid, c.id), help=why,
                           format_func=lambda o: {"": t("check.unknown", lang), "yes": t("check.yes", lang),
                                                  "no": t("check.no", lang), "n/a": t("check.na", lang)}[o])
    else:
        v = left.text_input(label, value=_text(saved.get(c.id)), key=_key(pid, c.id), help=why)
    r = right.text_input(t("check.na_reason", lang), value=_text(saved.get(ca.NA_PREFIX + c.id)),
                         key=_key(pid, c.id) + "_na")
    return {k: x for k, x in ((c.id, v), (ca.NA_PREFIX + c.id, r)) if str(x).strip()}


def _greening(box, pid: str, saved: dict, row: pd.Series, lang: str) -> dict:
    """The greening coverage entered (value, kind, source, date, or not applicable with a reason)
    and, above it, what the map offers: a labelled hint, or why there is none."""
    c = ck.ANHUI.by_id[ck.GREENING_ID]
    box.markdown(f"**{c.clause_ref[4:]} · {t('check.greening', lang)}**")
    hint = green.map_hint(row)
    (box.info if hint.ok else box.caption)(md(hint.text().pick(lang)))
    legacy = saved.get("green_coverage_pct")
    if not ck.is_blank(legacy) and ck.is_blank(saved.get("_greening_value")):
        box.caption(t("check.greening.legacy", lang, v=md(legacy)))
    c1, c2, c3, c4 = box.columns([2, 2, 3, 2])
    value = _text(saved.get(ck.GREENING_ID)) or _text(saved.get("_greening_value"))
    v = c1.text_input(t("check.greening.value", lang), value=value, key=_key(pid, ck.GREENING_ID))
    kind = ca.KIND_ALIASES.get(_text(saved.get("_greening_kind")).lower(), "")
    k = c2.selectbox(t("check.greening.kind", lang), KIND_OPTIONS, index=KIND_OPTIONS.index(kind),
                     key=_key(pid, "greening_kind"),
                     format_func=lambda o: ck.GREENING_KINDS[o].pick(lang) if o else t("check.unknown", lang))
    s = c3.text_input(t("check.greening.source", lang), value=_text(saved.get("_greening_source")),
                      key=_key(pid, "greening_source"))
    d = c4.text_input(t("check.greening.date", lang), value=_text(saved.get("_greening_date")),
                      key=_key(pid, "greening_date"))
    r = box.text_input(t("check.na_reason", lang), value=_text(saved.get(ca.NA_PREFIX + ck.GREENING_ID)),
                       key=_key(pid, ck.GREENING_ID) + "_na")
    out = {k_: x for k_, x in zip(ca.GREENING_KEYS, (v, k, s, d)) if x.strip()}
    if r.strip():
        out[ca.NA_PREFIX + ck.GREENING_ID] = r
    return out


def greening_text(pid: str, lang: str) -> str:
    """The greening coverage entered for a park (value, kind, source, date), or "needs measured
    or planned data": never the map's vegetated share (the Parks page's detail card)."""
    try:
        g = ca.parse(common.store().checklist(pid)).greening
    except GansuError:  # answers the rules now refuse: the Checklist page says why
        g = None
    if g is None:
        return t("parks.greening.none", lang)
    return t("parks.greening.value", lang, v=f"{g.value:g}", kind=ck.GREENING_KINDS[g.kind].pick(lang),
             source=g.source, date=g.date)


def form(pid: str, row: pd.Series, lang: str) -> tuple[dict, bool]:
    """(the answers in the saved form of ``indicators.checklist_answers``, submitted) — the form
    prefilled from the park's saved answers."""
    saved = common.store().checklist(pid)
    out: dict = {}
    with st.form(f"check_form_{pid}"):
        sections = [("check.section.basic", [c for c in ck.ANHUI.criteria if c.basic]),
                    ("check.section.admission", [c for c in ck.ANHUI.criteria if not c.basic])]
        for head, crits in sections:
            st.markdown(f"**{t(head, lang)}**")
            for c in crits:
                out.update(_greening(st.container(border=True), pid, saved, row, lang) if c.id == ck.GREENING_ID
                           else _criterion(st, pid, c, saved, lang))
        st.markdown(f"**{t('check.relax', lang)}**")
        st.caption(t("check.relax.help", lang))
        r1, r2 = st.columns([1, 2])
        claimed = r1.checkbox(t("check.relax.claim", lang), value=_bool_prefill(saved.get("_relaxation")) == "yes",
                              key=_key(pid, "relax"))
        basis = r2.text_input(t("check.relax.basis", lang), value=_text(saved.get("_relaxation_basis")),
                              key=_key(pid, "relax_basis"))
        with st.expander(t("check.section.national", lang), expanded=False):
            for c in ck.NATIONAL.criteria:
                out.update(_criterion(st, pid, c, saved, lang))
        st.markdown(f"**{t('check.credits', lang)}**")
        e1, e2 = st.columns(2)
        em = e1.text_input(t("check.emissions", lang), value=_text(saved.get("_emissions_tco2")), key=_key(pid, "em"))
        cr = e2.text_input(t("check.credit_amount", lang), value=_text(saved.get("_credits_tco2")), key=_key(pid, "cr"))
        sink = row.get("carbon_sink_tco2_yr")
        st.caption(t("check.sink.none", lang) if ck.is_blank(sink) else t("check.sink", lang, v=f"{float(sink):,.0f}"))
        # a viewer evaluates without saving (no save control); the store refuses a save anyway
        may_save = auth.can(*common.store().checklist_access(pid))  # the park's owner or an admin
        submitted = st.form_submit_button(t("check.save" if may_save else "check.evaluate", lang), type="primary")
        submitted = submitted and may_save
    extra = {"_relaxation": "yes" if claimed else "", "_relaxation_basis": basis, "_emissions_tco2": em,
             "_credits_tco2": cr}
    out.update({k: x.strip() for k, x in extra.items() if x.strip()})
    return out, submitted


def _banner(kind: str, text: str) -> None:
    {"pass": st.success, "fail": st.error}.get(kind, st.warning)(text)


def _table(v: ck.Verdict, lang: str, key: str) -> None:
    tb = v.table
    st.dataframe(pd.DataFrame({
        t("check.col.clause", lang): tb["clause_ref"],
        t("check.col.criterion", lang): [pick(a, b, lang) for a, b in zip(tb["label_zh"], tb["label_en"])],
        t("check.col.threshold", lang): [pick(a, b, lang) for a, b in zip(tb["threshold_text_zh"], tb["threshold_text_en"])],
        t("check.col.value", lang): [pick(a, b, lang) for a, b in zip(tb["value_text_zh"], tb["value_text_en"])],
        t("check.col.status", lang): [pick(a, b, lang) for a, b in zip(tb["status_zh"], tb["status_en"])],
        t("check.col.note", lang): [pick(a, b, lang) for a, b in zip(tb["note_zh"], tb["note_en"])]}),
        hide_index=True, width="stretch", key=key, placeholder=tables.NA)


def results(pid: str, row: pd.Series, answers: dict, submitted: bool, lang: str) -> None:
    """Evaluate (stop with the message on answers the rules refuse), save when submitted, show
    both verdicts with their reasons, the greening state and the credit check."""
    try:
        res = ca.evaluate_park(answers, row)
    except InputError as e:
        st.error(e.message(lang))
        st.stop()
    if submitted:
        try:
            common.store().save_checklist(pid, answers, actor=common.actor(),
                                          expected_version=seen_versions.expected("checklist", pid))
        except GansuError as e:  # the role check, or someone saved this checklist since (who and when)
            st.error(e.message(lang))
        else:
            st.success(t("check.saved", lang))
    seen_versions.remember("checklist")
    a = res.anhui
    _banner(a.overall, t(f"check.overall.{a.overall}", lang))
    st.markdown("\n".join(f"- {md(r.pick(lang))}" for r in a.reasons))
    if res.answers.relaxation is not None:
        st.info(t("check.relax.help", lang))
    g = a.table.set_index("id").loc[ck.GREENING_ID]
    st.markdown(t("check.greening.now", lang, status=md(pick(g["status_zh"], g["status_en"], lang)),
                  note=md(pick(g["note_zh"], g["note_en"], lang))))
    _table(a, lang, "check_table")
    n = res.national
    st.subheader(t("check.section.national", lang))
    st.info(t("check.overall.indicative", lang) + " " + md(n.reasons_text(lang)))
    _table(n, lang, "check_table_national")
    cr = res.credit
    if cr:
        _banner(cr["status"], pick(cr["note_zh"], cr["note_en"], lang))
        st.caption(md(cr["without_sink"][f"note_{lang}"]))
        if cr["with_sink"] is not None:
            st.caption(md(cr["with_sink"][f"note_{lang}"]) + " — " + md(cr[f"sink_note_{lang}"]))
    st.caption(t("check.source", lang) + " " + t("check.source.national", lang))

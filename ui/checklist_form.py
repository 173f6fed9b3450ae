"""The admission checklist page's pieces: the per-park input form (saved in the store) and the
result table (criterion, threshold, value, status, note, clause) with the carbon-credit check."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import GansuError, InputError
from core.i18n import pick, t
from indicators import checklist
from ui import auth, common


def _both(table: pd.DataFrame, base: str, lang: str) -> list[str]:
    """The ``base_zh``/``base_en`` columns of ``table``, in ``lang``."""
    return [pick(a, b, lang) for a, b in zip(table[f"{base}_zh"], table[f"{base}_en"])]


def form(pid: str, row: pd.Series, lang: str) -> tuple[dict, str, str, bool]:
    """(inputs per criterion, emissions, credits, submitted) — prefilled from the saved checklist."""
    saved = common.store().checklist(pid)
    with st.form(f"check_form_{pid}"):
        inputs = {}
        cols = st.columns(2)
        for i, c in enumerate(checklist.CRITERIA):
            box = cols[i % 2]
            label = f"{c.label(lang)} ({c.threshold_text(lang)})"
            if c.id == checklist.GREEN_ID:
                box.markdown(f"**{c.label(lang)}** · {t('check.from_map', lang)}: {row['green_coverage_pct']:.1f}% "
                             f"({t('check.reliability', lang)}: {row['reliability']})")
                v = box.text_input(t("check.green_override", lang), value=str(saved.get(c.id, "") or ""),
                                   key=f"check_{pid}_{c.id}")
            elif c.kind == "bool":
                opts = ["", "yes", "no"]
                cur = {True: "yes", False: "no"}.get(saved.get(c.id), saved.get(c.id) or "")
                v = box.selectbox(label, opts, index=opts.index(cur) if cur in opts else 0,
                                  format_func=lambda o: {"": t("check.unknown", lang), "yes": t("check.yes", lang),
                                                         "no": t("check.no", lang)}[o], key=f"check_{pid}_{c.id}")
            else:
                v = box.text_input(label, value=str(saved.get(c.id, "") if saved.get(c.id) is not None else ""),
                                   key=f"check_{pid}_{c.id}")
            inputs[c.id] = v
        st.markdown(f"**{t('check.credits', lang)}**")
        e1, e2 = st.columns(2)
        em = e1.text_input(t("check.emissions", lang), value=str(saved.get("_emissions_tco2", "") or ""),
                           key=f"check_{pid}_em")
        cr = e2.text_input(t("check.credit_amount", lang), value=str(saved.get("_credits_tco2", "") or ""),
                           key=f"check_{pid}_cr")
        # a viewer evaluates without saving (no save control); the store refuses a save anyway
        may_save = auth.can(*common.store().checklist_access(pid))  # the park's owner or an admin
        submitted = st.form_submit_button(t("check.save" if may_save else "check.evaluate", lang), type="primary")
        submitted = submitted and may_save
    return inputs, em, cr, submitted


def results(pid: str, row: pd.Series, inputs: dict, em: str, cr: str, submitted: bool, lang: str) -> None:
    """Evaluate (stop with the message on invalid input), save when submitted, show the verdict."""
    clean = {k: v for k, v in inputs.items() if str(v).strip() != ""}
    try:
        table, overall = checklist.evaluate(clean, row["green_coverage_pct"], row["reliability"])
        credit = checklist.credit_check(em, cr) if str(em).strip() and str(cr).strip() else None
    except InputError as e:
        st.error(e.message(lang))
        st.stop()
    if submitted:
        try:
            common.store().save_checklist(pid, {**clean, "_emissions_tco2": em.strip() or None,
                                                "_credits_tco2": cr.strip() or None}, actor=common.actor())
        except GansuError as e:
            st.error(e.message(lang))
        else:
            st.success(t("check.saved", lang))
    status_label = {s: pick(zh, en, lang) for s, (zh, en) in checklist.STATUS_LABELS.items()}
    overall_txt = t(f"check.overall.{overall}", lang)
    (st.success if overall == "pass" else st.error if overall == "fail" else st.warning)(overall_txt)
    view = pd.DataFrame({
        t("check.col.criterion", lang): _both(table, "label", lang),
        t("check.col.threshold", lang): _both(table, "threshold_text", lang),
        t("check.col.value", lang): _both(table, "value_text", lang),
        t("check.col.status", lang): [status_label.get(s, s) for s in table["status"]],
        t("check.col.note", lang): _both(table, "note", lang), t("check.col.clause", lang): table["clause_ref"]})
    st.dataframe(view, hide_index=True, width="stretch", key="check_table")
    if credit:
        (st.success if credit["status"] == "pass" else st.error)(pick(credit["note_zh"], credit["note_en"], lang))
    st.caption(t("check.source", lang))

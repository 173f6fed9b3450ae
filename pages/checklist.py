"""Zero-carbon park admission checklist (Anhui plan, annex 1): per park, the inputs a map
cannot measure, green coverage filled in from the map, pass/fail per criterion and overall,
and the carbon-credit check (credits ≤ 5% of emissions). Inputs are saved per park."""
import pandas as pd
import streamlit as st

from indicators import checklist
from core.errors import InputError
from core.i18n import t
from ui import common, parks

lg = common.page("check.title", "check.intro")
store = common.store()
df = parks.current()
pid = parks.park_picker(df, lg, key="check_park")
row = df[df["park_id"] == pid].iloc[0]
saved = store.checklist(pid)

with st.form(f"check_form_{pid}"):
    inputs = {}
    cols = st.columns(2)
    for i, c in enumerate(checklist.CRITERIA):
        box = cols[i % 2]
        label = f"{c.label(lg)} ({c.threshold_text(lg)})"
        if c.id == checklist.GREEN_ID:
            box.markdown(f"**{c.label(lg)}** · {t('check.from_map', lg)}: {row['green_coverage_pct']:.1f}% "
                         f"({t('check.reliability', lg)}: {row['reliability']})")
            v = box.text_input(t("check.green_override", lg), value=str(saved.get(c.id, "") or ""),
                               key=f"check_{pid}_{c.id}")
        elif c.kind == "bool":
            opts = ["", "yes", "no"]
            cur = {True: "yes", False: "no"}.get(saved.get(c.id), saved.get(c.id) or "")
            v = box.selectbox(label, opts, index=opts.index(cur) if cur in opts else 0,
                              format_func=lambda o: {"": t("check.unknown", lg), "yes": t("check.yes", lg),
                                                     "no": t("check.no", lg)}[o], key=f"check_{pid}_{c.id}")
        else:
            v = box.text_input(label, value=str(saved.get(c.id, "") if saved.get(c.id) is not None else ""),
                               key=f"check_{pid}_{c.id}")
        inputs[c.id] = v
    st.markdown(f"**{t('check.credits', lg)}**")
    e1, e2 = st.columns(2)
    em = e1.text_input(t("check.emissions", lg), value=str(saved.get("_emissions_tco2", "") or ""),
                       key=f"check_{pid}_em")
    cr = e2.text_input(t("check.credit_amount", lg), value=str(saved.get("_credits_tco2", "") or ""),
                       key=f"check_{pid}_cr")
    submitted = st.form_submit_button(t("check.save", lg), type="primary")

clean = {k: v for k, v in inputs.items() if str(v).strip() != ""}
try:
    table, overall = checklist.evaluate(clean, row["green_coverage_pct"], row["reliability"])
    credit = checklist.credit_check(em, cr) if str(em).strip() and str(cr).strip() else None
except InputError as e:
    st.error(e.en if lg == "en" else e.zh)
    st.stop()
if submitted:
    store.save_checklist(pid, {**clean, "_emissions_tco2": em.strip() or None, "_credits_tco2": cr.strip() or None})
    st.success(t("check.saved", lg))

status_label = {s: (zh if lg == "zh" else en) for s, (zh, en) in checklist.STATUS_LABELS.items()}
overall_txt = t(f"check.overall.{overall}", lg)
(st.success if overall == "pass" else st.error if overall == "fail" else st.warning)(overall_txt)
sfx = "en" if lg == "en" else "zh"
view = pd.DataFrame({
    t("check.col.criterion", lg): table[f"label_{sfx}"], t("check.col.threshold", lg): table[f"threshold_text_{sfx}"],
    t("check.col.value", lg): table[f"value_text_{sfx}"],
    t("check.col.status", lg): [status_label.get(s, s) for s in table["status"]],
    t("check.col.note", lg): table[f"note_{sfx}"], t("check.col.clause", lg): table["clause_ref"]})
st.dataframe(view, hide_index=True, width="stretch", key="check_table")
if credit:
    (st.success if credit["status"] == "pass" else st.error)(credit[f"note_{sfx}"])
st.caption(t("check.source", lg))

"""The registered datasets on the Data page: one row per dataset with its provenance (labelled
headers, words not codes), the notes of each registration, and removal to the recycle bin — one in
use needs an admin and a confirmation, and its role falls back to the default
(``storage.workspace.remove``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.errors import GansuError
from core.i18n import t
from core.text import Text
from layers import inputs
from storage import workspace as ws
from ui import common, tables
from ui.dataset_form import kind_label
from ui.mdtext import md
from ui.workspace_ui import dataset_label, show_result, slot_label


def _slot_ids() -> set[str]:
    return {spec.id for spec in inputs.slots()}


DATASET_COLUMNS = ("id", "name", "role", "status", "file", "sha", "size_mb", "crs", "resolution", "extent", "year",
                   "legend", "params", "features", "pixels", "added", "source", "licence", "storage", "in_use")


def _crs_text(code: str | None) -> str:
    if not code:
        return ""
    try:
        import pyproj

        c = pyproj.CRS.from_user_input(code)
        epsg = c.to_epsg()
        return f"EPSG:{epsg} · {c.name}" if epsg else c.name
    except Exception:  # noqa: BLE001 - shown as text
        return code[:80]


def _extent_text(ext) -> str:
    if not ext:
        return ""
    w, s_, e, n = ext
    return f"{w:.3f}–{e:.3f}°E, {s_:.3f}–{n:.3f}°N"


def dataset_table(lang: str) -> pd.DataFrame:
    """One row per registered dataset, with its provenance (labelled headers, words not codes)."""
    s = common.store()
    chosen = ws.in_use(s)
    rows = []
    for d in ws.datasets(s):
        using = [slot_label(inputs.get(r), lang) for r, ids in chosen.items() if d.id in ids and r in _slot_ids()]
        legend = (Path(d.legend).name if d.legend and d.legend.endswith(".csv") else d.legend) if d.role == "landcover" \
            else ", ".join(kind_label(k, lang) for k in d.kinds)
        rows.append({"id": d.id, "name": d.name, "role": ws.ROLE_LABELS[d.role].pick(lang),
                     "status": t(f"map.status.{d.status}", lang),
                     "file": d.original_filename, "sha": d.sha256[:12], "size_mb": round(d.size_bytes / 1e6, 3),
                     "crs": _crs_text(d.crs), "resolution": (d.resolution or "").replace("vector", t("ws.res.vector", lang)), "extent": _extent_text(d.extent),
                     "year": d.year, "legend": legend or "", "params": ws.params_text(d.params),
                     "features": d.n_features, "pixels": d.n_pixels,
                     "added": d.added_at.replace("T", " "), "source": d.source, "licence": d.licence,
                     "storage": t(f"ws.storage.{d.storage}", lang),
                     "in_use": ", ".join(using) if using else t("ws.no", lang)})
    df = pd.DataFrame(rows, columns=list(DATASET_COLUMNS))
    return tables.labelled(df, lang, {c: t(f"ws.col.{c}", lang) for c in DATASET_COLUMNS})


def datasets_section(lang: str) -> None:
    st.subheader(t("ws.list.title", lang))
    s = common.store()
    all_ = ws.datasets(s)
    if not all_:
        st.info(t("ws.list.empty", lang))
        show_result("ws_rm_result")
        return
    st.dataframe(dataset_table(lang), hide_index=True, width="stretch", placeholder=tables.NA)
    noted = [d for d in all_ if d.notes]
    if noted:
        with st.expander(t("ws.list.notes", lang)):
            for d in noted:
                for zh, en in d.notes:
                    st.caption(f"{md(d.name)} · {md(Text(zh, en).pick(lang))}")
    st.markdown(f"**{t('ws.remove.pick', lang)}**")
    ids = [d.id for d in all_]
    if st.session_state.get("ws_rm_pick") not in ids:
        st.session_state.pop("ws_rm_pick", None)
    pick_ = st.selectbox(t("ws.remove.pick", lang), ids, key="ws_rm_pick", label_visibility="collapsed",
                         format_func=lambda i: f"{i} · {dataset_label(ws.get(s, i), lang)}")
    using = ws.roles_using(s, pick_)
    if using:
        st.warning(t("ws.remove.in_use", lang, roles=", ".join(slot_label(inputs.get(r), lang) for r in using if r in _slot_ids())))
        st.checkbox(t("ws.remove.confirm", lang), key="ws_rm_confirm")
    need = "admin" if using else "owner"  # one in use is everyone's data: only an admin (the store checks)
    if s.allowed(common.actor(), need, (s.dataset_record(pick_) or {}).get("created_by")):
        st.button(t("ws.remove.button", lang), key="ws_rm_button", on_click=_remove, args=(pick_, lang))
    show_result("ws_rm_result")


def _remove(dataset_id: str, lang: str) -> None:
    s = common.store()
    try:
        d = ws.remove(s, dataset_id, confirm=bool(st.session_state.get("ws_rm_confirm")), actor=common.actor())
    except GansuError as e:
        st.session_state["ws_rm_result"] = ("error", e.message(lang))
        return
    st.session_state["ws_rm_confirm"] = False
    st.session_state["ws_rm_result"] = ("success", t("ws.remove.done", lang, name=md(d.name)))

"""The data in use on the Data page: one selector per declared slot of the data in use
(``layers/inputs.py``: land cover, a second year, transport, red line, zones, and any input declared
later), generated from the declarations and saved for the whole app by an admin
(``storage.workspace.use``); two land-cover years must share one legend, and the years of a
land-cover series one legend and one grid (``storage.workspace.check_series``, checked before any
other choice changes). Also the two pieces the
other workspace sections of the page share: a dataset's label and the result a button callback
leaves for the next run. The other sections: ``ui.dataset_add`` (browser upload),
``ui.dataset_import`` (import folder), ``ui.dataset_table`` (registered datasets and removal).
"""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from core.errors import GansuError
from core.i18n import t
from layers import catalog, inputs
from storage import workspace as ws
from storage.series_rules import SLOT as SERIES
from ui import auth, common
from ui.common import badge
from ui.mdtext import md


def dataset_label(d: ws.Dataset, lang: str) -> str:
    return f"{badge('user', lang)} {d.label(lang)} · {d.original_filename}"


# --- the data in use ----------------------------------------------------------------------------
# One selector per declared slot of the data in use (layers/inputs.py: ``selector`` one | many).
def slot_label(spec, lang: str) -> str:
    text = spec.label.pick(lang)
    return text[:1].upper() + text[1:] if lang == "en" else text


def _first_option(spec) -> list[str]:
    """What a slot shows when no dataset of the store is chosen."""
    if spec.replaces:
        return ["default"]  # the catalog layer the dataset replaces (proxy red line, schematic zones)
    if spec.selector == "many":
        return [ws.BUILTIN_AIRPORTS] if spec.default == "airports" else []
    return ["builtin"] if spec.default else ["none"]


def _current_values(s) -> dict:
    """The selector value of every slot, from the store's choice."""
    chosen = ws.in_use(s)
    vals = {}
    for spec in inputs.slots():
        ids = chosen.get(spec.id, [])
        if spec.replaces:
            rec = s.active_user_layer(spec.replaces)
            vals[spec.id] = ids[0] if ids else (f"upload:{rec['upload_id']}" if rec else "default")
        else:
            vals[spec.id] = list(ids) if spec.selector == "many" else (ids or _first_option(spec))[0]
    return vals


def in_use_selectors(lang: str) -> None:
    """A selector per declared slot (land cover, a second year, transport, red line, zones, and any
    input declared later) → ``ws.use``."""
    st.subheader(t("ws.inuse.title", lang))
    st.caption(t("ws.inuse.help", lang))
    s = common.store()
    current = _current_values(s)
    slots = inputs.slots()
    options = {}
    for spec in slots:
        opts = [*_first_option(spec), *(d.id for d in ws.datasets(s, spec.role))]
        if isinstance(current[spec.id], str) and current[spec.id].startswith("upload:"):
            opts.append(current[spec.id])
        options[spec.id] = opts
    # the widgets follow the store when the choice changed elsewhere (a registration, a removal)
    snap = json.dumps(current, sort_keys=True)
    if st.session_state.get("_ws_use_snap") != snap:
        for role, v in current.items():
            st.session_state[f"ws_use_{role}"] = v
        st.session_state["_ws_use_snap"] = snap
    for spec in slots:  # a removed dataset is no longer an option
        v = st.session_state.get(f"ws_use_{spec.id}")
        ok = all(x in options[spec.id] for x in v) if isinstance(v, list) else v in options[spec.id]
        if not ok:
            st.session_state[f"ws_use_{spec.id}"] = current[spec.id]

    def fmt(spec):
        def f(v):
            if v == "builtin":
                layer = catalog.BY_ID[spec.default]
                return t("ws.inuse.default", lang, name=f"{badge(layer.status, lang)} {layer.title(lang)}")
            if v == "none":
                return t("ws.inuse.none", lang)
            if v == "default":
                layer = catalog.BY_ID[spec.replaces]
                return t("ws.inuse.default", lang, name=f"{badge(layer.status, lang)} {layer.title(lang)}")
            if v == ws.BUILTIN_AIRPORTS:
                layer = catalog.BY_ID["airports"]
                return f"{badge(layer.status, lang)} {layer.title(lang)}"
            if v.startswith("upload:"):
                rec = s.active_user_layer(spec.replaces)
                return t("ws.inuse.earlier", lang, name=rec["name"] if rec else v)
            try:
                return dataset_label(ws.get(s, v), lang)
            except GansuError:
                return v
        return f

    ones = [spec for spec in slots if spec.selector == "one"]
    for k, spec in enumerate(slots):
        if spec.selector == "many":
            st.multiselect(slot_label(spec, lang), options[spec.id], format_func=fmt(spec), key=f"ws_use_{spec.id}")
            continue
        i = ones.index(spec)
        if i % 2 == 0:
            cols = st.columns(2)
        cols[i % 2].selectbox(slot_label(spec, lang), options[spec.id], format_func=fmt(spec), key=f"ws_use_{spec.id}")
    if auth.can("admin"):  # the data in use is everyone's: admins change it (the store checks)
        st.button(t("ws.inuse.apply", lang), key="ws_use_apply", type="primary", on_click=_apply_in_use, args=(lang,))
    show_result("ws_use_result")


def _apply_in_use(lang: str) -> None:
    s = common.store()
    current = _current_values(s)
    slots = inputs.slots()
    want = {spec.id: st.session_state.get(f"ws_use_{spec.id}", current[spec.id]) for spec in slots}
    try:
        main = ws.get(s, want["landcover"]).legend if want["landcover"] != "builtin" else catalog.BY_ID["landcover"].legend
        if want["landcover_alt"] != "none":
            alt = ws.get(s, want["landcover_alt"]).legend
            if ws.legend_key(alt) != ws.legend_key(main):
                st.session_state["ws_use_result"] = ("error", t("ws.inuse.legend_mismatch", lang, main=md(Path(main).name),
                                                                 alt=md(Path(alt).name)))
                return
        series = want.get(SERIES, [])
        if series and series != current.get(SERIES):  # checked before anything else changes
            ws.check_series(s, series)
        changed = []
        for spec in slots:
            if want[spec.id] == current[spec.id]:
                continue
            v = want[spec.id]
            if spec.replaces and isinstance(v, str) and v.startswith("upload:"):
                s.activate_user_layer(spec.replaces, v.split(":", 1)[1], actor=common.actor())
            else:
                ids = v if isinstance(v, list) else ([] if v in ("builtin", "none", "default") else [v])
                ws.use(s, spec.id, ids, actor=common.actor())
            changed.append(slot_label(spec, lang))
    except GansuError as e:
        st.session_state["ws_use_result"] = ("error", e.message(lang))
        return
    st.session_state["ws_use_result"] = (("success", t("ws.inuse.saved", lang, roles=" · ".join(changed))) if changed
                                         else ("info", t("ws.inuse.unchanged", lang)))


def show_result(key: str) -> None:
    res = st.session_state.pop(key, None)
    if res:
        {"success": st.success, "error": st.error, "info": st.info, "warning": st.warning}[res[0]](res[1])

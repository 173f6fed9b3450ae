"""Registering files of the server's import folder on the Data page (admins): the files found
there (``storage.import_folder``), the role and the fields of the role (``ui.dataset_form``). The
chosen files are referenced in place, never copied: several land-cover tiles become one mosaic
registered in the background (``ui.dataset_jobs``), a vector, a criterion raster or a DEM is
registered inline (with its parameters, in the syntax of its command-line flag).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core import paths
from core.i18n import t
from storage import import_folder as folder_files
from ui import auth, dataset_jobs, tables
from ui.dataset_form import (common_fields, kind_fields, legend_arg, legend_fields, params_field, raster_input,
                             record_outcome, register_now, role_choices, role_label, swap_box)
from ui.workspace_ui import show_result


def import_folder(lang: str) -> None:
    if not auth.can("admin"):  # the server's import folder: admins
        return
    st.subheader(t("ws.import.title", lang))
    root = paths.import_dir()
    st.caption(t("ws.import.help", lang, folder=root))
    files = folder_files.import_files(root)
    if not files:
        st.info(t("ws.import.empty", lang))
        return
    rel = [str(p.relative_to(root)) for p in files]
    st.dataframe(pd.DataFrame({t("ws.col.file", lang): rel,
                               t("ws.col.size_mb", lang): [round(p.stat().st_size / 1e6, 3) for p in files]}),
                 hide_index=True, width="stretch", placeholder=tables.NA)
    role = st.selectbox(t("ws.add.role", lang), role_choices(), key="ws_imp_role", format_func=lambda r: role_label(r, lang))
    chosen = st.multiselect(t("ws.import.files", lang), rel, key="ws_imp_files")
    fields: dict = params_field(lang, "ws_imp", role)  # criterion, exclusion, grid: the flag's syntax
    if role == "landcover":
        fields.update(legend_fields(lang, "ws_imp"))
    elif role == "transport":
        fields.update(kind_fields(lang, "ws_imp", None))
    if role not in ("landcover", "osm") and not raster_input(role):
        fields["swap_axes"] = swap_box(lang, "ws_imp")
    fields.update(common_fields(lang, "ws_imp", year=True))
    st.button(t("ws.import.register", lang), key="ws_imp_register", type="primary", on_click=_register_import,
              args=(role, list(chosen), fields, lang))
    show_result("ws_imp_result")


def _register_import(role: str, chosen: list[str], fields: dict, lang: str) -> None:
    if not chosen:
        st.session_state["ws_imp_result"] = ("error", t("ws.import.none_selected", lang))
        return
    if role != "landcover" and len(chosen) > 1:
        st.session_state["ws_imp_result"] = ("error", t("ws.import.one_file", lang))
        return
    label = chosen[0] if len(chosen) == 1 else f"{chosen[0]} (+{len(chosen) - 1})"

    def register():
        files = [folder_files.in_import_dir(Path(c)) for c in chosen]
        name = fields.get("name") or (files[0].name.split(".")[0] if len(files) == 1 else files[0].parent.name)
        if role == "landcover":  # tiles become one mosaic, in the background
            dataset_jobs.start({"source": "import", "paths": [str(f) for f in files], "filename": label,
                                "legend": legend_arg(fields.get("legend"), lang), "year": fields.get("year"),
                                "nodata": None, "name": name[:120], "licence": fields["licence"],
                                "source_text": fields["source"], "use": fields["use"]})
            return None
        return register_now(role, files[0], files[0].name, fields, name[:120])  # referenced in place

    record_outcome("ws_imp", label, lang, register)

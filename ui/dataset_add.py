"""Adding a dataset by browser upload on the Data page (editors and admins): the role, the file (a
GeoTIFF or a zip of tiles for land cover, one GeoTIFF for a criterion raster or a DEM, an OSM
extract, or a vector file the readers take, and its layer when it has several) and the fields of the
role (``ui.dataset_form``: the parameters of a criterion raster, exclusion or grid layer among them).
Every save runs in a button callback (a rerun cannot drop it): a vector, a criterion raster or a DEM
is registered inline, a land cover in the background (``ui.dataset_jobs``). Refused input gets a bilingual message; nothing is registered.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import limits
from core.errors import GansuError, InputError
from core.i18n import t
from layers import readers
from ui import auth, dataset_jobs
from ui.dataset_form import (common_fields, kind_fields, legend_arg, legend_fields, params_field, raster_input,
                             record_outcome, register_now, role_choices, role_label, swap_box)
from ui.mdtext import md
from ui.workspace_ui import show_result

RASTER_TYPES = ["tif", "tiff", "zip"]
GEOTIFF_TYPES = ["tif", "tiff"]  # a criterion raster or a DEM: one GeoTIFF
OSM_TYPES = ["osm", "pbf"]
VECTOR_TYPES = sorted(e.lstrip(".") for e in readers.VECTOR_EXT)


@st.cache_data(show_spinner=False, max_entries=4)
def _read_upload(filename: str, data: bytes, layer: str | None, swap_axes: bool = False):
    return readers.read_vector(filename, data, layer=layer, polygons_only=False, swap_axes=swap_axes).gdf


@st.cache_data(show_spinner=False, max_entries=4)
def _upload_layers(filename: str, data: bytes) -> list[str]:
    return readers.list_layers(filename, data)


# --- add a dataset by upload --------------------------------------------------------------------
def add_dataset(lang: str) -> None:
    if not auth.can("editor"):
        return
    st.subheader(t("ws.add.title", lang))
    st.caption(t("ws.add.help", lang, mb=limits.MAX_UPLOAD_BYTES >> 20))
    dataset_jobs.job_status(lang)  # first: a finished registration empties the uploader below
    role = st.selectbox(t("ws.add.role", lang), role_choices(), key="ws_add_role", format_func=lambda r: role_label(r, lang))
    gen = st.session_state.get("ws_add_gen", 0)
    types = RASTER_TYPES if role == "landcover" else GEOTIFF_TYPES if raster_input(role) else \
        OSM_TYPES if role == "osm" else VECTOR_TYPES
    up = st.file_uploader(t("ws.add.file", lang), type=types, key=f"ws_add_file_{role}_{gen}")
    fields: dict = params_field(lang, "ws_add", role)  # criterion, exclusion, grid: the flag's syntax
    if role == "landcover":
        fields.update(legend_fields(lang, "ws_add"))
    elif up is not None and role != "osm" and not raster_input(role):
        try:
            layers_ = _upload_layers(up.name, up.getvalue())
        except GansuError:
            layers_ = []  # the registration reports the problem
        fields["layer"] = (st.selectbox(t("ws.add.layer", lang), layers_, key="ws_add_layer")
                           if len(layers_) > 1 else None)
        fields["swap_axes"] = swap_box(lang, "ws_add")
        if role == "transport":
            try:
                gdf = _read_upload(up.name, up.getvalue(), fields["layer"], fields["swap_axes"])
            except GansuError as e:
                st.error(t("err.upload.prefix", lang, name=md(up.name[:120])) + e.message(lang))
                if isinstance(e, readers.AxesSwapped) and not st.session_state.get("ws_add_offer_swap"):
                    st.session_state["ws_add_offer_swap"] = True  # offered from now on (not rendered above yet)
                    fields["swap_axes"] = swap_box(lang, "ws_add")
                gdf = None
            if gdf is not None:
                fields.update(kind_fields(lang, "ws_add", gdf))
    fields.update(common_fields(lang, "ws_add", year=True))
    if up is not None:
        st.button(t("ws.add.register", lang), key="ws_add_register", type="primary", on_click=_register_upload,
                  args=(role, up.name, up.getvalue(), fields, lang))
    show_result("ws_add_result")


def _register_upload(role: str, filename: str, data: bytes, fields: dict, lang: str) -> None:
    name = fields.get("name") or Path(filename).name.split(".")[0][:120]

    def register():
        if len(data) > limits.MAX_UPLOAD_BYTES:  # the browser enforces it too (make run / ui.serve)
            mb, limit = f"{len(data) / (1 << 20):.1f}", f"{limits.MAX_UPLOAD_BYTES >> 20}"
            raise InputError(t("ws.add.too_large", "zh", mb=mb, limit=limit), t("ws.add.too_large", "en", mb=mb, limit=limit))
        if role == "landcover":  # in the background: its questions (nodata, legend) come back to the form
            dataset_jobs.start({"source": "upload", "filename": filename[:255], "data": data,
                                "legend": legend_arg(fields.get("legend"), lang), "year": fields.get("year"),
                                "nodata": None, "name": name, "licence": fields["licence"],
                                "source_text": fields["source"], "use": fields["use"]})
            return None
        return register_now(role, data, filename, fields, name)

    if record_outcome("ws_add", filename, lang, register) is not None:
        st.session_state["ws_add_gen"] = st.session_state.get("ws_add_gen", 0) + 1  # an empty uploader

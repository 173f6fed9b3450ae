"""The fields of the add-a-dataset forms shared by the browser upload (``ui.dataset_add``) and the
import folder (``ui.dataset_import``): the roles a file can be registered for, the legend, the name,
source, licence and year, the transport kind (one for the file, or a field mapped to kinds), the
parameters of a criterion raster, exclusion or grid layer (the syntax of their command-line flag) and
the "swap the axes" box; and what both forms call to register: a vector inline
(``storage.vector_register``), after an uploaded custom legend CSV or OSM extract is written under
the workspace folder, and a criterion raster or DEM inline (``storage.raster_register``). A land
cover is registered in the background (``ui.dataset_jobs``).
"""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pandas as pd
import streamlit as st

from core import paths
from core.errors import GansuError, InputError
from core.i18n import t
from indicators import measures
from layers import inputs, readers
from layers.legends import BUILTIN, load_legend_csv
from storage import raster_register, vector_register
from storage import workspace as ws
from ui import auth, common
from ui.mdtext import md


def role_choices() -> tuple[str, ...]:
    """Roles a file can be registered for: the declared roles (layers/inputs.py) with OSM after transport,
    raster inputs (a criterion raster, a DEM) as well as vectors."""
    out = []
    for spec in inputs.all_inputs():
        ok = spec.role and spec.role not in out and (spec.is_vector or spec.kind in ("osm", "raster"))
        if ok:
            out.append(spec.role)
    return tuple(out)


def raster_input(role: str) -> bool:
    """A raster input other than land cover (a criterion raster, a DEM): one GeoTIFF, registered inline."""
    return role != "landcover" and any(i.role == role and i.kind == "raster" for i in inputs.all_inputs())


def params_spec(role: str):
    """The declared input of ``role`` whose datasets carry parameters (criterion, exclusion, grid), or None."""
    return next((i for i in inputs.all_inputs() if i.role == role and i.params), None)


PARAM_EXAMPLES = {"criterion": "ghi:mean:higher:kWh/m2/yr", "exclusion": "reserve:800", "grid": "substation"}


LEGEND_CHOICES = ("auto", *BUILTIN, "custom")
KIND_GUESS = {"motorway": "expressway", "expressway": "expressway", "高速": "expressway", "trunk": "major_road",
              "primary": "major_road", "国道": "major_road", "省道": "major_road", "rail": "railway", "铁路": "railway",
              "station": "station", "车站": "station", "airport": "airport", "机场": "airport"}


def role_label(role: str, lang: str) -> str:
    return t("ws.role.osm", lang) if role == "osm" else ws.ROLE_LABELS[role].pick(lang)


def kind_label(kind: str, lang: str) -> str:
    return t(f"ws.kind.{kind}", lang)


# --- fields of a role (upload and import folder) ------------------------------------------------
def legend_fields(lang: str, prefix: str) -> dict:
    legend = st.selectbox(t("ws.add.legend", lang), LEGEND_CHOICES, key=f"{prefix}_legend",
                          format_func=lambda x: t("ws.legend.auto", lang) if x == "auto" else
                          t("ws.legend.custom", lang) if x == "custom" else f"{x} · {BUILTIN[x].name}")
    out = {"legend": None if legend == "auto" else legend}
    if legend == "custom":
        f = st.file_uploader(t("ws.add.legend_csv", lang), type=["csv"], key=f"{prefix}_legend_csv")
        out["legend"] = ("csv", f.getvalue()) if f is not None else ("csv", None)
    return out


def common_fields(lang: str, prefix: str, year: bool = True) -> dict:
    c1, c2, c3 = st.columns(3)
    out = {"name": c1.text_input(t("ws.add.name", lang), key=f"{prefix}_name", max_chars=120).strip() or None,
           "source": c2.text_input(t("ws.add.source", lang), key=f"{prefix}_source", max_chars=500).strip(),
           "licence": c3.text_input(t("ws.add.licence", lang), key=f"{prefix}_licence", max_chars=200).strip()}
    if year:
        y = st.number_input(t("ws.add.year", lang), min_value=1900, max_value=2100, value=None, step=1,
                            key=f"{prefix}_year")
        out["year"] = int(y) if y is not None else None
    # putting a dataset in use changes everyone's data: an admin's choice (editors register only)
    out["use"] = st.checkbox(t("ws.add.use", lang), value=True, key=f"{prefix}_use") if auth.can("admin") else False
    return out


def kind_fields(lang: str, prefix: str, gdf=None) -> dict:
    """One kind for the file, or a field whose values are mapped to kinds."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name] if gdf is not None else []
    mode = st.radio(t("ws.add.kind_mode", lang), ["one", "field"], horizontal=True, key=f"{prefix}_kind_mode",
                    format_func=lambda m: t(f"ws.kind_mode.{m}", lang))
    if mode == "one":
        return {"kind": st.selectbox(t("ws.add.kind", lang), ws.TRANSPORT_KINDS, key=f"{prefix}_kind",
                                     format_func=lambda k: kind_label(k, lang))}
    if gdf is None:  # a file on the server: the field's values must be kind names
        return {"kind_field": st.text_input(t("ws.add.kind_field", lang), key=f"{prefix}_kind_field").strip() or None}
    if not cols:
        st.info(t("ws.add.no_fields", lang))
        return {"kind": None}
    field_ = st.selectbox(t("ws.add.kind_field", lang), cols, key=f"{prefix}_kind_field")
    values = [str(v) for v in pd.unique(gdf[field_].astype(str))][:40]
    kinds = list(ws.TRANSPORT_KINDS)
    mapping = {}
    for i, v in enumerate(values):
        guess = v if v in kinds else next((k for w, k in KIND_GUESS.items() if w in v.lower()), kinds[0])
        mapping[v] = st.selectbox(t("ws.add.kind_map", lang, value=v[:60]), kinds, index=kinds.index(guess),
                                  key=f"{prefix}_kind_map_{cols.index(field_)}_{i}", format_func=lambda k: kind_label(k, lang))
    return {"kind_field": field_, "kind_map": mapping}


def params_field(lang: str, prefix: str, role: str) -> dict:
    """The parameters of a dataset of an input with parameters: a text written as after ``FILE:`` in the
    input's flag of ``gansu parks`` (read by the same parser at registration)."""
    spec = params_spec(role)
    if spec is None:
        return {}
    form = spec.metavar.split(":", 1)[1]
    text = st.text_input(t("ws.add.params", lang, form=form), key=f"{prefix}_params_{role}", max_chars=200,
                         placeholder=PARAM_EXAMPLES.get(spec.params, ""),
                         help=t("ws.add.params_help", lang, flag=spec.flag, form=spec.metavar))
    return {"params_text": text.strip()}


def parse_params(role: str, fields: dict) -> dict | None:
    """The parameters typed for ``role`` read by its input's parser (``indicators.measures.read_params``:
    the command line's): its bilingual refusal as it is. None: no text (the registration says it is needed)."""
    spec = params_spec(role)
    text = fields.get("params_text")
    if spec is None or not text:
        return None
    return measures.read_params(spec.params, f"FILE:{text}")[1]


def swap_box(lang: str, prefix: str) -> bool:
    """The "swap the axes" box of a vector registration: offered once a read found the axes
    exchanged (``AxesSwapped``), kept while ticked; its value."""
    if not (st.session_state.get(f"{prefix}_offer_swap") or st.session_state.get(f"{prefix}_swap")):
        return False
    return bool(st.checkbox(t("upload.swap", lang), key=f"{prefix}_swap", help=t("upload.swap.help", lang)))


def legend_arg(legend, lang: str):
    """A built-in id, None (detect), or the path of an uploaded custom legend CSV."""
    if isinstance(legend, tuple):
        data = legend[1]
        if data is None:
            raise InputError(t("ws.add.legend_csv_missing", "zh"), t("ws.add.legend_csv_missing", "en"))
        folder = paths.workspace_dir() / "legends"
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.csv"
        if not p.exists():
            tmp = p.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(p)
        load_legend_csv(p)  # refuses a malformed legend before any work
        return str(p)
    return legend


def register_vector_now(role: str, source, filename: str, fields: dict, name: str) -> ws.Dataset:
    s = common.store()
    common_kw = dict(name=name, source_text=fields.get("source", ""), licence=fields.get("licence", ""),
                     year=fields.get("year"), use=fields.get("use", False), actor=common.actor())
    if role == "osm":
        path = source if isinstance(source, Path) else _osm_file(filename, source)
        return vector_register.register_osm(s, path, **common_kw)
    kw = {k: fields[k] for k in ("kind", "kind_field", "kind_map", "layer") if fields.get(k) is not None}
    if fields.get("swap_axes"):
        kw["swap_axes"] = True
    return vector_register.register_vector(s, source, role, filename=filename[:255], params=parse_params(role, fields),
                                           **kw, **common_kw)


def register_raster_now(role: str, source, filename: str, fields: dict, name: str) -> ws.Dataset:
    """A criterion raster or a DEM: uploaded bytes (one GeoTIFF, kept under the workspace folder) or a
    file of the import folder (referenced in place), with its parameters."""
    s = common.store()
    kw = dict(name=name, source_text=fields.get("source", ""), licence=fields.get("licence", ""),
              year=fields.get("year"), params=parse_params(role, fields), use=fields.get("use", False),
              actor=common.actor())
    if isinstance(source, (bytes, bytearray)):
        return raster_register.register_raster_upload(s, bytes(source), filename[:255], role, **kw)
    return raster_register.register_raster(s, source, role, **kw)


def register_now(role: str, source, filename: str, fields: dict, name: str) -> ws.Dataset:
    """Register a dataset other than land cover (which runs in the background): a criterion raster
    or a DEM, else a vector or OSM file; the upload form and the import form both call it."""
    if raster_input(role):
        return register_raster_now(role, source, filename, fields, name)
    return register_vector_now(role, source, filename, fields, name)


def record_outcome(prefix: str, label: str, lang: str, register) -> ws.Dataset | None:
    """Run ``register()`` for a form (``prefix``: ws_add, ws_imp) and leave its result for the next
    run: the dataset registered, or the bilingual reason (an axes-swapped file offers the swap).
    Returns the dataset (None on a refusal, or for a land cover handed to a background job)."""
    try:
        ds = register()
    except GansuError as e:
        st.session_state[f"{prefix}_result"] = ("error", t("ws.add.failed", lang, name=md(label[:120])) + e.message(lang))
        if isinstance(e, readers.AxesSwapped):
            st.session_state[f"{prefix}_offer_swap"] = True  # the form offers "swap the axes" on the next run
        return None
    if ds is not None:
        st.session_state.pop(f"{prefix}_offer_swap", None)
        st.session_state[f"{prefix}_result"] = ("success", t("ws.add.registered", lang, name=md(ds.name), id=ds.id))
    return ds


def _osm_file(filename: str, data: bytes) -> Path:
    """An uploaded OSM extract as a file under the workspace folder (GDAL's OSM driver reads
    files): named by content, so the same upload is one file; kept as the dataset's source."""
    lower = filename.lower()
    ext = ".osm.pbf" if lower.endswith(".pbf") else ".osm"
    folder = paths.workspace_dir() / "osm"
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{ext}"
    if not p.exists():
        tmp = folder / f".{uuid.uuid4().hex}.part"
        tmp.write_bytes(data)
        tmp.replace(p)
    return p

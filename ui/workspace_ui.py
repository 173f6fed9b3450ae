"""The workspace on the Data page: the data in use (one choice for the whole app), adding a
dataset by browser upload, registering files of the server's import folder, and the table of
registered datasets with their provenance (removal with confirmation when in use).

Every save runs in a button callback (a rerun cannot drop it). A land-cover registration runs in
the background (``ui.jobs``) with a progress bar; when it stops with a question (which value is
"no data", which legend), the question is shown and the same request is retried with the answer.
Vectors are registered inline. Refused input gets a bilingual message; nothing is registered.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pandas as pd
import streamlit as st

from core import limits, paths
from core.errors import GansuError, InputError
from core.i18n import t
from core.text import Text
from layers import catalog, readers
from storage import workspace as ws
from layers.legends import BUILTIN
from ui import auth, common, jobs, tables
from ui.data_in_use import badge
from ui.mdtext import md

ROLE_CHOICES = ("landcover", "transport", "osm", "redline", "zones", "parks")
LEGEND_CHOICES = ("auto", *BUILTIN, "custom")
RASTER_TYPES = ["tif", "tiff", "zip"]
OSM_TYPES = ["osm", "pbf"]
VECTOR_TYPES = sorted(e.lstrip(".") for e in readers.VECTOR_EXT)
KIND_GUESS = {"motorway": "expressway", "expressway": "expressway", "高速": "expressway", "trunk": "major_road",
              "primary": "major_road", "国道": "major_road", "省道": "major_road", "rail": "railway", "铁路": "railway",
              "station": "station", "车站": "station", "airport": "airport", "机场": "airport"}
IN_USE_ROLES = ("landcover", "landcover_alt", "transport", "redline", "zones")


def role_label(role: str, lang: str) -> str:
    return t("ws.role.osm", lang) if role == "osm" else ws.ROLE_LABELS[role].pick(lang)


def kind_label(kind: str, lang: str) -> str:
    return t(f"ws.kind.{kind}", lang)


def _ds_label(d: ws.Dataset, lang: str) -> str:
    return f"{badge('user', lang)} {d.label(lang)} · {d.original_filename}"


# --- the data in use ----------------------------------------------------------------------------
def _current_values(s) -> dict:
    """The selector value of every role, from the store's choice."""
    chosen = ws.in_use(s)
    vals = {"landcover": (chosen["landcover"] or ["builtin"])[0],
            "landcover_alt": (chosen["landcover_alt"] or ["none"])[0],
            "transport": list(chosen["transport"])}
    for role, layer in ws.REPLACES.items():
        rec = s.active_user_layer(layer)
        vals[role] = chosen[role][0] if chosen[role] else (f"upload:{rec['upload_id']}" if rec else "default")
    return vals


def in_use_selectors(lang: str) -> None:
    """Selectors for land cover (+ a second year), transport, red line and zones → ``ws.use``."""
    st.subheader(t("ws.inuse.title", lang))
    st.caption(t("ws.inuse.help", lang))
    s = common.store()
    current = _current_values(s)
    lc = [d.id for d in ws.datasets(s, "landcover")]
    options = {"landcover": ["builtin", *lc], "landcover_alt": ["none", *lc],
               "transport": [ws.BUILTIN_AIRPORTS, *(d.id for d in ws.datasets(s, "transport"))]}
    for role in ws.REPLACES:
        opts = ["default", *(d.id for d in ws.datasets(s, role))]
        if current[role].startswith("upload:"):
            opts.append(current[role])
        options[role] = opts
    # the widgets follow the store when the choice changed elsewhere (a registration, a removal)
    snap = json.dumps(current, sort_keys=True)
    if st.session_state.get("_ws_use_snap") != snap:
        for role, v in current.items():
            st.session_state[f"ws_use_{role}"] = v
        st.session_state["_ws_use_snap"] = snap
    for role in IN_USE_ROLES:  # a removed dataset is no longer an option
        v = st.session_state.get(f"ws_use_{role}")
        ok = all(x in options[role] for x in v) if isinstance(v, list) else v in options[role]
        if not ok:
            st.session_state[f"ws_use_{role}"] = current[role]

    def fmt(role):
        def f(v):
            if v == "builtin":
                spec = catalog.BY_ID["landcover"]
                return t("ws.inuse.default", lang, name=f"{badge(spec.status, lang)} {spec.title(lang)}")
            if v == "none":
                return t("ws.inuse.none", lang)
            if v == "default":
                spec = catalog.BY_ID[ws.REPLACES[role]]
                return t("ws.inuse.default", lang, name=f"{badge(spec.status, lang)} {spec.title(lang)}")
            if v == ws.BUILTIN_AIRPORTS:
                spec = catalog.BY_ID["airports"]
                return f"{badge(spec.status, lang)} {spec.title(lang)}"
            if v.startswith("upload:"):
                rec = s.active_user_layer(ws.REPLACES[role])
                return t("ws.inuse.earlier", lang, name=rec["name"] if rec else v)
            try:
                return _ds_label(ws.get(s, v), lang)
            except GansuError:
                return v
        return f

    c1, c2 = st.columns(2)
    c1.selectbox(t("ws.inuse.landcover", lang), options["landcover"], format_func=fmt("landcover"), key="ws_use_landcover")
    c2.selectbox(t("ws.inuse.landcover_alt", lang), options["landcover_alt"], format_func=fmt("landcover_alt"),
                 key="ws_use_landcover_alt")
    st.multiselect(t("ws.inuse.transport", lang), options["transport"], format_func=fmt("transport"), key="ws_use_transport")
    c3, c4 = st.columns(2)
    c3.selectbox(t("ws.inuse.redline", lang), options["redline"], format_func=fmt("redline"), key="ws_use_redline")
    c4.selectbox(t("ws.inuse.zones", lang), options["zones"], format_func=fmt("zones"), key="ws_use_zones")
    if auth.can("admin"):  # the data in use is everyone's: admins change it (the store checks)
        st.button(t("ws.inuse.apply", lang), key="ws_use_apply", type="primary", on_click=_apply_in_use, args=(lang,))
    _show_result("ws_use_result")


def _apply_in_use(lang: str) -> None:
    s = common.store()
    current = _current_values(s)
    want = {role: st.session_state.get(f"ws_use_{role}", current[role]) for role in IN_USE_ROLES}
    try:
        main = ws.get(s, want["landcover"]).legend if want["landcover"] != "builtin" else catalog.BY_ID["landcover"].legend
        if want["landcover_alt"] != "none":
            alt = ws.get(s, want["landcover_alt"]).legend
            if ws.legend_key(alt) != ws.legend_key(main):
                st.session_state["ws_use_result"] = ("error", t("ws.inuse.legend_mismatch", lang, main=md(Path(main).name),
                                                                 alt=md(Path(alt).name)))
                return
        changed = []
        for role in IN_USE_ROLES:
            if want[role] == current[role]:
                continue
            v = want[role]
            if role in ws.REPLACES and isinstance(v, str) and v.startswith("upload:"):
                s.activate_user_layer(ws.REPLACES[role], v.split(":", 1)[1], actor=common.actor())
            else:
                ids = v if isinstance(v, list) else ([] if v in ("builtin", "none", "default") else [v])
                ws.use(s, role, ids, actor=common.actor())
            changed.append(t(f"ws.inuse.{role}", lang))
    except GansuError as e:
        st.session_state["ws_use_result"] = ("error", e.message(lang))
        return
    st.session_state["ws_use_result"] = (("success", t("ws.inuse.saved", lang, roles=" · ".join(changed))) if changed
                                         else ("info", t("ws.inuse.unchanged", lang)))


def _show_result(key: str) -> None:
    res = st.session_state.pop(key, None)
    if res:
        {"success": st.success, "error": st.error, "info": st.info, "warning": st.warning}[res[0]](res[1])


# --- fields of a role (upload and import folder) ------------------------------------------------
def _legend_fields(lang: str, prefix: str) -> dict:
    legend = st.selectbox(t("ws.add.legend", lang), LEGEND_CHOICES, key=f"{prefix}_legend",
                          format_func=lambda x: t("ws.legend.auto", lang) if x == "auto" else
                          t("ws.legend.custom", lang) if x == "custom" else f"{x} · {BUILTIN[x].name}")
    out = {"legend": None if legend == "auto" else legend}
    if legend == "custom":
        f = st.file_uploader(t("ws.add.legend_csv", lang), type=["csv"], key=f"{prefix}_legend_csv")
        out["legend"] = ("csv", f.getvalue()) if f is not None else ("csv", None)
    return out


def _common_fields(lang: str, prefix: str, year: bool = True) -> dict:
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


def _kind_fields(lang: str, prefix: str, gdf=None) -> dict:
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


@st.cache_data(show_spinner=False, max_entries=4)
def _read_upload(filename: str, data: bytes, layer: str | None, swap_axes: bool = False):
    return readers.read_vector(filename, data, layer=layer, polygons_only=False, swap_axes=swap_axes).gdf


@st.cache_data(show_spinner=False, max_entries=4)
def _upload_layers(filename: str, data: bytes) -> list[str]:
    return readers.list_layers(filename, data)


def _swap_box(lang: str, prefix: str) -> bool:
    """The "swap the axes" box of a vector registration: offered once a read found the axes
    exchanged (``AxesSwapped``), kept while ticked; its value."""
    if not (st.session_state.get(f"{prefix}_offer_swap") or st.session_state.get(f"{prefix}_swap")):
        return False
    return bool(st.checkbox(t("upload.swap", lang), key=f"{prefix}_swap", help=t("upload.swap.help", lang)))


# --- add a dataset by upload --------------------------------------------------------------------
def add_dataset(lang: str) -> None:
    if not auth.can("editor"):
        return
    st.subheader(t("ws.add.title", lang))
    st.caption(t("ws.add.help", lang, mb=limits.MAX_UPLOAD_BYTES >> 20))
    job_status(lang)  # first: a finished registration empties the uploader below
    role = st.selectbox(t("ws.add.role", lang), ROLE_CHOICES, key="ws_add_role", format_func=lambda r: role_label(r, lang))
    gen = st.session_state.get("ws_add_gen", 0)
    types = RASTER_TYPES if role == "landcover" else OSM_TYPES if role == "osm" else VECTOR_TYPES
    up = st.file_uploader(t("ws.add.file", lang), type=types, key=f"ws_add_file_{role}_{gen}")
    fields: dict = {}
    if role == "landcover":
        fields.update(_legend_fields(lang, "ws_add"))
    elif up is not None and role not in ("osm",):
        try:
            layers_ = _upload_layers(up.name, up.getvalue())
        except GansuError:
            layers_ = []  # the registration reports the problem
        fields["layer"] = (st.selectbox(t("ws.add.layer", lang), layers_, key="ws_add_layer")
                           if len(layers_) > 1 else None)
        fields["swap_axes"] = _swap_box(lang, "ws_add")
        if role == "transport":
            try:
                gdf = _read_upload(up.name, up.getvalue(), fields["layer"], fields["swap_axes"])
            except GansuError as e:
                st.error(t("err.upload.prefix", lang, name=md(up.name[:120])) + e.message(lang))
                if isinstance(e, readers.AxesSwapped) and not st.session_state.get("ws_add_offer_swap"):
                    st.session_state["ws_add_offer_swap"] = True  # offered from now on (not rendered above yet)
                    fields["swap_axes"] = _swap_box(lang, "ws_add")
                gdf = None
            if gdf is not None:
                fields.update(_kind_fields(lang, "ws_add", gdf))
    fields.update(_common_fields(lang, "ws_add", year=True))
    if up is not None:
        st.button(t("ws.add.register", lang), key="ws_add_register", type="primary", on_click=_register_upload,
                  args=(role, up.name, up.getvalue(), fields, lang))
    _show_result("ws_add_result")


def _legend_arg(legend, lang: str):
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
        from layers.legends import load_legend_csv

        load_legend_csv(p)  # refuses a malformed legend before any work
        return str(p)
    return legend


def _register_upload(role: str, filename: str, data: bytes, fields: dict, lang: str) -> None:
    name = fields.get("name") or Path(filename).name.split(".")[0][:120]
    try:
        if len(data) > limits.MAX_UPLOAD_BYTES:  # the browser enforces it too (make run / ui.serve)
            mb, limit = f"{len(data) / (1 << 20):.1f}", f"{limits.MAX_UPLOAD_BYTES >> 20}"
            raise InputError(t("ws.add.too_large", "zh", mb=mb, limit=limit), t("ws.add.too_large", "en", mb=mb, limit=limit))
        if role == "landcover":
            req = {"source": "upload", "filename": filename[:255], "data": data,
                   "legend": _legend_arg(fields.get("legend"), lang), "year": fields.get("year"), "nodata": None,
                   "name": name, "licence": fields["licence"], "source_text": fields["source"], "use": fields["use"]}
            _start(req)
            return
        ds = _register_vector_now(role, data, filename, fields, name)
    except GansuError as e:
        st.session_state["ws_add_result"] = ("error", t("ws.add.failed", lang, name=md(filename[:120])) + e.message(lang))
        if isinstance(e, readers.AxesSwapped):
            st.session_state["ws_add_offer_swap"] = True  # the form offers "swap the axes" on the next run
        return
    st.session_state.pop("ws_add_offer_swap", None)
    st.session_state["ws_add_result"] = ("success", t("ws.add.registered", lang, name=md(ds.name), id=ds.id))
    st.session_state["ws_add_gen"] = st.session_state.get("ws_add_gen", 0) + 1


def _register_vector_now(role: str, source, filename: str, fields: dict, name: str) -> ws.Dataset:
    s = common.store()
    common_kw = dict(name=name, source_text=fields.get("source", ""), licence=fields.get("licence", ""),
                     year=fields.get("year"), use=fields.get("use", False), actor=common.actor())
    if role == "osm":
        path = source if isinstance(source, Path) else _osm_file(filename, source)
        return ws.register_osm(s, path, **common_kw)
    kw = {k: fields[k] for k in ("kind", "kind_field", "kind_map", "layer") if fields.get(k) is not None}
    if fields.get("swap_axes"):
        kw["swap_axes"] = True
    return ws.register_vector(s, source, role, filename=filename[:255], **kw, **common_kw)


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


# --- land-cover registration in the background --------------------------------------------------
def _start(req: dict) -> None:
    key = ("ws_register", uuid.uuid4().hex)
    req = {**req, "actor": common.actor()}  # who registers: captured here, the job runs in a thread
    jobs.submit(key, _landcover_job, common.store(), req, name="gansu-ws-register")
    st.session_state["ws_job"] = {"key": key, "req": req}


def _landcover_job(job: jobs.Job, s, req: dict) -> ws.Dataset:
    job.phase = "computing"
    kw = dict(legend=req["legend"], year=req["year"], nodata=req["nodata"], name=req["name"],
              source=req["source_text"], licence=req["licence"], use=req["use"], progress=job.progress,
              actor=req.get("actor"))
    if req["source"] == "upload":
        return ws.register_landcover_upload(s, req["data"], req["filename"], **kw)
    return ws.register_landcover(s, req["paths"], **kw)


def job_status(lang: str) -> None:
    """The registration running or stopped with a question: progress, the question and a retry."""
    state = st.session_state.get("ws_job")
    if not state:
        return
    job = jobs.get(state["key"])
    req = state["req"]
    if job is None:
        st.session_state.pop("ws_job", None)
        return
    if job.phase == "done":
        ds = job.result
        st.session_state.pop("ws_job", None)
        st.session_state["ws_add_gen"] = st.session_state.get("ws_add_gen", 0) + 1
        st.success(t("ws.add.registered", lang, name=md(ds.name), id=ds.id))
        return
    if job.phase == "error":
        e = job.error
        if not isinstance(e, (ws.NodataMissing, ws.LegendAmbiguous)):  # a refusal: say why, forget it
            st.session_state.pop("ws_job", None)
            st.error(t("ws.add.failed", lang, name=md(req.get("filename", "")[:120])) + e.message(lang))
            return
        st.warning(e.message(lang))
        if isinstance(e, ws.NodataMissing):
            st.info(t("ws.add.nodata_question", lang))
            st.number_input(t("ws.add.nodata", lang), value=0, step=1, key="ws_retry_nodata")
            st.button(t("ws.add.retry", lang), key="ws_retry", type="primary", on_click=_retry, args=("nodata",))
        elif isinstance(e, ws.LegendAmbiguous):
            st.info(t("ws.add.legend_question", lang))
            st.radio(t("ws.add.legend", lang), e.candidates, key="ws_retry_legend",
                     format_func=lambda x: f"{x} · {BUILTIN[x].name}" if x in BUILTIN else x)
            st.button(t("ws.add.retry", lang), key="ws_retry", type="primary", on_click=_retry, args=("legend",))
        st.button(t("ws.add.cancel", lang), key="ws_retry_cancel", on_click=lambda: st.session_state.pop("ws_job", None))
        return

    @st.fragment(run_every=1.0)
    def poll():
        j = jobs.get(state["key"])
        if j is None or j.phase in ("done", "error"):
            st.rerun()
        if j.total:
            st.progress(j.fraction, text=t("ws.add.running", lang, name=req["name"], done=j.done, total=j.total))
        else:
            st.progress(0.0, text=t("ws.add.queued", lang, name=req["name"]))
        st.caption(t("ws.add.background", lang))

    poll()


def _retry(what: str) -> None:
    state = st.session_state.get("ws_job")
    if not state:
        return
    req = dict(state["req"])
    if what == "nodata":
        req["nodata"] = float(st.session_state.get("ws_retry_nodata", 0))
    else:
        req["legend"] = st.session_state.get("ws_retry_legend")
    _start(req)


# --- the import folder ----------------------------------------------------------------------------
def import_folder(lang: str) -> None:
    if not auth.can("admin"):  # the server's import folder: admins
        return
    st.subheader(t("ws.import.title", lang))
    root = paths.import_dir()
    st.caption(t("ws.import.help", lang, folder=root))
    files = ws.import_files(root)
    if not files:
        st.info(t("ws.import.empty", lang))
        return
    rel = [str(p.relative_to(root)) for p in files]
    st.dataframe(pd.DataFrame({t("ws.col.file", lang): rel,
                               t("ws.col.size_mb", lang): [round(p.stat().st_size / 1e6, 3) for p in files]}),
                 hide_index=True, width="stretch", placeholder=tables.NA)
    role = st.selectbox(t("ws.add.role", lang), ROLE_CHOICES, key="ws_imp_role", format_func=lambda r: role_label(r, lang))
    chosen = st.multiselect(t("ws.import.files", lang), rel, key="ws_imp_files")
    fields: dict = {}
    if role == "landcover":
        fields.update(_legend_fields(lang, "ws_imp"))
    elif role == "transport":
        fields.update(_kind_fields(lang, "ws_imp", None))
    if role not in ("landcover", "osm"):
        fields["swap_axes"] = _swap_box(lang, "ws_imp")
    fields.update(_common_fields(lang, "ws_imp", year=True))
    st.button(t("ws.import.register", lang), key="ws_imp_register", type="primary", on_click=_register_import,
              args=(role, list(chosen), fields, lang))
    _show_result("ws_imp_result")


def _register_import(role: str, chosen: list[str], fields: dict, lang: str) -> None:
    if not chosen:
        st.session_state["ws_imp_result"] = ("error", t("ws.import.none_selected", lang))
        return
    if role != "landcover" and len(chosen) > 1:
        st.session_state["ws_imp_result"] = ("error", t("ws.import.one_file", lang))
        return
    label = chosen[0] if len(chosen) == 1 else f"{chosen[0]} (+{len(chosen) - 1})"
    try:
        files = [ws.in_import_dir(Path(c)) for c in chosen]
        name = fields.get("name") or (files[0].name.split(".")[0] if len(files) == 1 else files[0].parent.name)
        if role == "landcover":
            _start({"source": "import", "paths": [str(f) for f in files], "filename": label,
                    "legend": _legend_arg(fields.get("legend"), lang), "year": fields.get("year"), "nodata": None,
                    "name": name[:120], "licence": fields["licence"], "source_text": fields["source"],
                    "use": fields["use"]})
            return
        ds = _register_vector_now(role, files[0], files[0].name, fields, name[:120])
    except GansuError as e:
        st.session_state["ws_imp_result"] = ("error", t("ws.add.failed", lang, name=md(label[:120])) + e.message(lang))
        if isinstance(e, readers.AxesSwapped):
            st.session_state["ws_imp_offer_swap"] = True  # the form offers "swap the axes" on the next run
        return
    st.session_state.pop("ws_imp_offer_swap", None)
    st.session_state["ws_imp_result"] = ("success", t("ws.add.registered", lang, name=md(ds.name), id=ds.id))


# --- registered datasets ------------------------------------------------------------------------
DATASET_COLUMNS = ("id", "name", "role", "status", "file", "sha", "size_mb", "crs", "resolution", "extent", "year",
                   "legend", "features", "pixels", "added", "source", "licence", "storage", "in_use")


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
        using = [t(f"ws.inuse.{r}", lang) for r, ids in chosen.items() if d.id in ids and r in IN_USE_ROLES]
        legend = (Path(d.legend).name if d.legend and d.legend.endswith(".csv") else d.legend) if d.role == "landcover" \
            else ", ".join(kind_label(k, lang) for k in d.kinds)
        rows.append({"id": d.id, "name": d.name, "role": ws.ROLE_LABELS[d.role].pick(lang),
                     "status": t(f"map.status.{d.status}", lang),
                     "file": d.original_filename, "sha": d.sha256[:12], "size_mb": round(d.size_bytes / 1e6, 3),
                     "crs": _crs_text(d.crs), "resolution": (d.resolution or "").replace("vector", t("ws.res.vector", lang)), "extent": _extent_text(d.extent),
                     "year": d.year, "legend": legend or "", "features": d.n_features, "pixels": d.n_pixels,
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
        _show_result("ws_rm_result")
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
                         format_func=lambda i: f"{i} · {_ds_label(ws.get(s, i), lang)}")
    using = ws.roles_using(s, pick_)
    if using:
        st.warning(t("ws.remove.in_use", lang, roles=", ".join(t(f"ws.inuse.{r}", lang) for r in using)))
        st.checkbox(t("ws.remove.confirm", lang), key="ws_rm_confirm")
    need = "admin" if using else "owner"  # one in use is everyone's data: only an admin (the store checks)
    if s.allowed(common.actor(), need, (s.dataset_record(pick_) or {}).get("created_by")):
        st.button(t("ws.remove.button", lang), key="ws_rm_button", on_click=_remove, args=(pick_, lang))
    _show_result("ws_rm_result")


def _remove(dataset_id: str, lang: str) -> None:
    s = common.store()
    try:
        d = ws.remove(s, dataset_id, confirm=bool(st.session_state.get("ws_rm_confirm")), actor=common.actor())
    except GansuError as e:
        st.session_state["ws_rm_result"] = ("error", e.message(lang))
        return
    st.session_state["ws_rm_confirm"] = False
    st.session_state["ws_rm_result"] = ("success", t("ws.remove.done", lang, name=md(d.name)))

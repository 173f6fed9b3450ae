"""A land-cover registration from the Data page runs in the background (``ui.jobs``) with a
progress bar. When it stops with a question (which value is "no data", which legend:
``NodataMissing``, ``LegendAmbiguous``), the question is shown and the same request is retried with
the answer; any other refusal is shown and forgotten. Started by the upload form
(``ui.dataset_add``) and the import folder (``ui.dataset_import``).
"""
from __future__ import annotations

import uuid

import streamlit as st

from core.i18n import t
from layers.legends import BUILTIN
from storage import raster_register
from storage import workspace as ws
from ui import common, jobs
from ui.mdtext import md


def start(req: dict) -> None:
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
        return raster_register.register_landcover_upload(s, req["data"], req["filename"], **kw)
    return raster_register.register_landcover(s, req["paths"], **kw)


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
        if not isinstance(e, (raster_register.NodataMissing, raster_register.LegendAmbiguous)):  # a refusal: say why, forget it
            st.session_state.pop("ws_job", None)
            st.error(t("ws.add.failed", lang, name=md(req.get("filename", "")[:120])) + e.message(lang))
            return
        st.warning(e.message(lang))
        if isinstance(e, raster_register.NodataMissing):
            st.info(t("ws.add.nodata_question", lang))
            st.number_input(t("ws.add.nodata", lang), value=0, step=1, key="ws_retry_nodata")
            st.button(t("ws.add.retry", lang), key="ws_retry", type="primary", on_click=_retry, args=("nodata",))
        elif isinstance(e, raster_register.LegendAmbiguous):
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
    start(req)

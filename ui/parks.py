"""Parks for the UI: illustrative defaults + the user's saved parks, and their indicators on the
data in use.

The indicators come from ``indicators.runs.compute_cached`` with ``ui.data_in_use.inputs()`` —
the same inputs ``python -m cli parks --workspace`` uses — so the pages and the CLI give
the same numbers. Every park's row is cached in the store by the content of every input, so a
revisit, a restart or a second user reads them at once and a park save computes that park alone.
Missing rows are computed in a background job (``ui.jobs``, one per inputs × parks version):
pages show the cached rows at once and a progress bar while the rest is computed.
"""
from __future__ import annotations

import dataclasses
import os
import time

import geopandas as gpd
import pandas as pd
import streamlit as st

from core import paths
from core.errors import GansuError
from core.i18n import t
from indicators import runs
from layers import readers
from ui import common, data_in_use, jobs, run_memo

# seconds a page run waits for a background computation (with a live progress bar) before it
# hands over to polling; interactions still rerun the page at once
WAIT_S = float(os.environ.get("GANSU_PARKS_WAIT_S", "30"))


def parks_version() -> str:
    """The store's parks version (changes with any saved park), read once per run."""
    s = common.store()
    return run_memo.once(("parks_version",), s.parks_version, s)


@st.cache_data(show_spinner=False, max_entries=16)
def all_parks(build: str, version: str) -> gpd.GeoDataFrame:
    """Illustrative + saved parks, assembled as the CLI's ``--workspace`` does (indicators.runs)."""
    return runs.all_parks(common.store(), common.cached_layer("parks_demo", build, None))


def current_parks() -> gpd.GeoDataFrame:
    return all_parks(common.build_id(), parks_version())


# --- indicators on the data in use -------------------------------------------------------------
@dataclasses.dataclass
class ParkRun:
    state: str  # ready | running | error
    df: pd.DataFrame | None = None  # every park (ready) or the parks already cached (running)
    job: jobs.Job | None = None
    error: GansuError | None = None
    inputs: runs.RunInputs | None = None


def _with_source(df: pd.DataFrame, parks: gpd.GeoDataFrame) -> pd.DataFrame:
    df = df.copy()
    df["source"] = parks["source"].values
    return df


@st.cache_data(show_spinner=False, max_entries=16)
def _complete(fingerprint: str, build: str, version: str, _inputs: runs.RunInputs) -> pd.DataFrame:
    """Every park's row, read from the store (called once nothing is missing)."""
    parks = all_parks(build, version)
    return _with_source(runs.compute_cached(common.store(), parks, _inputs), parks)


def _job(job: jobs.Job, store, parks: gpd.GeoDataFrame, inputs: runs.RunInputs, n_missing: int) -> int:
    job.phase = "computing"
    job.progress(0, n_missing)
    runs.compute_cached(store, parks, inputs, progress=job.progress)
    return n_missing


def job_key(inputs: runs.RunInputs, version: str) -> tuple:
    return ("parks", str(paths.store_path()), inputs.fingerprint, version)


def run_state() -> ParkRun:
    """The parks' indicators as they are now (never blocks): ready, running (a background job
    computes the missing rows; ``df`` holds the cached ones) or error (a refused input)."""
    try:
        inputs = data_in_use.inputs()
    except GansuError as e:
        return ParkRun("error", error=e)
    build, version = common.build_id(), parks_version()
    parks = all_parks(build, version)
    store = common.store()
    miss = runs.missing(store, parks, inputs)
    if not miss:
        return ParkRun("ready", _complete(inputs.fingerprint, build, version, inputs), inputs=inputs)
    job = jobs.submit(job_key(inputs, version), _job, store, parks, inputs, len(miss), name="parks-indicators")
    if job.phase == "done":
        return ParkRun("ready", _complete(inputs.fingerprint, build, version, inputs), inputs=inputs)
    if job.phase == "error":
        return ParkRun("error", error=job.error, job=job, inputs=inputs)
    gone = set(miss)
    have = parks.iloc[[i for i in range(len(parks)) if i not in gone]]
    df = _with_source(runs.compute_cached(store, have, inputs), have)
    return ParkRun("running", df, job=job, inputs=inputs)


def current() -> pd.DataFrame:
    """Every park's indicators, waiting for a running computation (no progress shown); a
    refused input raises its ``GansuError``."""
    run = run_state()
    while run.state == "running":
        run.job.thread.join(0.5)
        run = run_state() if run.job.phase in ("done", "error") else run
    if run.state == "error":
        raise run.error
    return run.df


def _progress_text(job: jobs.Job, lang: str) -> str:
    return t("parks.run.progress", lang, done=job.done, total=job.total or "…")


def wait(run: ParkRun, lang: str, seconds: float | None = None) -> ParkRun:
    """While the job runs, a live progress bar for up to ``seconds`` (``WAIT_S``); the state then."""
    if run.state != "running":
        return run
    slot = st.empty()
    deadline = time.monotonic() + (WAIT_S if seconds is None else seconds)
    while run.state == "running" and time.monotonic() < deadline:
        slot.progress(run.job.fraction, text=_progress_text(run.job, lang))
        run.job.thread.join(0.25)
        if run.job.phase in ("done", "error"):
            run = run_state()
    slot.empty()
    return run


def poll(job: jobs.Job, lang: str) -> None:
    """A progress bar refreshed every second; the page reruns when the job is over."""
    @st.fragment(run_every=1.0)
    def _poll():
        if job.phase in ("done", "error"):
            st.rerun()
        st.progress(job.fraction, text=_progress_text(job, lang))
        st.caption(t("parks.run.background", lang))

    _poll()


def indicators(lang: str, partial: bool = False) -> pd.DataFrame | None:
    """The indicators for a page. A refused input: a bilingual error (``partial``: returns None,
    else the page stops). Still computing after ``WAIT_S``: a polling progress bar, and the
    cached rows when ``partial`` (else the page stops until the rows are there)."""
    run = wait(run_state(), lang)
    if run.state == "error":
        data_in_use.run_error(run.error, lang)
        if partial:
            return None
        st.stop()
    if run.state == "running":
        poll(run.job, lang)
        if not partial or run.df is None or not len(run.df):
            if partial:
                return None
            st.stop()
    return run.df


def park_picker(df: pd.DataFrame, lang: str, key: str) -> str:
    """Select one park (initial choice from ``?park=``; the choice is written back to the URL)."""
    names = dict(zip(df["park_id"], df["name"]))
    ids = list(names)
    qp = st.query_params.get("park")
    pid = st.selectbox(t("parks.select", lang), ids, index=ids.index(qp) if qp in ids else 0,
                       format_func=lambda p: f"{p} · {names[p]}", key=key)
    common.share_state({"park": pid})
    return pid


# Uploaded files are parsed once per (content, options), not on every rerun of the page.
# Errors (UploadError/CRSMissing) are raised, not cached, so a corrected choice re-reads.
@st.cache_data(show_spinner=False, max_entries=8)
def upload_layers(filename: str, data: bytes) -> list[str]:
    return readers.list_layers(filename, data)


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(filename: str, data: bytes, layer: str | None, assume_crs: str | None, gcj02: bool,
                swap_axes: bool = False):
    return readers.read_vector(filename, data, layer=layer, assume_crs=assume_crs, gcj02=gcj02, swap_axes=swap_axes)

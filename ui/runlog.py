"""Provenance of the app's results and the run log.

- ``record(...)``: the provenance record (``indicators.provenance``) of a result computed on the
  data in use: the datasets in use and the built files (SHA-256), the hashes of the legend, pool
  and sink-rate tables, the run fingerprint, thresholds, weights, the pixel-area mode, the time.
- ``logged(action, …, make)``: wraps an export's bytes function (``st.download_button``'s
  deferred data): when the file is made, one row goes into the store's append-only log
  (``storage.audit``) — who (``common.actor()``), when, and the provenance in ``details``.
- ``log_scenario``: the same for a saved scenario (the store logs the save itself; this row
  adds the provenance).
- ``pixel_area_mode``/``pixel_area_setting``: the session's pixel-area mode (``ground`` default,
  ``nominal`` = InVEST's |det|), applied by ``ui.data_in_use.inputs`` to every computation (the
  mode's key and reader live there; this module draws the setting).
- ``section(lang)``: the Data page's run-log table, its CSV export and the pixel-area setting.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

import pandas as pd
import streamlit as st

import reports
from core.i18n import t
from indicators import provenance
from storage import audit
from ui import common, data_in_use, tables
from ui.data_in_use import MODE_KEY, pixel_area_mode  # noqa: F401 - the mode lives with what it applies to

RUN_ACTIONS = ("run_export", "run_scenario")


def _set_mode() -> None:
    st.session_state[MODE_KEY] = st.session_state["_pixel_area_widget"]


def pixel_area_setting(lang: str) -> str:
    modes = ("ground", "nominal")
    st.session_state["_pixel_area_widget"] = pixel_area_mode()
    st.radio(t("pixel_area.title", lang), modes, format_func=lambda m: t(f"pixel_area.{m}", lang),
             key="_pixel_area_widget", on_change=_set_mode, horizontal=True, help=t("pixel_area.help", lang))
    return pixel_area_mode()


def record(*, weights: Mapping[str, float] | None = None, thresholds: Mapping[str, Any] | None = None,
           tables: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None) -> dict:
    """The provenance record of a result on the data in use (see the module docstring)."""
    inputs = data_in_use.inputs()
    datasets = [dict(zip(("role", "name", "file", "sha256"), map(str, d))) for d in inputs.datasets]
    m = common.manifest(common.build_id())
    for fname, info in sorted((m.get("files") or {}).items()):
        datasets.append({"role": "builtin", "name": fname, "file": fname, "sha256": str(info.get("sha256", ""))})
    hashed = provenance.tables_from_parts(inputs.parts)
    hashed.update(tables or {})
    th = dict(thresholds or {})
    return provenance.record(datasets=datasets, tables=hashed, thresholds=th, weights=weights,
                             pixel_area=pixel_area_mode(), build=common.build_id(),
                             extra={"legend": inputs.legend, "run_fingerprint": inputs.fingerprint, **dict(extra or {})})


def log(action: str, item_type: str, item_id: str, rec: Mapping[str, Any]) -> None:
    audit.log(common.store(), common.actor(), action, item_type, item_id,
              details={"inputs_sha256": rec.get("inputs_sha256"), "provenance": dict(rec)})


def logged(item_type: str, item_id: str, make: Callable[[], bytes], rec: Mapping[str, Any]) -> Callable[[], bytes]:
    """``make`` for a download button, logging the export (with ``rec``) when the file is made."""
    def run() -> bytes:
        data = make()
        log("run_export", item_type, item_id, rec)
        return data

    return run


def log_scenario(name: str, rec: Mapping[str, Any]) -> None:
    log("run_scenario", "scenario", name, rec)


def rows(limit: int = 1000) -> pd.DataFrame:
    """The run log, newest first: seq, at_time, actor, action, item_type, item_id, inputs_sha256,
    details (JSON text)."""
    df = pd.concat([audit.rows(common.store(), limit, action=a) for a in RUN_ACTIONS], ignore_index=True)
    if df.empty:
        return pd.DataFrame(columns=["seq", "at_time", "actor", "action", "item_type", "item_id", "inputs_sha256",
                                     "details"])
    df = df.sort_values("seq", ascending=False).head(limit).reset_index(drop=True)
    det = [json.loads(d) if isinstance(d, str) else (d or {}) for d in df["details"]]
    return pd.DataFrame({"seq": df["seq"], "at_time": df["at_time"].astype(str), "actor": df["actor"].fillna(""),
                         "action": df["action"], "item_type": df["item_type"].fillna(""),
                         "item_id": df["item_id"].fillna(""),
                         "inputs_sha256": [str(d.get("inputs_sha256") or "") for d in det],
                         "details": [json.dumps(d.get("provenance", d), ensure_ascii=False, sort_keys=True)
                                     for d in det]})


def section(lang: str) -> None:
    """The Data page: the pixel-area setting, the run log and its CSV export."""
    st.subheader(t("pixel_area.title", lang))
    pixel_area_setting(lang)
    st.subheader(t("runlog.title", lang))
    st.caption(t("runlog.help", lang))
    df = rows()
    if df.empty:
        st.info(t("runlog.empty", lang))
        return
    shown = df.drop(columns=["details"]).replace("", "—")
    st.dataframe(shown.rename(columns={c: t(f"runlog.col.{c}", lang) for c in shown.columns}), hide_index=True,
                 width="stretch", key="runlog_table", placeholder=tables.NA)
    st.download_button(t("runlog.download", lang), reports.csv_bytes(df), "run_log.csv",
                       "text/csv", key="runlog_download")

"""The Data page's list of result tables kept in the store by CLI runs (``--into-store NAME``: a
national parks run, zone statistics, years and transitions; tables the CLI queued while this
server held the store are taken in first when a signed-in editor or admin opens the page, as
that user), every version with who made it, its
row count and SHA-256, and downloads as CSV or Parquet (checked against the SHA-256 on reading)."""
from __future__ import annotations

import io

import streamlit as st

import reports
from core.errors import GansuError
from core.i18n import t
from storage import inbox
from ui import common, tables
from ui.mdtext import md

COLUMNS = ("table_id", "kind", "created_at", "created_by", "n_rows", "sha256")


def section(lang: str) -> None:
    st.subheader(t("results.title", lang))
    st.caption(t("results.help", lang))
    s = common.store()
    try:
        # tables the CLI queued while this server held the store: taken in by a signed-in editor/admin
        taken = inbox.ingest(s, common.actor())
    except (GansuError, OSError, ValueError) as e:
        st.warning(t("results.inbox_failed", lang, why=e.message(lang) if isinstance(e, GansuError) else str(e)))
        taken = []
    if taken:
        st.success(t("results.inbox_taken", lang, n=len(taken), ids=md(", ".join(r["table_id"] for r in taken))))
    df = s.result_tables()
    if df.empty:
        st.info(t("results.empty", lang))
        return
    shown = df[list(COLUMNS)].copy()
    shown["created_at"] = shown["created_at"].astype(str).str[:19]
    shown["created_by"] = shown["created_by"].fillna("—")
    shown["sha256"] = shown["sha256"].str[:12]
    st.dataframe(shown.rename(columns={c: t(f"results.col.{c}", lang) for c in COLUMNS}), hide_index=True,
                 width="stretch", key="results_table", placeholder=tables.NA)
    tid = st.selectbox(t("results.pick", lang), df["table_id"].tolist(), key="results_pick")
    try:
        table = s.result_table(tid)
    except GansuError as e:
        st.error(e.message(lang))
        return
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in tid)
    c1, c2 = st.columns(2)
    c1.download_button(t("results.csv", lang), reports.csv_bytes(table), f"{safe}.csv",
                       "text/csv", key="results_csv")
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    c2.download_button(t("results.parquet", lang), buf.getvalue(), f"{safe}.parquet",
                       "application/octet-stream", key="results_parquet")

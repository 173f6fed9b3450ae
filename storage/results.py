"""Computed results kept in the store (``ResultTables``, a part of ``Store``): the cache of per-park
indicator rows keyed by the content hashes of every input (anyone may fill it), and the final
tables of command-line runs, every version kept as checked Parquet bytes."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pandas as pd

from core.errors import GansuError
from storage import audit
from storage.access import mutating
from storage.db import StoreError
from storage.values import clean_name, to_json


class ResultTables:
    """The cached rows and result tables of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- cached per-park results (key = content hashes of every input)
    def park_results(self, keys: list[str]) -> dict[str, dict]:
        if not keys:
            return {}
        out = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            df = self.query_df(f"SELECT key, row FROM park_results WHERE key IN ({', '.join('?' * len(chunk))})", chunk)
            out.update({r.key: json.loads(r.row) for r in df.itertuples()})
        return out

    @mutating("open")
    def put_park_results(self, rows: dict[str, dict], keep: int = 20000, *, actor=None) -> None:
        """A cache of computed rows: anyone who may view may fill it (computing is a viewer's right)."""
        self.authorize(actor, "open")
        now = dt.datetime.now()
        with self.transaction() as cur:
            cur.executemany("INSERT OR REPLACE INTO park_results VALUES (?, ?, ?)",
                            [(k, to_json(v), now) for k, v in rows.items()])
            cur.execute("DELETE FROM park_results WHERE key NOT IN (SELECT key FROM park_results "
                        "ORDER BY created_at DESC LIMIT ?)", [keep])

    # --- final tables of runs (python -m cli parks/zonestats --into-store NAME)
    @mutating("editor")
    def put_result_table(self, name: str, kind: str, df: pd.DataFrame, args: dict | None = None,
                         *, actor=None, on_behalf_of: str | None = None) -> dict:
        """Store a run's final table as a new version of ``name`` (earlier versions are kept: a
        re-run never overwrites). Returns the row's summary (table_id, name, version, n_rows, sha256).
        ``on_behalf_of``: whose run it was when ``actor`` takes it in for them (the inbox), logged."""
        key = clean_name(name, 120)
        if not key:
            raise GansuError("结果表名称不能为空", "the result table needs a name")
        p = self.authorize(actor, "editor", what=f"result_table:{key}")
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        data = buf.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        with self.transaction() as cur:
            (last,) = cur.execute("SELECT COALESCE(MAX(version), 0) FROM result_tables WHERE name = ?", [key]).fetchone()
            version = int(last) + 1
            table_id = f"{key}@{version}"
            cur.execute("INSERT INTO result_tables VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [table_id, key, version, kind, dt.datetime.now(), str(p), p.office, len(df), sha,
                         to_json(args or {}), data])
            audit.record(cur, p, "result_table_add", "result_table", table_id, after=sha,
                         details={"kind": kind, "rows": len(df),
                                  **({"on_behalf_of": on_behalf_of} if on_behalf_of is not None else {})})
        return {"table_id": table_id, "name": key, "version": version, "n_rows": len(df), "sha256": sha}

    def result_tables(self) -> pd.DataFrame:
        """Every stored result table, newest first (without the data)."""
        return self.query_df("SELECT table_id, name, version, kind, created_at, created_by, office, n_rows, sha256, args "
                             "FROM result_tables ORDER BY created_at DESC, version DESC")

    def result_table(self, table_id: str) -> pd.DataFrame:
        """The table stored under ``table_id`` (``name@version``), checked against its SHA-256."""
        df = self.query_df("SELECT data, sha256 FROM result_tables WHERE table_id = ?", [table_id])
        row = None if df.empty else (df["data"].iloc[0], df["sha256"].iloc[0])
        if row is None:
            raise GansuError(f"没有结果表 {table_id!r}", f"no result table {table_id!r}")
        data = bytes(row[0])
        if hashlib.sha256(data).hexdigest() != row[1]:
            raise StoreError(f"结果表 {table_id!r} 已损坏（SHA-256 不符）", f"result table {table_id!r} is damaged (SHA-256 differs)")
        return pd.read_parquet(io.BytesIO(data))

"""The DuckDB store: layer catalog and user data, in one file that survives data rebuilds.

``Store`` opens the file (``storage.db``: offline, owner-only), creates the tables
(``storage.schema``) and holds the connection; its methods come from its parts, one module per
kind of item: who may act (``storage.access``), parks and checklists (``storage.parks``), scenarios
(``storage.scenarios``), official replacement layers (``storage.user_layers``), workspace datasets
and the data in use (``storage.datasets``), the recycle bin (``storage.recycle_bin``) and computed
results (``storage.results``). Row operations the parts share are in ``storage.item_rows``.

Every write runs in one transaction (BEGIN ... COMMIT, ROLLBACK on any error) under a
process-wide lock, so a failed or interrupted save leaves the previous state intact.
Queries are parameterised; user text never becomes SQL or a file path.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from pathlib import Path

import duckdb
import pandas as pd

from storage import accounts, audit
from storage.access import AccessChecks, mutating
from storage.datasets import DatasetItems
from storage.db import StoreError, StoreLocked, connect, private_files, private_wal
from storage.parks import ParkItems
from storage.recycle_bin import RecycleBin
from storage.results import ResultTables
from storage.scenarios import ScenarioItems
from storage.schema import MIGRATIONS, SCHEMA
from storage.user_layers import UserLayers


class Store(AccessChecks, ParkItems, ScenarioItems, UserLayers, DatasetItems, RecycleBin, ResultTables):
    """One per process (the app caches it); thread-safe. The file, its WAL and a folder the store
    creates for itself are owner-only (0600 / 0700)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                os.chmod(self.path.parent, 0o700)
        try:
            self._con = connect(self.path)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreLocked(
                    f"本地存储 {self.path} 正被其他程序占用（DuckDB 只允许一个写入者）：请关闭该程序，"
                    "或通过 GANSU_STORE 指定其他文件。",
                    f"the store {self.path} is in use by another program (DuckDB allows one "
                    f"writer). Close it, or set GANSU_STORE to another file.") from None
            if "not a valid duckdb" in str(e).lower() or "corrupt" in str(e).lower():
                raise StoreError(
                    f"本地存储文件 {self.path} 已损坏或不是 DuckDB 数据库：请将其移走（保留备份，其中可能有已保存的工作）"
                    "后重启，或通过 GANSU_STORE 指定其他文件。",
                    f"the store {self.path} is not a valid DuckDB database (damaged or another kind of "
                    f"file). Move it aside (keep it: it may hold saved work) and restart to get a new "
                    f"store, or set GANSU_STORE to another file.") from None
            raise
        except (duckdb.PermissionException, PermissionError) as e:
            raise StoreError(f"本地存储 {self.path} 无法写入（{e}）：请检查目录权限或设置 GANSU_STORE。",
                             f"the store {self.path} cannot be opened for writing ({e}); make the folder "
                             f"writable or set GANSU_STORE.") from None
        private_files(self.path)  # before the first write: DuckDB has written the header only
        self._lock = threading.RLock()
        with self.transaction() as cur:
            for stmt in SCHEMA + audit.SCHEMA + accounts.SCHEMA + MIGRATIONS:
                cur.execute(stmt)
            cur.execute("INSERT INTO meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING")
            audit.migrate(cur)  # an older store's audit rows are hash-chained once

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextlib.contextmanager
    def transaction(self):
        with self._lock:
            private_wal(self.path)
            cur = self._con.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def query_df(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        with self._lock:
            cur = self._con.cursor()
            try:
                return cur.execute(sql, params).df()
            finally:
                cur.close()

    # --- layer catalog
    @mutating("open")
    def sync_catalog(self, rows: list[dict], *, actor=None) -> None:
        now = dt.datetime.now()
        cols = ["layer_id", "title_zh", "title_en", "kind", "status", "source", "licence", "year",
                "resolution", "crs", "derivation", "n_features"]
        self.authorize(actor, "open")
        with self.transaction() as cur:
            for r in rows:
                vals = [r.get(c) for c in cols] + [now]
                cur.execute(
                    f"INSERT OR REPLACE INTO layer_catalog ({', '.join(cols)}, updated_at) "
                    f"VALUES ({', '.join('?' * (len(cols) + 1))})", vals)

    def catalog(self) -> pd.DataFrame:
        return self.query_df("SELECT * FROM layer_catalog ORDER BY layer_id")

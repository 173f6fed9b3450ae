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

from storage import audit, migrations, pg
from storage.access import AccessChecks, mutating
from storage.datasets import DatasetItems
from storage.db import StoreError, StoreLocked, connect, pg_connect, private_files, private_wal
from storage.parks import ParkItems
from storage.recycle_bin import RecycleBin
from storage.results import ResultTables
from storage.scenarios import ScenarioItems
from storage.user_layers import UserLayers


def _open_duckdb(path: Path):
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o700)
    try:
        con = connect(path)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise StoreLocked(
                f"本地存储 {path} 正被其他程序占用（DuckDB 只允许一个写入者）：请关闭该程序，"
                "或通过 GANSU_STORE 指定其他文件（多个程序同时写入请使用 PostgreSQL：GANSU_STORE=postgresql://…）。",
                f"the store {path} is in use by another program (DuckDB allows one "
                f"writer). Close it, or set GANSU_STORE to another file (for several writers at once, "
                f"use PostgreSQL: GANSU_STORE=postgresql://…).") from None
        if "not a valid duckdb" in str(e).lower() or "corrupt" in str(e).lower():
            raise StoreError(
                f"本地存储文件 {path} 已损坏或不是 DuckDB 数据库：请将其移走（保留备份，其中可能有已保存的工作）"
                "后重启，或通过 GANSU_STORE 指定其他文件。",
                f"the store {path} is not a valid DuckDB database (damaged or another kind of "
                f"file). Move it aside (keep it: it may hold saved work) and restart to get a new "
                f"store, or set GANSU_STORE to another file.") from None
        raise
    except (duckdb.PermissionException, PermissionError) as e:
        raise StoreError(f"本地存储 {path} 无法写入（{e}）：请检查目录权限或设置 GANSU_STORE。",
                         f"the store {path} cannot be opened for writing ({e}); make the folder "
                         f"writable or set GANSU_STORE.") from None
    private_files(path)  # before the first write: DuckDB has written the header only
    return con


class Store(AccessChecks, ParkItems, ScenarioItems, UserLayers, DatasetItems, RecycleBin, ResultTables):
    """One per process (the app caches it); thread-safe. ``location``: a DuckDB file (embedded, one
    writing process; the file, its WAL and a folder the store creates for itself are owner-only) or
    a ``postgresql://`` URL (``storage.pg``: many processes write at once, each transaction under
    one database-wide write lock)."""

    def __init__(self, location: str | Path):
        self._lock = threading.RLock()
        if pg.is_url(location):
            self.backend, self.url, self.path = "postgresql", str(location), None
            self.label = pg.redacted(self.url)
            self._con = pg_connect(self.url)
        else:
            self.backend, self.url, self.path = "duckdb", None, Path(location)
            self.label = str(self.path)
            self._con = _open_duckdb(self.path)
        try:
            with self.transaction() as cur:
                migrations.apply(cur, self.backend)
                cur.execute("INSERT INTO meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING")
                audit.migrate(cur)  # an older store's audit rows are hash-chained once
        except BaseException:
            self._con.close()
            raise
        if self.backend == "postgresql":
            self._con.forget_columns()

    @property
    def files_base(self) -> Path:
        """Where files that belong to this store live beside it (recovery codes, the DuckDB inbox): next
        to the DuckDB file; for a PostgreSQL store, a folder named after the database in the data folder."""
        return self.path if self.path is not None else pg.files_base(self.url)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextlib.contextmanager
    def transaction(self):
        with self._lock:
            if self.path is not None:
                private_wal(self.path)
            cur = self._begin()
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as e:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                self._raise_unreachable(e)
                raise
            finally:
                cur.close()

    def _begin(self):
        """A cursor in a new transaction (on PostgreSQL holding the write lock). A connection the
        server dropped since the last call (a restart) is made again first: nothing was begun on it."""
        for attempt in (0, 1):
            if self.backend == "postgresql" and self._con.broken:
                self._reconnect()
            cur = self._con.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                if self.backend == "postgresql":  # one writer at a time across every process
                    cur.execute(pg.WRITE_LOCK)
                return cur
            except Exception as e:
                cur.close()
                if attempt or self.backend != "postgresql" or not self._con.broken:
                    self._raise_unreachable(e)
                    raise

    def query_df(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        with self._lock:
            for attempt in (0, 1):  # a read is repeated once on a new connection after a server restart
                if self.backend == "postgresql" and self._con.broken:
                    self._reconnect()
                cur = self._con.cursor()
                try:
                    return cur.execute(sql, params).df()
                except Exception as e:
                    if attempt or self.backend != "postgresql" or not self._con.broken:
                        self._raise_unreachable(e)
                        raise
                finally:
                    cur.close()

    def _reconnect(self) -> None:
        try:
            self._con.reconnect()
        except Exception as e:  # noqa: BLE001 - the server is down: say so in both languages
            self._raise_unreachable(e)
            raise

    def _raise_unreachable(self, e: BaseException) -> None:
        """A PostgreSQL store whose server cannot be reached: a bilingual StoreError naming it."""
        if self.backend == "postgresql" and type(e).__module__.startswith("psycopg") and self._con.broken:
            raise StoreError(f"PostgreSQL 存储 {self.label} 无法访问（{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}）："
                             "操作未完成，已保存的数据不受影响。请检查数据库服务器后重试。",
                             f"the PostgreSQL store {self.label} cannot be reached "
                             f"({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}): the action "
                             "was not done; saved data is unaffected. Check the database server and try again.") from e

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

"""The DuckDB store: layer catalog and user data, in one file that survives data rebuilds.

Offline by construction: DuckDB's ``INSTALL spatial`` downloads from the internet, so we pin
``duckdb==1.5.5`` with ``duckdb-extension-spatial==1.5.5`` (the wheel ships the signed
extension binary) and LOAD it by path with extension auto-install/auto-load switched off.

Every write runs in one transaction (BEGIN ... COMMIT, ROLLBACK on any error) under a
process-wide lock, so a failed or interrupted save leaves the previous state intact.
Queries are parameterised; user text never becomes SQL or a file path.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import threading
import uuid
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import shapely

from core.errors import GansuError, PermissionDenied
from storage import accounts, audit
from storage.accounts import Principal

SPATIAL_VERSION = "v1.5.5"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS layer_catalog (
        layer_id VARCHAR PRIMARY KEY, title_zh VARCHAR, title_en VARCHAR, kind VARCHAR,
        status VARCHAR, source VARCHAR, licence VARCHAR, year VARCHAR, resolution VARCHAR,
        crs VARCHAR, derivation VARCHAR, n_features INTEGER, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS user_layers (
        upload_id VARCHAR PRIMARY KEY, replaces VARCHAR, name VARCHAR, original_filename VARCHAR,
        source_crs VARCHAR, n_features INTEGER, created_at TIMESTAMP, active BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS user_features (
        upload_id VARCHAR, fid INTEGER, geom GEOMETRY, props JSON)""",
    """CREATE TABLE IF NOT EXISTS parks (
        park_id VARCHAR PRIMARY KEY, name VARCHAR, geom GEOMETRY, attrs JSON, source VARCHAR,
        source_file VARCHAR, source_crs VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS checklist (
        park_id VARCHAR PRIMARY KEY, inputs JSON, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS scenarios (
        name VARCHAR PRIMARY KEY, selection JSON, weights JSON, settings JSON,
        created_at TIMESTAMP, updated_at TIMESTAMP)""",
    # the workspace (storage/workspace.py): the user's own datasets and the data in use
    """CREATE TABLE IF NOT EXISTS datasets (
        dataset_id VARCHAR PRIMARY KEY, role VARCHAR, record JSON, added_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS dataset_features (
        dataset_id VARCHAR, fid INTEGER, kind VARCHAR, geom GEOMETRY, props JSON)""",
    """CREATE TABLE IF NOT EXISTS data_in_use (
        role VARCHAR PRIMARY KEY, dataset_ids JSON, updated_at TIMESTAMP)""",
    # per-park indicator rows keyed by the content hashes of every input (indicators/runs.py)
    """CREATE TABLE IF NOT EXISTS park_results (
        key VARCHAR PRIMARY KEY, row JSON, created_at TIMESTAMP)""",
    # deleted parks, scenarios and datasets wait here until restored or the bin is emptied
    """CREATE TABLE IF NOT EXISTS recycle_bin (
        bin_id VARCHAR PRIMARY KEY, item_type VARCHAR, item_id VARCHAR, name VARCHAR, owner VARCHAR,
        office VARCHAR, deleted_by VARCHAR, deleted_at TIMESTAMP, payload JSON)""",
    # final tables of CLI runs (national parks, zone statistics, years): every version kept
    """CREATE TABLE IF NOT EXISTS result_tables (
        table_id VARCHAR PRIMARY KEY, name VARCHAR, version INTEGER, kind VARCHAR, created_at TIMESTAMP,
        created_by VARCHAR, office VARCHAR, n_rows BIGINT, sha256 VARCHAR, args JSON, data BLOB)""",
]
# ownership of the user's items (stores made before accounts get the columns, empty = admin's)
MIGRATIONS = [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {col} VARCHAR"
              for table in ("parks", "scenarios", "checklist", "datasets", "user_layers")
              for col in ("created_by", "office")]
PARK_COLS = ("park_id", "name", "geom", "attrs", "source", "source_file", "source_crs", "created_at",
             "updated_at", "created_by", "office")
SCENARIO_COLS = ("name", "selection", "weights", "settings", "created_at", "updated_at", "created_by", "office")

# who may call which mutating method (checked inside each method, on the server side):
#   open   — anyone, signed in or not (caches of computed results, the catalog mirror)
#   editor — an editor or admin (new items of their own)
#   owner  — the item's owner (editor) or an admin
#   admin  — an admin (official layers, the data in use, emptying the bin, accounts)
ACCESS_LEVELS = ("open", "editor", "owner", "admin")


def mutating(level: str):
    """Mark a Store method that writes: ``tests/test_accounts_roles.py`` finds every method that
    opens a transaction and requires this mark and a refusal for a viewer."""
    assert level in ACCESS_LEVELS

    def deco(fn):
        fn.access = level
        return fn
    return deco


class StoreError(GansuError):
    """The store cannot be used (locked by another writer, damaged, not writable): (zh, en)."""


class StoreLocked(StoreError):
    """Another process (usually the running dashboard) holds the store: DuckDB allows one writer."""


def spatial_extension_path() -> Path:
    import duckdb_extension_spatial

    base = Path(list(duckdb_extension_spatial.__path__)[0])
    path = base / "extensions" / SPATIAL_VERSION / "spatial.duckdb_extension"
    if not path.is_file():
        raise StoreError(f"找不到 DuckDB 空间扩展 {path}：请运行 pip install duckdb-extension-spatial==1.5.5",
                         f"DuckDB spatial extension not found at {path}: pip install duckdb-extension-spatial==1.5.5")
    return path


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    config = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    con.execute(f"LOAD '{spatial_extension_path()}'")
    return con


def _private_wal(path: Path) -> None:
    """Create the store's write-ahead log owner-only (0600) before DuckDB writes it: DuckDB deletes
    it at each checkpoint and would recreate it with the process's umask (usually world-readable)."""
    wal = Path(f"{path}.wal")
    if not wal.exists() and path.exists():
        with contextlib.suppress(OSError):
            os.close(os.open(wal, os.O_CREAT | os.O_WRONLY, 0o600))


def _private_files(path: Path) -> None:
    """The store file and its log: owner-only (password hashes, the audit log). An older store that
    others could read is tightened when opened; a file of another owner is left alone."""
    for f in (path, Path(f"{path}.wal")):
        with contextlib.suppress(OSError):
            if f.exists() and f.stat().st_mode & 0o077:
                os.chmod(f, 0o600)
    _private_wal(path)


class Store:
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
        _private_files(self.path)  # before the first write: DuckDB has written the header only
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
            _private_wal(self.path)
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

    # --- who acts (accounts, roles, ownership) ---------------------------------------------------
    def single_user(self) -> bool:
        """No account in the store: a laptop, everyone acts with full rights (as before accounts)."""
        return not accounts.any_account(self)

    def principal(self, actor) -> Principal | None:
        """The acting user, checked against the store: None = not signed in. Single-user mode (no
        account): anyone, with full rights, under the given name or "local" (``ui.serve`` offers
        that on a network address only with ``GANSU_SINGLE_USER=1``). With accounts only a
        ``Principal`` counts (the UI's session, the shell, single sign-on); a password account and a
        single sign-on identity (``sso:<email>``, its row made at its first sign-in) are re-read
        (role, office, disabled) on every call."""
        if self.single_user():
            if isinstance(actor, Principal) and actor.source == "local":
                return actor
            return Principal(str(actor or "local"), "admin", getattr(actor, "office", None), "local")
        if not isinstance(actor, Principal):  # a bare name proves nothing once accounts exist
            return None
        if actor.source == "shell":
            return actor
        if actor.source == "oidc" and str(actor).startswith(accounts.SSO_PREFIX):
            return accounts.principal_for(self, str(actor), "oidc")
        if actor.source != "password":
            return None
        return accounts.principal_for(self, str(actor))  # role, office and "disabled" as stored now

    def allowed(self, actor, need: str, owner: str | None = None) -> bool:
        """Whether ``authorize`` would let ``actor`` do ``need`` (the UI shows only allowed controls)."""
        return self._refusal(self.principal(actor), need, owner) is None

    @staticmethod
    def _refusal(p: Principal | None, need: str, owner: str | None) -> PermissionDenied | None:
        if need == "open":
            return None
        if p is None:
            return PermissionDenied("请先登录：更改数据需要账户。", "sign in first: changing data needs an account.")
        if need == "admin" and not p.at_least("admin"):
            return PermissionDenied("只有管理员可以执行此操作。", "only an admin can do this.")
        if not p.at_least("editor"):
            return PermissionDenied("查看者账户不能更改数据（需要编辑者或管理员）。",
                                    "a viewer account cannot change data (editor or admin needed).")
        if need == "owner" and not p.at_least("admin") and (owner or "") != str(p):
            return PermissionDenied(f"这不是您的条目（所有者：{owner or '—'}）：只有所有者或管理员可以更改。",
                                    f"this is not your item (owner: {owner or '—'}): only its owner or an admin can change it.")
        return None

    def authorize(self, actor, need: str, owner: str | None = None, what: str = "") -> Principal:
        """The principal allowed to do ``need`` (an ``ACCESS_LEVELS`` entry) on an item owned by
        ``owner``; otherwise PermissionDenied, and the refusal is logged. Never inside a transaction."""
        p = self.principal(actor)
        err = self._refusal(p, need, owner)
        if err is None:
            return p or Principal("anonymous", "viewer", None, "anonymous")
        audit.log(self, p or "anonymous", "denied", what.split(":")[0] or "store",
                  what.split(":", 1)[1] if ":" in what else None, details={"need": need, "owner": owner})
        raise err

    def _owner(self, table: str, key_col: str, key: str) -> str | None:
        df = self.query_df(f"SELECT created_by FROM {table} WHERE {key_col} = ?", [key])
        return None if df.empty else df["created_by"].iloc[0]

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

    # --- user layers (official replacements of schematic/proxy layers)
    @mutating("editor")
    def save_user_layer(self, gdf: gpd.GeoDataFrame, *, replaces: str, name: str,
                        original_filename: str, source_crs: str | None, active: bool = True,
                        dataset: tuple[str, str, dict] | None = None, actor=None) -> str:
        """Store an official replacement layer (EPSG:4326); ``active`` puts it in use (admin).
        ``dataset`` = (id, role, record) registers it in the workspace in the same transaction."""
        p = self.authorize(actor, "admin" if active else "editor", what=f"layer:{replaces}")
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise StoreError("user layers are stored in EPSG:4326; reproject first")
        upload_id = uuid.uuid4().hex
        props = gdf.drop(columns=gdf.geometry.name)
        rows = [(upload_id, i, shapely.to_wkb(g),
                 json.dumps({k: _jsonable(v) for k, v in p_.items()}, ensure_ascii=False))
                for i, (g, p_) in enumerate(zip(gdf.geometry.values, props.to_dict("records")))]
        with self.transaction() as cur:
            if active:
                cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            cur.execute("INSERT INTO user_layers (upload_id, replaces, name, original_filename, source_crs, "
                        "n_features, created_at, active, created_by, office) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [upload_id, replaces, name, original_filename, source_crs, len(gdf),
                         dt.datetime.now(), active, str(p), p.office])
            cur.executemany("INSERT INTO user_features VALUES (?, ?, ST_GeomFromWKB(?), ?)", rows)
            if dataset is not None:
                self._insert_dataset(cur, dataset[0], dataset[1], {**dataset[2], "upload_id": upload_id}, p)
            audit.record(cur, p, "layer_upload" + ("_in_use" if active else ""), "user_layer", upload_id,
                         after={"replaces": replaces, "name": name, "n": len(gdf), "sha": _rows_sha(rows)},
                         details={"file": original_filename, "dataset": dataset[0] if dataset else None})
        return upload_id

    @mutating("admin")
    def activate_user_layer(self, replaces: str, upload_id: str, *, actor=None) -> None:
        p = self.authorize(actor, "admin", what=f"user_layer:{upload_id}")
        with self.transaction() as cur:
            before = cur.execute("SELECT upload_id FROM user_layers WHERE replaces = ? AND active", [replaces]).fetchall()
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            cur.execute("UPDATE user_layers SET active = true WHERE upload_id = ? AND replaces = ?", [upload_id, replaces])
            audit.record(cur, p, "layer_activate", "user_layer", upload_id, before=[r[0] for r in before],
                         after=[upload_id], details={"replaces": replaces})

    def active_user_layer(self, replaces: str) -> dict | None:
        df = self.query_df("SELECT * FROM user_layers WHERE replaces = ? AND active "
                           "ORDER BY created_at DESC LIMIT 1", [replaces])
        return None if df.empty else df.iloc[0].to_dict()

    def load_user_layer(self, upload_id: str) -> gpd.GeoDataFrame:
        df = self.query_df("SELECT fid, ST_AsWKB(geom) AS wkb, props FROM user_features "
                           "WHERE upload_id = ? ORDER BY fid", [upload_id])
        props = pd.DataFrame([json.loads(p) for p in df["props"]]) if len(df) else pd.DataFrame()
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]])
        return gpd.GeoDataFrame(props, geometry=list(geoms), crs="EPSG:4326")

    @mutating("admin")
    def revert_user_layer(self, replaces: str, *, actor=None) -> None:
        p = self.authorize(actor, "admin", what=f"layer:{replaces}")
        with self.transaction() as cur:
            before = cur.execute("SELECT upload_id FROM user_layers WHERE replaces = ? AND active", [replaces]).fetchall()
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            audit.record(cur, p, "layer_revert", "layer", replaces, before=[r[0] for r in before], after=[])

    # --- parks (uploaded or drawn candidates); demo parks stay in the GeoPackage
    @mutating("editor")
    def add_parks(self, gdf: gpd.GeoDataFrame, *, names: list[str], source: str,
                  source_file: str | None = None, source_crs: str | None = None,
                  dataset: tuple[str, str, dict] | None = None, actor=None) -> list[str]:
        """Insert polygons (EPSG:4326) with their names and other attributes, all or nothing.
        ``dataset`` = (id, role, record) registers the file in the workspace in the same transaction."""
        p = self.authorize(actor, "editor", what="park:")
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise StoreError("parks are stored in EPSG:4326; reproject first")
        now = dt.datetime.now()
        attrs = gdf.drop(columns=gdf.geometry.name).to_dict("records")
        ids, rows = [], []
        for name, geom, a in zip(names, gdf.geometry.values, attrs):
            pid = "U" + uuid.uuid4().hex[:7].upper()
            ids.append(pid)
            rows.append((pid, clean_name(name, 200), shapely.to_wkb(geom), _dumps(a), source,
                         source_file, source_crs, now, now, str(p), p.office))
        with self.transaction() as cur:
            cur.executemany(f"INSERT INTO parks ({', '.join(PARK_COLS)}) "
                            "VALUES (?, ?, ST_GeomFromWKB(?), ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if dataset is not None:
                self._insert_dataset(cur, dataset[0], dataset[1], {**dataset[2], "park_ids": ids}, p)
            for r in rows:
                audit.record(cur, p, "park_add", "park", r[0], after=_park_content(r[0], r[1], r[2], r[3]),
                             details={"source": source, "file": source_file})
        return ids

    def parks(self) -> gpd.GeoDataFrame:
        df = self.query_df("SELECT park_id, name, ST_AsWKB(geom) AS wkb, attrs, source, source_file, "
                           "source_crs, created_at, updated_at, created_by, office FROM parks "
                           "ORDER BY created_at, park_id")
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]]) if len(df) else []
        out = gpd.GeoDataFrame(df.drop(columns=["wkb"]), geometry=list(geoms), crs="EPSG:4326")
        out["attrs"] = [json.loads(a) if a else {} for a in out["attrs"]]
        return out

    def parks_version(self) -> str:
        """Changes whenever any saved park changes: cache key for indicators."""
        row = self.query_df("SELECT count(*) AS n, max(updated_at) AS t, "
                            "string_agg(park_id || ':' || name, ',' ORDER BY park_id) AS s FROM parks")
        key = f"{row['n'].iloc[0]}|{row['t'].iloc[0]}|{row['s'].iloc[0]}"
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    def _park_row(self, cur, park_id: str) -> dict | None:
        r = cur.execute("SELECT park_id, name, ST_AsWKB(geom), attrs, source, source_file, source_crs, "
                        "created_at, updated_at, created_by, office FROM parks WHERE park_id = ?", [park_id]).fetchone()
        if r is None:
            return None
        out = dict(zip(PARK_COLS, r))
        out["geom"] = bytes(out["geom"]).hex()
        return out

    @mutating("owner")
    def rename_park(self, park_id: str, name: str, *, actor=None) -> None:
        p = self.authorize(actor, "owner", self._owner("parks", "park_id", park_id), what=f"park:{park_id}")
        with self.transaction() as cur:
            old = self._park_row(cur, park_id)
            cur.execute("UPDATE parks SET name = ?, updated_at = ? WHERE park_id = ?",
                        [clean_name(name, 200), dt.datetime.now(), park_id])
            if old is not None:
                audit.record(cur, p, "park_rename", "park", park_id, before={"name": old["name"]},
                             after={"name": clean_name(name, 200)})

    @mutating("owner")
    def update_park_attrs(self, park_id: str, attrs: dict, *, actor=None) -> None:
        p = self.authorize(actor, "owner", self._owner("parks", "park_id", park_id), what=f"park:{park_id}")
        with self.transaction() as cur:
            old = self._park_row(cur, park_id)
            cur.execute("UPDATE parks SET attrs = ?, updated_at = ? WHERE park_id = ?",
                        [_dumps(attrs), dt.datetime.now(), park_id])
            if old is not None:
                audit.record(cur, p, "park_attrs", "park", park_id, before=old["attrs"], after=_dumps(attrs))

    @mutating("owner")
    def delete_parks(self, park_ids: list[str], *, actor=None) -> list[str]:
        """Move parks (and their checklist) to the recycle bin; returns the bin ids. All or nothing:
        one park the actor may not delete refuses the whole call."""
        p = None
        for pid in park_ids:
            p = self.authorize(actor, "owner", self._owner("parks", "park_id", pid), what=f"park:{pid}")
        if p is None:  # nothing to delete: still only for someone who may change data
            self.authorize(actor, "editor", what="park:")
            return []
        out = []
        with self.transaction() as cur:
            for pid in park_ids:
                payload = self._take_park(cur, pid)
                if payload is None:
                    continue
                row = payload["park"]
                out.append(self._bin_put(cur, p, "park", pid, row["name"], row["created_by"], row["office"], payload))
                audit.record(cur, p, "park_delete", "park", pid,
                             before=_park_content(pid, row["name"], row["geom"], row["attrs"]), details={"to": "bin"})
        return out

    def _take_park(self, cur, park_id: str) -> dict | None:
        """Remove a park and its checklist row, returning both as a bin payload."""
        row = self._park_row(cur, park_id)
        if row is None:
            return None
        ck = cur.execute("SELECT inputs, updated_at, created_by, office FROM checklist WHERE park_id = ?",
                         [park_id]).fetchone()
        cur.execute("DELETE FROM parks WHERE park_id = ?", [park_id])
        cur.execute("DELETE FROM checklist WHERE park_id = ?", [park_id])
        return {"park": row, "checklist": list(ck) if ck else None}

    def _put_park(self, cur, payload: dict) -> str:
        row = payload["park"]
        if cur.execute("SELECT 1 FROM parks WHERE park_id = ?", [row["park_id"]]).fetchone():
            raise StoreError(f"园区 {row['park_id']} 已存在，无法还原。", f"park {row['park_id']} exists already: not restored.")
        vals = [bytes.fromhex(row["geom"]) if c == "geom" else row[c] for c in PARK_COLS]
        cur.execute(f"INSERT INTO parks ({', '.join(PARK_COLS)}) VALUES (?, ?, ST_GeomFromWKB(?), ?, ?, ?, ?, ?, ?, ?, ?)",
                    vals)
        if payload.get("checklist"):
            inputs, at, by, office = payload["checklist"]
            cur.execute("INSERT OR REPLACE INTO checklist (park_id, inputs, updated_at, created_by, office) "
                        "VALUES (?, ?, ?, ?, ?)", [row["park_id"], inputs, at, by, office])
        return row["park_id"]

    # --- admission checklist inputs, per park
    def checklist_access(self, park_id: str) -> tuple[str, str | None]:
        """What saving a park's checklist needs (``authorize``'s need and owner): a saved park's
        checklist belongs to the park's owner (or an admin); a park not in the store — the built-in
        illustrative parks, shared by everyone — is an admin's to fill in. So nobody claims a
        checklist by saving first, also not for a park id waiting in the recycle bin."""
        df = self.query_df("SELECT created_by FROM parks WHERE park_id = ?", [park_id])
        if not len(df):
            return "admin", None
        owner = df["created_by"].iloc[0]
        return "owner", owner if isinstance(owner, str) and owner else None

    @mutating("owner")
    def save_checklist(self, park_id: str, inputs: dict, *, actor=None) -> None:
        """Save a park's checklist inputs (``checklist_access``: the park's owner or an admin; a
        demo park: an admin). The row is the park's owner's whoever saves it."""
        need, owner = self.checklist_access(park_id)
        try:
            p = self.authorize(actor, need, owner, what=f"checklist:{park_id}")
        except PermissionDenied as e:
            who = self.principal(actor)
            if need != "admin" or who is None or not who.at_least("editor"):
                raise
            raise PermissionDenied("内置示例园区的准入核查表为所有人共享，只有管理员可以保存；您可以评估而不保存，"
                                   "或将园区另存为自己的园区后填写。",
                                   "the checklist of a built-in demo park is shared by everyone: only an admin can "
                                   "save it. You can evaluate without saving, or save the park as your own first.") from e
        with self.transaction() as cur:
            old = cur.execute("SELECT inputs, created_by, office FROM checklist WHERE park_id = ?", [park_id]).fetchone()
            park = cur.execute("SELECT created_by, office FROM parks WHERE park_id = ?", [park_id]).fetchone()
            by, office = park if park else (str(p), p.office)
            cur.execute("INSERT OR REPLACE INTO checklist (park_id, inputs, updated_at, created_by, office) "
                        "VALUES (?, ?, ?, ?, ?)", [park_id, _dumps(inputs), dt.datetime.now(), by, office])
            audit.record(cur, p, "checklist_save", "checklist", park_id, before=old[0] if old else None,
                         after=_dumps(inputs))

    def checklist(self, park_id: str) -> dict:
        df = self.query_df("SELECT inputs FROM checklist WHERE park_id = ?", [park_id])
        return json.loads(df["inputs"].iloc[0]) if len(df) else {}

    # --- named scenarios (selection + weights + settings)
    @mutating("owner")
    def save_scenario(self, name: str, selection: list[str], weights: dict, settings: dict | None = None,
                      *, actor=None) -> None:
        """Save a scenario; overwriting one of the same name needs its owner or an admin."""
        key = clean_name(name, 120)
        exists = len(self.query_df("SELECT 1 FROM scenarios WHERE name = ?", [key]))
        p = self.authorize(actor, "owner" if exists else "editor", self._owner("scenarios", "name", key),
                           what=f"scenario:{key}")
        now = dt.datetime.now()
        with self.transaction() as cur:
            old = cur.execute("SELECT created_at, created_by, office, selection, weights, settings FROM scenarios "
                              "WHERE name = ?", [key]).fetchone()
            vals = [key, json.dumps(list(selection)), _dumps(weights), _dumps(settings or {}),
                    old[0] if old else now, now, old[1] if old else str(p), old[2] if old else p.office]
            cur.execute(f"INSERT OR REPLACE INTO scenarios ({', '.join(SCENARIO_COLS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        vals)
            audit.record(cur, p, "scenario_save", "scenario", key, before=list(old[3:]) if old else None,
                         after=vals[1:4])

    def scenarios(self) -> dict[str, dict]:
        df = self.query_df("SELECT * FROM scenarios ORDER BY updated_at DESC")
        return {r.name: {"selection": json.loads(r.selection), "weights": json.loads(r.weights),
                         "settings": json.loads(r.settings), "updated_at": r.updated_at,
                         "created_by": r.created_by, "office": r.office}
                for r in df.itertuples()}

    @mutating("owner")
    def delete_scenario(self, name: str, *, actor=None) -> str | None:
        """Move a scenario to the recycle bin (returns the bin id)."""
        key = clean_name(name, 120)
        p = self.authorize(actor, "owner", self._owner("scenarios", "name", key), what=f"scenario:{key}")
        with self.transaction() as cur:
            r = cur.execute(f"SELECT {', '.join(SCENARIO_COLS)} FROM scenarios WHERE name = ?", [key]).fetchone()
            if r is None:
                return None
            row = {c: (str(v) if isinstance(v, dt.datetime) else v) for c, v in zip(SCENARIO_COLS, r)}
            cur.execute("DELETE FROM scenarios WHERE name = ?", [key])
            bid = self._bin_put(cur, p, "scenario", key, key, row["created_by"], row["office"], {"scenario": row})
            audit.record(cur, p, "scenario_delete", "scenario", key, before=[row["selection"], row["weights"],
                                                                             row["settings"]], details={"to": "bin"})
        return bid

    # --- workspace datasets (records are storage.workspace.Dataset as JSON)
    @mutating("editor")
    def add_dataset(self, dataset_id: str, role: str, record: dict,
                    features: gpd.GeoDataFrame | None = None, kinds: list[str] | None = None,
                    use: tuple[str, list[str]] | None = None, *, actor=None) -> None:
        """Register a dataset (and its features, EPSG:4326) and optionally put it in use (admin), all
        in one transaction: a failed or killed import leaves the store as it was."""
        p = self.authorize(actor, "admin" if use is not None else "editor", what=f"dataset:{dataset_id}")
        rows = []
        if features is not None:
            if features.crs is None or features.crs.to_epsg() != 4326:
                raise StoreError("dataset features are stored in EPSG:4326; reproject first")
            props = features.drop(columns=features.geometry.name).to_dict("records")
            ks = kinds if kinds is not None else [None] * len(features)
            rows = [(dataset_id, i, k, shapely.to_wkb(g), _dumps(pr))
                    for i, (g, pr, k) in enumerate(zip(features.geometry.values, props, ks))]
        with self.transaction() as cur:
            self._insert_dataset(cur, dataset_id, role, record, p)
            if rows:
                cur.executemany("INSERT INTO dataset_features VALUES (?, ?, ?, ST_GeomFromWKB(?), ?)", rows)
            if use is not None:
                self._set_in_use(cur, *use, p=p)

    @staticmethod
    def _insert_dataset(cur, dataset_id: str, role: str, record: dict, p: Principal) -> None:
        rec = {**record, "created_by": str(p), "office": p.office}
        cur.execute("INSERT INTO datasets (dataset_id, role, record, added_at, created_by, office) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [dataset_id, role, json.dumps(rec, ensure_ascii=False, default=str), dt.datetime.now(),
                     str(p), p.office])
        audit.record(cur, p, "dataset_add", "dataset", dataset_id, after=rec, details={"role": role})

    def datasets(self) -> list[dict]:
        df = self.query_df("SELECT record FROM datasets ORDER BY added_at, dataset_id")
        return [json.loads(r) for r in df["record"]]

    def dataset_record(self, dataset_id: str) -> dict | None:
        df = self.query_df("SELECT record FROM datasets WHERE dataset_id = ?", [dataset_id])
        return json.loads(df["record"].iloc[0]) if len(df) else None

    def dataset_features(self, dataset_id: str, kind: str | None = None) -> gpd.GeoDataFrame:
        sql = ("SELECT fid, kind, ST_AsWKB(geom) AS wkb, props FROM dataset_features WHERE dataset_id = ?"
               + (" AND kind = ?" if kind else "") + " ORDER BY fid")
        df = self.query_df(sql, [dataset_id, kind] if kind else [dataset_id])
        props = pd.DataFrame([json.loads(p) for p in df["props"]]) if len(df) else pd.DataFrame()
        props["kind"] = list(df["kind"]) if len(df) else []
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]]) if len(df) else []
        return gpd.GeoDataFrame(props, geometry=list(geoms), crs="EPSG:4326")

    @mutating("owner")
    def delete_dataset(self, dataset_id: str, *, actor=None) -> str | None:
        """Move a dataset to the recycle bin (returns the bin id): its record and, for a parks file,
        its parks; its features stay in the store until the bin is emptied. Its owner or an admin;
        one in use (a role of the data in use names it, or its red line / zones layer is active)
        also needs the right to change the data in use (an admin): every role naming it falls back
        to the rest of its list and the layer to the proxy/schematic one, in the same transaction,
        and what was in use is kept in the bin entry (``restore_from_bin`` puts it back)."""
        p = self.authorize(actor, "owner", self._owner("datasets", "dataset_id", dataset_id),
                           what=f"dataset:{dataset_id}")
        if not p.at_least("admin"):
            with self.transaction() as cur:
                using = self._dataset_uses(cur, dataset_id)
            if using:
                try:
                    self.authorize(actor, "admin", what=f"dataset:{dataset_id}")
                except PermissionDenied:
                    raise _in_use_refusal(using) from None
        bid = None
        with self.transaction() as cur:
            r = cur.execute("SELECT role, record, added_at, created_by, office FROM datasets WHERE dataset_id = ?",
                            [dataset_id]).fetchone()
            if r is None:
                return None
            role, record, added_at, by, office = r
            using = self._dataset_uses(cur, dataset_id)
            if using and not p.at_least("admin"):  # put in use since the check above
                raise _in_use_refusal(using)
            rec = json.loads(record)
            parks = [x for x in (self._take_park(cur, pid) for pid in rec.get("park_ids") or []) if x]
            upload = rec.get("upload_id")
            if upload:
                cur.execute("UPDATE user_layers SET active = false WHERE upload_id = ?", [upload])
            in_use = {k: v for k, v in using.items() if not k.startswith("layer:")}
            after = {k: [i for i in ids if i != dataset_id] for k, ids in in_use.items()}
            for role_, ids in after.items():
                self._set_in_use(cur, role_, ids, p=p)
            cur.execute("DELETE FROM datasets WHERE dataset_id = ?", [dataset_id])
            payload = {"dataset": {"dataset_id": dataset_id, "role": role, "record": record,
                                   "added_at": str(added_at), "created_by": by, "office": office},
                       "parks": parks, "upload_was_active": len(using) > len(in_use),
                       "in_use": in_use, "in_use_after": after}
            bid = self._bin_put(cur, p, "dataset", dataset_id, rec.get("name") or dataset_id, by, office, payload)
            audit.record(cur, p, "dataset_delete", "dataset", dataset_id, before=rec,
                         details={"to": "bin", "in_use": sorted(using)})
        return bid

    @staticmethod
    def _dataset_uses(cur, dataset_id: str) -> dict[str, list]:
        """{role: dataset ids in use} for every role of the data in use naming the dataset, and
        ``layer:<its role>`` when the red line / zones layer it provides is the active one."""
        out = {role: ids for role, ids in ((r, json.loads(d)) for r, d in
                                            cur.execute("SELECT role, dataset_ids FROM data_in_use").fetchall())
               if dataset_id in ids}
        rec = cur.execute("SELECT role, record FROM datasets WHERE dataset_id = ?", [dataset_id]).fetchone()
        upload = json.loads(rec[1]).get("upload_id") if rec else None
        if upload and cur.execute("SELECT active FROM user_layers WHERE upload_id = ?", [upload]).fetchone() == (True,):
            out[f"layer:{rec[0]}"] = [upload]
        return out

    def in_use(self) -> dict[str, list[str]]:
        df = self.query_df("SELECT role, dataset_ids FROM data_in_use")
        return {r.role: json.loads(r.dataset_ids) for r in df.itertuples()}

    @mutating("admin")
    def set_in_use(self, role: str, dataset_ids: list[str], *, actor=None) -> None:
        p = self.authorize(actor, "admin", what=f"in_use:{role}")
        with self.transaction() as cur:
            self._set_in_use(cur, role, dataset_ids, p=p)

    @staticmethod
    def _set_in_use(cur, role: str, dataset_ids: list[str], p=None) -> None:
        old = cur.execute("SELECT dataset_ids FROM data_in_use WHERE role = ?", [role]).fetchone()
        cur.execute("INSERT OR REPLACE INTO data_in_use VALUES (?, ?, ?)",
                    [role, json.dumps(list(dataset_ids)), dt.datetime.now()])
        audit.record(cur, p, "in_use", "data_in_use", role, before=json.loads(old[0]) if old else None,
                     after=list(dataset_ids))

    # --- recycle bin: parks, scenarios and datasets wait here; owner or admin restores, admin empties
    @staticmethod
    def _bin_put(cur, p, item_type, item_id, name, owner, office, payload) -> str:
        bid = "B" + uuid.uuid4().hex[:11].upper()
        cur.execute("INSERT INTO recycle_bin VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [bid, item_type, item_id, name, owner, office, str(p), dt.datetime.now(),
                     json.dumps(payload, ensure_ascii=False, default=str)])
        return bid

    def bin_entries(self) -> pd.DataFrame:
        return self.query_df("SELECT bin_id, item_type, item_id, name, owner, office, deleted_by, deleted_at "
                             "FROM recycle_bin ORDER BY deleted_at DESC, bin_id")

    def bin_entry(self, bin_id: str) -> dict | None:
        df = self.query_df("SELECT * FROM recycle_bin WHERE bin_id = ?", [bin_id])
        if df.empty:
            return None
        out = df.iloc[0].to_dict()
        out["payload"] = json.loads(out["payload"])
        return out

    @mutating("owner")
    def restore_from_bin(self, bin_id: str, *, actor=None) -> dict:
        """Put an item back as it was (same id, name, geometry: a park's cached indicator rows,
        keyed by content, apply again). A dataset removed while in use goes back in use when an
        admin restores it and its role still falls back (nobody chose other data meanwhile); the
        roles put back are listed in the returned entry's ``back_in_use``."""
        entry = self.bin_entry(bin_id)
        if entry is None:
            raise StoreError(f"回收站中没有 {bin_id}。", f"{bin_id} is not in the recycle bin.")
        p = self.authorize(actor, "owner", entry["owner"], what=f"{entry['item_type']}:{entry['item_id']}")
        pl = entry["payload"]
        with self.transaction() as cur:
            if entry["item_type"] == "park":
                self._put_park(cur, pl)
            elif entry["item_type"] == "scenario":
                row = pl["scenario"]
                if cur.execute("SELECT 1 FROM scenarios WHERE name = ?", [row["name"]]).fetchone():
                    raise StoreError(f"已有同名方案“{row['name']}”：请先改名或删除它。",
                                     f"a scenario named '{row['name']}' exists: rename or delete it first.")
                cur.execute(f"INSERT INTO scenarios ({', '.join(SCENARIO_COLS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [row[c] for c in SCENARIO_COLS])
            elif entry["item_type"] == "dataset":
                d = pl["dataset"]
                if cur.execute("SELECT 1 FROM datasets WHERE dataset_id = ?", [d["dataset_id"]]).fetchone():
                    raise StoreError(f"数据集 {d['dataset_id']} 已存在。", f"dataset {d['dataset_id']} exists already.")
                cur.execute("INSERT INTO datasets (dataset_id, role, record, added_at, created_by, office) "
                            "VALUES (?, ?, ?, ?, ?, ?)", [d["dataset_id"], d["role"], d["record"], d["added_at"],
                                                          d["created_by"], d["office"]])
                for park in pl.get("parks") or []:
                    self._put_park(cur, park)
                if p.at_least("admin"):  # the data in use is an admin's to change
                    entry["back_in_use"] = self._back_in_use(cur, p, pl)
            cur.execute("DELETE FROM recycle_bin WHERE bin_id = ?", [bin_id])
            audit.record(cur, p, "restore", entry["item_type"], entry["item_id"], after=pl, details={"bin_id": bin_id})
        return entry

    def _back_in_use(self, cur, p, pl: dict) -> list[str]:
        """Put a restored dataset back in the roles it had where they still fall back."""
        back = []
        for role_, before in (pl.get("in_use") or {}).items():
            row = cur.execute("SELECT dataset_ids FROM data_in_use WHERE role = ?", [role_]).fetchone()
            if row is None or json.loads(row[0]) == pl["in_use_after"][role_]:
                self._set_in_use(cur, role_, before, p=p)
                back.append(role_)
        upload = json.loads(pl["dataset"]["record"]).get("upload_id")
        layer = cur.execute("SELECT replaces FROM user_layers WHERE upload_id = ?", [upload]).fetchone() if upload else None
        if pl.get("upload_was_active") and layer and not cur.execute(
                "SELECT 1 FROM user_layers WHERE replaces = ? AND active", [layer[0]]).fetchone():
            cur.execute("UPDATE user_layers SET active = true WHERE upload_id = ?", [upload])
            audit.record(cur, p, "layer_activate", "user_layer", upload, before=[], after=[upload],
                         details={"replaces": layer[0], "restored": True})
            back.append(pl["dataset"]["role"])
        return back

    @mutating("admin")
    def empty_bin(self, bin_ids: list[str] | None = None, *, actor=None) -> list[dict]:
        """Delete for good (admin): every entry, or ``bin_ids``. Returns the entries removed, so the
        workspace can delete the files of purged datasets."""
        p = self.authorize(actor, "admin", what="bin:")
        with self.transaction() as cur:
            sql = "SELECT bin_id, item_type, item_id, name, payload FROM recycle_bin"
            rows = cur.execute(sql + (f" WHERE bin_id IN ({', '.join('?' * len(bin_ids))})" if bin_ids else ""),
                               list(bin_ids or [])).fetchall()
            out = []
            for bid, kind, item_id, name, payload in rows:
                pl = json.loads(payload)
                if kind == "dataset":
                    rec = json.loads(pl["dataset"]["record"])
                    cur.execute("DELETE FROM dataset_features WHERE dataset_id = ?", [item_id])
                    if rec.get("upload_id"):
                        cur.execute("DELETE FROM user_features WHERE upload_id = ?", [rec["upload_id"]])
                        cur.execute("DELETE FROM user_layers WHERE upload_id = ?", [rec["upload_id"]])
                cur.execute("DELETE FROM recycle_bin WHERE bin_id = ?", [bid])
                audit.record(cur, p, "bin_purge", kind, item_id, before=pl, details={"bin_id": bid, "name": name})
                out.append({"bin_id": bid, "item_type": kind, "item_id": item_id, "payload": pl})
        return out

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
                            [(k, _dumps(v), now) for k, v in rows.items()])
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
                         _dumps(args or {}), data])
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


IN_USE_ROLES = {"landcover": ("土地覆被", "land cover"), "landcover_alt": ("第二年份土地覆被", "second-year land cover"),
                "transport": ("交通", "transport"), "redline": ("生态保护红线", "red line"), "zones": ("分区", "zones")}


def _in_use_refusal(using: dict) -> PermissionDenied:
    names = [IN_USE_ROLES.get(k.split(":")[-1], (k, k)) for k in sorted(using)]
    return PermissionDenied(f"该数据集正在使用中（{'、'.join(n[0] for n in names)}）：删除它会改变所有人使用的数据，"
                            "只有管理员可以执行。请管理员先改用其他数据，或由管理员删除。",
                            f"this dataset is in use ({', '.join(n[1] for n in names)}): removing it changes the data "
                            "everyone uses, so only an admin can do it. Ask an admin to put other data in use first, "
                            "or to remove it.")


def _park_content(park_id, name, geom, attrs) -> dict:
    """What identifies a park's content in the audit log (its hash is logged, not the geometry)."""
    g = geom.hex() if isinstance(geom, (bytes, bytearray)) else geom
    return {"park_id": park_id, "name": name, "geom": g, "attrs": attrs}


def _rows_sha(rows) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(r[2] or b"")
        h.update(str(r[3]).encode())
    return h.hexdigest()


def clean_name(name, limit: int) -> str:
    """A name as stored and shown: control characters (NUL, ESC, ...) removed, trimmed, capped.
    Markup is kept as text: every view escapes it."""
    text = "".join(ch if ch.isprintable() or ch == " " else " " for ch in str(name))
    return " ".join(text.split())[:limit]


def _dumps(obj) -> str:
    return json.dumps({k: _jsonable(v) for k, v in obj.items()} if isinstance(obj, dict) else obj,
                      ensure_ascii=False)


def _jsonable(v):
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return None if v != v else v
    if hasattr(v, "item"):
        return _jsonable(v.item())
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return str(v)
    return str(v)

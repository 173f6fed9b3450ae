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
import json
import threading
import uuid
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import shapely

from core.errors import GansuError

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
    # the workspace (layers/workspace.py): the user's own datasets and the data in use
    """CREATE TABLE IF NOT EXISTS datasets (
        dataset_id VARCHAR PRIMARY KEY, role VARCHAR, record JSON, added_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS dataset_features (
        dataset_id VARCHAR, fid INTEGER, kind VARCHAR, geom GEOMETRY, props JSON)""",
    """CREATE TABLE IF NOT EXISTS data_in_use (
        role VARCHAR PRIMARY KEY, dataset_ids JSON, updated_at TIMESTAMP)""",
    # per-park indicator rows keyed by the content hashes of every input (indicators/runs.py)
    """CREATE TABLE IF NOT EXISTS park_results (
        key VARCHAR PRIMARY KEY, row JSON, created_at TIMESTAMP)""",
]


class StoreError(GansuError):
    """The store cannot be used (locked by another writer, damaged, not writable): (zh, en)."""


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


class Store:
    """One per process (the app caches it); thread-safe."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = connect(self.path)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreError(
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
        self._lock = threading.RLock()
        from layers import audit

        with self.transaction() as cur:
            for stmt in SCHEMA + audit.SCHEMA:
                cur.execute(stmt)
            cur.execute("INSERT INTO meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING")

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextlib.contextmanager
    def transaction(self):
        with self._lock:
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
    def sync_catalog(self, rows: list[dict]) -> None:
        now = dt.datetime.now()
        cols = ["layer_id", "title_zh", "title_en", "kind", "status", "source", "licence", "year",
                "resolution", "crs", "derivation", "n_features"]
        with self.transaction() as cur:
            for r in rows:
                vals = [r.get(c) for c in cols] + [now]
                cur.execute(
                    f"INSERT OR REPLACE INTO layer_catalog ({', '.join(cols)}, updated_at) "
                    f"VALUES ({', '.join('?' * (len(cols) + 1))})", vals)

    def catalog(self) -> pd.DataFrame:
        return self.query_df("SELECT * FROM layer_catalog ORDER BY layer_id")

    # --- user layers (official replacements of schematic/proxy layers)
    def save_user_layer(self, gdf: gpd.GeoDataFrame, *, replaces: str, name: str,
                        original_filename: str, source_crs: str | None, active: bool = True,
                        dataset: tuple[str, str, dict] | None = None) -> str:
        """Store an official replacement layer (EPSG:4326); ``active`` puts it in use.
        ``dataset`` = (id, role, record) registers it in the workspace in the same transaction."""
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise StoreError("user layers are stored in EPSG:4326; reproject first")
        upload_id = uuid.uuid4().hex
        props = gdf.drop(columns=gdf.geometry.name)
        rows = [(upload_id, i, shapely.to_wkb(g),
                 json.dumps({k: _jsonable(v) for k, v in p.items()}, ensure_ascii=False))
                for i, (g, p) in enumerate(zip(gdf.geometry.values, props.to_dict("records")))]
        with self.transaction() as cur:
            if active:
                cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            cur.execute("INSERT INTO user_layers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [upload_id, replaces, name, original_filename, source_crs, len(gdf),
                         dt.datetime.now(), active])
            cur.executemany("INSERT INTO user_features VALUES (?, ?, ST_GeomFromWKB(?), ?)", rows)
            if dataset is not None:
                self._insert_dataset(cur, dataset[0], dataset[1], {**dataset[2], "upload_id": upload_id})
        return upload_id

    def activate_user_layer(self, replaces: str, upload_id: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])
            cur.execute("UPDATE user_layers SET active = true WHERE upload_id = ? AND replaces = ?", [upload_id, replaces])

    def delete_user_layer(self, upload_id: str) -> None:
        with self.transaction() as cur:
            cur.execute("DELETE FROM user_features WHERE upload_id = ?", [upload_id])
            cur.execute("DELETE FROM user_layers WHERE upload_id = ?", [upload_id])

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

    def revert_user_layer(self, replaces: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE user_layers SET active = false WHERE replaces = ?", [replaces])

    # --- parks (uploaded or drawn candidates); demo parks stay in the GeoPackage
    def add_parks(self, gdf: gpd.GeoDataFrame, *, names: list[str], source: str,
                  source_file: str | None = None, source_crs: str | None = None,
                  dataset: tuple[str, str, dict] | None = None) -> list[str]:
        """Insert polygons (EPSG:4326) with their names and other attributes, all or nothing.
        ``dataset`` = (id, role, record) registers the file in the workspace in the same transaction."""
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise StoreError("parks are stored in EPSG:4326; reproject first")
        now = dt.datetime.now()
        attrs = gdf.drop(columns=gdf.geometry.name).to_dict("records")
        ids, rows = [], []
        for name, geom, a in zip(names, gdf.geometry.values, attrs):
            pid = "U" + uuid.uuid4().hex[:7].upper()
            ids.append(pid)
            rows.append((pid, clean_name(name, 200), shapely.to_wkb(geom), _dumps(a), source,
                         source_file, source_crs, now, now))
        with self.transaction() as cur:
            cur.executemany("INSERT INTO parks VALUES (?, ?, ST_GeomFromWKB(?), ?, ?, ?, ?, ?, ?)", rows)
            if dataset is not None:
                self._insert_dataset(cur, dataset[0], dataset[1], {**dataset[2], "park_ids": ids})
        return ids

    def parks(self) -> gpd.GeoDataFrame:
        df = self.query_df("SELECT park_id, name, ST_AsWKB(geom) AS wkb, attrs, source, source_file, "
                           "source_crs, created_at, updated_at FROM parks ORDER BY created_at, park_id")
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

    def rename_park(self, park_id: str, name: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE parks SET name = ?, updated_at = ? WHERE park_id = ?",
                        [clean_name(name, 200), dt.datetime.now(), park_id])

    def update_park_attrs(self, park_id: str, attrs: dict) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE parks SET attrs = ?, updated_at = ? WHERE park_id = ?",
                        [_dumps(attrs), dt.datetime.now(), park_id])

    def delete_parks(self, park_ids: list[str]) -> None:
        with self.transaction() as cur:
            for pid in park_ids:
                cur.execute("DELETE FROM parks WHERE park_id = ?", [pid])
                cur.execute("DELETE FROM checklist WHERE park_id = ?", [pid])

    # --- admission checklist inputs, per park
    def save_checklist(self, park_id: str, inputs: dict) -> None:
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO checklist VALUES (?, ?, ?)",
                        [park_id, _dumps(inputs), dt.datetime.now()])

    def checklist(self, park_id: str) -> dict:
        df = self.query_df("SELECT inputs FROM checklist WHERE park_id = ?", [park_id])
        return json.loads(df["inputs"].iloc[0]) if len(df) else {}

    # --- named scenarios (selection + weights + settings)
    def save_scenario(self, name: str, selection: list[str], weights: dict, settings: dict | None = None) -> None:
        now = dt.datetime.now()
        with self.transaction() as cur:
            old = cur.execute("SELECT created_at FROM scenarios WHERE name = ?", [clean_name(name, 120)]).fetchone()
            cur.execute("INSERT OR REPLACE INTO scenarios VALUES (?, ?, ?, ?, ?, ?)",
                        [clean_name(name, 120), json.dumps(list(selection)), _dumps(weights),
                         _dumps(settings or {}), old[0] if old else now, now])

    def scenarios(self) -> dict[str, dict]:
        df = self.query_df("SELECT * FROM scenarios ORDER BY updated_at DESC")
        return {r.name: {"selection": json.loads(r.selection), "weights": json.loads(r.weights),
                         "settings": json.loads(r.settings), "updated_at": r.updated_at}
                for r in df.itertuples()}

    def delete_scenario(self, name: str) -> None:
        with self.transaction() as cur:
            cur.execute("DELETE FROM scenarios WHERE name = ?", [clean_name(name, 120)])


    # --- workspace datasets (records are layers.workspace.Dataset as JSON)
    def add_dataset(self, dataset_id: str, role: str, record: dict,
                    features: gpd.GeoDataFrame | None = None, kinds: list[str] | None = None,
                    use: tuple[str, list[str]] | None = None) -> None:
        """Register a dataset (and its features, EPSG:4326) and optionally put it in use, all in
        one transaction: a failed or killed import leaves the store as it was."""
        rows = []
        if features is not None:
            if features.crs is None or features.crs.to_epsg() != 4326:
                raise StoreError("dataset features are stored in EPSG:4326; reproject first")
            props = features.drop(columns=features.geometry.name).to_dict("records")
            ks = kinds if kinds is not None else [None] * len(features)
            rows = [(dataset_id, i, k, shapely.to_wkb(g), _dumps(pr))
                    for i, (g, pr, k) in enumerate(zip(features.geometry.values, props, ks))]
        with self.transaction() as cur:
            self._insert_dataset(cur, dataset_id, role, record)
            if rows:
                cur.executemany("INSERT INTO dataset_features VALUES (?, ?, ?, ST_GeomFromWKB(?), ?)", rows)
            if use is not None:
                self._set_in_use(cur, *use)

    @staticmethod
    def _insert_dataset(cur, dataset_id: str, role: str, record: dict) -> None:
        cur.execute("INSERT INTO datasets VALUES (?, ?, ?, ?)",
                    [dataset_id, role, json.dumps(record, ensure_ascii=False, default=str), dt.datetime.now()])

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

    def delete_dataset(self, dataset_id: str, fallback: dict[str, list[str]] | None = None) -> None:
        """Remove a dataset; ``fallback`` = the data in use to set in the same transaction."""
        with self.transaction() as cur:
            cur.execute("DELETE FROM dataset_features WHERE dataset_id = ?", [dataset_id])
            cur.execute("DELETE FROM datasets WHERE dataset_id = ?", [dataset_id])
            for role, ids in (fallback or {}).items():
                self._set_in_use(cur, role, ids)

    def in_use(self) -> dict[str, list[str]]:
        df = self.query_df("SELECT role, dataset_ids FROM data_in_use")
        return {r.role: json.loads(r.dataset_ids) for r in df.itertuples()}

    def set_in_use(self, role: str, dataset_ids: list[str]) -> None:
        with self.transaction() as cur:
            self._set_in_use(cur, role, dataset_ids)

    @staticmethod
    def _set_in_use(cur, role: str, dataset_ids: list[str]) -> None:
        cur.execute("INSERT OR REPLACE INTO data_in_use VALUES (?, ?, ?)",
                    [role, json.dumps(list(dataset_ids)), dt.datetime.now()])

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

    def put_park_results(self, rows: dict[str, dict], keep: int = 20000) -> None:
        now = dt.datetime.now()
        with self.transaction() as cur:
            cur.executemany("INSERT OR REPLACE INTO park_results VALUES (?, ?, ?)",
                            [(k, _dumps(v), now) for k, v in rows.items()])
            cur.execute("DELETE FROM park_results WHERE key NOT IN (SELECT key FROM park_results "
                        "ORDER BY created_at DESC LIMIT ?)", [keep])


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

"""The store on PostgreSQL + PostGIS (``GANSU_STORE=postgresql://…``): a connection whose cursors
speak the store's one SQL dialect — DuckDB's, which the storage modules are written in — by
rewriting the few constructs PostgreSQL spells otherwise, so every storage module runs unchanged on
both back ends (tests that take ``store_at``, ``tests/conftest.py``, run on both).

The rewrites, all of them (anything else is passed through and must be SQL both accept):
- ``?`` placeholders → ``%s`` (and a literal ``%`` → ``%%``);
- ``INSERT OR REPLACE INTO t …`` → ``INSERT INTO t … ON CONFLICT (primary key) DO UPDATE SET`` every
  other column (the key read from the catalog);
- types in ``CREATE``/``ALTER``: ``GEOMETRY`` → ``geometry(Geometry, 4326)`` (every geometry of the
  store is WGS84: the storage modules refuse any other), ``BLOB`` → ``BYTEA``, ``DOUBLE`` →
  ``DOUBLE PRECISION``; ``JSON`` stays ``json`` (text kept as written: the audit chain hashes it);
- ``ST_GeomFromWKB(?)`` → ``ST_GeomFromWKB(?, 4326)``, ``ST_AsWKB`` → ``ST_AsBinary``;
- ``json_extract_string(x, '$.a.b')`` → ``(x::json #>> '{a,b}')``;
- ``strftime(x, '%Y-%m-%dT%H:%M:%S.%f')`` → ``to_char(x, 'YYYY-MM-DD"T"HH24:MI:SS.US')`` (the
  audit chain's canonical time: the same text on both);
- ``duckdb_sequences()`` → the same columns from ``pg_sequences``.

Results come back as DuckDB's do: ``json`` columns as text (not parsed), ``bytea`` as bytes, and a
cursor's ``df()`` gives a pandas DataFrame with DuckDB's dtypes for the column's SQL type (``_DTYPES``):
integers int16/int32/int64 (nullable ``Int…`` when a value is NULL), real/double/numeric float
(NULL → NaN), boolean bool (``boolean`` with NULLs), timestamp and date ``datetime64[us]`` (NULL → NaT),
text as pandas infers it (``str``; ``object`` when empty or all NULL) — also for an empty result.
(An aggregate's type can still differ: ``sum`` of an INTEGER column is BIGINT here, HUGEINT → float
on DuckDB.)

May import: ``core`` only.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from core import paths

SRID = 4326
# every write transaction takes this lock first (released at COMMIT/ROLLBACK): one writer at a time
# across all processes, as on DuckDB within one, so read-then-write steps (the audit chain's head,
# a row version, "is this name free") never interleave. Readers are not blocked.
WRITE_LOCK = "SELECT pg_advisory_xact_lock(7294201186)"
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?|%")  # string literals are skipped whole
_UPSERT = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*(\(([^)]*)\))?", re.I | re.S)
_DDL = re.compile(r"^\s*(CREATE|ALTER)\b", re.I)
_TYPES = [(re.compile(r"\bGEOMETRY\b(?!\s*\()"), f"geometry(Geometry, {SRID})"),
          (re.compile(r"\bBLOB\b"), "BYTEA"),
          (re.compile(r"\bDOUBLE\b(?!\s+PRECISION)"), "DOUBLE PRECISION")]
_FUNCS = [(re.compile(r"ST_GeomFromWKB\(\s*\?\s*\)", re.I), f"ST_GeomFromWKB(?, {SRID})"),
          (re.compile(r"\bST_AsWKB\(", re.I), "ST_AsBinary("),
          (re.compile(r"strftime\((\w+),\s*'%Y-%m-%dT%H:%M:%S\.%f'\)"), "to_char(\\1, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"),
          (re.compile(r"\bduckdb_sequences\(\)"),
           "(SELECT sequencename::varchar AS sequence_name, last_value FROM pg_sequences) AS duckdb_sequences")]
_JSON_PATH = re.compile(r"json_extract_string\((\w+),\s*'\$\.([\w.]+)'\)")


# PostgreSQL's type OIDs (fixed in its catalog) → the pandas dtype DuckDB's ``df()`` gives that type
_DTYPES = {21: "int16", 23: "int32", 20: "int64",  # smallint, integer, bigint
           700: "float32", 701: "float64", 1700: "float64",  # real, double precision, numeric
           16: "bool", 1114: "datetime64[us]", 1082: "datetime64[us]"}  # boolean, timestamp, date


def _column(values: list, oid: int, index: pd.RangeIndex) -> pd.Series:
    """One result column as DuckDB's ``df()`` gives it (see the module's docstring)."""
    kind = _DTYPES.get(oid)
    has_null = any(v is None for v in values)
    if kind is None:  # text, json, bytea, geometry …: pandas' own inference, as DuckDB's
        return pd.Series(values, dtype=object if all(v is None for v in values) else None, index=index)  # none: empty
    if kind.startswith("int"):
        return pd.Series(values, dtype=kind.replace("int", "Int") if has_null else kind, index=index)
    if kind.startswith("float"):
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype=kind, index=index)
    if kind == "bool":
        return pd.Series(values, dtype="boolean" if has_null else "bool", index=index)
    return pd.Series(values, dtype=kind, index=index)


def is_url(location) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/") or "postgres"
    return re.sub(r"[^\w.-]", "_", name)


def files_base(url: str) -> Path:
    """Where files belonging to a PostgreSQL store live on this server (recovery codes): a name in
    the data folder, the same for every process of one data folder."""
    return paths.data_root() / f"postgresql-{database_name(url)}"


def redacted(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def _placeholders(sql: str) -> str:
    """``?`` outside string literals → ``%s``; every ``%`` (psycopg reads them inside literals too) → ``%%``."""
    return _PLACEHOLDER.sub(lambda m: "%s" if m.group() == "?" else m.group().replace("%", "%%"), sql)


_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PROTECTED = ("audit_log", "audit_chain")  # only ever inserted into


def grant_statements(role: str) -> list[str]:
    """What an application role needs on a store's database, run by the store's owner: read and
    write every table and sequence, but only SELECT and INSERT on the audit log and its chain (the
    database itself refuses an UPDATE, DELETE or TRUNCATE of them by the dashboard's role).
    ``role`` must exist (``CREATE ROLE … LOGIN``, by the database administrator)."""
    if not _ROLE.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    return [f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(PROTECTED)} FROM {role}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
            # tables a later migration adds (made by the same owner) come with the same rights
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"]


class Translator:
    """DuckDB-dialect SQL → PostgreSQL (cached per statement text)."""

    def __init__(self, columns_of):
        self._columns_of = columns_of  # table -> (primary-key columns, all columns)
        self._cache: dict[tuple[str, bool], str] = {}

    def __call__(self, sql: str, has_params: bool) -> str:
        key = (sql, has_params)
        out = self._cache.get(key)
        if out is None:
            out = self._translate(sql, has_params)
            if len(self._cache) < 4096:
                self._cache[key] = out
        return out

    def _translate(self, sql: str, has_params: bool) -> str:
        if _DDL.match(sql):
            for pat, rep in _TYPES:
                sql = pat.sub(rep, sql)
        for pat, rep in _FUNCS:
            sql = pat.sub(rep, sql)
        sql = _JSON_PATH.sub(lambda m: f"({m.group(1)}::json #>> '{{{','.join(m.group(2).split('.'))}}}')", sql)
        m = _UPSERT.match(sql)
        if m:
            table = m.group(1)
            keys, cols = self._columns_of(table)
            named = [c.strip() for c in m.group(3).split(",")] if m.group(3) else list(cols)
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in named if c not in keys)
            sql = (f"INSERT INTO {table} ({', '.join(named)})" + sql[m.end():].rstrip().rstrip(";")
                   + f" ON CONFLICT ({', '.join(keys)}) " + (f"DO UPDATE SET {sets}" if sets else "DO NOTHING"))
        return _placeholders(sql) if has_params else sql


class Cursor:
    """A psycopg cursor that takes the store's SQL and answers like a DuckDB cursor."""

    def __init__(self, raw, translate):
        self._raw, self._translate = raw, translate

    def execute(self, sql: str, params=None):
        params = list(params) if params is not None and not isinstance(params, dict) else params
        self._raw.execute(self._translate(sql, bool(params)), params or None)
        return self

    def executemany(self, sql: str, rows):
        rows = [list(r) for r in rows]
        if rows:
            self._raw.executemany(self._translate(sql, True), rows)
        return self

    def fetchone(self):
        r = self._raw.fetchone()
        return tuple(r) if r is not None else None

    def fetchall(self):
        return [tuple(r) for r in self._raw.fetchall()]

    def df(self) -> pd.DataFrame:
        desc = self._raw.description or ()
        rows = self._raw.fetchall()
        index = pd.RangeIndex(len(rows))
        out = pd.DataFrame({i: _column([r[i] for r in rows], d.type_code, index) for i, d in enumerate(desc)},
                           index=index)
        out.columns = [d.name for d in desc]  # by position first: two columns may share a name
        return out

    @property
    def rowcount(self) -> int:
        return self._raw.rowcount

    def close(self) -> None:
        self._raw.close()


class Connection:
    """One PostgreSQL connection (autocommit: the store's ``transaction()`` says BEGIN and COMMIT
    itself, as on DuckDB). Thread use is serialised by the store's lock."""

    def __init__(self, url: str):
        import psycopg  # only a PostgreSQL store pays its import
        from psycopg.types.string import TextLoader

        self.url = url
        self._psycopg, self._text_loader = psycopg, TextLoader
        self._raw = self._connect()
        self._columns: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self.translate = Translator(self._columns_of)

    def _connect(self):
        raw = self._psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        for name in ("json", "jsonb"):  # as DuckDB gives them: the text, parsed by the caller
            raw.adapters.register_loader(name, self._text_loader)
        return raw

    @property
    def broken(self) -> bool:
        """The server closed this connection (restarted, the connection was terminated)."""
        return self._raw.broken or self._raw.closed

    def reconnect(self) -> None:
        """A new connection after the server dropped the old one (the store's lock is held)."""
        if not self._raw.closed:
            self._raw.close()
        self._raw = self._connect()

    def _columns_of(self, table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        with self._lock:
            if table not in self._columns:
                cur = self._raw.cursor()
                try:
                    cols = [r[0] for r in cur.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = %s ORDER BY ordinal_position", [table]).fetchall()]
                    keys = [r[0] for r in cur.execute(
                        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                        [table]).fetchall()]
                finally:
                    cur.close()
                if not keys:
                    raise ValueError(f"INSERT OR REPLACE needs a primary key: table {table} has none")
                self._columns[table] = (tuple(keys), tuple(cols))
            return self._columns[table]

    def forget_columns(self) -> None:
        """After a migration changed tables: read their columns again."""
        with self._lock:
            self._columns.clear()

    def cursor(self) -> Cursor:
        return Cursor(self._raw.cursor(), self.translate)

    @property
    def closed(self) -> bool:
        return self._raw.closed

    def close(self) -> None:
        self._raw.close()

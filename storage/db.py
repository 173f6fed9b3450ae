"""The store's DuckDB file: opened offline, kept owner-only on disk, and the errors raised when a
store cannot be used (locked by another writer, damaged, not writable).

Offline by construction: DuckDB's ``INSTALL spatial`` downloads from the internet, so we pin
``duckdb==1.5.5`` with ``duckdb-extension-spatial==1.5.5`` (the wheel ships the signed
extension binary) and LOAD it by path with extension auto-install/auto-load switched off.
The file and its write-ahead log are owner-only (0600): they hold password hashes and the audit log.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from core.errors import GansuError
from storage import pg

SPATIAL_VERSION = "v1.5.5"


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


def pg_connect(url: str):
    """A PostgreSQL store's connection (``storage.pg``); a bilingual StoreError when it cannot be reached."""
    import psycopg  # start-up time: only a PostgreSQL store loads it

    try:
        return pg.Connection(url)
    except psycopg.OperationalError as e:
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreError(f"无法连接 PostgreSQL 存储 {pg.redacted(url)}（{why}）：请检查服务器是否运行、地址与权限。",
                         f"cannot connect to the PostgreSQL store {pg.redacted(url)} ({why}): check that the "
                         "server runs, the address and the role's rights.") from None


def private_wal(path: Path) -> None:
    """Create the store's write-ahead log owner-only (0600) before DuckDB writes it: DuckDB deletes
    it at each checkpoint and would recreate it with the process's umask (usually world-readable)."""
    wal = Path(f"{path}.wal")
    if not wal.exists() and path.exists():
        with contextlib.suppress(OSError):
            os.close(os.open(wal, os.O_CREAT | os.O_WRONLY, 0o600))


def private_files(path: Path) -> None:
    """The store file and its log: owner-only (password hashes, the audit log). An older store that
    others could read is tightened when opened; a file of another owner is left alone."""
    for f in (path, Path(f"{path}.wal")):
        with contextlib.suppress(OSError):
            if f.exists() and f.stat().st_mode & 0o077:
                os.chmod(f, 0o600)
    private_wal(path)

"""``gansu store copy SRC DST``: every table of one store into another — DuckDB into PostgreSQL
(a laptop's work onto the office server) and back (a copy to take away) — all or nothing, every
row checked.

The tables are those the migrations create (``storage.migrations``: one declaration), copied
column by column (geometry as WKB) in one transaction of the destination. The destination must be
a new store: nothing but its own bookkeeping (``meta``, the audit chain's head, the migration
record) may be in it, so a copy never mixes with or overwrites saved work. Afterwards each
table's rows are read back from both stores and reduced to a SHA-256 of their canonical text
(times to the microsecond, JSON and text as written, geometry as normalised WKB, bytes by their
hash) — any difference and the copy is rolled back. The audit log keeps its sequence numbers and
hash chain (``python -m cli admin audit verify`` on the destination gives the same head), and the
destination's audit sequence continues after the last copied row. One row in the destination's
log says who copied what from where, with the table hashes.

May import: ``core`` and ``storage`` below the store.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import shapely

from core.errors import InputError
from storage import audit, migrations

_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.I)
BOOKKEEPING = ("meta", "audit_head")  # a new store writes these itself: replaced by the source's
SKIP = ("schema_migrations",)  # each store records its own migrations


def tables() -> list[str]:
    """Every table the migrations create, in their order."""
    out = []
    for m in migrations.MIGRATIONS:
        for stmt in m.statements:
            for name in _CREATE.findall(stmt):
                if name not in out and name not in SKIP:
                    out.append(name)
    return out


def _columns(cur, table: str) -> list[tuple[str, str]]:
    rows = cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                       "AND table_schema = current_schema() ORDER BY ordinal_position", [table]).fetchall()
    return [(r[0], str(r[1]).lower()) for r in rows]


def _is_geom(dtype: str) -> bool:
    return "geometry" in dtype or dtype == "user-defined"


def _select(table: str, cols: list[tuple[str, str]]) -> str:
    return "SELECT " + ", ".join(f"ST_AsWKB({c})" if _is_geom(t) else c for c, t in cols) + f" FROM {table}"


def _canon(v) -> str:
    if v is None:
        return "∅"
    if isinstance(v, dt.datetime):
        return v.isoformat(timespec="microseconds")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "b:" + hashlib.sha256(bytes(v)).hexdigest()
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _geom_canon(v) -> str:
    return "∅" if v is None else "g:" + hashlib.sha256(shapely.to_wkb(shapely.from_wkb(bytes(v)), hex=False)).hexdigest()


def table_digest(cur, table: str) -> tuple[int, str]:
    """(rows, SHA-256 of the sorted canonical rows) of one table."""
    cols = _columns(cur, table)
    rows = cur.execute(_select(table, cols)).fetchall()
    geo = [_is_geom(t) for _c, t in cols]
    lines = sorted("\x1f".join(_geom_canon(v) if g else _canon(v) for v, g in zip(r, geo)) for r in rows)
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8") + b"\x1e")
    return len(rows), h.hexdigest()


def copy(src, dst, *, actor) -> dict[str, tuple[int, str]]:
    """Copy every table of ``src`` into the new store ``dst`` (both ``Store``); returns {table: (rows,
    sha256)}. InputError (bilingual) when ``dst`` already holds data or a table differs afterwards."""
    p = dst.authorize(actor, "admin", what="store:copy")
    names = tables()
    with src.transaction() as scur, dst.transaction() as dcur:
        present_src = {r[0] for r in scur.execute("SELECT table_name FROM information_schema.tables "
                                                  "WHERE table_schema = current_schema()").fetchall()}
        busy = [t for t in names if t not in BOOKKEEPING
                and dcur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]]
        if busy:
            raise InputError(f"目标存储 {dst.label} 不是新的（已有数据：{'、'.join(busy)}）：复制只写入新存储，不会覆盖已保存的工作。",
                             f"the destination store {dst.label} is not new (it holds rows in: {', '.join(busy)}); a copy "
                             "goes only into a new store and never overwrites saved work.")
        for t in BOOKKEEPING:
            dcur.execute(f"DELETE FROM {t}")
        for t in names:
            if t not in present_src:
                continue  # a store older than this table: nothing to copy
            scols, dcols = _columns(scur, t), _columns(dcur, t)
            if [c for c, _ in scols] != [c for c, _ in dcols]:
                raise InputError(f"表 {t} 的列在两个存储中不同：请先用同一版本打开两个存储（迁移）。",
                                 f"table {t} has different columns in the two stores: open both with this "
                                 "version first (migrations).")
            rows = scur.execute(_select(t, scols)).fetchall()
            if rows:
                marks = ", ".join("ST_GeomFromWKB(?)" if _is_geom(ty) else "?" for _c, ty in dcols)
                dcur.executemany(f"INSERT INTO {t} ({', '.join(c for c, _ in dcols)}) VALUES ({marks})",
                                 [[bytes(v) if isinstance(v, (bytearray, memoryview)) else v for v in r] for r in rows])
        last = dcur.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
        if last:
            _advance_sequence(dcur, dst.backend, int(last))
        digests = {}
        for t in names:
            if t not in present_src:
                continue
            a, b = table_digest(scur, t), table_digest(dcur, t)
            if a != b:
                raise InputError(f"复制后表 {t} 不一致（源 {a[0]} 行，目标 {b[0]} 行）：已撤销复制。",
                                 f"table {t} differs after the copy (source {a[0]} rows, destination {b[0]} rows): "
                                 "the copy was rolled back.")
            digests[t] = a
        audit.record(dcur, p, "store_copy", "store", None,
                     details={"from": src.label, "from_backend": src.backend,
                              "tables": {t: {"rows": n, "sha256": h} for t, (n, h) in digests.items()}})
    return digests


def _advance_sequence(cur, backend: str, last: int) -> None:
    """The destination's audit numbers continue after the copied rows."""
    if backend == "postgresql":
        cur.execute("SELECT setval('audit_seq', ?)", [last])
        return
    at = cur.execute("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'audit_seq'").fetchone()
    have = int(at[0]) if at and at[0] is not None else 0
    if last > have:  # DuckDB has no setval: draw the numbers the copied rows hold
        cur.execute("SELECT max(nextval('audit_seq')) FROM range(?)", [last - have])


def summary(digests: dict[str, tuple[int, str]]) -> str:
    return json.dumps({t: {"rows": n, "sha256": h[:16]} for t, (n, h) in digests.items()}, ensure_ascii=False, indent=1)

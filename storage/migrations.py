"""The store's schema as numbered migrations, one list for both back ends (DuckDB, PostgreSQL).

A store records the versions it has in ``schema_migrations`` (version, name, when, by which
program version); opening a store applies the missing ones in order, all in one transaction —
on PostgreSQL under the store's write lock, so two processes starting at once apply them once. A
store made before migrations were numbered gets version 1 again: its statements are ``IF NOT
EXISTS``, so it changes nothing there but the record. A migration names the back ends it is for
(DuckDB has no triggers and no spatial index of this kind).

Add a migration at the end; never edit one a store may have applied (its changes would never reach
those stores).

May import: ``core`` and ``storage`` modules below the store (schema lists only).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage import accounts, audit, web_sessions
from storage.schema import MIGRATIONS as OWNERSHIP
from storage.schema import SCHEMA, STATS_SCHEMA

BOTH = ("duckdb", "postgresql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    backends: tuple[str, ...] = BOTH


_APPEND_ONLY = """CREATE OR REPLACE FUNCTION gansu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused (审计日志只能追加)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(0, "PostGIS", ("CREATE EXTENSION IF NOT EXISTS postgis",), ("postgresql",)),
    Migration(1, "tables of the store (catalog, parks, checklists, scenarios, workspace, bin, results, "
                 "audit log, accounts, sign-in failures, official statistics, zone-statistics cache)",
              (*SCHEMA, *audit.SCHEMA, *accounts.SCHEMA, *OWNERSHIP, *STATS_SCHEMA)),
    Migration(2, "spatial indexes", tuple(
        f"CREATE INDEX IF NOT EXISTS {t}_geom_gist ON {t} USING GIST (geom)"
        for t in ("parks", "user_features", "dataset_features")) + (
        "CREATE INDEX IF NOT EXISTS dataset_features_id ON dataset_features (dataset_id)",
        "CREATE INDEX IF NOT EXISTS user_features_id ON user_features (upload_id)"), ("postgresql",)),
    Migration(3, "row versions of parks, checklists and scenarios (a save based on an older version is refused)",
              tuple(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {col}"
                    for t in ("parks", "checklist", "scenarios")
                    for col in ("row_version INTEGER DEFAULT 1", "updated_by VARCHAR"))),
    Migration(4, "the audit log append-only in the database (triggers refuse UPDATE, DELETE, TRUNCATE)", (
        _APPEND_ONLY,
        *(f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
          "FOR EACH ROW EXECUTE FUNCTION gansu_append_only()" for t in ("audit_log", "audit_chain")),
        *(f"CREATE OR REPLACE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
          "FOR EACH STATEMENT EXECUTE FUNCTION gansu_append_only()" for t in ("audit_log", "audit_chain"))),
        ("postgresql",)),
    Migration(5, "saved sign-ins: the cookie that keeps a sign-in over a browser reload", tuple(web_sessions.SCHEMA)),
)

TABLE = ("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
         "applied_at TIMESTAMP, program VARCHAR)")


def applied(cur) -> set[int]:
    n = cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'").fetchone()[0]
    return {int(r[0]) for r in cur.execute("SELECT version FROM schema_migrations").fetchall()} if n else set()


def pending(backend: str, done: set[int]) -> list[Migration]:
    return [m for m in MIGRATIONS if backend in m.backends and m.version not in done]


def apply(cur, backend: str, program: str = "") -> list[int]:
    """Apply the migrations this store lacks, inside the caller's transaction; returns their versions."""
    done = applied(cur)
    todo = pending(backend, done)
    if todo and not done:
        cur.execute(TABLE)
    for m in todo:
        for stmt in m.statements:
            cur.execute(stmt)
        cur.execute("INSERT INTO schema_migrations VALUES (?, ?, ?, ?)", [m.version, m.name, dt.datetime.now(), program])
    return [m.version for m in todo]

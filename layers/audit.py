"""The append-only log of the store: every change and every export — who, when, what, the item,
content hashes before and after, and details (e.g. the provenance record of an export).

One table, ``audit_log``; rows are only ever inserted (this module has no update or delete). A
change and its log row are written in the same transaction (``record(cur, …)`` inside
``store.transaction()``), so a logged change always happened and a change is never unlogged.

May import: ``core`` only (it is part of ``layers``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

SCHEMA = [
    "CREATE SEQUENCE IF NOT EXISTS audit_seq START 1",
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'), at_time TIMESTAMP, actor VARCHAR, action VARCHAR,
        item_type VARCHAR, item_id VARCHAR, before_sha VARCHAR, after_sha VARCHAR, details JSON)""",
]
COLUMNS = ("seq", "at_time", "actor", "action", "item_type", "item_id", "before_sha", "after_sha", "details")


def content_sha(obj: Any) -> str | None:
    """SHA-256 of a JSON-able description of an item's content (None for "no item")."""
    if obj is None:
        return None
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def record(cur, actor: str | None, action: str, item_type: str, item_id: str | None = None,
           before: Any = None, after: Any = None, details: dict | None = None) -> None:
    """Append one row, inside the caller's transaction (``cur`` from ``store.transaction()``)."""
    cur.execute("INSERT INTO audit_log (at_time, actor, action, item_type, item_id, before_sha, after_sha, details) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [dt.datetime.now(), str(actor or ""), action, item_type, item_id, content_sha(before), content_sha(after),
                 json.dumps(details or {}, ensure_ascii=False, default=str)])


def log(store, actor: str | None, action: str, item_type: str, item_id: str | None = None,
        before: Any = None, after: Any = None, details: dict | None = None) -> None:
    """Append one row in a transaction of its own (exports, runs: nothing else changes)."""
    with store.transaction() as cur:
        record(cur, actor, action, item_type, item_id, before, after, details)


def rows(store, limit: int = 1000, action: str | None = None, actor: str | None = None):
    """The newest rows first (a DataFrame with ``COLUMNS``)."""
    where, params = [], []
    if action:
        where.append("action = ?")
        params.append(action)
    if actor:
        where.append("actor = ?")
        params.append(actor)
    sql = (f"SELECT {', '.join(COLUMNS)} FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY seq DESC LIMIT ?")
    return store.query_df(sql, [*params, int(limit)])
